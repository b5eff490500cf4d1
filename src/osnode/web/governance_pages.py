"""Managed access in the browser: the data-use panel on a landing page, the access request form, a request's
page (pre-check, comments, votes, decisions, revocation), and the committees' pages.

Plain forms, no JavaScript, each with the browser's CSRF token (``SignedInDep`` checks it). Who may do what is
decided in ``services.governance`` and ``services.access``; a refusal is the node's HTML error page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from ..domain import access as rules
from ..domain import duo
from ..domain.access import Viewer
from ..domain.errors import InvalidInput
from ..domain.records import State, Version
from ..services import access, governance
from ..services.node import Node
from . import access_mail
from .account_pages import fields, page
from .deps import DbId, NodeDep
from .i18n import N_
from .panels import Panel
from .sessions import SignedInDep

router = APIRouter(include_in_schema=False)

REQUEST_FIELDS = (
    "purpose_code",
    "disease",
    "purpose",
    "project",
    "institution",
    "institution_ror",
    "country",
    "not_for_profit",
    "commercial",
    "methods",
    "collaborates",
    "agreement_accepted",
)
# A request's states as the pages show them (through the ``t`` filter).
STATES = (N_("pending"), N_("info-requested"), N_("approved"), N_("rejected"))
MAX_FORM = 21 * 1024 * 1024  # the ethics PDF (20 MB) and the fields


def managed_panel(_request: Request, node: Node, version: Version, viewer: Viewer) -> Panel | None:
    """The version's data-use terms in plain words with their PURLs, and the way to ask for the files."""
    use = version.access.data_use
    if use is None:
        return None
    with node.engine.connect() as conn:
        committee = governance.committee_of(conn, version.record_id)
    refusal = access.refusal(node, version, viewer) if version.state is State.PUBLISHED else None
    context: dict[str, Any] = {
        "use": use,
        "permission": duo.terms().get(use.permission),
        "modifiers": [duo.terms()[m] for m in use.modifiers if m in duo.terms()],
        "committee": committee,
        "refusal": refusal,
        "record_id": version.record_id,
        "version_id": version.id,
        "policy": f"/records/{version.id}/policy.jsonld",
        "signed_in": viewer.user_id is not None,
        "country_name": duo.country_name,
        "where": rules.copies_may_live(
            version.access, node.settings.jurisdiction, node.settings.managed_copy_jurisdictions
        ),
    }
    return Panel("panels/managed.html", context)


async def _request_form(request: Request) -> tuple[dict[str, Any], tuple[str, bytes] | None]:
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > MAX_FORM:
        raise InvalidInput("the form is too large (the ethics document may be 20 MB at most)")
    form = await request.form(max_fields=30, max_files=1)
    values = {n: form.get(n) if isinstance(form.get(n), str) else "" for n in REQUEST_FIELDS}
    upload = form.get("ethics")
    ethics = None
    if upload is not None and not isinstance(upload, str) and upload.filename:
        ethics = (upload.filename, await upload.read(governance.MAX_ETHICS_BYTES + 1))
    return values, ethics


@router.get("/records/{record_id}/access-request", response_class=HTMLResponse)
def request_form(record_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    version = access.readable_version(node, record_id, viewer)
    with node.engine.connect() as conn:
        committee = governance.committee_of(conn, version.record_id)
    return page(
        request,
        "access/request_form.html",
        version=version,
        committee=committee,
        values={},
        action=f"/records/{quote(version.record_id)}/access-request",
        purposes=duo.PURPOSES,
        use=version.access.data_use,
    )


@router.post("/records/{record_id}/access-request")
async def submit(record_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    values, ethics = await _request_form(request)
    found, notices = await run_in_threadpool(governance.submit, node, viewer, record_id, values, ethics)
    await run_in_threadpool(access_mail.send, node, notices)
    return RedirectResponse(f"/access/requests/{found.id}", status_code=303)


@router.get("/access/requests", response_class=HTMLResponse)
def mine(request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    return page(request, "access/mine.html", items=governance.mine(node, viewer))


@router.get("/access/requests/{request_id}", response_class=HTMLResponse)
def show(request_id: DbId, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    found = governance.get_request(node, viewer, request_id)
    member = found.committee.member(viewer.user_id) is not None
    voted = any(v.voter_id == viewer.user_id for v in found.votes)
    return page(
        request,
        "access/request.html",
        item=found,
        member=member,
        voted=voted,
        mine=viewer.user_id == found.requester_id,
    )


@router.get("/access/requests/{request_id}/edit", response_class=HTMLResponse)
def edit_form(request_id: DbId, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    found = governance.get_request(node, viewer, request_id)
    version = access.readable_version(node, found.record_id, viewer)
    p = found.purpose
    values = {
        "purpose_code": p.code,
        "disease": p.disease or "",
        "purpose": found.purpose_text,
        "project": p.project or "",
        "institution": found.institution,
        "institution_ror": p.institution_ror or "",
        "country": p.country or "",
        "not_for_profit": p.not_for_profit,
        "commercial": p.commercial,
        "methods": p.methods,
        "collaborates": p.collaborates,
    }
    return page(
        request,
        "access/request_form.html",
        version=version,
        committee=found.committee,
        values=values,
        action=f"/access/requests/{request_id}/edit",
        purposes=duo.PURPOSES,
        use=version.access.data_use,
    )


@router.post("/access/requests/{request_id}/edit")
async def edit(request_id: DbId, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    values, ethics = await _request_form(request)
    _, notices = await run_in_threadpool(governance.update_request, node, viewer, request_id, values, ethics)
    await run_in_threadpool(access_mail.send, node, notices)
    return RedirectResponse(f"/access/requests/{request_id}", status_code=303)


@router.post("/access/requests/{request_id}")
async def act(request_id: DbId, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    """One form per step: ``do`` is comment, approve, reject, info or revoke."""
    form = await fields(request, "do", "body", "reason", "days", "grant")
    do = form["do"]
    if do == "comment":
        _, notices = await run_in_threadpool(governance.comment, node, viewer, request_id, form["body"])
    elif do in ("approve", "reject"):
        _, notices = await run_in_threadpool(
            governance.vote, node, viewer, request_id, do == "approve", form["reason"], form["days"] or None
        )
    elif do == "info":
        _, notices = await run_in_threadpool(governance.decide, node, viewer, request_id, "info", form["reason"])
    elif do == "revoke" and form["grant"].isdigit():
        _, notices = await run_in_threadpool(governance.revoke, node, viewer, int(form["grant"]), form["reason"])
    else:
        raise InvalidInput("unknown action")
    await run_in_threadpool(access_mail.send, node, notices)
    return RedirectResponse(f"/access/requests/{request_id}", status_code=303)


@router.get("/committees", response_class=HTMLResponse)
def committees(request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    return page(
        request,
        "access/committees.html",
        items=governance.list_committees(node),
        admin=viewer.role is not None and viewer.role.value == "admin",
    )


@router.post("/committees")
async def create(request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    form = await fields(request, "slug", "name", "quorum", "agreement")
    made = await run_in_threadpool(
        governance.create_committee, node, viewer, form["slug"], form["name"], form["quorum"] or 2, form["agreement"]
    )
    return RedirectResponse(f"/committees/{made.slug}", status_code=303)


@router.get("/committees/{slug}", response_class=HTMLResponse)
def committee(slug: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    found, items = governance.queue(node, viewer, slug)
    me = found.member(viewer.user_id)
    chair = bool(me and me.chair) or (viewer.role is not None and viewer.role.value == "admin")
    return page(request, "access/committee.html", committee=found, items=items, chair=chair)


@router.post("/committees/{slug}")
async def change(slug: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    form = await fields(request, "do", "member", "chair", "quorum", "agreement", "record_id", "user_id")
    do = form["do"]
    if do == "member":
        await run_in_threadpool(governance.set_member, node, viewer, slug, form["member"], form["chair"])
    elif do == "remove" and form["user_id"].isdigit():
        await run_in_threadpool(governance.remove_member, node, viewer, slug, int(form["user_id"]))
    elif do == "settings":
        await run_in_threadpool(governance.update_committee, node, viewer, slug, form["quorum"], form["agreement"])
    elif do == "govern":
        await run_in_threadpool(governance.govern, node, viewer, slug, form["record_id"].strip())
    else:
        raise InvalidInput("unknown action")
    return RedirectResponse(f"/committees/{slug}", status_code=303)
