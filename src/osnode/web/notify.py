"""COAR Notify on the web: the node's LDN inbox (``/inbox``), the review panel of a landing page, and the
reviewing side's queue (``/notify/requests``). Forms are plain (no JavaScript) with CSRF (``SignedInDep``);
what may be done is decided in ``services.notify.reviews``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from ..domain.access import Viewer
from ..domain.errors import InvalidInput, NodeError, TooLarge
from ..domain.records import Version
from ..services.node import Node
from ..services.notify import inbox, partners, reviews
from .account_pages import fields, page
from .deps import DbId, NodeDep
from .i18n import N_
from .panels import Panel
from .sessions import SignedInDep

router = APIRouter(include_in_schema=False)
LDP_INBOX = "http://www.w3.org/ns/ldp#inbox"
JSON_LD = "application/ld+json"
_TAKEN = ("application/ld+json", "application/json")


def inbox_link(node: Node) -> str:
    """The ``Link`` header value announcing the inbox (LDN discovery)."""
    return f'<{partners.own_inbox(node)}>; rel="{LDP_INBOX}"'


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes ``limit`` (a declared length is checked first)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"a notification may be at most {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"a notification may be at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class UnsupportedMedia(NodeError):
    status = 415
    title = "Unsupported media type"


@router.post("/inbox", status_code=201)
async def receive(request: Request, node: Node = NodeDep) -> Response:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in _TAKEN:
        raise UnsupportedMedia("a notification is sent as application/ld+json")
    raw = await _body(request, node.settings.notify_max_bytes)
    handlers = getattr(request.app.state, "notify_handlers", [])
    stored = await run_in_threadpool(inbox.receive, node, raw, handlers)
    location = f"{partners.own_inbox(node)}/{stored.id}"
    return Response(status_code=201, headers={"Location": location, "Link": inbox_link(node)})


@router.get("/inbox")
def listing(node: Node = NodeDep) -> Response:
    """The inbox as an LDP container (LDN): the notifications anyone may read back, those the pages show."""
    own = partners.own_inbox(node)
    body = {
        "@context": "http://www.w3.org/ns/ldp",
        "@id": own,
        "contains": [f"{own}/{e.id}" for e in inbox.public(node)],
    }
    return Response(orjson.dumps(body), media_type=JSON_LD, headers={"Link": inbox_link(node)})


@router.get("/inbox/{entry_id}")
def one(entry_id: DbId, node: Node = NodeDep) -> Response:
    return Response(orjson.dumps(inbox.public_one(node, entry_id).body), media_type=JSON_LD)


def notify_panel(_request: Request, node: Node, version: Version, viewer: Viewer) -> Panel | None:
    """Reviews, endorsements and announced relationships of a record; for its owner, review requests."""
    shown = inbox.about(node, version.record_id)
    owner = reviews.may_request(version, viewer)
    if not shown and not owner:
        return None
    names = {p.id: p.name for p in partners.partners(node)}
    context: dict[str, Any] = {
        "reviews": [e for e in shown if e.kind == "AnnounceReview"],
        "endorsements": [e for e in shown if e.kind == "AnnounceEndorsement"],
        "relationships": [(e, _relation(e)) for e in shown if e.kind == "AnnounceRelationship"],
        "names": names,
        "owner": owner,
    }
    if owner:
        context["services"] = partners.partners(node)
        context["sent"] = reviews.requests_sent(node, version.record_id)
    return Panel("panels/notify.html", context)


def _relation(entry: inbox.Entry) -> str:
    value = (entry.body.get("object") or {}).get("as:relationship") or ""
    return str(value).rsplit("/", 1)[-1].rsplit("#", 1)[-1]


@router.post("/records/{record_id}/review-requests")
async def request_review(
    record_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep
) -> Response:
    form = await fields(request, "service", "kind")
    kind = form["kind"] or "RequestReview"
    await run_in_threadpool(reviews.request, node, viewer, record_id, form["service"], kind)
    return RedirectResponse(f"/records/{quote(record_id)}?requested=1#notify", status_code=303)


@router.get("/notify/requests", response_class=HTMLResponse)
def queue(request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    items = reviews.queue(node, viewer)
    return page(request, "notify/requests.html", items=items, done=request.query_params.get("done", ""))


@router.post("/notify/requests/{entry_id}")
async def act(entry_id: DbId, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    form = await fields(request, "action", "summary", "review_url")
    action = form["action"]
    if action in ("accept", "reject"):
        await run_in_threadpool(reviews.answer, node, viewer, entry_id, action == "accept", form["summary"])
    elif action == "announce":
        await run_in_threadpool(reviews.announce, node, viewer, entry_id, form["review_url"])
    elif action == "undo":
        await run_in_threadpool(reviews.undo, node, viewer, entry_id)
    else:
        raise InvalidInput("choose accept, reject, announce or undo")
    return RedirectResponse(f"/notify/requests?done={action}", status_code=303)


# Words shown through the ``t`` filter, listed so `make messages` extracts them.
STATES = [
    N_("new"),
    N_("accepted"),
    N_("rejected"),
    N_("announced"),
    N_("queued"),
    N_("sent"),
    N_("failed"),
    N_("tentatively-accepted"),
    N_("tentatively-rejected"),
    N_("unprocessable"),
    N_("undone"),
]
