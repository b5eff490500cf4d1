"""tus 1.0 resumable uploads on the deposit API: core, creation, creation-with-upload, termination,
checksum (sha256) and expiration. https://tus.io/protocols/resumable-upload

``POST /api/records/{version_id}/uploads`` (or ``POST /api/uploads`` naming the draft in Upload-Metadata
as ``version_id``) starts an upload; ``Upload-Metadata`` carries ``filename`` (required), ``filetype``
and ``sha256`` (optional, of the whole file). The upload's URL then takes HEAD, PATCH and DELETE.
Every answer carries ``Tus-Resumable``; errors are problem+json like the rest of the API.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC
from email.utils import format_datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from ..domain.access import Viewer
from ..domain.errors import Conflict, InvalidInput, NodeError
from ..services import locks, uploads
from ..services.node import Node
from .deps import NodeDep, ViewerDep
from .problems import PROBLEM, documented, phrase

# 412: no or another tus version; 415: a piece not sent as offset+octet-stream; 460: tus's checksum mismatch.
router = APIRouter(
    prefix="/api", tags=["uploads"], responses=documented(400, 401, 403, 404, 409, 410, 412, 413, 415, 422, 460)
)

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,checksum,expiration"
OFFSET_STREAM = "application/offset+octet-stream"
# Hand the disk bigger pieces than the network delivers (~64 KB) so thread hops stay rare.
WRITE_BATCH = 1024 * 1024


# One lock per upload in this process (waiters queue here, cheaply), and under it a lease in the catalog
# (services/locks.py) that holds across web processes and machines: two connections never write one
# partial file at once, whichever process each reached.
_locks: dict[str, asyncio.Lock] = {}
_HOLDER = locks.holder_name()
LEASE_SECONDS = 30.0  # a process that died holding an upload blocks it this long at most
LEASE_POLL = 0.1
PIECE_WAIT = 15.0  # how long a PATCH waits for the upload's lock before answering 409


@asynccontextmanager
async def locked(upload_id: str, node: Node, wait: float | None = None) -> AsyncIterator[None]:
    """Hold ``upload_id``; a client that reconnects waits for its cut-off request to wind up."""
    lock = _locks.setdefault(upload_id, asyncio.Lock())
    busy = Conflict("another request is writing to this upload; ask for its offset (HEAD) and resume")
    wait = PIECE_WAIT if wait is None else wait
    deadline = asyncio.get_running_loop().time() + wait
    try:
        await asyncio.wait_for(lock.acquire(), wait)
    except TimeoutError:
        raise busy from None
    name, renewing = f"tus:{upload_id}", None
    try:
        while not await run_in_threadpool(locks.acquire, node, name, _HOLDER, LEASE_SECONDS):
            if asyncio.get_running_loop().time() >= deadline:
                raise busy
            await asyncio.sleep(LEASE_POLL)
        renewing = asyncio.create_task(_renew(node, name))
        yield
    finally:
        if renewing is not None:
            renewing.cancel()
            await run_in_threadpool(locks.release, node, name, _HOLDER)
        lock.release()
        if not lock.locked() and not getattr(lock, "_waiters", None):
            _locks.pop(upload_id, None)


async def _renew(node: Node, name: str) -> None:
    """Keep the lease while a long piece streams in."""
    while True:
        await asyncio.sleep(LEASE_SECONDS / 3)
        await run_in_threadpool(locks.renew, node, name, _HOLDER, LEASE_SECONDS)


def _tus_headers(**extra: str) -> dict[str, str]:
    return {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store", **extra}


def _problem(request: Request, exc: NodeError) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": phrase(exc.status),
        "status": exc.status,
        "detail": exc.detail,
        "instance": request.url.path,
    }
    if isinstance(exc, InvalidInput) and exc.errors:
        body["errors"] = [e.as_dict() for e in exc.errors]
    headers = _tus_headers()
    if exc.status == 412:
        headers["Tus-Version"] = TUS_VERSION
    return JSONResponse(body, status_code=exc.status, media_type=PROBLEM, headers=headers)


class _Unsupported(NodeError):
    status = 412
    title = "Precondition Failed"


class _WrongType(NodeError):
    status = 415
    title = "Unsupported Media Type"


def _check_version(request: Request) -> None:
    if request.headers.get("tus-resumable") != TUS_VERSION:
        raise _Unsupported(f"this server speaks tus {TUS_VERSION}; send 'Tus-Resumable: {TUS_VERSION}'")


def _whole_number(request: Request, header: str) -> int:
    raw = request.headers.get(header)
    if raw is None or not raw.strip().isdigit():
        raise InvalidInput(f"the {header} header must be a whole number of bytes")
    return int(raw)


def _location(request: Request, upload_id: str) -> str:
    # Built from the request's own base, so a client that came through a proxy comes back through it.
    return f"{str(request.base_url).rstrip('/')}/api/uploads/{upload_id}"


def _expires(upload: uploads.Upload) -> str:
    return format_datetime(upload.expires.astimezone(UTC), usegmt=True)


async def _receive_piece(node: Node, request: Request, upload: uploads.Upload, viewer: Viewer) -> uploads.Upload:
    """Append the body at the upload's offset; a connection cut short keeps what arrived (unless the
    piece carried a checksum, which a part of it cannot meet)."""
    if upload.complete:
        return upload  # every byte is here already (a client repeating its last piece)
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != OFFSET_STREAM:
        raise _WrongType(f"a piece of an upload is sent as {OFFSET_STREAM}")
    checksum = uploads.parse_checksum_header(request.headers.get("upload-checksum"))
    writer = await run_in_threadpool(uploads.PieceWriter, node, upload, checksum)
    buffer = bytearray()
    try:
        try:
            async for chunk in request.stream():
                buffer += chunk
                if len(buffer) >= WRITE_BATCH:
                    await run_in_threadpool(writer.write, bytes(buffer))
                    buffer.clear()
        except ClientDisconnect:
            if checksum is not None:
                writer.discard()
                raise
        if buffer:
            await run_in_threadpool(writer.write, bytes(buffer))
        upload = await run_in_threadpool(writer.acknowledge)
    except BaseException:
        writer.discard()
        raise
    if upload.complete:
        await run_in_threadpool(uploads.finish, node, upload, viewer)
    return upload


def _capabilities(node: Node) -> Response:
    headers = _tus_headers(
        **{
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": EXTENSIONS,
            "Tus-Max-Size": str(node.settings.max_upload_bytes),
            "Tus-Checksum-Algorithm": "sha256",
        }
    )
    return Response(status_code=204, headers=headers)


# One handler per path, each taking its path's parameter, so the OpenAPI document declares it.
@router.options("/uploads", status_code=204, summary="tus: what this server supports")
def options(node: Node = NodeDep) -> Response:
    return _capabilities(node)


@router.options("/uploads/{upload_id}", status_code=204, summary="tus: what this server supports")
def options_upload(upload_id: str, node: Node = NodeDep) -> Response:
    return _capabilities(node)


@router.options("/records/{version_id}/uploads", status_code=204, summary="tus: what this server supports")
def options_draft(version_id: str, node: Node = NodeDep) -> Response:
    return _capabilities(node)


async def _create(request: Request, node: Node, viewer: Viewer, version_id: str | None) -> Response:
    try:
        _check_version(request)
        length = _whole_number(request, "upload-length")
        meta = uploads.parse_metadata_header(request.headers.get("upload-metadata"))
        version_id = version_id or meta.get("version_id") or meta.get("version")
        if not version_id:
            raise InvalidInput(
                "name the draft: POST /api/records/{version_id}/uploads, or version_id in Upload-Metadata"
            )
        key = meta.get("filename") or meta.get("name")
        if not key:
            raise InvalidInput("Upload-Metadata needs the file's name as 'filename'")
        mimetype = meta.get("filetype") or meta.get("content-type")
        if mimetype in ("", "application/octet-stream"):
            mimetype = None
        upload = await run_in_threadpool(
            uploads.create, node, viewer, version_id, key, length, mimetype, meta.get("sha256")
        )
        if upload.length == 0:  # nothing to wait for: an empty file is whole at once
            await run_in_threadpool(uploads.finish, node, upload, viewer)
        elif request.headers.get("content-type"):  # creation-with-upload
            async with locked(upload.id, node):
                upload = await _receive_piece(node, request, upload, viewer)
    except NodeError as exc:
        return _problem(request, exc)
    headers = _tus_headers(Location=_location(request, upload.id), **{"Upload-Expires": _expires(upload)})
    headers["Upload-Offset"] = str(upload.offset)
    return Response(status_code=201, headers=headers)


@router.post("/uploads", status_code=201, summary="tus: start an upload (draft named in Upload-Metadata)")
async def create(request: Request, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    return await _create(request, node, viewer, None)


@router.post("/records/{version_id}/uploads", status_code=201, summary="tus: start an upload to a draft")
async def create_for(version_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    return await _create(request, node, viewer, version_id)


@router.head("/uploads/{upload_id}", summary="tus: how many bytes have arrived")
async def head(upload_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    try:
        _check_version(request)
        # Wait for a request cut off mid-piece to acknowledge what it got, so the offset is current.
        try:
            async with locked(upload_id, node, wait=5.0):
                upload = await run_in_threadpool(uploads.get, node, upload_id, viewer)
        except Conflict:
            upload = await run_in_threadpool(uploads.get, node, upload_id, viewer)
    except NodeError as exc:
        response = _problem(request, exc)
        return Response(status_code=response.status_code, headers=dict(response.headers))
    headers = _tus_headers(
        **{"Upload-Offset": str(upload.offset), "Upload-Length": str(upload.length), "Upload-Expires": _expires(upload)}
    )
    return Response(status_code=200, headers=headers)


@router.patch("/uploads/{upload_id}", summary="tus: send the next piece")
async def patch(upload_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    try:
        _check_version(request)
        offset = _whole_number(request, "upload-offset")
        async with locked(upload_id, node):
            upload = await run_in_threadpool(uploads.get, node, upload_id, viewer)
            if offset != upload.offset:
                raise Conflict(f"Upload-Offset is {offset} but the upload holds {upload.offset} bytes; resume there")
            upload = await _receive_piece(node, request, upload, viewer)
    except ClientDisconnect:
        return Response(status_code=400)  # nobody is listening any more
    except NodeError as exc:
        return _problem(request, exc)
    headers = _tus_headers(**{"Upload-Offset": str(upload.offset), "Upload-Expires": _expires(upload)})
    return Response(status_code=204, headers=headers)


@router.delete("/uploads/{upload_id}", status_code=204, summary="tus: abandon an upload")
async def terminate(upload_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    try:
        _check_version(request)
        async with locked(upload_id, node):
            await run_in_threadpool(uploads.terminate, node, upload_id, viewer)
    except NodeError as exc:
        return _problem(request, exc)
    return Response(status_code=204, headers=_tus_headers())
