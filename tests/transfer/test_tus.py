"""tus 1.0 on the deposit API: every extension over the app, and an independent client (tuspy)
against a live ``osnode serve`` whose connection is cut mid-transfer."""

from __future__ import annotations

import base64
import hashlib
import os
import signal
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from tusclient.client import TusClient
from tusclient.uploader import Uploader

from osnode.client import NodeClient
from osnode.services import uploads
from osnode.services.node import Node, utcnow
from osnode.storage.uploads import uploads as uploads_table
from tests.conftest import Account, LiveServer, start_server
from tests.transfer.conftest import proxy_to
from tests.web.conftest import assert_problem, create_draft, stored_blobs

TUS = {"Tus-Resumable": "1.0.0"}
STREAM = {"Content-Type": "application/offset+octet-stream"}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def checksum(data: bytes) -> str:
    return "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()


def start(client: TestClient, account: Account, version_id: str, length: int, name: str = "data.bin", **headers: str):
    meta = f"filename {b64(name)}"
    return client.post(
        f"/api/records/{version_id}/uploads",
        headers=account.headers | TUS | {"Upload-Length": str(length), "Upload-Metadata": meta} | headers,
    )


def files_of(client: TestClient, account: Account, version_id: str) -> dict[str, str]:
    items = client.get(f"/api/records/{version_id}/files", headers=account.headers).json()["items"]
    return {f["key"]: f["checksum"].removeprefix("sha256:") for f in items}


# Blob-related: every test here runs on the local folder and on S3.
pytestmark = pytest.mark.usefixtures("blob_store")


def held(node: Node) -> dict[str, float]:
    """The uploads whose bytes the store holds (partials)."""
    return dict(node.blobs.partials.leftovers())


def test_options_announce_version_extensions_limit_and_checksum(client: TestClient) -> None:
    response = client.options("/api/uploads")
    assert response.status_code == 204
    assert response.headers["tus-version"] == "1.0.0"
    assert set(response.headers["tus-extension"].split(",")) == {
        "creation",
        "creation-with-upload",
        "termination",
        "checksum",
        "expiration",
    }
    assert int(response.headers["tus-max-size"]) > 0
    assert response.headers["tus-checksum-algorithm"] == "sha256"


def test_core_creation_and_resume(client: TestClient, node: Node, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    data = os.urandom(3000)
    created = start(client, depositor, draft["id"], len(data))
    assert created.status_code == 201
    assert created.headers["tus-resumable"] == "1.0.0"
    assert created.headers["upload-expires"].endswith("GMT")
    url = created.headers["location"]
    first = client.patch(url, content=data[:1000], headers=depositor.headers | TUS | STREAM | {"Upload-Offset": "0"})
    assert first.status_code == 204 and first.headers["upload-offset"] == "1000"
    head = client.head(url, headers=depositor.headers | TUS)
    assert head.headers["upload-offset"] == "1000" and head.headers["upload-length"] == "3000"
    assert files_of(client, depositor, draft["id"]) == {}  # nothing visible before the last byte
    stale = client.patch(url, content=data[:1000], headers=depositor.headers | TUS | STREAM | {"Upload-Offset": "0"})
    assert_problem(stale, 409)
    rest = client.patch(url, content=data[1000:], headers=depositor.headers | TUS | STREAM | {"Upload-Offset": "1000"})
    assert rest.status_code == 204 and rest.headers["upload-offset"] == "3000"
    assert files_of(client, depositor, draft["id"]) == {"data.bin": hashlib.sha256(data).hexdigest()}
    assert node.blobs.read_bytes(hashlib.sha256(data).hexdigest()) == data
    # A client whose last answer was lost learns from HEAD that the upload is whole.
    assert client.head(url, headers=depositor.headers | TUS).headers["upload-offset"] == "3000"


def test_creation_with_upload_and_empty_file(client: TestClient, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    created = client.post(
        "/api/uploads",
        content=b"hello",
        headers=depositor.headers
        | TUS
        | STREAM
        | {"Upload-Length": "5", "Upload-Metadata": f"filename {b64('a.txt')},version_id {b64(draft['id'])}"},
    )
    assert created.status_code == 201 and created.headers["upload-offset"] == "5"
    empty = start(client, depositor, draft["id"], 0, name="empty.txt")
    assert empty.status_code == 201
    assert files_of(client, depositor, draft["id"]) == {
        "a.txt": hashlib.sha256(b"hello").hexdigest(),
        "empty.txt": hashlib.sha256(b"").hexdigest(),
    }


def test_checksum_mismatch_is_460_and_the_piece_is_discarded(client: TestClient, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    url = start(client, depositor, draft["id"], 10).headers["location"]
    bad = client.patch(
        url,
        content=b"hello",
        headers=depositor.headers | TUS | STREAM | {"Upload-Offset": "0", "Upload-Checksum": checksum(b"HELLO")},
    )
    body = assert_problem(bad, 460)
    assert "checksum" in body["detail"].lower()
    assert client.head(url, headers=depositor.headers | TUS).headers["upload-offset"] == "0"
    unknown = client.patch(
        url,
        content=b"hello",
        headers=depositor.headers | TUS | STREAM | {"Upload-Offset": "0", "Upload-Checksum": "md5 xx"},
    )
    assert unknown.status_code in (400, 422)
    good = client.patch(
        url,
        content=b"hello",
        headers=depositor.headers | TUS | STREAM | {"Upload-Offset": "0", "Upload-Checksum": checksum(b"hello")},
    )
    assert good.status_code == 204 and good.headers["upload-offset"] == "5"


def test_termination_removes_the_upload_and_its_bytes(client: TestClient, node: Node, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    url = start(client, depositor, draft["id"], 10).headers["location"]
    client.patch(url, content=b"12345", headers=depositor.headers | TUS | STREAM | {"Upload-Offset": "0"})
    upload_id = url.rsplit("/", 1)[1]
    assert upload_id in held(node)
    assert client.delete(url, headers=depositor.headers | TUS).status_code == 204
    assert upload_id not in held(node)
    assert client.head(url, headers=depositor.headers | TUS).status_code == 404


def test_expired_uploads_are_refused_and_cleaned(client: TestClient, node: Node, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    url = start(client, depositor, draft["id"], 10).headers["location"]
    client.patch(url, content=b"12345", headers=depositor.headers | TUS | STREAM | {"Upload-Offset": "0"})
    upload_id = url.rsplit("/", 1)[1]
    with node.transaction() as tx:
        tx.execute(update(uploads_table).values(expires=utcnow() - timedelta(seconds=1)))
    late = client.patch(url, content=b"67890", headers=depositor.headers | TUS | STREAM | {"Upload-Offset": "5"})
    assert_problem(late, 410)
    assert uploads.clean_expired(node) >= 1
    assert upload_id not in held(node)
    assert client.head(url, headers=depositor.headers | TUS).status_code == 404


def test_bad_requests_are_problems(client: TestClient, depositor: Account, other_depositor: Account) -> None:
    draft = create_draft(client, depositor)
    assert_problem(start(client, depositor, draft["id"], 10, **{"Tus-Resumable": "0.2.2"}), 412)
    no_name = client.post(
        f"/api/records/{draft['id']}/uploads", headers=depositor.headers | TUS | {"Upload-Length": "3"}
    )
    assert_problem(no_name, 422)
    assert_problem(start(client, depositor, draft["id"], 10, **{"Upload-Length": "-1"}), 422)
    assert_problem(start(client, depositor, draft["id"], 10, name="../x"), 422)
    stranger = start(client, other_depositor, draft["id"], 10)
    assert stranger.status_code in (403, 404)
    url = start(client, depositor, draft["id"], 10).headers["location"]
    assert client.head(url, headers=other_depositor.headers | TUS).status_code == 404
    wrong_type = client.patch(
        url, content=b"x", headers=depositor.headers | TUS | {"Upload-Offset": "0", "Content-Type": "text/plain"}
    )
    assert_problem(wrong_type, 415)
    too_long = client.patch(url, content=b"x" * 11, headers=depositor.headers | TUS | STREAM | {"Upload-Offset": "0"})
    assert_problem(too_long, 422)
    assert client.head(url, headers=depositor.headers | TUS).headers["upload-offset"] == "0"
    anonymous = client.post(
        f"/api/records/{draft['id']}/uploads",
        headers=TUS | {"Upload-Length": "3", "Upload-Metadata": f"filename {b64('a')}"},
    )
    assert_problem(anonymous, 401)


def test_declared_sha256_is_checked_on_the_last_byte(client: TestClient, node: Node, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    meta = f"filename {b64('x.bin')},sha256 {b64(hashlib.sha256(b'other').hexdigest())}"
    created = client.post(
        f"/api/records/{draft['id']}/uploads",
        headers=depositor.headers | TUS | {"Upload-Length": "5", "Upload-Metadata": meta},
    )
    response = client.patch(
        created.headers["location"], content=b"bytes", headers=depositor.headers | TUS | STREAM | {"Upload-Offset": "0"}
    )
    assert_problem(response, 422)
    assert files_of(client, depositor, draft["id"]) == {}
    assert hashlib.sha256(b"bytes").hexdigest() not in stored_blobs(node)


# -- live server, independent client, connection cut mid-transfer ---------------------------------


class Sha256Uploader(Uploader):
    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


def test_tuspy_upload_survives_cut_connections(live_server: LiveServer, depositor: Account, tmp_path: Path) -> None:
    remote = NodeClient(live_server.url, depositor.token)
    draft = remote.create_draft({"titles": [{"title": "t"}], "creators": [{"name": "A"}]})
    data = os.urandom(3 * 1024 * 1024 + 17)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    # Every one of the first four connections dies after ~700 KB: the upload must resume each time.
    proxy = proxy_to(live_server.url, after=700_000, cuts=4)
    try:
        tus = TusClient(
            f"{proxy.url}/api/records/{draft['id']}/uploads", headers={"Authorization": f"Bearer {depositor.token}"}
        )
        uploader = tus.uploader(file_path=str(source), metadata={"filename": "big.bin"}, retries=10, retry_delay=0)
        uploader.upload()
    finally:
        proxy.stop()
    assert proxy.cut_done == 4
    files = {f["key"]: f["checksum"] for f in remote.get(draft["id"])["files"]}
    remote.close()
    assert files == {"big.bin": "sha256:" + hashlib.sha256(data).hexdigest()}


def test_tuspy_with_per_piece_checksums(live_server: LiveServer, depositor: Account, tmp_path: Path) -> None:
    remote = NodeClient(live_server.url, depositor.token)
    draft = remote.create_draft({"titles": [{"title": "t"}], "creators": [{"name": "A"}]})
    data = os.urandom(300_000)
    source = tmp_path / "c.bin"
    source.write_bytes(data)
    tus = TusClient(
        f"{live_server.url}/api/records/{draft['id']}/uploads", headers={"Authorization": f"Bearer {depositor.token}"}
    )
    uploader = Sha256Uploader(
        file_path=str(source), client=tus, metadata={"filename": "c.bin"}, chunk_size=100_000, upload_checksum=True
    )
    uploader.upload()
    files = {f["key"]: f["checksum"] for f in remote.get(draft["id"])["files"]}
    remote.close()
    assert files == {"c.bin": "sha256:" + hashlib.sha256(data).hexdigest()}


def test_node_client_resumes_by_itself(live_server: LiveServer, depositor: Account, tmp_path: Path) -> None:
    data = os.urandom(2 * 1024 * 1024 + 5)
    source = tmp_path / "r.bin"
    source.write_bytes(data)
    proxy = proxy_to(live_server.url, after=500_000, cuts=3)
    try:
        remote = NodeClient(proxy.url, depositor.token)
        draft = remote.create_draft({"titles": [{"title": "t"}], "creators": [{"name": "A"}]})
        # The draft creation went through the proxy too and used up part of a cut connection's budget.
        seen = []
        entry = remote.upload(draft["id"], source, seen.append)
        remote.close()
    finally:
        proxy.stop()
    assert proxy.cut_done == 3
    assert entry["checksum"] == "sha256:" + hashlib.sha256(data).hexdigest()
    assert sum(seen) == len(data)


def test_acknowledged_bytes_survive_a_server_crash(
    node: Node, data_dir: Path, database_url: str, depositor: Account
) -> None:
    server = start_server(data_dir, database_url)
    data = os.urandom(1_500_000)
    try:
        remote = NodeClient(server.url, depositor.token)
        draft = remote.create_draft({"titles": [{"title": "t"}], "creators": [{"name": "A"}]})
        remote.close()
        headers = depositor.headers | TUS
        meta = f"filename {b64('crash.bin')}"
        created = httpx.post(
            f"{server.url}/api/records/{draft['id']}/uploads",
            headers=headers | {"Upload-Length": str(len(data)), "Upload-Metadata": meta},
        )
        url = created.headers["location"]
        piece = httpx.patch(url, content=data[:1_000_000], headers=headers | STREAM | {"Upload-Offset": "0"})
        assert piece.headers["upload-offset"] == "1000000"
        server.process.send_signal(signal.SIGKILL)  # no shutdown, no flush: a crash
        server.process.wait()
    finally:
        server.stop()
    server = start_server(data_dir, database_url)
    try:
        url = url.replace(url.split("/api/")[0], server.url)
        assert httpx.head(url, headers=headers).headers["upload-offset"] == "1000000"
        rest = httpx.patch(url, content=data[1_000_000:], headers=headers | STREAM | {"Upload-Offset": "1000000"})
        assert rest.status_code == 204, rest.text
        remote = NodeClient(server.url, depositor.token)
        files = {f["key"]: f["checksum"] for f in remote.get(draft["id"])["files"]}
        remote.close()
    finally:
        server.stop()
    assert files == {"crash.bin": "sha256:" + hashlib.sha256(data).hexdigest()}
