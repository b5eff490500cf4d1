"""The JSON API under /api. Every handler is a thin call into ``services``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from ..domain.access import Viewer
from ..services import deposit, metadata_import, records
from ..services.node import Node
from .bodies import read_limited
from .deps import NodeDep, ViewerDep
from .files import receive_upload, send_file
from .problems import documented

# The problems the records API answers with (400: a body that is not JSON at all); uploads add 413.
router = APIRouter(prefix="/api", tags=["records"], responses=documented(400, 401, 403, 404, 409, 410, 422))


class DraftIn(BaseModel):
    """Metadata (DataCite JSON property names) and access settings of a draft; both optional."""

    model_config = ConfigDict(extra="forbid")
    metadata: dict[str, Any] | None = None
    access: dict[str, Any] | None = None


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str


@router.get("", summary="API entry point")
def index(node: Node = NodeDep) -> dict[str, Any]:
    return {
        "name": node.settings.node_name,
        "links": {"records": node.api_url("/records"), "docs": node.api_url("/docs")},
    }


@router.get("/me", summary="Who the token belongs to")
def me(viewer: Viewer = ViewerDep) -> dict[str, Any]:
    return {"user_id": viewer.user_id, "role": viewer.role.value if viewer.role else None}


@router.post("/records", status_code=201, summary="Create a draft record")
def create(body: DraftIn | None = None, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, Any]:
    body = body or DraftIn()
    version = deposit.create_draft(node, viewer, body.metadata, body.access)
    return records.describe(node, version, viewer)


@router.post(
    "/records/import",
    status_code=201,
    summary="Create a draft from a metadata file",
    description="The body is a metadata file: DataCite XML or JSON (a REST `dois` resource or its `attributes`), "
    "an RO-Crate's `ro-crate-metadata.json`, CodeMeta, or CITATION.cff (name it with `?filename=CITATION.cff`). "
    "The draft is made only if the metadata it holds is valid; otherwise 422 with the errors by field.",
    responses=documented(413),
)
async def import_file(
    request: Request, filename: str = Query("", max_length=255), node: Node = NodeDep, viewer: Viewer = ViewerDep
) -> dict[str, Any]:
    data = await read_limited(request, metadata_import.MAX_BYTES, "a metadata file")
    version = await run_in_threadpool(metadata_import.create_from_file, node, viewer, filename, data)
    return await run_in_threadpool(records.describe, node, version, viewer)


@router.get("/records", summary="List records, newest first, with cursor pagination")
def list_(
    request: Request,
    size: int = Query(20, ge=1, le=records.MAX_PAGE),
    cursor: str | None = None,
    state: str = "published",
    node: Node = NodeDep,
    viewer: Viewer = ViewerDep,
) -> dict[str, Any]:
    page = records.list_records(node, viewer, size=size, cursor=cursor, state=state)
    next_url = None
    if page.next_cursor:
        next_url = str(request.url.include_query_params(cursor=page.next_cursor))
    return {"items": page.items, "cursor": page.next_cursor, "links": {"next": next_url}}


@router.get("/records/{any_id}", summary="A record (its latest version) or one version")
def get(any_id: str, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, Any]:
    return records.describe(node, records.get_version(node, any_id, viewer), viewer)


@router.put("/records/{version_id}", summary="Replace a draft's metadata and/or access")
def update(version_id: str, body: DraftIn, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, Any]:
    version = deposit.update_draft(node, version_id, viewer, body.metadata, body.access)
    return records.describe(node, version, viewer)


@router.delete("/records/{version_id}", status_code=204, summary="Delete a draft")
def delete_draft(version_id: str, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    deposit.delete_draft(node, version_id, viewer)
    return Response(status_code=204)


@router.post("/records/{version_id}/publish", summary="Publish a draft")
def publish(version_id: str, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, Any]:
    return records.describe(node, deposit.publish(node, version_id, viewer), viewer)


@router.get("/records/{any_id}/versions", summary="All versions of a record")
def versions(any_id: str, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, Any]:
    return {"items": records.list_versions(node, any_id, viewer)}


@router.post("/records/{any_id}/versions", status_code=201, summary="Start a new version from the latest")
def new_version(any_id: str, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, Any]:
    return records.describe(node, deposit.new_version(node, any_id, viewer), viewer)


@router.post("/records/{any_id}/withdraw", summary="Withdraw a version, or a whole record by its id")
def withdraw(any_id: str, body: WithdrawIn, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, Any]:
    withdrawn = deposit.withdraw(node, any_id, viewer, body.reason)
    return {"withdrawn": [records.tombstone(node, v) for v in withdrawn]}


@router.get("/records/{any_id}/files", summary="Files of a version")
def list_files(any_id: str, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, Any]:
    version = records.get_version(node, any_id, viewer)
    readable = records.files_readable(node, version, viewer)
    return {"items": [records.file_json(node, version, f, readable=readable) for f in version.files]}


@router.put(
    "/records/{version_id}/files/{key}",
    status_code=201,
    summary="Upload a file (raw body, streamed)",
    responses=documented(413),
)
async def upload(
    version_id: str, key: str, request: Request, node: Node = NodeDep, viewer: Viewer = ViewerDep
) -> dict[str, Any]:
    entry = await receive_upload(node, request, version_id, key, viewer)
    version = await run_in_threadpool(records.get_version, node, version_id, viewer)
    readable = await run_in_threadpool(records.files_readable, node, version, viewer)
    return records.file_json(node, version, entry, readable=readable)


@router.delete("/records/{version_id}/files/{key}", status_code=204, summary="Remove a file from a draft")
def remove_file(version_id: str, key: str, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    deposit.remove_file(node, version_id, key, viewer)
    return Response(status_code=204)


# Two routes, not one with two methods: OpenAPI needs a distinct operationId for each.
@router.head("/records/{any_id}/files/{key}", summary="A file's headers (size, ETag, digest)")
@router.get("/records/{any_id}/files/{key}", summary="Download a file")
def download(any_id: str, key: str, request: Request, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    return send_file(node, request, any_id, key, viewer)
