"""Crash safety: kill -9 a real ``osnode serve`` in the middle of an upload and of a publication,
start it again on the same data folder and catalog, and check that nothing half-done shows.

Runs on SQLite (WAL: the killed writer's uncommitted transaction must simply vanish) and on
PostgreSQL (the server's connection dies with it and the transaction is rolled back).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
from sqlalchemy import Engine, select, text

from osnode.services.node import Node
from osnode.storage.catalog import blobs, files, records, versions
from tests.conftest import Account, LiveServer, minimal_metadata, start_server

CHUNK = 256 * 1024


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def kill9(server: LiveServer) -> None:
    server.process.kill()  # SIGKILL: no handler, no cleanup, no flush
    server.process.wait(30)
    assert server.process.returncode == -9


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def assert_blob_store_consistent(data_dir: Path, engine: Engine) -> set[str]:
    """No temporary files; every stored blob is whole (hashes to its name, in its place); every
    blob the catalog knows is on disk with its size; every file points at a known blob."""
    root = data_dir / "blobs"
    assert sorted(p.name for p in (root / "tmp").iterdir()) == []
    on_disk: dict[str, int] = {}
    for path in root.glob("??/??/*"):
        assert path.is_file(), path
        assert sha256_file(path) == path.name, f"{path} does not hash to its name"
        assert path.parent.name == path.name[2:4] and path.parent.parent.name == path.name[:2]
        on_disk[path.name] = path.stat().st_size
    # Nothing else lies about in the store but tmp/ and the two-level fan-out.
    for entry in root.iterdir():
        assert entry.name in ("tmp", "partial") or (entry.is_dir() and len(entry.name) == 2), entry
    with engine.connect() as conn:
        rows = conn.execute(select(blobs.c.sha256, blobs.c.size)).all()
        referenced = set(conn.execute(select(files.c.sha256)).scalars())
    for row in rows:
        assert on_disk.get(row.sha256) == row.size, f"catalog blob {row.sha256} missing or wrong size on disk"
    assert referenced <= {row.sha256 for row in rows}
    return set(on_disk)


def slow_body(stop: threading.Event, sent: list[int], limit: int = 512 * 1024 * 1024) -> Iterator[bytes]:
    """Random bytes, a little at a time, until told to stop (or a limit no test reaches)."""
    total = 0
    while not stop.is_set() and total < limit:
        chunk = os.urandom(CHUNK)
        total += len(chunk)
        sent[0] = total
        yield chunk
        time.sleep(0.01)


def draft_files(server: LiveServer, version_id: str, account: Account) -> list[dict]:
    got = httpx.get(f"{server.url}/api/records/{version_id}", headers=account.headers)
    assert got.status_code == 200, got.text
    assert got.json()["state"] == "draft"
    return got.json()["files"]


def test_sigkill_during_upload_leaves_no_partial_blob(
    node: Node, data_dir: Path, database_url: str, depositor: Account
) -> None:
    tmp_dir = data_dir / "blobs" / "tmp"
    server = start_server(data_dir, database_url)
    restarted: LiveServer | None = None
    try:
        created = httpx.post(
            f"{server.url}/api/records", json={"metadata": minimal_metadata()}, headers=depositor.headers
        )
        assert created.status_code == 201, created.text
        vid = created.json()["id"]

        stop = threading.Event()
        sent = [0]
        outcome: list[object] = []

        def upload() -> None:
            try:
                response = httpx.put(
                    f"{server.url}/api/records/{vid}/files/big.bin",
                    content=slow_body(stop, sent),
                    headers=depositor.headers,
                    timeout=120,
                )
                outcome.append(response)
            except httpx.HTTPError as exc:
                outcome.append(exc)

        uploader = threading.Thread(target=upload, daemon=True)
        uploader.start()

        def partial_upload_on_disk() -> bool:
            return any(p.stat().st_size >= 4 * 1024 * 1024 for p in tmp_dir.iterdir())

        wait_for(partial_upload_on_disk, "the server to have written 4 MB of the upload")
        kill9(server)
        stop.set()
        uploader.join(60)
        assert not uploader.is_alive()
        # The client saw the connection die; it never got an answer.
        assert len(outcome) == 1 and isinstance(outcome[0], httpx.HTTPError), outcome
        # The crash left the half-written upload behind, in tmp/ only.
        leftovers = list(tmp_dir.iterdir())
        assert len(leftovers) == 1 and leftovers[0].stat().st_size >= 4 * 1024 * 1024
        assert list((data_dir / "blobs").glob("??/??/*")) == []

        # Start-up sweeps only temporaries idle for a while (another process sharing the store may be writing a
        # fresh one): age this one as the next start after a crash would find it.
        two_hours_ago = time.time() - 7200
        os.utime(leftovers[0], (two_hours_ago, two_hours_ago))
        restarted = start_server(data_dir, database_url)
        # Start-up removed the leftover; nothing partial is visible anywhere.
        assert not leftovers[0].exists()
        assert assert_blob_store_consistent(data_dir, node.engine) == set()
        with node.engine.connect() as conn:
            assert conn.execute(select(blobs)).all() == []
            assert conn.execute(select(files)).all() == []
        assert draft_files(restarted, vid, depositor) == []
        missing = httpx.get(f"{restarted.url}/api/records/{vid}/files/big.bin", headers=depositor.headers)
        assert missing.status_code == 404

        # The depositor simply tries again, and it works.
        payload = os.urandom(6 * 1024 * 1024 + 17)
        digest = hashlib.sha256(payload).hexdigest()
        retry = httpx.put(
            f"{restarted.url}/api/records/{vid}/files/big.bin", content=payload, headers=depositor.headers, timeout=60
        )
        assert retry.status_code == 201, retry.text
        assert retry.json()["checksum"] == f"sha256:{digest}"
        assert retry.json()["size"] == len(payload)
        listed = draft_files(restarted, vid, depositor)
        assert [(f["key"], f["size"]) for f in listed] == [("big.bin", len(payload))]
        back = httpx.get(f"{restarted.url}/api/records/{vid}/files/big.bin", headers=depositor.headers, timeout=60)
        assert back.status_code == 200 and hashlib.sha256(back.content).hexdigest() == digest
        assert assert_blob_store_consistent(data_dir, node.engine) == {digest}
        published = httpx.post(f"{restarted.url}/api/records/{vid}/publish", headers=depositor.headers)
        assert published.status_code == 200, published.text
    finally:
        for live in (server, restarted):
            if live is not None:
                live.stop()


def _publish_in_flight(database_url: str, engine: Engine) -> Callable[[], bool]:
    """True once another process sits inside the publish transaction, past its first write."""
    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")

        def sqlite_locked() -> bool:
            # The publish transaction holds SQLite's write lock from its first UPDATE on.
            probe = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                probe.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                assert "locked" in str(exc), exc
                return True
            else:
                probe.execute("ROLLBACK")
                return False
            finally:
                probe.close()

        return sqlite_locked

    def pg_idle_in_update() -> bool:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state = 'idle in transaction'"
                )
            ).scalars()
            return any(q.lstrip().upper().startswith("UPDATE VERSIONS") and "state" in q for q in rows)

    return pg_idle_in_update


def test_sigkill_during_publish_rolls_back(node: Node, data_dir: Path, database_url: str, depositor: Account) -> None:
    server = start_server(data_dir, database_url, env={"OSNODE_FAILPOINTS": "publish.mid"})
    restarted: LiveServer | None = None
    try:
        created = httpx.post(
            f"{server.url}/api/records", json={"metadata": minimal_metadata()}, headers=depositor.headers
        )
        assert created.status_code == 201, created.text
        vid, rid = created.json()["id"], created.json()["record_id"]
        up = httpx.put(
            f"{server.url}/api/records/{vid}/files/data.csv", content=b"x,y\n1,2\n", headers=depositor.headers
        )
        assert up.status_code == 201, up.text

        outcome: list[object] = []

        def publish() -> None:
            try:
                outcome.append(
                    httpx.post(f"{server.url}/api/records/{vid}/publish", headers=depositor.headers, timeout=120)
                )
            except httpx.HTTPError as exc:
                outcome.append(exc)

        publisher = threading.Thread(target=publish, daemon=True)
        publisher.start()
        wait_for(_publish_in_flight(database_url, node.engine), "the server to stop inside the publish transaction")
        assert outcome == []  # it is stuck at the failpoint, not finished
        kill9(server)
        publisher.join(60)
        assert len(outcome) == 1 and isinstance(outcome[0], httpx.HTTPError), outcome

        restarted = start_server(data_dir, database_url)
        url = restarted.url
        # The version is still a draft, and the record has nothing published.
        mine = httpx.get(f"{url}/api/records/{vid}", headers=depositor.headers)
        assert mine.status_code == 200, mine.text
        assert mine.json()["state"] == "draft"
        assert mine.json()["published_at"] is None
        assert [f["key"] for f in mine.json()["files"]] == ["data.csv"]
        concept = httpx.get(f"{url}/api/records/{rid}", headers=depositor.headers)
        assert concept.status_code == 200 and concept.json()["id"] == vid
        assert concept.json()["state"] == "draft" and concept.json()["is_latest"] is False
        assert httpx.get(f"{url}/api/records/{rid}").status_code == 404
        assert httpx.get(f"{url}/api/records/{vid}").status_code == 404
        assert httpx.get(f"{url}/records/{rid}").status_code == 404
        listed = httpx.get(f"{url}/api/records").json()["items"]
        assert vid not in [item["id"] for item in listed]
        versions_listed = httpx.get(f"{url}/api/records/{rid}/versions", headers=depositor.headers).json()["items"]
        assert [(v["id"], v["state"], v["is_latest"]) for v in versions_listed] == [(vid, "draft", False)]

        # The catalog itself agrees: no half of the publication landed.
        with node.engine.connect() as conn:
            record = conn.execute(select(records).where(records.c.id == rid)).one()
            version = conn.execute(select(versions).where(versions.c.id == vid)).one()
        assert record.latest_published_id is None
        assert version.state == "draft" and version.published_at is None
        assert "publisher" not in version.metadata and "publicationYear" not in version.metadata
        assert_blob_store_consistent(data_dir, node.engine)

        # Publishing again now works, all of it.
        published = httpx.post(f"{url}/api/records/{vid}/publish", headers=depositor.headers, timeout=60)
        assert published.status_code == 200, published.text
        assert published.json()["state"] == "published" and published.json()["is_latest"] is True
        public = httpx.get(f"{url}/api/records/{rid}")
        assert public.status_code == 200 and public.json()["id"] == vid
        assert httpx.get(f"{url}/api/records/{vid}/files/data.csv").content == b"x,y\n1,2\n"
        with node.engine.connect() as conn:
            assert conn.execute(select(records.c.latest_published_id).where(records.c.id == rid)).scalar() == vid
    finally:
        for live in (server, restarted):
            if live is not None:
                live.stop()
