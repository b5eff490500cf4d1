"""The DOI of a record on its landing page: shown at once when reserved ("pending" until the registry has
it), and for administrators the registry's reasons when it refused it, with a button to send it again."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from ..domain.access import Viewer
from ..domain.records import Role, Version
from ..services.dois import registration
from ..services.node import Node
from .deps import NodeDep
from .i18n import N_
from .panels import Panel
from .sessions import SignedInDep

router = APIRouter(include_in_schema=False)


def doi_panel(_request: Request, node: Node, version: Version, viewer: Viewer) -> Panel | None:
    found = registration.of_record(node, version.record_id)
    if found is None:
        return None
    return Panel("panels/doi.html", {"doi": found, "admin": viewer.role is Role.ADMIN})


@router.post("/records/{record_id}/doi/retry")
async def retry(record_id: str, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    await run_in_threadpool(registration.retry, node, viewer, record_id)
    return RedirectResponse(f"/records/{record_id}#doi", status_code=303)


# DOI states shown through the ``t`` filter, listed so `make messages` extracts them.
STATES = [N_("pending"), N_("draft"), N_("registered"), N_("findable")]
