"""The whole catalogue as DCAT-AP, page by page, for open-data portals (CKAN's DCAT harvester)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Query, Response

from ..domain.access import Viewer
from ..domain.errors import NotFound
from ..formats import dcat, registry
from ..services import exports
from ..services.node import Node
from .deps import NodeDep, ViewerDep
from .problems import documented

router = APIRouter(tags=["catalog"], responses=documented(404, 422))
PAGE_SIZE = 100
# The DCAT-AP formats of the registry, by file extension: /api/catalog.ttl, .rdf, .jsonld.
_BY_EXTENSION = {f.extension: f for f in registry.FORMATS.values() if f.profile == dcat.PROFILE}


@router.get("/api/catalog.{extension}", summary="The catalogue as DCAT-AP 3.0.1, with Hydra paging links")
def catalog(
    extension: str,
    cursor: str | None = None,
    size: int = Query(PAGE_SIZE, ge=1, le=PAGE_SIZE),
    node: Node = NodeDep,
    viewer: Viewer = ViewerDep,
) -> Response:
    if extension not in _BY_EXTENSION:
        raise NotFound(f"no catalogue format '.{extension}'; this node offers {', '.join(_BY_EXTENSION)}")
    chosen = _BY_EXTENSION[extension]
    page = exports.catalog_page(node, viewer, size=size, cursor=cursor)
    base = f"{node.settings.public_url}/api/catalog.{extension}"
    next_url = f"{base}?{_query(size, page.next_cursor)}" if page.next_cursor else None
    page_url = f"{base}?{_query(size, cursor)}" if cursor else base
    graph = dcat.catalog_graph(base, page_url, next_url, title=node.settings.node_name, views=page.views)
    headers = {"Link": f'<{next_url}> ; rel="next"'} if next_url else {}
    body = dcat.serialize(graph, dcat.SYNTAXES[chosen.media_type])
    return Response(body, media_type=chosen.content_type, headers=headers)


def _query(size: int, cursor: str | None) -> str:
    return urlencode({"cursor": cursor, **({"size": size} if size != PAGE_SIZE else {})})
