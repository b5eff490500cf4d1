"""The review story from the pages: a record's owner asks a service or another node for a review (or an
endorsement); on the receiving node its reviewing side (admins and community curators, until a journal takes
its own requests through a handler) accepts or rejects it and later announces the review, or undoes that
announcement. Each step is one transaction that changes the state and queues the notification.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select, update

from ...domain import access as rules
from ...domain.access import Viewer
from ...domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from ...domain.records import Version
from ...storage.accounts import community_curators
from ...storage.notify import notify_inbox, notify_outbox
from .. import exports, records
from ..node import Node
from . import build, inbox, outbox, partners
from .handlers import NEW
from .partners import Partner

ACCEPTED, REJECTED, ANNOUNCED = "accepted", "rejected", "announced"
REQUEST_KINDS = ("RequestReview", "RequestEndorsement")
MAX_SUMMARY = 2000


@dataclass(frozen=True)
class Request:
    """A request that arrived, as the reviewing side's queue shows it."""

    entry: inbox.Entry
    sender_name: str
    announcement: outbox.Sent | None  # the announcement sent for it, while not undone


def services(node: Node) -> list[Partner]:
    return partners.partners(node)


def may_request(version: Version, viewer: Viewer) -> bool:
    return rules.may_request_review(version, viewer)


def request(node: Node, viewer: Viewer, any_id: str, service_id: str, kind: str = "RequestReview") -> int:
    if viewer.user_id is None:
        raise Unauthorized("asking for a review needs you to sign in")
    version = records.get_version(node, any_id, viewer)
    if not rules.may_request_review(version, viewer):
        raise Forbidden("only the record's owners may ask for a review of a published version")
    if kind not in build.OFFER_TYPES:
        raise InvalidInput(f"kind must be one of {', '.join(build.OFFER_TYPES)}")
    target = partners.find(node, service_id)
    if target is None:
        raise InvalidInput("choose a service or node from the list")
    view = exports.record_view(node, version, viewer)
    item = next(((f.download_url, f.mimetype or "application/octet-stream") for f in view.files), None)
    body = build.offer(node, kind, target, view.identifier, view.pid_url, item)
    with node.transaction() as tx:
        return outbox.enqueue(tx, kind, target, body, record_id=version.record_id, requested_by=viewer.user_id)


def requests_sent(node: Node, record_id: str) -> list[outbox.Sent]:
    query = (
        select(notify_outbox)
        .where(notify_outbox.c.record_id == record_id, notify_outbox.c.kind.in_(REQUEST_KINDS))
        .order_by(notify_outbox.c.id)
    )
    with node.engine.connect() as conn:
        return [outbox.sent_row(r) for r in conn.execute(query)]


def may_answer(node: Node, viewer: Viewer) -> bool:
    if viewer.user_id is None:
        return False
    with node.engine.connect() as conn:
        curates = conn.execute(select(exists().where(community_curators.c.user_id == viewer.user_id))).scalar()
    return rules.may_answer_requests(viewer, bool(curates))


def _ensure_may_answer(node: Node, viewer: Viewer) -> None:
    if viewer.user_id is None:
        raise Unauthorized("answering requests needs you to sign in")
    if not may_answer(node, viewer):
        raise Forbidden("only administrators and curators answer the requests this node receives")


def queue(node: Node, viewer: Viewer) -> list[Request]:
    _ensure_may_answer(node, viewer)
    query = select(notify_inbox).where(notify_inbox.c.kind.in_(REQUEST_KINDS)).order_by(notify_inbox.c.id.desc())
    names = {p.id: p.name for p in partners.partners(node)}
    with node.engine.connect() as conn:
        entries = [inbox.entry(r) for r in conn.execute(query.limit(500))]
        sent = conn.execute(
            select(notify_outbox).where(
                notify_outbox.c.in_reply_to.in_([e.id for e in entries]),
                notify_outbox.c.kind.in_(list(build.ANNOUNCE_FOR.values())),
                notify_outbox.c.answer.is_(None),
            )
        ).all()
    announced = {row.in_reply_to: outbox.sent_row(row) for row in sent}
    return [Request(e, names.get(e.sender, e.sender), announced.get(e.id)) for e in entries]


def _request_entry(conn: Any, entry_id: int, state: str) -> Any:
    row = conn.execute(select(notify_inbox).where(notify_inbox.c.id == entry_id)).first()
    if row is None or row.kind not in REQUEST_KINDS:
        raise NotFound("no such request")
    if row.state != state:
        raise Conflict(f"this request is {row.state}")
    return row


def _sender(node: Node, row: Any) -> Partner:
    target = partners.find(node, row.sender)
    if target is None:
        raise Conflict("the sender of this request is no longer on the node's list of peers and services")
    return target


def answer(node: Node, viewer: Viewer, entry_id: int, accept: bool, summary: str = "") -> None:
    _ensure_may_answer(node, viewer)
    summary = summary.strip()[:MAX_SUMMARY]
    with node.transaction() as tx:
        row = _request_entry(tx, entry_id, NEW)
        target = _sender(node, row)
        body = build.answer(node, accept, target, row.body, summary)
        kind = "Accept" if accept else "Reject"
        outbox.enqueue(tx, kind, target, body, in_reply_to=row.id, requested_by=viewer.user_id)
        state = ACCEPTED if accept else REJECTED
        tx.execute(
            update(notify_inbox).where(notify_inbox.c.id == row.id).values(state=state, decided_by=viewer.user_id)
        )


def announce(node: Node, viewer: Viewer, entry_id: int, result_url: str) -> None:
    """Announce the review (or endorsement) of an accepted request; the review lives at ``result_url``."""
    _ensure_may_answer(node, viewer)
    result_url = result_url.strip()
    if not result_url.startswith(("https://", "http://")) or len(result_url) > 2000 or " " in result_url:
        raise InvalidInput("the review's address must be an http(s) URL")
    with node.transaction() as tx:
        row = _request_entry(tx, entry_id, ACCEPTED)
        target = _sender(node, row)
        kind = build.ANNOUNCE_FOR[row.kind]
        body = build.announcement(node, kind, target, row.body, result_url)
        outbox.enqueue(tx, kind, target, body, in_reply_to=row.id, requested_by=viewer.user_id)
        tx.execute(update(notify_inbox).where(notify_inbox.c.id == row.id).values(state=ANNOUNCED))


def undo(node: Node, viewer: Viewer, entry_id: int) -> None:
    """Withdraw the announcement made for request ``entry_id``: the requester's page stops showing it."""
    _ensure_may_answer(node, viewer)
    with node.transaction() as tx:
        row = _request_entry(tx, entry_id, ANNOUNCED)
        target = _sender(node, row)
        sent = tx.execute(
            select(notify_outbox).where(
                notify_outbox.c.in_reply_to == row.id,
                notify_outbox.c.kind.in_(list(build.ANNOUNCE_FOR.values())),
                notify_outbox.c.answer.is_(None),
            )
        ).first()
        if sent is None:
            raise Conflict("nothing was announced for this request")
        body = build.undo(node, target, sent.body)
        outbox.enqueue(tx, "UndoOffer", target, body, in_reply_to=row.id, requested_by=viewer.user_id)
        tx.execute(update(notify_outbox).where(notify_outbox.c.id == sent.id).values(answer="undone"))
        tx.execute(update(notify_inbox).where(notify_inbox.c.id == row.id).values(state=ACCEPTED))
