"""Browser sessions and CSRF for pages: what every page and form handler uses.

- The session cookie (``osnode_session``) holds a random id; ``deps.get_viewer`` turns it into the viewer, as it
  does a bearer token. A bearer token never needs CSRF (a browser never sends one by itself); a request that
  changes state and is authenticated by the cookie always does.
- CSRF is a synchroniser token bound to the browser: an HMAC of the session id (or, before sign-in, of a
  random ``osnode_pre`` cookie, so the sign-in and registration forms are protected too). Templates write
  ``{{ csrf_field() }}`` inside every ``<form method="post">``; handlers take ``CsrfDep`` (or ``SignedInDep``
  via ``deps.get_viewer``, which checks it for cookie-authenticated writes). Scripts send the token in
  ``X-CSRF-Token`` (``csrf_token()`` in a template gives it). A cross-site ``Origin`` is refused as well.
- ``SignedInDep``: the viewer, who must be signed in: a browser is sent to ``/login?next=<here>``, an API
  client gets a 401 problem.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from ..domain.access import Viewer
from ..domain.errors import Forbidden
from ..services import sessions
from ..services.node import Node
from .form_peek import peek_token

COOKIE = "osnode_session"
PRE_COOKIE = "osnode_pre"
FIELD = "csrf"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_URLENCODED = 1024 * 1024
MISSING_CSRF = "this form has expired or did not come from this site; reload the page and try again"


def _node(request: Request) -> Node:
    return request.app.state.node


def secure(node: Node) -> bool:
    return node.settings.public_url.startswith("https://")


def _cookie(response: Response, node: Node, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, secure=secure(node), samesite="lax")


# -- the session cookie ---------------------------------------------------------------------------


def session_id(request: Request) -> str:
    return request.cookies.get(COOKIE, "")


async def viewer_of_cookie(request: Request) -> Viewer | None:
    """The viewer the session cookie stands for, or None (no cookie, or one that is not live)."""
    sid = session_id(request)
    if not sid:
        return None
    return await run_in_threadpool(sessions.viewer_of, _node(request), sid)


def sign_in(response: Response, node: Node, user_id: int, old_session: str = "") -> None:
    """Start a fresh session (never reuse the id the browser came with) and set its cookie."""
    if old_session:
        sessions.end(node, old_session)
    sid = sessions.start(node, user_id)
    _cookie(response, node, COOKIE, sid, node.settings.session_days * 86400)
    response.delete_cookie(PRE_COOKIE, path="/")


def sign_out(response: Response, node: Node, sid: str) -> None:
    if sid:
        sessions.end(node, sid)
    response.delete_cookie(COOKIE, path="/", httponly=True, secure=secure(node), samesite="lax")


# -- CSRF ---------------------------------------------------------------------------------------


def _anchor(request: Request) -> str:
    """The browser secret the token is bound to: the session, else the pre-session cookie (made on demand)."""
    existing = session_id(request) or request.cookies.get(PRE_COOKIE, "")
    if existing:
        return existing
    made = getattr(request.state, "new_pre_cookie", None)
    if made is None:
        made = request.state.new_pre_cookie = secrets.token_urlsafe(32)
    return made


def browser_key(request: Request) -> str:
    """A secret only this browser holds (the same anchor CSRF tokens use); call ``attach`` on the response."""
    return _anchor(request)


def csrf_token(request: Request) -> str:
    return hmac.new(_anchor(request).encode(), b"osnode csrf", hashlib.sha256).hexdigest()


def attach(request: Request, response: Response) -> None:
    """Set the pre-session cookie a rendered form's token was bound to (``templating`` calls this)."""
    made = getattr(request.state, "new_pre_cookie", None)
    if made:
        _cookie(response, _node(request), PRE_COOKIE, made, None)


@pass_context
def csrf_field(ctx: Context) -> Markup:
    token = csrf_token(ctx["request"])
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, token)


@pass_context
def csrf_value(ctx: Context) -> str:
    return csrf_token(ctx["request"])


def _same_origin(request: Request) -> bool:
    """No Origin (old browsers, non-browser clients) passes; a present one must be this node's."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    own = {f"{request.url.scheme}://{request.url.netloc}", _origin(_node(request).settings.public_url)}
    return origin in own


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def _sent_token(request: Request) -> str:
    token = request.headers.get(HEADER, "")
    if token:
        return token
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind == FORM_TYPES[1]:
        # An upload: its size checked, then only its leading fields read, before any file is parsed.
        return await peek_token(request, FIELD, _node(request).settings.max_upload_bytes)
    if kind in FORM_TYPES:
        length = request.headers.get("content-length", "")
        # Starlette reads a urlencoded body whole: a huge or unsized one is not read here (and fails the check).
        if not length.isdigit() or int(length) > MAX_URLENCODED:
            return ""
        form = await request.form()  # cached by Starlette: the handler reads the same form again
        value = form.get(FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def check_csrf(request: Request) -> None:
    """Refuse a state-changing request without this browser's token or from another site (403)."""
    if request.method in SAFE_METHODS:
        return
    if not _same_origin(request):
        raise CsrfRefused("this request came from another site and was refused")
    anchor = session_id(request) or request.cookies.get(PRE_COOKIE, "")
    sent = await _sent_token(request)
    expected = hmac.new(anchor.encode(), b"osnode csrf", hashlib.sha256).hexdigest() if anchor else ""
    if not anchor or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused(MISSING_CSRF)


# -- pages that need someone signed in -------------------------------------------------------------


class CsrfRefused(Forbidden):
    """A state-changing request without this browser's token, or from another site: a browser gets a page
    that says so (the form is simply sent again from a fresh page), an API client a 403 problem."""


class SignInRequired(Exception):
    """Raised by ``require_signed_in``; a browser is redirected to sign in, an API client gets 401."""


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


async def require_signed_in(request: Request) -> Viewer:
    from .deps import get_viewer  # deps imports this module for the cookie

    viewer = await get_viewer(request)
    if viewer.user_id is None:
        raise SignInRequired()
    return viewer


def safe_next(value: str | None, default: str = "/account") -> str:
    """Where to go after signing in: only a path on this site ("/x"), never "//host", "/\\host" or a URL."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ord(c) < 0x20 or c == "\\" for c in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def login_url(request: Request) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?next=" + quote(safe_next(here, "/"), safe="")


def install(app: FastAPI) -> None:
    # Imported here, not at the top: problems and templating render pages, and templating imports this
    # module for csrf_field; by the time an app is built every module is loaded.
    from . import problems
    from .templating import templates

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, exc: SignInRequired) -> Response:
        if wants_html(request):
            return RedirectResponse(login_url(request), status_code=303)
        return problems.problem(401, "sign in first", request.url.path)

    @app.exception_handler(CsrfRefused)
    async def refused(request: Request, exc: CsrfRefused) -> Response:
        if wants_html(request):
            context = {"node": _node(request), "notice": "refused", "error": exc.detail}
            return templates.TemplateResponse(request, "account/notice.html", context, status_code=403)
        from . import problems

        return problems.problem(403, exc.detail, request.url.path)


CsrfDep = Depends(check_csrf)
SignedInDep = Depends(require_signed_in)


def context_globals() -> dict[str, Any]:
    return {"csrf_field": csrf_field, "csrf_token": csrf_value}
