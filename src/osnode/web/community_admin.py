"""Managing communities in the browser: create one (curators and admins), edit its title and description and
add or remove its curators by email, give it a logo (its curators and admins). Plain forms with the CSRF token;
who may do what is decided in the services (a refusal is the node's HTML error page with its 4xx). A logo is a
PNG or JPEG re-encoded by ``services.images``; a post larger than it may be is refused before it is read.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ..domain.access import Viewer
from ..domain.errors import Forbidden, InvalidInput, NodeError
from ..services import communities, curation, images
from ..services.node import Node
from .account_pages import fields, page
from .deps import DbId, NodeDep
from .sessions import SignedInDep

router = APIRouter(include_in_schema=False)


@router.get("/communities-new", response_class=HTMLResponse)
def new_form(request: Request, viewer: Viewer = SignedInDep) -> Response:
    if not viewer.is_staff:
        raise Forbidden("only curators and administrators may create communities")
    return page(request, "curation/new.html", values={}, errors=[])


@router.post("/communities-new")
async def create(request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    form = await fields(request, "slug", "title", "description")
    try:
        made = await run_in_threadpool(
            communities.create, node, viewer, form["slug"], form["title"], form["description"]
        )
    except InvalidInput as bad:
        return page(request, "curation/new.html", status=422, values=form, errors=bad.errors)
    return RedirectResponse(f"/communities/{made.slug}/manage", status_code=303)


@router.get("/communities/{slug}/manage", response_class=HTMLResponse)
def manage(slug: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    community = communities.get(node, slug)
    with node.engine.connect() as conn:
        curation.ensure_curates(conn, viewer, slug)
    return _manage_page(request, node, community, done=request.query_params.get("done"))


def _manage_page(
    request: Request, node: Node, community: communities.Community, status: int = 200, **extra: Any
) -> Response:
    context = dict(community=community, curators=curation.curators_of(node, community.slug), errors={}) | extra
    return page(request, "curation/manage.html", status, **context)


@router.post("/communities/{slug}/logo", response_class=HTMLResponse)
async def upload_logo(slug: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    """A new logo, or (``remove``) none. Checked for size before the form is read, then re-encoded."""
    community = await run_in_threadpool(communities.get, node, slug)
    with node.engine.connect() as conn:
        curation.ensure_curates(conn, viewer, slug)
    bad = {"logo": [images.BAD_LOGO]}
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > images.MAX_BYTES + 16 * 1024:  # refused unread
        return _manage_page(request, node, community, 413, errors=bad)
    form = await request.form(max_files=1, max_fields=5, max_part_size=64 * 1024)
    try:
        upload = form.get("logo")
        removing = form.get("remove") == "1"
        data = await upload.read(images.MAX_BYTES + 1) if isinstance(upload, UploadFile) else b""
        await run_in_threadpool(curation.set_logo, node, viewer, slug, None if removing else data)
    except NodeError as exc:
        return _manage_page(request, node, community, exc.status, errors=bad)
    finally:
        await form.close()
    return RedirectResponse(f"/communities/{slug}/manage?done=logo", status_code=303)


@router.post("/communities/{slug}/manage")
async def edit(slug: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    form = await fields(request, "title", "description")
    await run_in_threadpool(curation.edit, node, viewer, slug, form["title"], form["description"])
    return RedirectResponse(f"/communities/{slug}/manage?done=saved", status_code=303)


@router.post("/communities/{slug}/curators")
async def add_curator(slug: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    form = await fields(request, "email")
    await run_in_threadpool(curation.add_curator_by_email, node, viewer, slug, form["email"])
    return RedirectResponse(f"/communities/{slug}/manage?done=added", status_code=303)


@router.post("/communities/{slug}/curators/{user_id}/remove")
async def remove_curator(slug: str, user_id: DbId, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    await run_in_threadpool(curation.remove_curator, node, viewer, slug, user_id)
    return RedirectResponse(f"/communities/{slug}/manage?done=removed", status_code=303)
