"""/admin: the dashboard, users and roles, invitations, registration mode and node settings (administrators).

A browser without a session is sent to sign in; anyone else signed in gets a 403 page. Each action is one
service call; bad input gives the form back with the message beside its field and changes nothing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from ..domain.access import Viewer
from ..domain.errors import InvalidInput, NodeError, NotFound
from ..domain.records import Role
from ..services import admin, invitations, site
from ..services.node import Node
from . import i18n, mail
from .account_pages import FormError, fields, page
from .admin_access import AdminDep
from .deps import DbId, NodeDep
from .i18n import N_

router = APIRouter(include_in_schema=False)
ROLES = [r.value for r in (Role.READER, Role.DEPOSITOR, Role.CURATOR, Role.ADMIN)]
MODES = {
    "open": N_("open: anyone may register"),
    "invitation": N_("by invitation"),
    "approval": N_("approval by an administrator"),
}
# What the services say, marked here so the catalogs carry them (the page translates them with `t`).
MESSAGES = [
    N_("only an administrator may do this"),
    N_("choose one of the roles offered"),
    N_("you cannot take the administrator role from yourself"),
    N_("you cannot disable your own account"),
    N_("no such pending invitation"),
    N_("some settings are not valid; nothing was changed"),
    N_("the logo must be a PNG or JPEG image of at most 512 KB"),
    N_("the base URL is an http or https address with no query, such as https://data.example.org"),
    N_("the node needs a name"),
    N_("this text is too long"),
    N_("a colour is # and six hex digits, dark enough for white text (contrast 4.5:1)"),
    N_("choose at least one of the languages offered"),
    N_("active"),
    N_("pending"),
    N_("disabled"),
    N_("no failed message with this number"),
    N_("sent"),
    # The durable queue's states and refusals (services/queue.py).
    N_("queued"),
    N_("running"),
    N_("done"),
    N_("dead"),
    N_("only dead jobs are retried or discarded"),
    N_("no such job"),
]
BAD_MODE = N_("choose one of the modes offered")
DONE = {"role", "status", "invited", "revoked", "settings", "logo", "retried", "discarded"}


def _done(request: Request) -> str:
    done = request.query_params.get("done", "")
    return done if done in DONE else ""


@router.get("/admin", response_class=HTMLResponse)
def dashboard(request: Request, node: Node = NodeDep, viewer: Viewer = AdminDep) -> Response:
    return page(request, "admin/index.html", counts=admin.counts(node, viewer))


def _users_page(request: Request, node: Node, viewer: Viewer, status: int = 200, **context: Any) -> Response:
    query = request.query_params.get("q", "")[: admin.MAX_QUERY]
    number = request.query_params.get("page", "1")
    number_int = int(number) if number.isdigit() and 0 < int(number) < 10**6 else 1
    found, total = admin.find_accounts(node, viewer, query, number_int)
    context |= {
        "accounts": found,
        "total": total,
        "q": query,
        "page_no": number_int,
        "pages": max(1, -(-total // admin.PAGE)),
        "roles": ROLES,
        "me": viewer.user_id,
        "waiting": [a for a in found if a.status == "pending"] if query else _waiting(node),
        "pending": admin.pending_invitations(node, viewer),
        "mode": node.settings.registration,
        "modes": MODES,
        "languages": i18n.LANGUAGES,
        "done": _done(request),
    }
    return page(request, "admin/users.html", status, **context)


def _waiting(node: Node) -> list[Any]:
    from ..services import accounts

    return accounts.waiting(node)


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, node: Node = NodeDep, viewer: Viewer = AdminDep) -> Response:
    return _users_page(request, node, viewer)


async def _act(request: Request, node: Node, viewer: Viewer, done: str, call: Any, *args: Any) -> Response:
    try:
        await run_in_threadpool(call, node, viewer, *args)
    except NodeError as exc:
        return _users_page(request, node, viewer, exc.status, error=exc.detail)
    return RedirectResponse(f"/admin/users?done={done}", status_code=303)


@router.post("/admin/users/{user_id}/role", response_class=HTMLResponse)
async def change_role(user_id: DbId, request: Request, node: Node = NodeDep, viewer: Viewer = AdminDep) -> Response:
    try:
        form = await fields(request, "role")
    except FormError as exc:
        return _users_page(request, node, viewer, exc.status, error=exc.detail)
    return await _act(request, node, viewer, "role", admin.set_role, user_id, form["role"])


@router.post("/admin/users/{user_id}/status", response_class=HTMLResponse)
async def change_status(user_id: DbId, request: Request, node: Node = NodeDep, viewer: Viewer = AdminDep) -> Response:
    try:
        form = await fields(request, "status")
    except FormError as exc:
        return _users_page(request, node, viewer, exc.status, error=exc.detail)
    return await _act(request, node, viewer, "status", admin.set_status, user_id, form["status"])


def _invite(node: Node, viewer: Viewer, email: str, language: str) -> None:
    token = invitations.invite(node, viewer, email)
    mail.send_invitation(node, email.strip().lower(), token, language)


@router.post("/admin/invitations", response_class=HTMLResponse)
async def invite(request: Request, node: Node = NodeDep, viewer: Viewer = AdminDep) -> Response:
    try:
        form = await fields(request, "email", "language")
        await run_in_threadpool(_invite, node, viewer, form["email"], i18n.supported(form["language"]) or "en")
    except (FormError, NodeError) as exc:
        return _users_page(request, node, viewer, getattr(exc, "status", 422), invite_error=exc.detail)
    return RedirectResponse("/admin/users?done=invited", status_code=303)


@router.post("/admin/invitations/{key}/revoke", response_class=HTMLResponse)
async def revoke(key: str, request: Request, node: Node = NodeDep, viewer: Viewer = AdminDep) -> Response:
    return await _act(request, node, viewer, "revoked", admin.revoke_invitation, key)


@router.post("/admin/registration", response_class=HTMLResponse)
async def registration(request: Request, node: Node = NodeDep, viewer: Viewer = AdminDep) -> Response:
    try:
        form = await fields(request, "registration")
        if form["registration"] not in MODES:
            raise InvalidInput(BAD_MODE)
    except (FormError, NodeError) as exc:
        return _users_page(request, node, viewer, getattr(exc, "status", 422), error=exc.detail)
    return await _act(request, node, viewer, "settings", site.update, {"registration": form["registration"]})


# -- background jobs and the email outbox ----------------------------------------------------------


def _jobs_page(request: Request, node: Node, viewer: Viewer, status: int = 200, **context: Any) -> Response:
    context |= {"jobs": admin.job_statuses(node, viewer), "queue": admin.queue_view(node, viewer)}
    return page(request, "admin/jobs.html", status, done=_done(request), **context)


@router.get("/admin/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, node: Node = NodeDep, viewer: Viewer = AdminDep) -> Response:
    return _jobs_page(request, node, viewer)


@router.post("/admin/jobs/{job_id}/{action}", response_class=HTMLResponse)
async def dead_job(
    job_id: DbId, action: str, request: Request, node: Node = NodeDep, viewer: Viewer = AdminDep
) -> Response:
    """Retry or discard a dead job (the queue's dead letters)."""
    change = {"retry": admin.retry_job, "discard": admin.discard_job}.get(action)
    if change is None:
        raise NotFound("no such action")
    try:
        await run_in_threadpool(change, node, viewer, job_id)
    except NodeError as exc:
        return _jobs_page(request, node, viewer, exc.status, error=exc.detail)
    return RedirectResponse(f"/admin/jobs?done={'retried' if action == 'retry' else 'discarded'}", status_code=303)


def _outbox_page(request: Request, node: Node, viewer: Viewer, status: int = 200, **context: Any) -> Response:
    context |= {"messages": admin.outbox(node, viewer), "done": _done(request)}
    return page(request, "admin/outbox.html", status, **context)


@router.get("/admin/outbox", response_class=HTMLResponse)
def outbox_page(request: Request, node: Node = NodeDep, viewer: Viewer = AdminDep) -> Response:
    return _outbox_page(request, node, viewer)


@router.post("/admin/outbox/{message_id}/retry", response_class=HTMLResponse)
async def retry(message_id: DbId, request: Request, node: Node = NodeDep, viewer: Viewer = AdminDep) -> Response:
    try:
        await run_in_threadpool(admin.retry_mail, node, viewer, message_id)
    except NodeError as exc:
        return _outbox_page(request, node, viewer, exc.status, error=exc.detail)
    return RedirectResponse("/admin/outbox?done=retried", status_code=303)


# -- node settings -------------------------------------------------------------------------------

SETTING_FIELDS = ("node_name", "node_description", "admin_email", "accent_color", "base_url")


def _settings_page(request: Request, node: Node, status: int = 200, **context: Any) -> Response:
    s = node.settings
    values = {name: getattr(s, name) for name in SETTING_FIELDS} | {"languages": s.languages or site.LANGUAGES}
    context.setdefault("values", values)
    context |= {"all_languages": {c: i18n.LANGUAGES[c] for c in site.LANGUAGES}, "done": _done(request)}
    return page(request, "admin/settings.html", status, **context)


@router.get("/admin/settings", response_class=HTMLResponse)
def settings_page(request: Request, node: Node = NodeDep, viewer: Viewer = AdminDep) -> Response:
    return _settings_page(request, node)


@router.post("/admin/settings", response_class=HTMLResponse)
async def save_settings(request: Request, node: Node = NodeDep, viewer: Viewer = AdminDep) -> Response:
    try:
        form = await fields(request, *SETTING_FIELDS)
        chosen = (await request.form()).getlist("languages")
    except FormError as exc:
        return _settings_page(request, node, exc.status, error=exc.detail)
    changes: dict[str, object] = {**form, "languages": [str(c) for c in chosen][:20]}
    try:
        await run_in_threadpool(site.update, node, viewer, changes)
    except InvalidInput as exc:
        errors = {e.path: e.message for e in exc.errors}
        return _settings_page(request, node, 422, error=exc.detail, errors=errors, values=changes)
    except NodeError as exc:
        return _settings_page(request, node, exc.status, error=exc.detail)
    return RedirectResponse("/admin/settings?done=settings", status_code=303)


@router.post("/admin/settings/logo", response_class=HTMLResponse)
async def upload_logo(request: Request, node: Node = NodeDep, viewer: Viewer = AdminDep) -> Response:
    length = request.headers.get("content-length", "")
    bad = {"logo": site.BAD_LOGO}
    if not length.isdigit() or int(length) > site.MAX_LOGO + 16 * 1024:  # refused unread
        return _settings_page(request, node, 413, error=site.BAD_LOGO, errors=bad)
    form = await request.form(max_files=1, max_fields=5)
    upload = form.get("logo")
    data = await upload.read(site.MAX_LOGO + 1) if upload is not None and not isinstance(upload, str) else b""
    try:
        await run_in_threadpool(site.save_logo, node, viewer, data)
    except NodeError as exc:
        return _settings_page(request, node, exc.status, error=exc.detail, errors=bad)
    return RedirectResponse("/admin/settings?done=logo", status_code=303)


@router.get("/site/{name}")
def logo(name: str, node: Node = NodeDep) -> Response:
    path = site.logo_file(node, name)
    if path is None:
        raise NotFound("no such file")
    kind = "image/png" if name.endswith(".png") else "image/jpeg"
    headers = {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}
    return FileResponse(path, media_type=kind, headers=headers)
