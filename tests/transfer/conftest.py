"""Fixtures for transfers: a TCP proxy that cuts connections, a peer node in its own process."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import pytest
from fastapi.testclient import TestClient

from osnode.app import create_app
from osnode.config import load_settings
from osnode.services import users
from osnode.services.node import Node
from tests.conftest import Account, LiveServer, serve_in_thread
from tests.web.conftest import create_draft, publish, upload


class LoopbackProxy:
    """Listens on a free 127.0.0.1 port and hands every accepted connection, with a fresh one to
    ``upstream``, to ``_relay``; subclasses decide what happens to the bytes in between."""

    upstream: tuple[str, int]
    port: int = 0
    _server: socket.socket

    def start(self) -> Self:
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(32)
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._server.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            self._accepted()
            try:
                upstream = socket.create_connection(self.upstream)
            except OSError:  # the peer is gone: so is this connection
                client.close()
                continue
            self._relay(client, upstream)

    def _accepted(self) -> None:
        """Called once per accepted connection, before it is relayed."""

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        raise NotImplementedError


@dataclass
class CuttingProxy(LoopbackProxy):
    """Forwards 127.0.0.1:port to ``upstream``; the first ``cuts`` connections are cut dead after
    ``after`` bytes have gone through them (either way), as a bad link or a dying peer would."""

    upstream: tuple[str, int]
    after: int
    cuts: int
    port: int = 0
    cut_done: int = 0
    connections: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _cut_next: bool = False

    def _accepted(self) -> None:
        with self._lock:
            self.connections += 1
            self._cut_next = self.cut_done < self.cuts
            if self._cut_next:
                self.cut_done += 1

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        budget = [self.after if self._cut_next else None]
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(a, b, client, upstream, budget), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, c: socket.socket, u: socket.socket, budget: list) -> None:
        try:
            while data := src.recv(65536):
                if budget[0] is not None:
                    if len(data) >= budget[0]:
                        dst.sendall(data[: budget[0]])
                        budget[0] = 0
                        raise ConnectionAbortedError("cut")
                    budget[0] -= len(data)
                dst.sendall(data)
        except OSError:
            pass
        for s in (c, u):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


def proxy_to(url: str, after: int, cuts: int) -> CuttingProxy:
    host, port = url.removeprefix("http://").split(":")
    return CuttingProxy((host, int(port)), after, cuts).start()


@dataclass
class Peer:
    """Another node, in its own process and its own (SQLite) catalog, holding published files."""

    server: LiveServer
    data_dir: Path
    url: str


@pytest.fixture
def make_peer(tmp_path: Path) -> Iterator:
    started: list[LiveServer] = []

    def make(files: dict[str, bytes], name: str = "peer", access: dict | None = None) -> Peer:
        folder = tmp_path / name
        folder.mkdir()
        database_url = f"sqlite:///{folder / 'catalog.sqlite'}"
        node = Node.open(load_settings(folder, database_url=database_url, base_url="http://peer"))
        user = users.create_user(node, "peer-depositor", "depositor")
        account = Account(user, users.create_token(node, user))
        with TestClient(create_app(node)) as client:
            draft = create_draft(client, account, access=access)
            for key, data in files.items():
                upload(client, account, draft["id"], key, data)
            publish(client, account, draft["id"])
        node.close()
        # Served from a thread: the blob fetches see the same HTTP as from ``osnode serve``, started sooner.
        server = serve_in_thread(load_settings(folder, database_url=database_url))
        started.append(server)
        return Peer(server, folder, server.url)

    yield make
    for server in started:
        server.stop()
