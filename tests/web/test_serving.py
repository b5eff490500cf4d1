"""How uvicorn serves the node (web/serving.py): TCP_NODELAY on every connection, even on a listening
socket made as ``--workers N`` makes it (where asyncio leaves Nagle on), X-Forwarded-* believed only from
the configured proxies, and ``osnode serve --workers 2`` answering from two processes."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from osnode.app import create_app
from osnode.services import site
from osnode.services.node import Node
from osnode.web import fresh_settings
from osnode.web.serving import uvicorn_options
from tests.conftest import Account, free_port


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Says who the app thinks the client is."""
    if scope["type"] != "http":
        return
    body = json.dumps({"client": scope["client"][0], "scheme": scope["scheme"]}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


@contextmanager
def served(**options: Any) -> Iterator[tuple[uvicorn.Server, int]]:
    # A listening socket made as uvicorn makes it for --workers N: socket.socket(family), proto 0.
    sock = socket.socket(socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(echo, log_level="warning", **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield server, sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)


def server_side_nodelay(**options: Any) -> int:
    with served(**options) as (server, port):
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", "/")
        conn.getresponse().read()
        (protocol,) = server.server_state.connections
        value = protocol.transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        conn.close()
        return value


def test_every_connection_has_tcp_nodelay_whoever_made_the_listening_socket() -> None:
    assert server_side_nodelay(http="h11") == 0  # uvicorn alone, as with --workers: Nagle stays on
    assert server_side_nodelay(**uvicorn_options(())) != 0


def test_forwarded_headers_are_believed_only_from_configured_proxies() -> None:
    forged = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    with served(**uvicorn_options(())) as (_server, port):
        assert httpx.get(f"http://127.0.0.1:{port}/", headers=forged).json() == {
            "client": "127.0.0.1",
            "scheme": "http",
        }
    with served(**uvicorn_options(("10.1.2.3",))) as (_server, port):  # a proxy elsewhere: we are not it
        assert httpx.get(f"http://127.0.0.1:{port}/", headers=forged).json()["client"] == "127.0.0.1"
    with served(**uvicorn_options(("127.0.0.1",))) as (_server, port):
        assert httpx.get(f"http://127.0.0.1:{port}/", headers=forged).json() == {
            "client": "203.0.113.9",
            "scheme": "https",
        }


def test_serve_with_two_workers_answers_from_two_processes(tmp_path: Path, database_url: str) -> None:
    port = free_port()
    env = os.environ | {"OSNODE_DATABASE_URL": database_url, "OSNODE_EXPLORE_PRELOAD": "false"}
    command = [sys.executable, "-m", "osnode", "serve", "--data", str(tmp_path / "n"), "--port", str(port)]
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen([*command, "--workers", "2"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        answered = 0
        with httpx.Client(timeout=5) as http:
            while time.monotonic() < deadline and answered < 20:
                assert process.poll() is None, (tmp_path / "serve.log").read_text()
                try:
                    answered += http.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
                except httpx.HTTPError:
                    time.sleep(0.2)
            assert answered == 20
            assert http.get(f"http://127.0.0.1:{port}/", headers={"accept": "text/html"}).status_code == 200
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        spawned = [c for c in children if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()]
        assert len(spawned) == 2  # uvicorn's supervisor and its two web processes
    finally:
        process.terminate()
        process.wait(30)


def test_settings_stored_by_another_process_are_taken_up_at_the_next_request(
    node: Node, admin: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fresh_settings, "INTERVAL", 0.0)  # look at every request, not at most once a second
    other = Node.open(node.settings)  # another web process (or machine) on the same catalog
    try:
        with TestClient(create_app(other)) as web:
            assert "Renamed by the admin" not in web.get("/", headers={"accept": "text/html"}).text
            site.update(node, admin.viewer, {"node_name": "Renamed by the admin"})  # the form, answered here
            assert "Renamed by the admin" in web.get("/", headers={"accept": "text/html"}).text
            assert other.settings.node_name == "Renamed by the admin"
            assert not site.refresh(other)  # nothing new since
    finally:
        other.close()
