"""Sign-in pages: /login, /logout, /register, /verify, /forgot and /reset. Plain forms, no JavaScript.

Every POST carries the browser's CSRF token (``sessions.CsrfDep``). Errors come back on the same form, in the
reader's language, with what they typed (escaped) kept, passwords excepted.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from ..domain.errors import NodeError
from ..services import accounts, challenge, oidc
from ..services.node import Node
from . import i18n, mail, sessions
from .deps import NodeDep
from .i18n import N_
from .sessions import CsrfDep
from .templating import templates

router = APIRouter(include_in_schema=False)
MAX_FIELD = 2000  # longer form fields are refused
MAX_BODY = 64 * 1024  # a whole account form; a larger body is refused unread

# What the services say, listed here so `make messages` extracts them for translation.
MESSAGES = [
    N_("the email or password is not right"),
    N_("a password needs at least 10 characters"),
    N_("a password has at most 1000 characters"),
    N_("a name has at most 200 characters"),
    N_("enter a valid email address"),
    N_("this link is not valid: it has expired or was already used; ask for a new one"),
    N_("too many failed sign-ins; wait 15 minutes and try again"),
    N_("your account is waiting for an administrator's approval"),
    N_("this account is disabled"),
    N_("the form was sent too quickly; wait a few seconds and send it again"),
    N_("the form has expired; reload the page and try again"),
    N_("this form has expired or did not come from this site; reload the page and try again"),
    N_("a field of this form is too long"),
    N_("this request came from another site and was refused"),
    N_("registration at this node is by invitation only"),
    N_("the sign-in with this provider could not be completed; try again"),
    N_("this sign-in was not started here, or was already used; start again"),
    N_("this sign-in took too long; start again"),
    N_("the provider's identity token was refused; try again"),
    N_("this invitation is not valid: it has expired or was already used"),
]
TOO_LONG = "a field of this form is too long"
# Account pages are never cached and send no Referer to other sites (a reset link's token must not travel
# on). Not "no-referrer": with it the browser sends "Origin: null" on the page's own forms, which CSRF refuses.
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "same-origin"}


def page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    context.setdefault("node", request.app.state.node)
    context.setdefault("providers", oidc.providers(request.app.state.node))
    return templates.TemplateResponse(request, name, context, status_code=status, headers=NO_STORE)


async def fields(request: Request, *names: str) -> dict[str, str]:
    """The named text fields of the posted form, trimmed of nothing (passwords keep their spaces)."""
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > MAX_BODY:  # refused before any of it is read
        raise FormError(TOO_LONG, 413)
    form = await request.form(max_fields=20)
    values = {n: form.get(n) for n in names}
    out = {n: v if isinstance(v, str) else "" for n, v in values.items()}
    if any(len(v) > MAX_FIELD for v in out.values()):
        raise FormError(TOO_LONG, 413)
    return out


class FormError(Exception):
    def __init__(self, detail: str, status: int = 422) -> None:
        self.detail = detail
        self.status = status


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# -- sign in / out --------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "") -> Response:  # noqa: A002 - the parameter's public name
    return page(request, "account/login.html", next=sessions.safe_next(next), email="")


@router.post("/login", response_class=HTMLResponse, dependencies=[CsrfDep])
async def login(request: Request, node: Node = NodeDep) -> Response:
    try:
        form = await fields(request, "email", "password", "next")
    except FormError as exc:
        return page(request, "account/login.html", exc.status, error=exc.detail, next="/account", email="")
    target = sessions.safe_next(form["next"])
    try:
        account = await run_in_threadpool(accounts.sign_in, node, form["email"], form["password"], _address(request))
    except NodeError as exc:
        return page(request, "account/login.html", exc.status, error=exc.detail, next=target, email=form["email"])
    response = RedirectResponse(target, status_code=303)
    await run_in_threadpool(sessions.sign_in, response, node, account.id, sessions.session_id(request))
    return response


@router.post("/logout", dependencies=[CsrfDep])
async def logout(request: Request, node: Node = NodeDep) -> Response:
    response = RedirectResponse("/", status_code=303)
    await run_in_threadpool(sessions.sign_out, response, node, sessions.session_id(request))
    return response


# -- registration and email verification ---------------------------------------------------------------


def _register_page(request: Request, node: Node, status: int = 200, **context: Any) -> Response:
    context.setdefault("values", {})
    return page(
        request,
        "account/register.html",
        status,
        stamp=challenge.issue(node),
        mode=node.settings.registration,
        languages=i18n.LANGUAGES,
        **context,
    )


@router.get("/register", response_class=HTMLResponse)
def register_form(request: Request, invitation: str = "", email: str = "", node: Node = NodeDep) -> Response:
    return _register_page(request, node, values={"invitation": invitation[:100], "email": email[:254]})


@router.post("/register", response_class=HTMLResponse, dependencies=[CsrfDep])
async def register(request: Request, node: Node = NodeDep) -> Response:
    try:
        form = await fields(request, "email", "display_name", "password", "language", "website", "stamp", "invitation")
    except FormError as exc:
        return _register_page(request, node, exc.status, error=exc.detail)
    kept = {k: form[k] for k in ("email", "display_name", "language", "invitation")}
    language = i18n.supported(form["language"]) or i18n.request_language(request)
    try:
        challenge.check(node, form["stamp"], form["website"], node.settings.register_min_seconds)
        done = await run_in_threadpool(
            accounts.register,
            node,
            form["email"],
            form["password"],
            form["display_name"],
            language,
            form["invitation"],
        )
    except NodeError as exc:
        return _register_page(request, node, exc.status, error=exc.detail, values=kept)
    if done.new and done.verify_token:
        await run_in_threadpool(mail.send_verification, node, done.account, done.verify_token)
    else:
        await run_in_threadpool(mail.send_already_registered, node, done.account)
    return page(request, "account/notice.html", notice="registered", pending=node.settings.registration == "approval")


@router.get("/verify", response_class=HTMLResponse)
def verify(request: Request, token: str = "", node: Node = NodeDep) -> Response:
    try:
        accounts.verify_email(node, token)
    except NodeError as exc:
        return page(request, "account/notice.html", exc.status, notice="bad_link", error=exc.detail)
    return page(request, "account/notice.html", notice="verified")


# -- forgotten password --------------------------------------------------------------------------------


@router.get("/forgot", response_class=HTMLResponse)
def forgot_form(request: Request) -> Response:
    return page(request, "account/forgot.html")


@router.post("/forgot", response_class=HTMLResponse, dependencies=[CsrfDep])
async def forgot(request: Request, node: Node = NodeDep) -> Response:
    try:
        form = await fields(request, "email")
    except FormError as exc:
        return page(request, "account/forgot.html", exc.status, error=exc.detail)
    found = await run_in_threadpool(accounts.request_reset, node, form["email"])
    if found is not None:
        await run_in_threadpool(mail.send_reset, node, *found)
    # The same answer whether or not the account exists.
    return page(request, "account/notice.html", notice="reset_sent")


@router.get("/reset", response_class=HTMLResponse)
def reset_form(request: Request, token: str = "") -> Response:
    return page(request, "account/reset.html", token=token[:100])


@router.post("/reset", response_class=HTMLResponse, dependencies=[CsrfDep])
async def reset(request: Request, node: Node = NodeDep) -> Response:
    try:
        form = await fields(request, "token", "password")
    except FormError as exc:
        return page(request, "account/reset.html", exc.status, error=exc.detail, token="")
    try:
        await run_in_threadpool(accounts.reset_password, node, form["token"], form["password"])
    except NodeError as exc:
        return page(request, "account/reset.html", exc.status, error=exc.detail, token=form["token"][:100])
    return page(request, "account/notice.html", notice="reset_done")
