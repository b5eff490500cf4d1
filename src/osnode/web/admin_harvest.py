"""``/admin/peers``: the peers this node harvests, their last runs, counts and errors, and forms to add a
peer, choose its replication policy and harvest it now (administrators only); and the landing-page panel
that links a harvested record to its origins."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from ..domain.access import Viewer
from ..domain.errors import NodeError
from ..domain.records import Version
from ..services import admin_peers, harvest, replication
from ..services.node import Node
from .account_pages import FormError, fields, page
from .admin_access import AdminDep
from .deps import NodeDep
from .panels import Panel

router = APIRouter(include_in_schema=False)


DONE = {"added", "policy", "harvest"}


def _page(request: Request, node: Node, viewer: Viewer, status: int = 200, **context: object) -> Response:
    done = request.query_params.get("done", "")
    context |= {
        "rows": admin_peers.overview(node, viewer),
        "totals": harvest.run_totals(node),
        "policies": replication.POLICIES,
        "done": done if done in DONE else "",
    }
    context.setdefault("values", {})
    return page(request, "admin/peers.html", status, **context)


@router.get("/admin/peers", response_class=HTMLResponse)
def admin_peers_page(request: Request, node: Node = NodeDep, viewer: Viewer = AdminDep) -> Response:
    return _page(request, node, viewer)


@router.post("/admin/peers", response_class=HTMLResponse)
async def add_peer(request: Request, node: Node = NodeDep, viewer: Viewer = AdminDep) -> Response:
    form: dict[str, str] = {}
    try:
        form = await fields(request, "url", "name", "set_spec", "every_hours")
        await run_in_threadpool(admin_peers.add, node, viewer, *form.values())
    except (FormError, NodeError) as exc:
        return _page(request, node, viewer, getattr(exc, "status", 422), add_error=exc.detail, values=form)
    return RedirectResponse("/admin/peers?done=added", status_code=303)


@router.post("/admin/peers/{name}/policy", response_class=HTMLResponse)
async def set_policy(name: str, request: Request, node: Node = NodeDep, viewer: Viewer = AdminDep) -> Response:
    try:
        form = await fields(request, "policy", "sets")
        await run_in_threadpool(admin_peers.set_policy, node, viewer, name, form["policy"], form["sets"])
    except (FormError, NodeError) as exc:
        return _page(request, node, viewer, getattr(exc, "status", 422), error=exc.detail)
    return RedirectResponse("/admin/peers?done=policy", status_code=303)


@router.post("/admin/peers/{name}/harvest", response_class=HTMLResponse)
async def harvest_now(name: str, request: Request, node: Node = NodeDep, viewer: Viewer = AdminDep) -> Response:
    try:
        await run_in_threadpool(admin_peers.harvest_now, node, viewer, name)
    except NodeError as exc:
        return _page(request, node, viewer, exc.status, error=exc.detail)
    return RedirectResponse("/admin/peers?done=harvest", status_code=303)


def sources_panel(_request: Request, node: Node, version: Version, _viewer: Viewer) -> Panel | None:
    """Where a harvested record came from, with links to the original records."""
    if version.origin_node is None:
        return None
    found = harvest.sources_of(node, version.record_id)
    return Panel("panels/sources.html", {"sources": found}) if found else None
