"""Helpers for the COAR Notify tests: a node with a review service on its allow-list, notifications shaped
as the COAR Notify 1.0.1 examples (the ``coarnotify`` library's own fixtures), pointed at the test node."""

from __future__ import annotations

import copy
import dataclasses
import json
import uuid
from typing import Any

import pytest
from coarnotify.test.fixtures.announce_relationship import AnnounceRelationshipFixtureFactory
from coarnotify.test.fixtures.announce_review import AnnounceReviewFixtureFactory
from coarnotify.test.fixtures.request_review import RequestReviewFixtureFactory

from osnode.domain.access import Viewer
from osnode.services import deposit
from osnode.services.node import Node
from tests.conftest import minimal_metadata

SERVICE = "https://review-service.example.org/system"
SERVICE_INBOX = "https://review-service.example.org/inbox/"
OWN = "http://repository.example.org"


@pytest.fixture
def notify_node(node: Node) -> Node:
    table = (("id", SERVICE), ("inbox", SERVICE_INBOX), ("label", "Review Service"))
    node.settings = dataclasses.replace(node.settings, base_url=OWN, notify_services=(("reviews", table),))
    return node


def publish(node: Node, viewer: Viewer, **changes: Any) -> str:
    draft = deposit.create_draft(node, viewer, minimal_metadata(**changes), {"level": "metadata-only"})
    deposit.publish(node, draft.id, viewer)
    return draft.record_id


def _addressed(body: dict[str, Any]) -> dict[str, Any]:
    body["id"] = f"urn:uuid:{uuid.uuid4()}"
    body["origin"] = {"id": SERVICE, "inbox": SERVICE_INBOX, "type": "Service"}
    body["target"] = {"id": OWN, "inbox": f"{OWN}/inbox", "type": "Service"}
    return body


def request_review(about: str = "https://research-organisation.org/repository/preprint/201203/421/") -> dict:  # type: ignore[type-arg]
    body = _addressed(RequestReviewFixtureFactory.source())
    body["object"]["id"] = about
    body["object"]["ietf:item"]["id"] = f"{about}content.pdf"
    return body


def announce_review(record_id: str, review: str = "https://review-service.example.org/review/1") -> dict:  # type: ignore[type-arg]
    body = _addressed(AnnounceReviewFixtureFactory.source())
    body.pop("inReplyTo", None)
    body["context"] = {"id": f"{OWN}/records/{record_id}"}
    body["object"]["id"] = review
    body["object"]["ietf:cite-as"] = "https://doi.org/10.3214/987654"
    body["actor"]["id"] = "https://review-service.example.org"
    return body


def announce_relationship(record_id: str, other: str = "https://data.example.org/dataset/9") -> dict:  # type: ignore[type-arg]
    body = _addressed(AnnounceRelationshipFixtureFactory.source())
    body["object"]["as:subject"] = f"{OWN}/records/{record_id}"
    body["object"]["as:object"] = other
    body.get("context", {}).pop("ietf:item", None)
    return body


def raw(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def copy_of(body: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(body)
