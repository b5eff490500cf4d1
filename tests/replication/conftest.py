"""Replication fixtures: an origin node in its own ``osnode serve`` process (SQLite), reached
through a proxy that counts the bytes it forwards and can kill the origin mid-transfer; the test's
``node`` (SQLite and PostgreSQL) harvests it and mirrors its files."""

from __future__ import annotations

import contextlib
import hashlib
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from osnode.config import load_settings
from osnode.services import deposit, harvest, users
from osnode.services.node import Node
from tests.conftest import LiveServer, minimal_metadata, serve_in_thread, start_server
from tests.harvest.conftest import fast_client
from tests.transfer.conftest import LoopbackProxy


@dataclass
class Proxy(LoopbackProxy):
    """Forwards 127.0.0.1:port to ``upstream`` and counts the bytes sent back to clients. Armed with
    ``kill_after``, once that many bytes went down it calls ``on_kill`` (which kills the origin) and
    cuts every connection: a peer dying in the middle of a transfer."""

    upstream: tuple[str, int]
    kill_after: int | None = None
    on_kill: Callable[[], None] | None = None
    down: int = 0
    killed: bool = False
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _open: list[socket.socket] = field(default_factory=list)

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        with self._lock:
            self._open += [client, upstream]
        threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
        threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _kill(self) -> None:
        self.killed, self.kill_after = True, None
        if self.on_kill is not None:
            self.on_kill()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._open.clear()

    def _pump(self, src: socket.socket, dst: socket.socket, counted: bool) -> None:
        try:
            while data := src.recv(65536):
                if counted:
                    with self._lock:
                        self.down += len(data)
                        over = self.kill_after is not None and self.down >= self.kill_after
                    if over:
                        self._kill()
                        return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@dataclass
class Origin:
    """The peer whose files are replicated: its folder, catalog, server and the proxy in front."""

    folder: Path
    database_url: str
    server: LiveServer
    proxy: Proxy
    records: dict[str, dict[str, bytes]]  # record id -> key -> bytes

    @property
    def oai_url(self) -> str:
        return f"{self.proxy.url}/oai"

    def blob_path(self, data: bytes) -> Path:
        sha = hashlib.sha256(data).hexdigest()
        return self.folder / "blobs" / sha[:2] / sha[2:4] / sha

    def restart(self) -> None:
        """Start the origin again (same data, same kind of server), and point the proxy at it."""
        self.server.stop()
        self.server = _serve(self.folder, self.database_url, self.server.process is not None)
        self.proxy.upstream = ("127.0.0.1", int(self.server.url.rsplit(":", 1)[1]))


def _serve(folder: Path, database_url: str, process: bool) -> LiveServer:
    """``osnode serve`` in a process of its own when the test kills it, else uvicorn in a thread (the
    replication client sees the same HTTP either way, and a thread starts in a fraction of the time)."""
    if process:
        return start_server(folder, database_url)
    return serve_in_thread(load_settings(folder, database_url=database_url))


def _publish(node: Node, viewer: Any, title: str, files: dict[str, bytes], level: str) -> str:
    draft = deposit.create_draft(node, viewer, minimal_metadata(titles=[{"title": title}]), {"level": level})
    for key, data in files.items():
        deposit.add_file(node, draft.id, key, [data], viewer)
    deposit.publish(node, draft.id, viewer)
    return draft.record_id


@pytest.fixture
def make_origin(tmp_path: Path) -> Iterator[Callable[..., Origin]]:
    made: list[Origin] = []

    def make(open_records: list[dict[str, bytes]], closed: int = 1, process: bool = False) -> Origin:
        folder = tmp_path / "origin"
        folder.mkdir()
        database_url = f"sqlite:///{folder / 'catalog.sqlite'}"
        node = Node.open(load_settings(folder, database_url=database_url, base_url="http://origin.example.org"))
        viewer = users.viewer_for(users.create_user(node, "origin-admin", "admin"))
        published = {}
        for i, files in enumerate(open_records):
            published[_publish(node, viewer, f"Open dataset {i}", files, "open")] = files
        for i in range(closed):
            # Metadata-only at the origin: harvested, never replicated.
            _publish(node, viewer, f"Closed dataset {i}", {"secret.txt": f"secret {i}".encode()}, "metadata-only")
        node.close()
        server = _serve(folder, database_url, process)
        proxy = Proxy(("127.0.0.1", int(server.url.rsplit(":", 1)[1]))).start()
        origin = Origin(folder, database_url, server, proxy, published)
        made.append(origin)
        return origin

    yield make
    for origin in made:
        origin.server.stop()
        origin.proxy.stop()


def harvest_origin(node: Node, origin: Origin, name: str = "origin") -> None:
    harvest.add_peer(node, origin.oai_url, name=name, connect=fast_client)
    run = harvest.harvest(node, name, fast_client)
    assert run.status == "ok", (run.message, run.error_list)
