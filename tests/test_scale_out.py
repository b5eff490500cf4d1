"""Done when (issue 19, without the object store, which is branch h-s3's): on loopback, PostgreSQL + two
``osnode serve`` processes + two ``osnode worker`` processes + nginx in front. A deposit through the proxy
(tus, one web process killed between its pieces), a harvest of a peer (its worker killed mid-way), a
replication of the peer's files, and at the end every record and byte in place and every blob verified."""

from __future__ import annotations

import hashlib
import os
import signal
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text

from osnode.config import load_settings
from osnode.services import deposit, harvest, queue, replication, users
from osnode.services.node import Node
from osnode.storage.catalog import blobs, records
from tests.conftest import _pg_admin, _pg_url, free_port, minimal_metadata, serve_in_thread, start_server
from tests.services.test_queue_faults import job_row, ready, start_worker, stop, wait_for
from tests.web.test_nginx import running_nginx

PEER_RECORDS = 5


@pytest.fixture
def pg_databases(request: pytest.FixtureRequest) -> Iterator[Callable[[], str]]:
    """Make empty, migrated PostgreSQL catalogs (from the suite's template); dropped at the end."""
    template = request.getfixturevalue("pg_template")
    admin, made = _pg_admin(), []

    def make() -> str:
        name = f"osnode_s_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        made.append(name)
        return _pg_url(name)

    yield make
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_scaled_out_node_loses_nothing_when_a_web_process_and_a_worker_die(
    tmp_path: Path, pg_databases: Callable[[], str]
) -> None:
    # The peer: five open records with a file each, served over HTTP, two records per OAI-PMH page.
    peer_node = Node.open(load_settings(tmp_path / "peer", database_url=pg_databases(), oai_page_size=2))
    owner = users.viewer_for(users.create_user(peer_node, "peer-owner", "depositor"))
    peer_bytes = {}
    for i in range(PEER_RECORDS):
        data = os.urandom(50_000 + i)
        draft = deposit.create_draft(peer_node, owner, minimal_metadata(titles=[{"title": f"Peer {i}"}]))
        deposit.add_file(peer_node, draft.id, f"p{i}.bin", [data], owner)
        deposit.publish(peer_node, draft.id, owner)
        peer_bytes[hashlib.sha256(data).hexdigest()] = data
    peer = serve_in_thread(peer_node.settings)

    # The platform: one catalog and blob folder, two web processes, two workers, nginx in front.
    folder, url = tmp_path / "platform", pg_databases()
    proxy_port = free_port()
    proxy = f"http://127.0.0.1:{proxy_port}"
    folder.mkdir()
    (folder / "osnode.toml").write_text(
        f'queue = "database"\nqueue_lease_seconds = 3\nbase_url = "{proxy}"\n'
        'trusted_proxies = ["127.0.0.1"]\naccel_redirect = "/_osnode_blobs"\n'
    )
    platform = Node.open(load_settings(folder, database_url=url))
    depositor = users.create_user(platform, "depositor", "depositor")
    bearer = {"Authorization": f"Bearer {users.create_token(platform, depositor)}"}
    env = {"OSNODE_QUEUE_LEASE_SECONDS": "3"}
    webs = [start_server(folder, url, env) for _ in range(2)]
    doomed_worker = start_worker(folder, url, "--no-schedule", env={"OSNODE_FAILPOINTS": "harvest.page"})
    workers = [doomed_worker]
    try:
        upstreams = [w.url.removeprefix("http://") for w in webs]
        with (
            running_nginx(tmp_path / "nginx", upstreams, platform.settings.blob_dir, proxy_port),
            httpx.Client(base_url=proxy, timeout=60) as http,
        ):
            # A deposit through the proxy; one web process is killed between the two tus pieces.
            draft = http.post("/api/records", json={"metadata": minimal_metadata()}, headers=bearer).json()
            data = os.urandom(400_000)
            tus = bearer | {"Tus-Resumable": "1.0.0"}
            created = http.post(
                f"/api/records/{draft['id']}/uploads",
                headers=tus | {"Upload-Length": str(len(data)), "Upload-Metadata": "filename ZGVwb3NpdC5iaW4="},
            )
            assert created.status_code == 201, created.text
            location = created.headers["location"]
            stream = tus | {"Content-Type": "application/offset+octet-stream"}
            first = http.patch(location, content=data[:150_000], headers=stream | {"Upload-Offset": "0"})
            assert first.status_code == 204
            assert webs[0].process is not None
            webs[0].process.send_signal(signal.SIGKILL)
            webs[0].process.wait()
            offset = http.head(location, headers=tus).headers["upload-offset"]  # as a tus client resumes
            rest = http.patch(location, content=data[int(offset) :], headers=stream | {"Upload-Offset": offset})
            assert rest.status_code == 204 and rest.headers["upload-offset"] == str(len(data))
            published = http.post(f"/api/records/{draft['id']}/publish", headers=bearer)
            assert published.status_code == 200, published.text
            record_id = published.json()["record_id"]

            # A harvest of the peer; the worker that took it is killed after its first page.
            harvest.add_peer(platform, f"{peer.url}/oai", name="peer", every_hours=1)
            replication.set_policy(platform, "peer", "open")
            wait_for(lambda: ready(doomed_worker))
            harvest_job = queue.enqueue(platform, "harvest")
            assert harvest_job is not None
            wait_for(lambda: job_row(platform, harvest_job).state == queue.RUNNING and _records(platform) > 1)
            workers += [start_worker(folder, url, "--no-schedule"), start_worker(folder, url, "--no-schedule")]
            doomed_worker.send_signal(signal.SIGKILL)
            doomed_worker.wait()
            workers.remove(doomed_worker)
            wait_for(lambda: job_row(platform, harvest_job).state == queue.DONE)
            assert job_row(platform, harvest_job).attempts == 2

            # Replication of the peer's files, then a fixity round over every blob, both by the workers.
            replicate_job = queue.enqueue(platform, "replicate")
            wait_for(lambda: job_row(platform, replicate_job).state == queue.DONE)
            fixity_job = queue.enqueue(platform, "fixity")
            wait_for(lambda: job_row(platform, fixity_job).state == queue.DONE)

            # Every record and byte in place: the deposit (through the proxy, bytes sent by nginx) ...
            assert http.get(f"/api/records/{record_id}/files/deposit.bin").content == data
            assert _records(platform) == 1 + PEER_RECORDS  # each harvested record once
        # ... the peer's files, and every blob of the platform hashed again from its bytes.
        with platform.engine.connect() as conn:
            stored = conn.execute(select(blobs.c.sha256, blobs.c.size)).all()
        digests = {row.sha256 for row in stored}
        assert set(peer_bytes) | {hashlib.sha256(data).hexdigest()} <= digests
        for row in stored:
            blob = platform.blobs.path(row.sha256).read_bytes()
            assert hashlib.sha256(blob).hexdigest() == row.sha256 and len(blob) == row.size
        assert {queue.DEAD: queue.counts(platform)[queue.DEAD]} == {queue.DEAD: 0}
    finally:
        for worker in workers:
            stop(worker)
        for web in webs:
            web.stop()
        peer.stop()
        peer_node.close()
        platform.close()


def _records(node: Node) -> int:
    with node.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(records)).scalar_one()
