"""The LDN inbox takes valid COAR Notify notifications from senders on the allow-list and refuses the rest
with a clear 4xx, changing nothing: bad JSON, wrong types, missing actor/origin/target, oversized, replays,
unknown senders, URLs pointing inside a private network."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from osnode.domain.errors import Conflict, Forbidden, NodeError, TooLarge
from osnode.services.node import Node
from osnode.services.notify import inbox
from osnode.storage.notify import notify_inbox
from tests.conftest import Account
from tests.notify.conftest import (
    OWN,
    announce_relationship,
    announce_review,
    copy_of,
    publish,
    raw,
    request_review,
)


def _count(node: Node) -> int:
    with node.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(notify_inbox)).scalar_one()


def test_a_review_is_stored_against_the_record_and_shown(notify_node: Node, depositor: Account) -> None:
    record_id = publish(notify_node, depositor.viewer)
    stored = inbox.receive(notify_node, raw(announce_review(record_id)))
    assert (stored.kind, stored.record_id, stored.state) == ("AnnounceReview", record_id, "shown")
    shown = inbox.about(notify_node, record_id)
    assert [e.object_url for e in shown] == ["https://review-service.example.org/review/1"]
    assert shown[0].body["@context"] == ["https://www.w3.org/ns/activitystreams", "https://coar-notify.net"]


def test_a_relationship_is_stored_with_its_other_end(notify_node: Node, depositor: Account) -> None:
    record_id = publish(notify_node, depositor.viewer)
    stored = inbox.receive(notify_node, raw(announce_relationship(record_id)))
    assert stored.record_id == record_id
    assert inbox.about(notify_node, record_id)[0].object_url == "https://data.example.org/dataset/9"


def test_a_request_is_queued_for_the_reviewing_side(notify_node: Node) -> None:
    stored = inbox.receive(notify_node, raw(request_review()))
    assert (stored.kind, stored.state, stored.record_id) == ("RequestReview", "new", None)


def _refused(node: Node, body: bytes, error: type[Exception], words: str) -> None:
    before = _count(node)
    with pytest.raises(error) as caught:
        inbox.receive(node, body)
    assert words in str(caught.value)
    assert _count(node) == before


def _mutated(change: Any) -> bytes:
    body = request_review()
    change(body)
    return raw(body)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "one JSON object"),
        (_mutated(lambda b: b.pop("@context")), "@context"),
        (_mutated(lambda b: b.update(type=["Offer", "coar-notify:Nonsense"])), "unknown notification type"),
        (_mutated(lambda b: b.update(type="Dance")), "unknown notification type"),
        (_mutated(lambda b: b.pop("actor")), "actor is required"),
        (_mutated(lambda b: b.pop("origin")), "origin"),
        (_mutated(lambda b: b.pop("target")), "target"),
        (_mutated(lambda b: b.pop("object")), "object"),
        (_mutated(lambda b: b["target"].update(id="https://elsewhere.example.org")), "is not this node"),
        (_mutated(lambda b: b["object"].update(id="http://10.1.2.3/admin")), "private network"),
        (_mutated(lambda b: b["object"].update(id="http://localhost:6379/")), "private network"),
        (_mutated(lambda b: b["object"].update(id="http://[::1]/x")), "private network"),
        (_mutated(lambda b: b["object"].update(id="http://169.254.169.254/latest/meta-data")), "private network"),
        (_mutated(lambda b: b["object"]["ietf:item"].update(id="file:///etc/passwd")), "only http and https"),
    ],
)
def test_bad_notifications_are_refused_and_nothing_changes(notify_node: Node, body: bytes, words: str) -> None:
    _refused(notify_node, body, NodeError, words)
    with pytest.raises(NodeError) as caught:
        inbox.receive(notify_node, body)
    assert caught.value.status == 400


def test_a_sender_not_on_the_allow_list_is_forbidden(notify_node: Node) -> None:
    body = request_review()
    body["origin"] = {
        "id": "https://stranger.example.net",
        "inbox": "https://stranger.example.net/inbox",
        "type": "Service",
    }
    _refused(notify_node, raw(body), Forbidden, "not on this node's list")


def test_a_replay_is_refused(notify_node: Node) -> None:
    body = request_review()
    inbox.receive(notify_node, raw(body))
    _refused(notify_node, raw(copy_of(body)), Conflict, "received already")


def test_an_oversized_notification_is_refused(notify_node: Node) -> None:
    body = request_review()
    body["object"]["padding"] = "x" * notify_node.settings.notify_max_bytes
    _refused(notify_node, raw(body), TooLarge, "at most")


def test_a_review_that_is_no_web_link_is_refused(notify_node: Node, depositor: Account) -> None:
    record_id = publish(notify_node, depositor.viewer)
    for bad in ("javascript:alert(document.cookie)", "urn:uuid:0370c0fb-bb78-4a9b-87f5-bed307a509dd"):
        body = announce_review(record_id)
        body["object"]["id"] = bad
        _refused(notify_node, raw(body), NodeError, "http")
    assert inbox.about(notify_node, record_id) == []


def test_a_review_of_no_record_here_is_refused(notify_node: Node) -> None:
    _refused(notify_node, raw(announce_review("nosuchrecord")), NodeError, "no published record")


def test_an_undo_removes_the_review_and_only_its_sender_may(notify_node: Node, depositor: Account) -> None:
    record_id = publish(notify_node, depositor.viewer)
    review = announce_review(record_id)
    inbox.receive(notify_node, raw(review))
    undo = {
        "@context": review["@context"],
        "id": "urn:uuid:6f1e1a2c-0000-4000-8000-000000000001",
        "type": "Undo",
        "actor": review["actor"],
        "origin": review["origin"],
        "target": review["target"],
        "object": review,
        "inReplyTo": review["id"],
    }
    inbox.receive(notify_node, raw(undo))
    assert inbox.about(notify_node, record_id) == []
    # An undo naming nothing the sender sent is refused.
    other = json.loads(json.dumps(undo)) | {"id": "urn:uuid:6f1e1a2c-0000-4000-8000-000000000002"}
    other["object"] = other["object"] | {"id": "urn:uuid:00000000-0000-4000-8000-00000000dead"}
    other["inReplyTo"] = other["object"]["id"]
    _refused(notify_node, raw(other), NodeError, "no notification you sent")


def test_a_peer_is_on_the_allow_list(notify_node: Node, depositor: Account) -> None:
    from osnode.services.harvest.peers import add_peer

    add_peer(notify_node, "https://peer.example.org/oai", name="peer")
    record_id = publish(notify_node, depositor.viewer)
    body = announce_review(record_id, review="https://peer.example.org/records/abc")
    body["origin"] = {"id": "https://peer.example.org", "inbox": "https://peer.example.org/inbox", "type": "Service"}
    assert inbox.receive(notify_node, raw(body)).record_id == record_id


def test_settings_reject_a_service_without_an_inbox() -> None:
    from osnode.config import ConfigError, coerce

    with pytest.raises(ConfigError, match="inbox"):
        coerce("notify_services", {"x": {"id": "https://x.example.org"}})
    assert dataclasses.is_dataclass(OWN) is False
