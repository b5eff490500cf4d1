"""Faults of the scale-out column, with real ``osnode worker`` processes: a worker killed mid-job (kill -9),
two schedulers started at once, and PostgreSQL restarted under running workers (a throwaway cluster of
its own, never the machine's shared server)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from osnode.config import load_settings
from osnode.services import harvest, queue
from osnode.services.node import Node
from osnode.storage.catalog import records
from osnode.storage.peers import harvest_runs, peers
from osnode.storage.queue import queue_jobs
from tests.conftest import Account, free_port, serve_in_thread
from tests.harvest.conftest import harvester, harvester_dir, harvester_url, publish  # noqa: F401 - fixtures

__all__ = ["harvester", "harvester_dir", "harvester_url"]

WORKER_ENV = {"OSNODE_QUEUE": "database", "OSNODE_QUEUE_LEASE_SECONDS": "2", "OSNODE_EXPLORE_PRELOAD": "false"}


def start_worker(data_dir: Path, database_url: str, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    command = [sys.executable, "-m", "osnode", "worker", "--data", str(data_dir), "--poll", "0.2", *extra]
    full_env = os.environ | WORKER_ENV | {"OSNODE_DATABASE_URL": database_url} | (env or {})
    # Its output goes to a file beside the data folder, for a failing test's report.
    log = data_dir.parent / f"worker-{time.monotonic_ns()}.log"
    process = subprocess.Popen(command, env=full_env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    process.log = log  # type: ignore[attr-defined]
    return process


def ready(process: subprocess.Popen) -> bool:
    """Whether the worker opened its node and took to the queue (it says so on its first line)."""
    assert process.poll() is None, process.log.read_text()  # type: ignore[attr-defined]
    return "taking jobs" in process.log.read_text()  # type: ignore[attr-defined]


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(what: Callable[[], object], patience: float = 180.0, every: float = 0.2) -> object:
    """``what()`` once it is truthy; the machine is shared and slow, so the patience is generous."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            found = what()
        except DBAPIError:  # the catalog may be down on purpose while we wait
            found = None
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"still waiting after {patience} s")


def job_row(node: Node, job_id: int):  # type: ignore[no-untyped-def]
    with node.engine.connect() as conn:
        return conn.execute(select(queue_jobs).where(queue_jobs.c.id == job_id)).one()


def test_a_job_whose_worker_is_killed_mid_way_is_finished_by_another_and_nothing_is_applied_twice(
    node: Node, admin: Account, harvester: Node, harvester_dir: Path, harvester_url: str
) -> None:
    for i in range(5):
        publish(node, admin.viewer, titles=[{"title": f"Record {i}"}])
    peer = serve_in_thread(replace(node.settings, oai_page_size=2))  # three pages
    try:
        harvest.add_peer(harvester, f"{peer.url}/oai", name="p", every_hours=1)
        job_id = queue.enqueue(harvester, "harvest")
        assert job_id is not None
        # The first worker stops for good once it has stored the first page (a failpoint), and is killed there.
        doomed = start_worker(harvester_dir, harvester_url, "--no-schedule", env={"OSNODE_FAILPOINTS": "harvest.page"})
        try:

            def first_page_stored() -> bool:
                with harvester.engine.connect() as conn:
                    return bool(conn.execute(select(peers.c.resumption_token)).scalar())

            wait_for(first_page_stored)
            assert job_row(harvester, job_id).state == queue.RUNNING
        finally:
            doomed.send_signal(signal.SIGKILL)
            doomed.wait()
        survivor = start_worker(harvester_dir, harvester_url, "--no-schedule")
        try:
            wait_for(lambda: job_row(harvester, job_id).state == queue.DONE)
        finally:
            stop(survivor)
        done = job_row(harvester, job_id)
        assert done.attempts == 2 and str(survivor.pid) in done.locked_by
        with harvester.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(records)).scalar() == 5  # each record once
            last = conn.execute(select(harvest_runs).order_by(harvest_runs.c.id.desc())).first()
        assert last is not None and (last.status, last.resumed, last.added) == ("ok", True, 3)  # only the rest
    finally:
        peer.stop()


def test_two_schedulers_started_at_once_enqueue_each_period_once(node: Node, data_dir: Path, database_url: str) -> None:
    started = time.time()
    workers = [start_worker(data_dir, database_url) for _ in range(2)]
    try:
        # explore-profiles runs every 10 s: wait for three of its periods to be queued.
        def profile_periods() -> list[str]:
            with node.engine.connect() as conn:
                keys = conn.execute(select(queue_jobs.c.dedupe_key).where(queue_jobs.c.task == "explore-profiles"))
                found = [k for k in keys.scalars() if k]
            return found if len(found) >= 3 else []

        keys = wait_for(profile_periods)
    finally:
        for worker in workers:
            stop(worker)
    elapsed = time.time() - started
    with node.engine.connect() as conn:
        rows = conn.execute(
            select(queue_jobs.c.dedupe_key, queue_jobs.c.state).where(queue_jobs.c.task == "explore-profiles")
        ).all()
    periods = [int(key.rsplit(":", 1)[1]) for key, _ in rows]
    assert len(periods) == len(set(periods)) and keys  # one job per period, never two
    # Two schedulers without the unique key would queue twice what the clock allows; here at most one a period.
    # (a window of L seconds meets at most ceil(L / 10) + 1 periods of 10 s)
    assert len(periods) <= elapsed / 10 + 2
    assert max(periods) - min(periods) + 1 >= len(periods)


# -- PostgreSQL restarted under running workers -------------------------------------------------------


def _as_postgres(*command: str) -> list[str]:
    # initdb and postgres refuse to run as root; the tests on this machine do.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


def _pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    assert found, f"{name} not found: install Debian's postgresql package"
    return str(found[-1])


@pytest.fixture
def throwaway_pg() -> Iterator[tuple[str, Callable[[], None]]]:
    """A PostgreSQL cluster of this test's own, on a free port, and a function that restarts it."""
    folder = Path(tempfile.mkdtemp(prefix="osnode-pg-"))
    os.chmod(folder, 0o777)  # the postgres user writes here
    data, log = folder / "data", folder / "log"
    port = free_port()
    subprocess.run(
        _as_postgres(_pg_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    ctl = [_pg_bin("pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w"]

    def restart() -> None:
        subprocess.run(_as_postgres(*ctl, "-m", "immediate", "stop"), check=True, capture_output=True)
        time.sleep(2)  # down for a while: the workers' polls fail meanwhile
        subprocess.run(_as_postgres(*ctl, "start"), check=True, capture_output=True)

    subprocess.run(_as_postgres(*ctl, "start"), check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres", restart
    finally:
        subprocess.run(_as_postgres(*ctl, "-m", "immediate", "stop"), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def test_workers_reconnect_after_postgresql_restarts(
    tmp_path: Path, throwaway_pg: tuple[str, Callable[[], None]]
) -> None:
    url, restart = throwaway_pg
    node = Node.open(load_settings(tmp_path, database_url=url, queue="database"))
    workers = [start_worker(tmp_path, url, "--no-schedule") for _ in range(2)]
    try:
        for worker in workers:
            wait_for(lambda worker=worker: ready(worker))
        before = queue.enqueue(node, "expired-uploads")
        wait_for(lambda: job_row(node, before).state == queue.DONE)
        restart()
        after = [queue.enqueue(node, "expired-uploads") for _ in range(4)]
        for job_id in after:
            wait_for(lambda job_id=job_id: job_row(node, job_id).state == queue.DONE)
        for worker in workers:  # still running: they waited the outage out
            assert worker.poll() is None, worker.log.read_text()  # type: ignore[attr-defined]
        assert {job_row(node, j).attempts for j in after} == {1}
    finally:
        for worker in workers:
            stop(worker)
        node.close()


def test_harvest_now_with_the_durable_queue_is_a_job_for_the_workers(
    node: Node, admin: Account, harvester: Node
) -> None:
    from osnode.plugins.builtins import TASKS
    from osnode.services import admin_peers, users

    publish(node, admin.viewer, titles=[{"title": "One"}])
    publish(node, admin.viewer, titles=[{"title": "Two"}])
    peer = serve_in_thread(node.settings)
    try:
        harvester.settings = replace(harvester.settings, queue="database")
        boss = users.viewer_for(users.create_user(harvester, "boss", "admin"))
        harvest.add_peer(harvester, f"{peer.url}/oai", name="p")
        admin_peers.harvest_now(harvester, boss, "p")
        (job,) = queue.listing(harvester)
        assert (job.task, job.args, job.state) == ("harvest-peer", {"peer": "p"}, queue.QUEUED)
        assert queue.Worker(harvester, [], TASKS, schedule=False).run_one() is not None
        assert queue.listing(harvester)[0].state == queue.DONE
        with harvester.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(records)).scalar() == 2
    finally:
        peer.stop()
