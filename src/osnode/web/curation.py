"""Curation in the browser: a depositor submits a record to a community from its page; the community's
curators (and admins) see the review queue, open a submission and accept or decline it with a message.

Plain forms (no JavaScript), each with the browser's CSRF token (``SignedInDep`` checks it). Who may do what is
decided in ``services.curation``; a refusal comes back as the node's HTML error page with its 4xx.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from ..domain import multilingual
from ..domain.access import Viewer
from ..domain.errors import InvalidInput
from ..services import communities, curation, records
from ..services.node import Node
from . import i18n, mail
from .account_pages import fields, page
from .deps import NodeDep
from .i18n import N_
from .sessions import SignedInDep

router = APIRouter(include_in_schema=False)


def _title(metadata: dict, lang: str | None) -> str:  # type: ignore[type-arg]
    return multilingual.preferred_title(metadata.get("titles") or [], lang)


@router.post("/records/{record_id}/communities")
async def submit(record_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    form = await fields(request, "community", "message", "back")
    slug = form["community"]
    done = await run_in_threadpool(curation.submit, node, viewer, slug, record_id, form["message"])
    community = await run_in_threadpool(communities.get, node, slug)
    curators = await run_in_threadpool(curation.curator_accounts, node, slug)
    link = f"{node.settings.public_url}/communities/{slug}/requests/{quote(record_id)}"
    await run_in_threadpool(
        mail.send_new_request,
        node,
        curators,
        done.depositor,
        community.title,
        _title(done.metadata, None),
        done.message,
        link,
    )
    return RedirectResponse(f"/records/{quote(done.version_id)}?submitted={quote(slug)}#curation", status_code=303)


@router.get("/communities/{slug}/requests", response_class=HTMLResponse)
def queue(slug: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    community = communities.get(node, slug)
    items = curation.queue(node, viewer, slug)
    lang = i18n.reader_language(request)
    titles = {s.record_id: _title(s.metadata, lang) for s in items}
    done = request.query_params.get("done", "")
    return page(request, "curation/queue.html", community=community, items=items, titles=titles, done=done)


@router.get("/communities/{slug}/requests/{record_id}", response_class=HTMLResponse)
def submission(
    slug: str, record_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep
) -> Response:
    community = communities.get(node, slug)
    item = curation.get(node, viewer, slug, record_id)
    # Through the access rules: the curator of a community a draft was submitted to may read it.
    version = records.get_version(node, item.version_id, viewer, allow_withdrawn=True)
    lang = i18n.reader_language(request)
    context = dict(community=community, item=item, version=version, title=_title(version.metadata, lang))
    return page(request, "curation/submission.html", **context)


@router.post("/communities/{slug}/requests/{record_id}")
async def decide(
    slug: str, record_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep
) -> Response:
    form = await fields(request, "decision", "message")
    if form["decision"] not in ("accept", "decline"):
        raise InvalidInput("choose to accept or to decline the request")
    accept = form["decision"] == "accept"
    decision = await run_in_threadpool(curation.decide, node, viewer, slug, record_id, accept, form["message"])
    community = await run_in_threadpool(communities.get, node, slug)
    depositor = decision.depositor
    if depositor is not None and depositor.email:
        lang = depositor.language if depositor.language in i18n.LANGUAGES else i18n.DEFAULT
        title = _title(decision.submission.metadata, lang)
        link = node.record_url(decision.submission.version_id)
        await run_in_threadpool(
            mail.send_decision,
            node,
            depositor,
            accept,
            community.title,
            title,
            decision.submission.decision_message,
            link,
        )
    return RedirectResponse(f"/communities/{slug}/requests?done={form['decision']}", status_code=303)


def record_curation(node: Node, viewer: Viewer, owner_id: int, record_id: str) -> dict[str, object]:
    """What a record's page shows its owner: the communities they may submit it to, and their requests."""
    if viewer.user_id is None or viewer.user_id != owner_id:
        return {"curation": None}
    mine = curation.mine(node, viewer, record_id)
    asked = {s.slug for s in mine}
    open_to = [c for c in communities.list_all(node) if c.slug not in asked or _declined(mine, c.slug)]
    return {"curation": {"requests": mine, "communities": open_to}}


def _declined(mine: list[curation.Submission], slug: str) -> bool:
    return any(s.slug == slug and s.status == "declined" for s in mine)


# The states of a request, shown through the ``t`` filter: listed so `make messages` extracts them.
STATES = [N_("requested"), N_("accepted"), N_("declined")]
