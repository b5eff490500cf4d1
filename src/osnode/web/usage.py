"""Usage on the web: events noted where readers act (a landing page, a download), the numbers on a record's
page (this node's and the network's, by country), and the COUNTER R5.1 item report at ``/api/reports/ir``."""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter, Query, Request, Response

from ..domain.access import Viewer
from ..domain.records import Version
from ..services.node import Node
from ..services.usage import events, federation, reports
from .deps import NodeDep
from .panels import Panel
from .problems import documented

router = APIRouter(prefix="/api", tags=["usage"], responses=documented(422))


def note(request: Request, node: Node, record_id: str, action: str, viewer: Viewer) -> None:
    """Note a reader's investigation or request; never fails the page (usage is not worth an error)."""
    header = node.settings.usage_country_header
    # A full or read-only disk must not take the page down with it.
    with contextlib.suppress(OSError):
        events.record(
            node,
            record_id,
            action,
            request.client.host if request.client else "",
            request.headers.get("user-agent", ""),
            viewer.user_id,
            request.headers.get(header, "") if header else "",
        )


def usage_panel(_request: Request, node: Node, version: Version, _viewer: Viewer) -> Panel | None:
    totals = reports.record_totals(node, version.record_id)
    if not (totals.views or totals.network_views or totals.machine):
        return None
    return Panel("panels/usage.html", {"totals": totals})


@router.get("/reports/ir", summary="COUNTER R5.1 Item Report (JSON)", response_class=Response)
def item_report(
    node: Node = NodeDep,
    begin_date: str = Query(..., description="first month, YYYY-MM or YYYY-MM-DD"),
    end_date: str = Query(..., description="last month, YYYY-MM or YYYY-MM-DD"),
    item_id: str | None = Query(None, description="one record's id"),
) -> Response:
    return Response(reports.item_report_json(node, begin_date, end_date, item_id), media_type="application/json")


@router.get("/usage/aggregates", summary="Monthly usage of the copies this node holds, for their origin nodes")
def aggregates(node: Node = NodeDep, since: str | None = Query(None, description="first month, YYYY-MM")) -> Any:
    return federation.feed(node, since)
