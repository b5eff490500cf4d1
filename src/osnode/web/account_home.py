"""The account page (/account): profile, language, ORCID iD, API tokens, and "sign out everywhere"."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from ..domain.access import Viewer
from ..domain.errors import InvalidInput, NodeError
from ..domain.records import Role
from ..services import accounts, users
from ..services import sessions as session_service
from ..services.node import Node, utcnow
from . import i18n, sessions
from .account_pages import FormError, fields, page
from .deps import DbId, NodeDep
from .i18n import N_
from .sessions import SignedInDep

router = APIRouter(include_in_schema=False)
BAD_SCOPE = N_("choose one of the scopes offered")
BAD_DATE = N_("enter the expiry as a date (year-month-day)")
# Scopes and roles as the page shows them (translated with the `t` filter).
WORDS = [N_("read"), N_("deposit"), N_("admin"), N_("curator"), N_("depositor"), N_("reader")]


def _account_page(request: Request, node: Node, viewer: Viewer, status: int = 200, **context: object) -> Response:
    account = accounts.get(node, viewer.user_id or 0)
    listed = users.list_tokens(node, viewer.user_id or 0)
    context |= {"tokens": listed, "now": utcnow(), "scopes": _scopes(viewer), "languages": i18n.LANGUAGES}
    return page(request, "account/account.html", status, account=account, **context)


def _scopes(viewer: Viewer) -> list[str]:
    """The scopes worth offering: admin only to those whose role administers or curates."""
    return list(users.SCOPES) if viewer.role in (Role.ADMIN, Role.CURATOR) else ["read", "deposit"]


def _expiry(text: str) -> datetime | None:
    """The end of the chosen day (UTC), or None when no date was given."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(BAD_DATE) from None
    return datetime.combine(day, time.max, tzinfo=UTC)


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    done = request.query_params.get("done", "")
    return _account_page(request, node, viewer, done=done if done in ("profile", "token", "revoked") else "")


@router.post("/account/profile", response_class=HTMLResponse)
async def profile(request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    # SignedInDep went through get_viewer, which checked the CSRF token of this cookie-authenticated POST.
    try:
        form = await fields(request, "display_name", "language")
        language = i18n.supported(form["language"]) or i18n.DEFAULT
        await run_in_threadpool(accounts.update_profile, node, viewer.user_id, form["display_name"], language)
    except (FormError, NodeError) as exc:
        return _account_page(request, node, viewer, getattr(exc, "status", 422), error=exc.detail)
    return RedirectResponse("/account?done=profile", status_code=303)


@router.post("/account/tokens", response_class=HTMLResponse)
async def create_token(request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    """Make a token and show it this once (the page is not cached; the token is never stored)."""
    try:
        form = await fields(request, "label", "scope", "expires")
        if form["scope"] not in _scopes(viewer):
            raise InvalidInput(BAD_SCOPE)
        user = users.User(viewer.user_id or 0, "", viewer.role or Role.READER)
        made = await run_in_threadpool(
            users.create_token, node, user, form["label"], form["scope"], _expiry(form["expires"])
        )
    except (FormError, NodeError) as exc:
        return _account_page(request, node, viewer, getattr(exc, "status", 422), error=exc.detail)
    return _account_page(request, node, viewer, 201, new_token=made)


@router.post("/account/tokens/{token_id}/revoke")
async def revoke_token(
    token_id: DbId, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep
) -> Response:
    try:
        await run_in_threadpool(users.revoke_token, node, viewer.user_id or 0, token_id)
    except NodeError as exc:
        return _account_page(request, node, viewer, exc.status, error=exc.detail)
    return RedirectResponse("/account?done=revoked", status_code=303)


@router.post("/account/sign-out-everywhere")
async def sign_out_everywhere(request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    await run_in_threadpool(session_service.end_all, node, viewer.user_id)
    response = RedirectResponse("/login", status_code=303)
    sessions.sign_out(response, node, "")
    return response
