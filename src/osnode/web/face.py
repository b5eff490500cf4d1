"""The node's own pages around the records: favicons, About, and the communities (read-only)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from ..domain.access import Viewer
from ..services import communities, curation, stats
from ..services.node import Node
from .deps import NodeDep, ViewerDep
from .templating import templates

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"
_DEFAULT_ACCENT = "#0b5394"
# Browsers ask for favicons on every page: let them keep them a day.
_ICON_CACHE = {"Cache-Control": "public, max-age=86400"}


@router.get("/favicon.svg")
def favicon_svg(node: Node = NodeDep) -> Response:
    # The icon takes the operator's accent colour (a checked hex value, see config.accent_color).
    svg = (STATIC / "favicon.svg").read_text().replace(_DEFAULT_ACCENT, node.settings.accent_color)
    return Response(svg, media_type="image/svg+xml", headers=_ICON_CACHE)


@router.get("/favicon.ico")
def favicon_ico() -> Response:
    return Response((STATIC / "favicon.ico").read_bytes(), media_type="image/x-icon", headers=_ICON_CACHE)


@router.get("/about", response_class=HTMLResponse)
def about(request: Request, node: Node = NodeDep) -> Response:
    context = {"node": node, "stats": stats.totals(node), "communities": communities.list_all(node)}
    return templates.TemplateResponse(request, "about.html", context)


@router.get("/communities", response_class=HTMLResponse)
def community_list(request: Request, node: Node = NodeDep) -> Response:
    context = {"node": node, "communities": communities.list_all(node), "curators": communities.curators(node)}
    return templates.TemplateResponse(request, "communities.html", context)


@router.get("/communities/{slug}", response_class=HTMLResponse)
def community_page(slug: str, request: Request, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    community = communities.get(node, slug)
    with node.engine.connect() as conn:
        curates = curation.curates(conn, viewer, slug)
    context = {
        "node": node,
        "community": community,
        "items": communities.records_in(node, slug),
        "curators": [c.name for c in curation.curators_of(node, slug)],
        "curates": curates,
    }
    return templates.TemplateResponse(request, "community.html", context)
