"""/admin/fixity: where fixity stands, recent rounds and every problem found (administrators only)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from ..domain.access import Viewer
from ..domain.errors import Forbidden, Unauthorized
from ..domain.records import Role
from ..services import fixity
from ..services.node import Node
from .deps import NodeDep, ViewerDep
from .templating import templates

router = APIRouter(include_in_schema=False)


def _admin_only(viewer: Viewer) -> None:
    if viewer.user_id is None:
        raise Unauthorized("the fixity page is for administrators: send an API token")
    if viewer.role is not Role.ADMIN:
        raise Forbidden("the fixity page is for administrators")


@router.get("/admin/fixity", response_class=HTMLResponse)
async def fixity_page(request: Request, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    _admin_only(viewer)
    state = await run_in_threadpool(fixity.status, node)
    return templates.TemplateResponse(request, "admin/fixity.html", {"node": node, "state": state})
