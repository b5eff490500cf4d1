"""Shared fixtures. Every test that uses ``node`` runs twice: on SQLite and on real PostgreSQL.

PostgreSQL: tests connect to ``$OSNODE_TEST_PG`` (default: the local server, user postgres),
build one migrated template database per worker, and clone it per test (CREATE DATABASE ...
TEMPLATE is fast), dropping every database they made.
"""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from osnode.app import create_app
from osnode.config import Settings, load_settings
from osnode.services import users
from osnode.services.node import Node
from osnode.storage.catalog import make_engine, migrate
from tests.blob_stores import BACKEND as BLOB_BACKEND
from tests.blob_stores import SeaweedS3, start_seaweed

PG_ADMIN_URL = os.environ.get("OSNODE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgresql"]


def _pg_url(database: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database


def _pg_admin():  # type: ignore[no-untyped-def]
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_template(worker_id: str) -> Iterator[str]:
    name = f"osnode_tpl_{worker_id}_{os.getpid()}"
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # a missing server is a broken test machine, not a reason to skip
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
    engine = make_engine(_pg_url(name))
    migrate(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class _Dropper:
    """Drops the tests' PostgreSQL databases in a thread of its own. A DROP DATABASE takes 0.3-1.3 s
    (PostgreSQL removes the files and waits for a checkpoint), which every test on PostgreSQL used to
    wait for; now the next test runs meanwhile. The queue is short, so a slow server holds the tests
    back rather than letting databases pile up on disk; the session waits for the last drop."""

    def __init__(self) -> None:
        self.admin = _pg_admin()
        self.names: queue.Queue[str | None] = queue.Queue(maxsize=4)
        self.failures: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (name := self.names.get()) is not None:
            try:
                with self.admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except Exception as exc:  # reported when the session ends
                self.failures.append(f"{name}: {exc}")

    def close(self) -> None:
        self.names.put(None)
        self.thread.join()
        self.admin.dispose()
        assert not self.failures, f"test databases left behind: {self.failures}"


@pytest.fixture(scope="session")
def pg_dropper() -> Iterator[_Dropper]:
    dropper = _Dropper()
    yield dropper
    dropper.close()


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated catalog on the backend of this test's parameter."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalog.sqlite'}"
        return
    template = request.getfixturevalue("pg_template")
    dropper: _Dropper = request.getfixturevalue("pg_dropper")
    name = f"osnode_t_{uuid.uuid4().hex[:12]}"
    with dropper.admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield _pg_url(name)
    dropper.names.put(name)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Any test that (indirectly) needs a catalog runs on both backends.
    if "database_url" in metafunc.fixturenames:
        metafunc.parametrize("database_url", BACKENDS, indirect=True)
    # Any blob-related test (it asks for ``blob_store``) runs on the local folder and on S3.
    if "blob_store" in metafunc.fixturenames:
        local_only = metafunc.definition.get_closest_marker("local_blobs") is not None
        metafunc.parametrize("blob_store", ["local"] if local_only else ["local", "s3"], indirect=True)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """A real S3-compatible server (SeaweedFS ``weed mini``) on loopback, one per test process."""
    server = start_seaweed(tmp_path_factory.mktemp("seaweedfs"))
    yield server
    server.stop()


@pytest.fixture
def blob_store(request: pytest.FixtureRequest) -> dict[str, object]:
    """Node settings choosing the blob store of this test's parameter (a fresh S3 prefix per test)."""
    backend = getattr(request, "param", BLOB_BACKEND)
    if backend == "local":
        return {}
    return request.getfixturevalue("s3_server").settings()


def blob_settings(request: pytest.FixtureRequest, folder: Path, fresh: bool = False) -> dict[str, object]:
    """The blob store a node of this test in ``folder`` uses: the test's ``blob_store`` parameter, else the
    suite's; ``fresh``: of the same kind but its own (a second node). Written to the folder's config too,
    so an ``osnode serve`` or CLI process on this folder uses the same store."""
    if "blob_store" in request.fixturenames or BLOB_BACKEND != "local":
        chosen = request.getfixturevalue("blob_store")
        if chosen and fresh:
            chosen = request.getfixturevalue("s3_server").settings()
    else:
        chosen = {}
    if chosen:
        (folder / "osnode.toml").write_text("".join(f'{k} = "{v}"\n' for k, v in chosen.items()))
    return chosen


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "node"
    folder.mkdir()
    return folder


@pytest.fixture
def node(request: pytest.FixtureRequest, data_dir: Path, database_url: str) -> Iterator[Node]:
    chosen = blob_settings(request, data_dir)
    settings = load_settings(data_dir, database_url=database_url, base_url="http://testserver", **chosen)
    opened = Node.open(settings)
    yield opened
    opened.close()


@dataclass
class Account:
    user: users.User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def viewer(self):  # type: ignore[no-untyped-def]
        return users.viewer_for(self.user)


def _account(node: Node, name: str, role: str) -> Account:
    user = users.create_user(node, name, role)
    return Account(user, users.create_token(node, user))


@pytest.fixture
def admin(node: Node) -> Account:
    return _account(node, "admin", "admin")


@pytest.fixture
def depositor(node: Node) -> Account:
    return _account(node, "depositor", "depositor")


@pytest.fixture
def other_depositor(node: Node) -> Account:
    return _account(node, "someone-else", "depositor")


@pytest.fixture
def curator(node: Node) -> Account:
    return _account(node, "curator", "curator")


@pytest.fixture
def client(node: Node) -> Iterator[TestClient]:
    with TestClient(create_app(node)) as test_client:
        yield test_client


def minimal_metadata(**changes: Any) -> dict[str, Any]:
    """The smallest metadata that can be published (the node fills publisher and year)."""
    meta: dict[str, Any] = {
        "titles": [{"title": "Rainfall at Luanda, 2001-2020", "lang": "en"}],
        "creators": [{"familyName": "Silva", "givenName": "Ana", "orcid": "0000-0002-1825-0097"}],
        "resourceType": {"resourceTypeGeneral": "Dataset"},
        "rightsList": [{"rightsIdentifier": "CC-BY-4.0"}],
    }
    meta.update(changes)
    return meta


# -- a real server in a subprocess, for crash tests and the CLI's --url mode ---------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    """A node served over real TCP: ``osnode serve`` in a process (``process``), or uvicorn in a thread
    of this process (``server``), for tests whose point is the HTTP conversation, not the process."""

    process: subprocess.Popen[bytes] | None
    url: str
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    node: Node | None = None  # the node the thread serves, closed with it

    def stop(self) -> None:
        if self.server is not None and self.thread is not None and self.node is not None:
            self.server.should_exit = True
            self.thread.join(30)
            self.node.close()
            return
        assert self.process is not None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    data_dir: Path, database_url: str, env: dict[str, str] | None = None, patience: float = 180
) -> LiveServer:
    """``osnode serve`` on ``data_dir`` in its own process, at a free port.

    Patient, because on a busy 2-core machine importing the app alone can take tens of seconds; the
    server's stderr goes to a temporary file (a pipe nobody reads could fill up and block it) and is
    shown if it does not come up.
    """
    port = free_port()
    # The explore fork server starts on the first job rather than with the server: ~3 s and a core less
    # per start, and these servers rarely explore (a test's ``env`` may set it back to true).
    defaults = {"OSNODE_DATABASE_URL": database_url, "OSNODE_EXPLORE_PRELOAD": "false"}
    full_env = os.environ | defaults | (env or {})
    errors = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server process
    process = subprocess.Popen(
        [sys.executable, "-m", "osnode", "serve", "--data", str(data_dir), "--port", str(port)],
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )
    url = f"http://127.0.0.1:{port}"
    if _came_up(process, port, url, time.monotonic() + patience):
        return LiveServer(process, url)
    if process.poll() is None:
        process.kill()
    process.wait()
    errors.seek(0)
    raise RuntimeError(f"osnode serve did not come up: {errors.read().decode(errors='replace')[-2000:]}")


def _came_up(process: subprocess.Popen[bytes], port: int, url: str, deadline: float) -> bool:
    """Whether the server answers /healthz before ``deadline``. The port is knocked on with a bare socket
    (cheap) and only then asked over HTTP, by one client: ``httpx.get`` per try built an SSL context each
    time, ~0.25 s of a core taken from the server that was starting."""
    with httpx.Client(timeout=2) as http:
        while time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                if http.get(f"{url}/healthz").status_code == 200:
                    return True
            except (OSError, httpx.HTTPError):
                pass
            time.sleep(0.05)
    return False


def serve_in_thread(settings: Settings) -> LiveServer:
    """A node on ``settings``' folder and catalog, opened here and served by uvicorn in a thread, on a
    socket bound first (so its links name the real port, as ``osnode serve`` does). It starts in a
    fraction of a second where ``osnode serve`` costs seconds of imports on a busy machine; tests that
    kill the server, or check what ``serve`` itself does, use ``start_server``."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    served = Node.open(replace(settings, base_url=url))
    config = uvicorn.Config(create_app(served), log_level="warning", timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    if not server.started:
        served.close()
        raise RuntimeError("uvicorn did not start in a thread")
    return LiveServer(None, url, server, thread, served)


@pytest.fixture
def live_server(node: Node) -> Iterator[LiveServer]:
    """This test's node served over real TCP (uvicorn in a thread of the test's process)."""
    server = serve_in_thread(node.settings)
    yield server
    server.stop()
