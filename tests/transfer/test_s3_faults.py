"""Faults of the object store, on a real S3 server (SeaweedFS) behind a relay a test can cut.

- down mid-upload: nothing becomes visible, the client gets a 503 problem, and the upload resumes
  once the store is back (tus: from the last acknowledged byte);
- corrupted bytes returned: readers refuse them, fixity finds them and repairs from a peer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from osnode.app import create_app
from osnode.config import load_settings
from osnode.services import explore, fixity, users
from osnode.services.node import Node
from osnode.storage.s3_blobs import MIN_PART, PART, DamagedBlob, S3BlobStore
from tests.blob_stores import CuttableProxy, SeaweedS3, damage, tmp_leftovers
from tests.conftest import Account
from tests.transfer.test_tus import STREAM, TUS, start
from tests.web.conftest import assert_problem, create_draft, published_record, upload


@pytest.fixture
def proxy(s3_server: SeaweedS3) -> Iterator[CuttableProxy]:
    relay = CuttableProxy(int(s3_server.endpoint.rsplit(":", 1)[1]))
    yield relay
    relay.close()


@pytest.fixture
def s3_node(s3_server: SeaweedS3, proxy: CuttableProxy, tmp_path: Path) -> Iterator[Node]:
    """A node whose object store is reached through the cuttable relay."""
    folder = tmp_path / "node"
    folder.mkdir()
    settings = load_settings(
        folder,
        database_url=f"sqlite:///{folder / 'catalog.sqlite'}",
        base_url="http://testserver",
        **s3_server.settings(endpoint=proxy.endpoint),
    )
    node = Node.open(settings)
    yield node
    node.close()


@pytest.fixture
def s3_client(s3_node: Node) -> Iterator[TestClient]:
    with TestClient(create_app(s3_node)) as client:
        yield client


@pytest.fixture
def s3_depositor(s3_node: Node) -> Account:
    user = users.create_user(s3_node, "s3-depositor", "depositor")
    return Account(user, users.create_token(s3_node, user))


def _visible(node: Node) -> set[str]:
    return set(node.blobs.stored())


def test_store_down_mid_tus_piece_keeps_nothing_and_the_upload_resumes(
    s3_node: Node, s3_client: TestClient, s3_depositor: Account, proxy: CuttableProxy
) -> None:
    data = os.urandom(2 * PART + MIN_PART + 123)
    first = 6 * 1024 * 1024  # at least S3's smallest part: the pieces are composed on the store
    draft = create_draft(s3_client, s3_depositor)
    url = start(s3_client, s3_depositor, draft["id"], len(data)).headers["location"]
    ok = s3_client.patch(
        url, content=data[:first], headers=s3_depositor.headers | TUS | STREAM | {"Upload-Offset": "0"}
    )
    assert ok.status_code == 204 and ok.headers["upload-offset"] == str(first)

    def body_that_loses_the_store() -> Iterator[bytes]:
        rest = data[first:]
        yield rest[: PART + 1024]  # one whole part goes up...
        proxy.cut()  # ...then the object store goes down mid-piece
        yield rest[PART + 1024 :]

    failed = s3_client.patch(
        url,
        content=body_that_loses_the_store(),
        headers=s3_depositor.headers | TUS | STREAM | {"Upload-Offset": str(first)},
    )
    assert_problem(failed, 503)
    proxy.mend()
    assert _visible(s3_node) == set()
    head = s3_client.head(url, headers=s3_depositor.headers | TUS)
    assert head.headers["upload-offset"] == str(first)  # the acknowledged bytes are kept, the cut piece is not
    done = s3_client.patch(
        url, content=data[first:], headers=s3_depositor.headers | TUS | STREAM | {"Upload-Offset": str(first)}
    )
    assert done.status_code == 204 and done.headers["upload-offset"] == str(len(data))
    digest = hashlib.sha256(data).hexdigest()
    assert _visible(s3_node) == {digest}
    assert s3_node.blobs.read_bytes(digest) == data
    got = s3_client.get(f"/api/records/{draft['id']}/files/data.bin", headers=s3_depositor.headers)
    assert got.status_code == 200 and got.content == data


def test_store_down_during_a_plain_upload_is_a_503_and_nothing_is_visible(
    s3_node: Node, s3_client: TestClient, s3_depositor: Account, proxy: CuttableProxy
) -> None:
    draft = create_draft(s3_client, s3_depositor)
    data = os.urandom(3 * PART)

    def body() -> Iterator[bytes]:
        yield data[: PART + 10]
        proxy.cut()
        yield data[PART + 10 :]

    failed = s3_client.put(f"/api/records/{draft['id']}/files/big.bin", content=body(), headers=s3_depositor.headers)
    assert_problem(failed, 503)
    proxy.mend()
    assert _visible(s3_node) == set()
    assert s3_client.get(f"/api/records/{draft['id']}/files", headers=s3_depositor.headers).json()["items"] == []
    upload(s3_client, s3_depositor, draft["id"], "big.bin", data)  # the client simply sends it again
    assert s3_node.blobs.read_bytes(hashlib.sha256(data).hexdigest()) == data
    s3_node.blobs.clean_tmp()


def test_corrupted_bytes_from_the_store_are_refused_found_by_fixity_and_repaired_from_a_peer(
    s3_node: Node, s3_client: TestClient, s3_depositor: Account, make_peer
) -> None:  # type: ignore[no-untyped-def]
    table = b"a,b\n" + b"".join(b"%d,%d\n" % (i, i * i) for i in range(50_000))
    digest = hashlib.sha256(table).hexdigest()
    record = published_record(s3_client, s3_depositor, {"table.csv": table})
    peer = make_peer({"table.csv": table})
    damage(s3_node, digest, offset=len(table) // 2)  # the object store now returns other bytes
    assert isinstance(s3_node.blobs, S3BlobStore)
    # A reader that needs a local file checks the bytes it is given.
    with pytest.raises(DamagedBlob):
        explore.local_copy(s3_node, digest)
    repairing = dataclasses.replace(s3_node, settings=dataclasses.replace(s3_node.settings, repair_peers=(peer.url,)))
    report = fixity.run(repairing, max_bytes=None, max_count=None)
    assert (report.corrupt, report.repaired) == (1, 1)
    assert s3_node.blobs.hash_of(digest) == digest
    got = s3_client.get(f"/api/records/{record['id']}/files/table.csv")
    assert got.status_code == 200 and got.content == table
    assert tmp_leftovers(s3_node) == []
