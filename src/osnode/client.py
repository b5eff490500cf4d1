"""A small client for a node's JSON API: the CLI's one way to a node (remote over HTTP, local in-process)
and other nodes' way to this one."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import anyio.from_thread
import httpx

from .domain.errors import FieldError, InvalidInput, NodeError

CHUNK = 1024 * 1024


def file_chunks(path: Path, progress: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """A file's bytes in pieces, never whole in memory, reporting each piece to ``progress``."""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            if progress:
                progress(len(chunk))
            yield chunk


class RemoteError(NodeError):
    """A problem+json answer from the remote node, carried as the same error the node raised."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


class InProcessTransport(httpx.BaseTransport):
    """Requests answered by an ASGI app in this process: no socket, nothing listening.

    httpx's ``ASGITransport`` is async only; this runs it on one event loop in a helper thread (an anyio
    portal) for the client's lifetime. Each request body is read whole before the app sees it, so callers
    send large files in bounded pieces (``TusUpload``'s ``piece``).
    """

    def __init__(self, app: Any) -> None:
        # The app's own errors come back as the 500 a server would send, not as an exception here.
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._portal_cm = anyio.from_thread.start_blocking_portal()
        self._portal = self._portal_cm.__enter__()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()

        async def send() -> httpx.Response:
            inner = httpx.Request(request.method, request.url, headers=request.headers, content=body)
            answer = await self._asgi.handle_async_request(inner)
            # Raw bytes with the raw headers: the outer response decodes any gzip exactly once.
            raw = b"".join([chunk async for chunk in answer.stream])  # type: ignore[union-attr]
            return httpx.Response(answer.status_code, headers=answer.headers, content=raw)

        return self._portal.call(send)

    def close(self) -> None:
        self._portal_cm.__exit__(None, None, None)


class NodeClient:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        upload_piece: int | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api", headers=headers, timeout=timeout, transport=transport
        )
        self._upload_piece = upload_piece
        self._on_close: list[Callable[[], None]] = []

    def on_close(self, call: Callable[[], None]) -> None:
        """Run ``call`` after the connection is closed (e.g. close the in-process node)."""
        self._on_close.append(call)

    def close(self) -> None:
        self._http.close()
        for call in self._on_close:
            call()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise RemoteError(0, f"cannot reach the node: {exc}") from None
        if response.status_code >= 400:
            raise _problem(response)
        return response.json() if response.content else None

    def create_draft(self, metadata: Any = None, access: Any = None) -> dict[str, Any]:
        return self._call("POST", "/records", json={"metadata": metadata, "access": access})

    def update_draft(self, version_id: str, metadata: Any = None, access: Any = None) -> dict[str, Any]:
        return self._call("PUT", f"/records/{version_id}", json={"metadata": metadata, "access": access})

    def upload(self, version_id: str, path: Path, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Upload with tus, resuming by itself after a dropped connection (see ``TusUpload``)."""
        return TusUpload(self, version_id, path, progress, piece=self._upload_piece).run()

    def upload_put(self, version_id: str, path: Path, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Upload in one plain PUT: simplest, but a dropped connection means starting over."""
        headers = {"Content-Length": str(path.stat().st_size), "Content-Type": "application/octet-stream"}
        body = file_chunks(path, progress)
        return self._call("PUT", f"/records/{version_id}/files/{path.name}", content=body, headers=headers)

    def file_json(self, version_id: str, key: str) -> dict[str, Any]:
        items = self._call("GET", f"/records/{version_id}/files")["items"]
        found = next((f for f in items if f["key"] == key), None)
        if found is None:
            raise RemoteError(404, f"the upload finished but version {version_id} lists no file '{key}'")
        return found

    def publish(self, version_id: str) -> dict[str, Any]:
        return self._call("POST", f"/records/{version_id}/publish")

    def delete_draft(self, version_id: str) -> None:
        self._call("DELETE", f"/records/{version_id}")

    def get(self, any_id: str) -> dict[str, Any]:
        return self._call("GET", f"/records/{any_id}")

    def list(self, size: int = 20, cursor: str | None = None, state: str = "published") -> dict[str, Any]:
        params: dict[str, Any] = {"size": size, "state": state}
        if cursor:
            params["cursor"] = cursor
        return self._call("GET", "/records", params=params)

    def new_version(self, any_id: str) -> dict[str, Any]:
        return self._call("POST", f"/records/{any_id}/versions")

    def withdraw(self, any_id: str, reason: str) -> dict[str, Any]:
        return self._call("POST", f"/records/{any_id}/withdraw", json={"reason": reason})


TUS = {"Tus-Resumable": "1.0.0"}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class TusUpload:
    """One file sent with tus 1.0: created, then PATCHed from wherever the server says it stands.

    The whole file's SHA-256 travels in Upload-Metadata, so the node checks the bytes end to end;
    a connection that drops is retried with growing pauses (``retries`` in a row without progress),
    asking the node (HEAD) how much arrived before sending the rest.
    """

    def __init__(
        self,
        client: NodeClient,
        version_id: str,
        path: Path,
        progress: Callable[[int], None] | None = None,
        retries: int = 8,
        backoff: float = 0.5,
        piece: int | None = None,
    ) -> None:
        self.client, self.version_id, self.path = client, version_id, path
        self.size = path.stat().st_size
        self.piece = piece  # bytes per PATCH; None sends the rest of the file in one
        self.retries, self.backoff = retries, backoff
        self._progress = progress
        self._reported = 0

    def _report(self, position: int) -> None:
        # Bytes sent again after a resume are not progress: report only what is new.
        if self._progress and position > self._reported:
            self._progress(position - self._reported)
            self._reported = position

    def _sha256(self) -> str:
        digest = hashlib.sha256()
        for chunk in file_chunks(self.path):
            digest.update(chunk)
        return digest.hexdigest()

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = TUS | kwargs.pop("headers", {})
        response = self.client._http.request(method, url, headers=headers, **kwargs)
        if response.status_code >= 400:
            raise _problem(response)
        return response

    def _create(self) -> str:
        metadata = f"filename {_b64(self.path.name)},sha256 {_b64(self._sha256())}"
        response = self._request(
            "POST",
            f"/records/{self.version_id}/uploads",
            headers={"Upload-Length": str(self.size), "Upload-Metadata": metadata},
        )
        return urljoin(str(self.client._http.base_url), response.headers["location"])

    def _body(self, offset: int, end: int) -> Iterator[bytes]:
        with self.path.open("rb") as handle:
            handle.seek(offset)
            position = offset
            while position < end and (chunk := handle.read(min(CHUNK, end - position))):
                position += len(chunk)
                yield chunk
                self._report(position)

    def run(self) -> dict[str, Any]:
        url = self._call_with_retries(self._create)
        offset, failures = 0, 0
        while offset < self.size:
            end = self.size if self.piece is None else min(self.size, offset + self.piece)
            try:
                response = self._request(
                    "PATCH",
                    url,
                    content=self._body(offset, end),
                    headers={
                        "Upload-Offset": str(offset),
                        "Content-Type": "application/offset+octet-stream",
                        "Content-Length": str(end - offset),
                    },
                )
                offset = int(response.headers["upload-offset"])
                failures = 0
                continue
            except (httpx.TransportError, RemoteError) as exc:
                if isinstance(exc, RemoteError) and exc.status not in (0, 409, 502, 503, 504):
                    raise
                failures += 1
                if failures > self.retries:
                    detail = f"the upload of {self.path.name} failed {failures} times in a row: {exc}"
                    raise RemoteError(0, detail) from None
                time.sleep(min(self.backoff * 2 ** (failures - 1), 30.0))
            offset = self._offset(url)
        self._report(self.size)
        return self.client.file_json(self.version_id, self.path.name)

    def _offset(self, url: str) -> int:
        response = self._call_with_retries(lambda: self._request("HEAD", url))
        return int(response.headers["upload-offset"])

    def _call_with_retries(self, call: Callable[[], Any]) -> Any:
        for failures in range(self.retries + 1):
            try:
                return call()
            except httpx.TransportError as exc:
                if failures == self.retries:
                    raise RemoteError(0, f"cannot reach the node: {exc}") from None
                time.sleep(min(self.backoff * 2**failures, 30.0))
        raise AssertionError("unreachable")


def _problem(response: httpx.Response) -> NodeError:
    try:
        body = response.json()
    except ValueError:
        return RemoteError(response.status_code, f"HTTP {response.status_code}: {response.text[:200]}")
    detail = str(body.get("detail") or body.get("title") or f"HTTP {response.status_code}")
    errors = [FieldError(e.get("path", ""), e.get("message", "")) for e in body.get("errors", [])]
    if errors:
        error = InvalidInput(detail, errors)
        error.status = response.status_code
        return error
    return RemoteError(response.status_code, detail)
