"""Helpers and fixtures for the HTTP API tests: thin wrappers over the routes, and looks at the store."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from osnode.app import create_app
from osnode.config import load_settings
from osnode.services import users
from osnode.services.node import Node
from osnode.storage.catalog import blobs, files
from tests.blob_stores import tmp_leftovers as blob_tmp_leftovers
from tests.conftest import Account, minimal_metadata

PROBLEM = "application/problem+json"


def create_draft(
    client: TestClient,
    account: Account,
    metadata: dict[str, Any] | None = None,
    access: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"metadata": minimal_metadata() if metadata is None else metadata}
    if access is not None:
        body["access"] = access
    response = client.post("/api/records", json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    assert response.json()["state"] == "draft"
    return response.json()


def upload(
    client: TestClient, account: Account, version_id: str, key: str, data: bytes, **headers: str
) -> dict[str, Any]:
    response = client.put(f"/api/records/{version_id}/files/{key}", content=data, headers=account.headers | headers)
    assert response.status_code == 201, response.text
    return response.json()


def publish(client: TestClient, account: Account, version_id: str) -> dict[str, Any]:
    response = client.post(f"/api/records/{version_id}/publish", headers=account.headers)
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "published"
    return response.json()


def published_record(
    client: TestClient,
    account: Account,
    files_: dict[str, bytes] | None = None,
    access: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A published first version with ``files_`` (default: one small CSV)."""
    draft = create_draft(client, account, metadata, access)
    for key, data in (files_ if files_ is not None else {"data.csv": b"a,b\n1,2\n"}).items():
        upload(client, account, draft["id"], key, data)
    return publish(client, account, draft["id"])


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_digest(data: bytes) -> str:
    """An RFC 9530 Content-Digest header value for ``data``."""
    return f"sha-256=:{base64.b64encode(hashlib.sha256(data).digest()).decode()}:"


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """An RFC 9457 problem of ``status``, with every member a client relies on."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0].strip() == PROBLEM
    body = response.json()
    assert body["status"] == status
    for member in ("type", "title", "detail"):
        assert isinstance(body[member], str) and body[member], f"problem lacks {member}: {body}"
    return body


# -- looks at the store behind the API ------------------------------------------------------------


def blob_rows(node: Node) -> list[str]:
    with node.engine.connect() as conn:
        return [r.sha256 for r in conn.execute(select(blobs.c.sha256)).all()]


def file_row_count(node: Node) -> int:
    with node.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(files)).scalar_one()


def stored_blobs(node: Node) -> list[str]:
    return sorted(node.blobs.stored())


def tmp_leftovers(node: Node) -> list[str]:
    return blob_tmp_leftovers(node)


# -- a node with a small upload limit ------------------------------------------------------------

SMALL_LIMIT = 1000


@pytest.fixture
def small_node(tmp_path: Path, database_url: str) -> Iterator[Node]:
    """Like conftest's ``node``, but refusing uploads over ``SMALL_LIMIT`` bytes."""
    folder = tmp_path / "small-node"
    folder.mkdir()
    settings = load_settings(
        folder, database_url=database_url, base_url="http://testserver", max_upload_bytes=SMALL_LIMIT
    )
    opened = Node.open(settings)
    yield opened
    opened.close()


@pytest.fixture
def small_client(small_node: Node) -> Iterator[TestClient]:
    with TestClient(create_app(small_node)) as test_client:
        yield test_client


@pytest.fixture
def small_depositor(small_node: Node) -> Account:
    user = users.create_user(small_node, "small-depositor", "depositor")
    return Account(user, users.create_token(small_node, user))
