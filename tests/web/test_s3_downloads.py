"""Downloads from a node on S3 with presigned redirects: the access decision stays the node's, the
bytes come straight from the object store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from osnode.app import create_app
from osnode.config import load_settings
from osnode.services import users
from osnode.services.node import Node
from tests.blob_stores import SeaweedS3
from tests.conftest import Account
from tests.web.conftest import published_record, sha256


@pytest.fixture
def presigning(s3_server: SeaweedS3, tmp_path: Path) -> Iterator[tuple[Node, TestClient, Account]]:
    settings = load_settings(
        tmp_path,
        database_url=f"sqlite:///{tmp_path / 'catalog.sqlite'}",
        base_url="http://testserver",
        s3_presign_seconds=60,
        **s3_server.settings(),
    )
    node = Node.open(settings)
    user = users.create_user(node, "depositor", "depositor")
    account = Account(user, users.create_token(node, user))
    with TestClient(create_app(node)) as client:
        yield node, client, account
    node.close()


def test_open_files_redirect_to_a_presigned_url(presigning: tuple[Node, TestClient, Account]) -> None:
    _, client, depositor = presigning
    data = b"open bytes, served by the object store\n" * 1000
    record = published_record(client, depositor, {"open data.txt": data})
    answer = client.get(f"/api/records/{record['id']}/files/open data.txt", follow_redirects=False)
    assert answer.status_code == 307
    assert answer.headers["cache-control"] == "private, no-store"
    fetched = httpx.get(answer.headers["location"])
    assert fetched.status_code == 200 and fetched.content == data
    assert "open%20data.txt" in fetched.headers["content-disposition"]
    # Range goes to the object store as it is.
    part = httpx.get(answer.headers["location"], headers={"Range": "bytes=5-9"})
    assert part.status_code == 206 and part.content == data[5:10]
    # Peers fetching blobs by hash are redirected the same way.
    blob = client.get(f"/api/blobs/{sha256(data)}", follow_redirects=False)
    assert blob.status_code == 307 and httpx.get(blob.headers["location"]).content == data


def test_restricted_files_are_never_redirected(presigning: tuple[Node, TestClient, Account]) -> None:
    _, client, depositor = presigning
    record = published_record(client, depositor, {"secret.txt": b"secret"}, access={"level": "restricted"})
    answer = client.get(f"/api/records/{record['id']}/files/secret.txt", follow_redirects=False)
    assert answer.status_code in (403, 404) and "location" not in answer.headers
    # The owner gets the bytes streamed by the node: no bearer URL for restricted files.
    mine = client.get(
        f"/api/records/{record['id']}/files/secret.txt", headers=depositor.headers, follow_redirects=False
    )
    assert mine.status_code == 200 and mine.content == b"secret" and "location" not in mine.headers
    # Nor for blobs asked for with a token.
    blob = client.get(f"/api/blobs/{sha256(b'secret')}", headers=depositor.headers, follow_redirects=False)
    assert blob.status_code == 200 and blob.content == b"secret"
