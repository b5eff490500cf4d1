"""The node's LDN inbox: a notification is parsed and checked (``parsing``), handed to the first handler that
takes it (``handlers``), and stored, all in one transaction; the same ``id`` twice is refused (409) and
changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ...domain.errors import Conflict, NotFound
from ...storage.notify import notify_inbox
from ..node import Node, utcnow
from . import parsing
from .handlers import BUILT_IN, SHOWN, Handler

# What anyone may read back from the inbox (LDN lets a receiver restrict reading): what the landing pages show.
PUBLIC_KINDS = ("AnnounceReview", "AnnounceEndorsement", "AnnounceRelationship")


@dataclass(frozen=True)
class Stored:
    id: int
    kind: str
    record_id: str | None
    state: str


@dataclass(frozen=True)
class Entry:
    id: int
    notification_id: str
    kind: str
    sender: str
    record_id: str | None
    in_reply_to: str | None
    object_url: str | None
    state: str
    body: dict[str, Any]
    received: datetime


def entry(row: Any) -> Entry:
    return Entry(
        row.id,
        row.notification_id,
        row.kind,
        row.sender,
        row.record_id,
        row.in_reply_to,
        row.object_url,
        row.state,
        row.body,
        row.received,
    )


def receive(node: Node, raw: bytes, handlers: list[Handler] | None = None) -> Stored:
    incoming = parsing.parse(node, raw)
    chain = [*(handlers or []), *BUILT_IN]
    handler = next((h for h in chain if h.takes(node, incoming)), None)
    if handler is None:
        raise parsing.BadNotification(f"this inbox does not take {incoming.kind} notifications")
    try:
        with node.transaction() as tx:
            if tx.execute(select(notify_inbox.c.id).where(notify_inbox.c.notification_id == incoming.id)).first():
                raise Conflict(f"notification {incoming.id} was received already")
            outcome = handler.handle(tx, node, incoming)
            values = dict(
                notification_id=incoming.id,
                kind=incoming.kind,
                sender=incoming.sender.id,
                record_id=outcome.record_id,
                in_reply_to=incoming.in_reply_to,
                object_url=outcome.object_url,
                state=outcome.state,
                body=incoming.body,
                received=utcnow(),
            )
            new_id = tx.execute(notify_inbox.insert().values(**values)).inserted_primary_key[0]
    except IntegrityError:  # the same id arriving twice at once: the unique index decides
        raise Conflict(f"notification {incoming.id} was received already") from None
    return Stored(new_id, incoming.kind, outcome.record_id, outcome.state)


def public(node: Node, limit: int = 500) -> list[Entry]:
    query = (
        select(notify_inbox)
        .where(notify_inbox.c.kind.in_(PUBLIC_KINDS), notify_inbox.c.state == SHOWN)
        .order_by(notify_inbox.c.id.desc())
        .limit(limit)
    )
    with node.engine.connect() as conn:
        return [entry(r) for r in conn.execute(query)]


def public_one(node: Node, entry_id: int) -> Entry:
    with node.engine.connect() as conn:
        row = conn.execute(select(notify_inbox).where(notify_inbox.c.id == entry_id)).first()
    if row is None or row.kind not in PUBLIC_KINDS or row.state != SHOWN:
        raise NotFound("no such notification here")
    return entry(row)


def about(node: Node, record_id: str) -> list[Entry]:
    """What is shown on a record's landing page: reviews, endorsements, relationships not undone."""
    query = (
        select(notify_inbox)
        .where(notify_inbox.c.record_id == record_id, notify_inbox.c.state == SHOWN)
        .order_by(notify_inbox.c.id)
    )
    with node.engine.connect() as conn:
        return [entry(r) for r in conn.execute(query)]
