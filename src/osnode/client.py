"""A small client for a node's JSON API, used by the CLI's ``--url`` mode and by other nodes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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


class NodeClient:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 60.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/") + "/api", headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

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
        headers = {"Content-Length": str(path.stat().st_size), "Content-Type": "application/octet-stream"}
        body = file_chunks(path, progress)
        return self._call("PUT", f"/records/{version_id}/files/{path.name}", content=body, headers=headers)

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
