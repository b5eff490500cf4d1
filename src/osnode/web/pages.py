"""HTML pages: home and record landing pages. Light, no JavaScript, no external assets."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from ..domain.access import Viewer
from ..domain.errors import Gone
from ..domain.metadata import Metadata
from ..services import access, records
from ..services.node import Node
from .deps import NodeDep, ViewerDep
from .files import send_file

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


templates.env.filters["filesize"] = _size


@router.get("/", response_class=HTMLResponse)
def home(request: Request, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    page = records.list_records(node, viewer, size=20)
    return templates.TemplateResponse(request, "home.html", {"node": node, "items": page.items})


@router.get("/records/{any_id}", response_class=HTMLResponse)
def landing(any_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    try:
        version = records.get_version(node, any_id, viewer)
    except Gone as gone:
        return templates.TemplateResponse(
            request, "tombstone.html", {"node": node, "tombstone": gone.tombstone}, status_code=410
        )
    context = {
        "node": node,
        "version": version,
        "meta": Metadata.model_validate(version.metadata),
        "files_allowed": access.files_allowed(node, version, viewer),
        "versions": records.list_versions(node, any_id, viewer),
    }
    return templates.TemplateResponse(request, "record.html", context)


@router.api_route("/records/{any_id}/files/{key}", methods=["GET", "HEAD"])
def file(any_id: str, key: str, request: Request, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    return send_file(node, request, any_id, key, viewer)
