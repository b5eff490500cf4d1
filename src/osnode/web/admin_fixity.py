"""/admin/fixity: where fixity stands, recent rounds and every problem found (administrators only)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from ..domain.access import Viewer
from ..services import fixity
from ..services.node import Node
from .admin_access import AdminDep
from .deps import NodeDep
from .templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/admin/fixity", response_class=HTMLResponse)
async def fixity_page(request: Request, node: Node = NodeDep, viewer: Viewer = AdminDep) -> Response:
    state = await run_in_threadpool(fixity.status, node)
    return templates.TemplateResponse(request, "admin/fixity.html", {"node": node, "state": state})
