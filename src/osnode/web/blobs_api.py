"""Blobs by SHA-256, for peers: replication and fixity repair fetch the bytes they lack here.

A blob is served only when the requester may download at least one file made of it (for an
anonymous peer: a file of an open, published version), with Range so a cut transfer resumes.
"""

from __future__ import annotations

import base64

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from ..domain.access import Viewer
from ..services import transfer
from ..services.node import Node
from .deps import NodeDep, ViewerDep
from .files import blob_response
from .problems import documented

router = APIRouter(prefix="/api", tags=["blobs"], responses=documented(401, 403, 404, 422))


# Two routes, not one with two methods: OpenAPI needs a distinct operationId for each.
@router.head("/blobs/{sha256}", summary="A blob's headers (size, ETag, digest)")
@router.get("/blobs/{sha256}", summary="A blob's bytes by SHA-256 (Range supported)")
async def blob(sha256: str, request: Request, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    size = await run_in_threadpool(transfer.readable_blob, node, sha256, viewer)
    headers = {
        # The bytes behind a content hash never change; access to them can (a withdrawal).
        "ETag": f'"{sha256}"',
        "Cache-Control": "public, max-age=3600",
        "Digest": f"sha-256={base64.b64encode(bytes.fromhex(sha256)).decode()}",
    }
    if request.headers.get("if-none-match", "").strip().removeprefix("W/") == f'"{sha256}"':
        return Response(status_code=304, headers=headers)
    # An anonymous reader is only ever served bytes of open files: those may leave by presigned URL.
    anonymous = viewer.user_id is None
    return await run_in_threadpool(
        blob_response, node, sha256, size, "application/octet-stream", headers, None, anonymous
    )
