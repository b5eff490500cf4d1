"""Upload forms are checked before they are read: over real TCP (uvicorn), a multipart post that declares more
than the node's limit is answered 413 with a clear page before a byte of its body is sent; one without a length
is answered 411; one whose leading CSRF field is wrong is refused (403) after its first kilobyte, while the rest
of the file is still unsent. A good post still arrives whole."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from osnode.services.node import Node
from tests.conftest import LiveServer, serve_in_thread
from tests.web.accounts_helpers import PASSWORD, local_account

LIMIT = 256 * 1024
BOUNDARY = "osnodeboundary"
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


@pytest.fixture
def server(node: Node) -> Iterator[LiveServer]:
    live = serve_in_thread(replace(node.settings, max_upload_bytes=LIMIT))
    yield live
    live.stop()


def _signed_in(server: LiveServer, node: Node) -> tuple[httpx.Client, str, str]:
    """A browser-like client signed in, its CSRF token, and a new draft's id."""
    local_account(node)
    web = httpx.Client(base_url=server.url, headers={"Accept": "text/html"}, timeout=60, follow_redirects=True)
    token = _CSRF.search(web.get("/login").text).group(1)  # type: ignore[union-attr]
    signed = web.post("/login", data={"email": "ana@example.org", "password": PASSWORD, "csrf": token})
    assert signed.status_code in (200, 303)
    token = _CSRF.search(web.get("/deposit/new").text).group(1)  # type: ignore[union-attr]
    made = web.post("/deposit/new", data={"csrf": token, "action": "save", "titles.0.title": "T"})
    version_id = str(made.url).split("/deposit/")[1].split("?")[0]
    assert made.status_code == 200 and version_id != "new"
    token = _CSRF.search(web.get(f"/deposit/{version_id}").text).group(1)  # type: ignore[union-attr]
    return web, token, version_id


def _head(server: LiveServer, path: str, cookies: httpx.Cookies, length: int | None) -> bytes:
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    host = server.url.removeprefix("http://")
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", "Accept: text/html", f"Cookie: {cookie}",
             f"Content-Type: multipart/form-data; boundary={BOUNDARY}"]  # fmt: skip
    lines.append(f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _first_part(token: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{token}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()


def _answer(sock: socket.socket) -> str:
    """The response, read until the page ends or the server closes (it never waits for the unsent body)."""
    sock.settimeout(60)
    data = b""
    while b"</html>" not in data and (chunk := sock.recv(65536)):
        data += chunk
    return data.decode("utf-8", "replace")


def _send(server: LiveServer, head: bytes, body: bytes = b"") -> str:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(head + body)
        return _answer(sock)


def test_a_post_over_the_limit_is_refused_before_its_body(server: LiveServer, node: Node) -> None:
    web, _, version_id = _signed_in(server, node)
    answer = _send(server, _head(server, f"/deposit/{version_id}/files", web.cookies, 10 * 1024**3))
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert "text/html" in answer and str(LIMIT) in answer  # a page that says what the limit is


def test_a_post_without_a_length_is_refused(server: LiveServer, node: Node) -> None:
    web, _, version_id = _signed_in(server, node)
    answer = _send(server, _head(server, f"/deposit/{version_id}/files", web.cookies, None), b"5\r\nhello\r\n")
    assert answer.startswith("HTTP/1.1 411"), answer[:200]


def test_a_wrong_token_is_refused_before_the_file_is_sent(server: LiveServer, node: Node) -> None:
    web, _, version_id = _signed_in(server, node)
    declared = len(_first_part("0" * 64)) + 200 * 1024 + 100
    # Only the first part and the file's headers are sent; the 200 KB of the file never are.
    answer = _send(server, _head(server, f"/deposit/{version_id}/files", web.cookies, declared), _first_part("0" * 64))
    assert answer.startswith("HTTP/1.1 403"), answer[:200]


def test_a_good_post_arrives_whole(server: LiveServer, node: Node) -> None:
    web, token, version_id = _signed_in(server, node)
    data = bytes(range(256)) * 800  # 200 KB
    done = web.post(f"/deposit/{version_id}/files", data={"csrf": token}, files=[("files", ("big.bin", data))])
    assert done.status_code == 200 and "big.bin" in done.text
    listed = web.get(f"/api/records/{version_id}/files").json()["items"]
    assert [(f["key"], f["size"]) for f in listed] == [("big.bin", len(data))]
    too_big = web.post(
        f"/deposit/{version_id}/files", data={"csrf": token}, files=[("files", ("b.bin", b"x" * (LIMIT + 70_000)))]
    )
    assert too_big.status_code == 413
