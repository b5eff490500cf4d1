"""Blobs for peers, fetch_blob against live servers (cut, killed, lying), and fixity with repair."""

from __future__ import annotations

import hashlib
import http.server
import os
import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from osnode.config import load_settings
from osnode.services import fixity
from osnode.services.node import Node
from osnode.services.transfer import TransferFailed, fetch_blob
from tests.blob_stores import damage, quarantined, remove, tmp_leftovers
from tests.conftest import Account
from tests.transfer.conftest import proxy_to
from tests.web.conftest import assert_problem, create_draft, published_record, upload

BIG = os.urandom(2 * 1024 * 1024 + 3)
BIG_SHA = hashlib.sha256(BIG).hexdigest()

# Blob-related: every test here runs on the local folder and on S3.
pytestmark = pytest.mark.usefixtures("blob_store")


def test_blob_api_serves_only_downloadable_blobs_with_range(client: TestClient, depositor: Account) -> None:
    published_record(client, depositor, {"open.bin": b"open bytes"})
    published_record(client, depositor, {"secret.bin": b"secret bytes"}, access={"level": "restricted"})
    draft = create_draft(client, depositor)
    upload(client, depositor, draft["id"], "draft.bin", b"draft bytes")
    open_sha = hashlib.sha256(b"open bytes").hexdigest()
    whole = client.get(f"/api/blobs/{open_sha}")
    assert whole.status_code == 200 and whole.content == b"open bytes"
    assert whole.headers["etag"] == f'"{open_sha}"'
    part = client.get(f"/api/blobs/{open_sha}", headers={"Range": "bytes=5-"})
    assert part.status_code == 206 and part.content == b"bytes"
    assert client.head(f"/api/blobs/{open_sha}").headers["content-length"] == "10"
    for hidden in (b"secret bytes", b"draft bytes", b"never stored"):
        assert_problem(client.get(f"/api/blobs/{hashlib.sha256(hidden).hexdigest()}"), 404)
    # The owner may have their own draft's bytes.
    mine = client.get(f"/api/blobs/{hashlib.sha256(b'draft bytes').hexdigest()}", headers=depositor.headers)
    assert mine.status_code == 200
    assert_problem(client.get("/api/blobs/not-a-hash"), 422)


def test_fetch_blob_resumes_after_the_peer_connection_dies(node: Node, make_peer) -> None:  # type: ignore[no-untyped-def]
    peer = make_peer({"big.bin": BIG})
    proxy = proxy_to(peer.url, after=600_000, cuts=3)
    try:
        stored = fetch_blob(node, proxy.url, BIG_SHA, backoff=0.01)
    finally:
        proxy.stop()
    assert proxy.cut_done == 3 and proxy.connections >= 4
    assert stored.size == len(BIG)
    assert node.blobs.read_bytes(BIG_SHA) == BIG
    assert tmp_leftovers(node) == []


def test_a_peer_killed_for_good_leaves_nothing_visible(node: Node, make_peer) -> None:  # type: ignore[no-untyped-def]
    peer = make_peer({"big.bin": BIG})
    proxy = proxy_to(peer.url, after=600_000, cuts=1)
    # The peer dies after the first cut: every later attempt finds nobody.
    threading.Thread(target=lambda: (proxy_wait(proxy), peer.server.stop()), daemon=True).start()
    with pytest.raises(TransferFailed):
        fetch_blob(node, proxy.url, BIG_SHA, attempts=4, backoff=0.3)
    proxy.stop()
    assert not node.blobs.exists(BIG_SHA)


def proxy_wait(proxy) -> None:  # type: ignore[no-untyped-def]
    while proxy.cut_done < 1:
        threading.Event().wait(0.01)


class _Liar(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = BIG[:-1] + b"X"  # one byte off
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def liar() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Liar)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_peer_serving_corrupt_bytes_is_refused(node: Node, liar: str) -> None:
    with pytest.raises(TransferFailed, match="hash"):
        fetch_blob(node, liar, BIG_SHA)
    assert not node.blobs.exists(BIG_SHA)
    assert tmp_leftovers(node) == []


def _node_with_peer(node: Node, peers: tuple[str, ...]) -> Node:
    return Node(
        load_settings(
            node.settings.data_dir,
            database_url=node.settings.database_url,
            repair_peers=peers,
            base_url="http://testserver",
        ),
        node.engine,
        node.blobs,
    )


def test_fixity_detects_corruption_and_loss_and_repairs_from_a_live_peer(
    node: Node, client: TestClient, depositor: Account, make_peer, liar: str
) -> None:  # type: ignore[no-untyped-def]
    record = published_record(client, depositor, {"big.bin": BIG, "small.txt": b"small", "ok.txt": b"fine"})
    small_sha = hashlib.sha256(b"small").hexdigest()
    peer = make_peer({"big.bin": BIG, "small.txt": b"small"})
    first = fixity.run(node)
    assert (first.checked, first.ok) == (3, 3)
    # Damage: one blob flipped, one deleted.
    damage(node, BIG_SHA)
    remove(node, small_sha)
    # Without peers: found, moved aside, never served.
    report = fixity.run(node, max_bytes=None, max_count=None)
    assert (report.corrupt, report.missing, report.repaired) == (1, 1, 0)
    assert not node.blobs.exists(BIG_SHA)
    assert any(name.startswith(BIG_SHA) for name in quarantined(node))
    refused = client.get(f"/api/records/{record['id']}/files/big.bin")
    assert refused.status_code == 404 and "missing" in refused.json()["detail"]
    status = fixity.status(node)
    assert (status["corrupt"], status["missing"]) == (1, 1)
    # A lying peer first, then an honest one: repaired from the honest one, verified.
    repairing = _node_with_peer(node, (liar, peer.url))
    report = fixity.run(repairing, max_bytes=None, max_count=None)
    assert (report.missing, report.repaired) == (2, 2)
    assert node.blobs.read_bytes(BIG_SHA) == BIG
    assert node.blobs.read_bytes(small_sha) == b"small"
    assert client.get(f"/api/records/{record['id']}/files/big.bin").content == BIG
    final = fixity.status(node)
    assert (final["ok"], final["corrupt"], final["missing"]) == (3, 0, 0)
    assert len(final["runs"]) == 3 and final["events"]


def test_rotation_takes_the_oldest_checked_first_within_budget(
    node: Node, client: TestClient, depositor: Account
) -> None:
    published_record(client, depositor, {f"f{i}.txt": f"file {i}".encode() for i in range(5)})
    seen: list[str] = []
    for _ in range(3):
        seen += [p for p, _ in fixity.due_blobs(node, None, 2)]
        fixity.run(node, max_bytes=None, max_count=2)
    assert len(set(seen[:4])) == 4  # the first two rounds never repeat a blob
    assert set(seen) == {p for p, _ in fixity.due_blobs(node, None, None)}


def test_admin_page_and_cli(node: Node, client: TestClient, admin: Account, depositor: Account) -> None:
    published_record(client, depositor)
    fixity.run(node)
    page = client.get("/admin/fixity", headers=admin.headers)
    assert page.status_code == 200 and "Fixity" in page.text
    assert client.get("/admin/fixity", headers=depositor.headers).status_code == 403
    assert client.get("/admin/fixity").status_code == 401
