"""My workspace (/my): my drafts and published records, who co-owns them, and my requests to communities.

Co-owners are invited by email (``services.co_owners``): the answer is the same whether or not an account has
the address, and the invitee accepts from the emailed link, signed in. Plain forms with the CSRF token.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from ..domain import multilingual
from ..domain.access import Viewer
from ..domain.errors import InvalidInput
from ..services import accounts, co_owners, communities, curation, deposit_form
from ..services.node import Node
from . import i18n, mail
from .account_pages import fields, page
from .deps import DbId, NodeDep
from .i18n import N_
from .sessions import SignedInDep

router = APIRouter(include_in_schema=False)
# The services' refusals shown on these pages, listed so `make messages` extracts them for the ``t`` filter.
MESSAGES = [
    N_("this invitation is not valid: it has expired, was already used, or is for another email address"),
    N_("the record's depositor stays an owner: a record always keeps one"),
    N_("this account does not co-own this record"),
    N_("only a record's owners may change who co-owns it"),
]
DONE = ("deleted", "invited", "removed", "withdrawn", "joined")


def _workspace(request: Request, node: Node, viewer: Viewer, status: int = 200, **context: Any) -> Response:
    drafts, published = deposit_form.workspace(node, viewer)
    shared = co_owners.of_records(node, sorted({i.record_id for i in drafts + published}))
    lang = i18n.reader_language(request)
    asked = curation.requests_of(node, viewer)
    titles = {s.record_id: multilingual.preferred_title(s.metadata.get("titles") or [], lang) for s in asked}
    context = dict(drafts=drafts, published=published, shared=shared, requests=asked, titles=titles) | context
    return page(request, "deposit/my.html", status, **context)


@router.get("/my", response_class=HTMLResponse)
def workspace(request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    done = request.query_params.get("done", "")
    return _workspace(request, node, viewer, done=done if done in DONE else "")


@router.post("/my/co-owners", response_class=HTMLResponse)
async def invite_co_owner(request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    """Invite someone by email; the page says the same whether or not an account has the address."""
    form = await fields(request, "record_id", "email")
    try:
        sent = await run_in_threadpool(co_owners.invite, node, viewer, form["record_id"], form["email"])
    except InvalidInput as exc:
        return _workspace(request, node, viewer, 422, error=exc.detail)
    inviter = viewer_name(node, viewer)
    await run_in_threadpool(mail.send_co_owner_invitation, node, sent, inviter)
    return RedirectResponse("/my?done=invited", status_code=303)


def viewer_name(node: Node, viewer: Viewer) -> str:
    account = accounts.get(node, viewer.user_id) if viewer.user_id is not None else None
    return account.shown_name if account else ""


@router.post("/my/co-owners/{record_id}/{user_id}/remove")
async def remove_co_owner(
    record_id: str, user_id: DbId, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep
) -> Response:
    await run_in_threadpool(co_owners.remove, node, viewer, record_id, user_id)
    return RedirectResponse("/my?done=removed", status_code=303)


@router.get("/co-owner", response_class=HTMLResponse)
def invitation(request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    """The emailed link: what the invitation is for, and a button to accept it (a GET changes nothing)."""
    token = request.query_params.get("token", "")
    try:
        record_id = co_owners.pending(node, token)
    except InvalidInput as exc:
        return page(request, "deposit/co_owner.html", 422, error=exc.detail, token="", record_id="")
    return page(request, "deposit/co_owner.html", token=token, record_id=record_id)


@router.post("/co-owner", response_class=HTMLResponse)
async def accept_invitation(request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    form = await fields(request, "token")
    try:
        await run_in_threadpool(co_owners.accept, node, viewer, form["token"])
    except InvalidInput as exc:
        return page(request, "deposit/co_owner.html", 422, error=exc.detail, token="", record_id="")
    return RedirectResponse("/my?done=joined", status_code=303)


@router.post("/my/requests/{record_id}/{slug}/withdraw")
async def withdraw_request(
    record_id: str, slug: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep
) -> Response:
    """The depositor takes back their request to a community (``services.communities.remove`` decides)."""
    await run_in_threadpool(communities.remove, node, viewer, slug, record_id)
    return RedirectResponse(f"/my?done=withdrawn#{quote('requests')}", status_code=303)
