"""The upload page of a draft: a plain form that works without JavaScript (multipart POST, streamed into the
draft), and a small inline script that takes over when it can, sending the file as a resumable tus upload.

The signed-in depositor's session authenticates both: the form carries the CSRF token, and the script's tus
requests carry the session cookie and the ``X-CSRF-Token`` header. No API token is ever typed into a page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from ..domain import multilingual
from ..domain.access import Viewer
from ..domain.errors import Gone, InvalidInput, NodeError, NotFound, TooLarge, Unauthorized
from ..domain.records import Version
from ..services import deposit, records
from ..services.node import Node
from . import i18n
from .deps import NodeDep, ViewerDep
from .templating import templates

router = APIRouter(include_in_schema=False)

READ_CHUNK = 1024 * 1024
TUS_CHUNK = 1024 * 1024  # what the script sends per PATCH


def _read_chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(READ_CHUNK):
        yield chunk


def _title(version: Version, request: Request) -> str:
    titles = version.metadata.get("titles") or []
    return multilingual.preferred_title(titles, i18n.reader_language(request)) or version.id


def _render(
    request: Request,
    node: Node,
    version_id: str,
    version: Version | None,
    *,
    error: NodeError | None = None,
    status: int = 200,
) -> Response:
    uploaded = request.query_params.get("uploaded")
    sha256 = request.query_params.get("sha256", "")
    context: dict[str, Any] = {
        "node": node,
        "version_id": version_id,
        "version": version,
        "title": _title(version, request) if version else None,
        "error": error,
        # Shown as the reader's own words came back (escaped by the template); a hex digest only.
        "uploaded": uploaded[:300] if uploaded else None,
        "uploaded_sha256": sha256 if len(sha256) == 64 and all(c in "0123456789abcdef" for c in sha256) else None,
        "tus_url": f"/api/records/{version_id}/uploads",
        "files_url": f"/api/records/{version_id}/files",
        "chunk": TUS_CHUNK,
    }
    headers = {"Cache-Control": "no-store"}
    return templates.TemplateResponse(request, "upload.html", context, status_code=status, headers=headers)


def _visible_draft(node: Node, version_id: str, viewer: Viewer) -> Version | None:
    """The version when this viewer may see it; None when it is hidden (a draft seen without its token)."""
    try:
        return records.get_version(node, version_id, viewer, allow_withdrawn=True)
    except NotFound:
        return None


class NotADraft(NodeError):
    status = 409
    title = "Conflict"


@router.get("/records/{version_id}/upload", response_class=HTMLResponse)
def upload_page(version_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    version = _visible_draft(node, version_id, viewer)
    if version is not None and (version.id != version_id or version.state.value != "draft"):
        error = NotADraft(f"version {version_id} is not a draft; only drafts take new files")
        return _render(request, node, version_id, version, error=error, status=409)
    return _render(request, node, version_id, version)


async def _receive(request: Request, node: Node, version_id: str, viewer: Viewer) -> tuple[str, str]:
    """Read the form, store its file in the draft, and return the file's name and SHA-256."""
    limit = node.settings.max_upload_bytes
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit + 64 * 1024:  # room for the form's own fields
        raise TooLarge(f"the upload is larger than this node's limit of {limit} bytes")
    try:
        form = await request.form(max_files=1, max_fields=10)
    except MultiPartException as exc:
        raise InvalidInput(f"the form could not be read: {exc.message}") from None
    try:
        if viewer.user_id is None:
            raise Unauthorized("sign in first")
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("choose a file to upload")
        mimetype = upload.content_type if upload.content_type not in (None, "", "application/octet-stream") else None
        entry = await run_in_threadpool(
            deposit.add_file, node, version_id, upload.filename, _read_chunks(upload.file), viewer, mimetype
        )
    finally:
        await form.close()
    return entry.key, entry.sha256


@router.post("/records/{version_id}/upload", response_class=HTMLResponse)
async def upload_form(version_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    try:
        key, sha256 = await _receive(request, node, version_id, viewer)
    except Gone:
        error = NotADraft(f"version {version_id} was withdrawn; only drafts take new files")
        return _render(request, node, version_id, None, error=error, status=409)
    except NodeError as exc:
        return _render(request, node, version_id, None, error=exc, status=exc.status)
    query = urlencode({"uploaded": key, "sha256": sha256})
    return RedirectResponse(f"/records/{version_id}/upload?{query}", status_code=303)
