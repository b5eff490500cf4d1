"""``/admin/peers``: the peers this node harvests, their last runs, counts and errors (administrators
only, with their API token); and the landing-page panel that links a harvested record to its origins."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from ..domain.access import Viewer
from ..domain.records import Version
from ..services import harvest
from ..services.node import Node
from .admin_access import AdminDep
from .deps import NodeDep
from .panels import Panel
from .templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/admin/peers", response_class=HTMLResponse)
async def admin_peers(request: Request, node: Node = NodeDep, viewer: Viewer = AdminDep) -> Response:
    found = await run_in_threadpool(harvest.list_peers, node)
    totals = await run_in_threadpool(harvest.run_totals, node)
    context = {"node": node, "peers": found, "totals": totals}
    return templates.TemplateResponse(request, "admin/peers.html", context)


def sources_panel(_request: Request, node: Node, version: Version, _viewer: Viewer) -> Panel | None:
    """Where a harvested record came from, with links to the original records."""
    if version.origin_node is None:
        return None
    found = harvest.sources_of(node, version.record_id)
    return Panel("panels/sources.html", {"sources": found}) if found else None
