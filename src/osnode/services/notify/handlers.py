"""What the inbox does with each pattern: a small interface other parts of the node (journals) plug into.

A ``Handler`` says whether it takes a notification and, inside the inbox's transaction, what it is about and
in which state it is stored; it may change its own tables in the same transaction. The inbox asks the handlers
the app was given (``register_notify_handlers``, plugins first) in order and uses the first that takes the
notification; the built-ins below come last. A handler refuses a notification by raising ``BadNotification``:
then nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote, urlsplit

from sqlalchemy import Connection, select, update

from ...storage.catalog import records, versions
from ...storage.notify import notify_inbox, notify_outbox
from ..node import Node
from . import partners, urls
from .parsing import BadNotification, Incoming

NEW, SHOWN, UNDONE, DONE = "new", "shown", "undone", "done"
ANSWERS = {
    "Accept": "accepted",
    "Reject": "rejected",
    "TentativelyAccept": "tentatively-accepted",
    "TentativelyReject": "tentatively-rejected",
    "UnprocessableNotification": "unprocessable",
}


@dataclass(frozen=True)
class Outcome:
    record_id: str | None
    state: str
    object_url: str | None = None


class Handler(Protocol):
    def takes(self, node: Node, incoming: Incoming) -> bool: ...

    def handle(self, conn: Connection, node: Node, incoming: Incoming) -> Outcome: ...


def record_of(conn: Connection, node: Node, url: str | None) -> str | None:
    """The published record of this node a landing-page URL names (by record or version id), or None."""
    if not url:
        return None
    own = partners.own_id(node)
    if not url.startswith(f"{own}/records/"):
        return None
    segment = unquote(urlsplit(url).path.rstrip("/").rsplit("/records/", 1)[-1]).split("/")[0]
    found = conn.execute(select(versions.c.record_id).where(versions.c.id == segment)).scalar()
    record_id = found or segment
    published = conn.execute(select(records.c.latest_published_id).where(records.c.id == record_id)).scalar()
    return record_id if published else None


def _offer_sent(conn: Connection, incoming: Incoming):  # type: ignore[no-untyped-def]
    """The offer this node sent to the notification's sender that it answers, if any."""
    if not incoming.in_reply_to:
        return None
    query = select(notify_outbox).where(notify_outbox.c.notification_id == incoming.in_reply_to)
    row = conn.execute(query).first()
    return row if row is not None and partners.normal(row.target) == incoming.sender.id else None


class Offers:
    """Request Review / Request Endorsement: a request to this node, kept for its reviewers' queue."""

    def takes(self, node: Node, incoming: Incoming) -> bool:
        return incoming.kind in ("RequestReview", "RequestEndorsement")

    def handle(self, conn: Connection, node: Node, incoming: Incoming) -> Outcome:
        url = incoming.part_id("object")
        return Outcome(record_of(conn, node, url), NEW, url)


class Announcements:
    """Announce Review / Endorsement / Service Result about one of our records: shown on its landing page."""

    def takes(self, node: Node, incoming: Incoming) -> bool:
        return incoming.kind in ("AnnounceReview", "AnnounceEndorsement", "AnnounceServiceResult")

    def handle(self, conn: Connection, node: Node, incoming: Incoming) -> Outcome:
        offer = _offer_sent(conn, incoming)
        record_id = record_of(conn, node, incoming.part_id("context")) or (offer.record_id if offer else None)
        if record_id is None:
            raise BadNotification("context names no published record of this node")
        shown = incoming.part_id("object")
        if not urls.web_url(shown):  # it becomes a link on the landing page
            raise BadNotification("object.id must be an http(s) URL: it is shown as a link")
        if offer is not None:
            conn.execute(update(notify_outbox).where(notify_outbox.c.id == offer.id).values(answer="announced"))
        return Outcome(record_id, SHOWN, shown)


class Relationships:
    """Announce Relationship: one end is our record, the other is shown beside its related identifiers."""

    def takes(self, node: Node, incoming: Incoming) -> bool:
        return incoming.kind == "AnnounceRelationship"

    def handle(self, conn: Connection, node: Node, incoming: Incoming) -> Outcome:
        triple = incoming.body.get("object") or {}
        subject, other = triple.get("as:subject"), triple.get("as:object")
        for ours, theirs in ((subject, other), (other, subject)):
            record_id = record_of(conn, node, ours if isinstance(ours, str) else None)
            if record_id is not None:
                if not urls.web_url(theirs):  # it becomes a link on the landing page
                    raise BadNotification("the other end of the relationship must be an http(s) URL")
                return Outcome(record_id, SHOWN, theirs)
        raise BadNotification("neither end of the relationship is a published record of this node")


class Answers:
    """Accept, Reject, Tentative Accept/Reject, Unprocessable: the answer to an offer this node sent."""

    def takes(self, node: Node, incoming: Incoming) -> bool:
        return incoming.kind in ANSWERS

    def handle(self, conn: Connection, node: Node, incoming: Incoming) -> Outcome:
        offer = _offer_sent(conn, incoming)
        if offer is None:
            raise BadNotification("inReplyTo names no notification this node sent to you")
        answer = ANSWERS[incoming.kind]
        conn.execute(update(notify_outbox).where(notify_outbox.c.id == offer.id).values(answer=answer))
        return Outcome(offer.record_id, DONE)


class Undo:
    """Undo: withdraws a notification the same sender sent before (a request, a review, an endorsement)."""

    def takes(self, node: Node, incoming: Incoming) -> bool:
        return incoming.kind == "UndoOffer"

    def handle(self, conn: Connection, node: Node, incoming: Incoming) -> Outcome:
        query = select(notify_inbox).where(notify_inbox.c.notification_id == (incoming.in_reply_to or ""))
        earlier = conn.execute(query).first()
        if earlier is None or earlier.sender != incoming.sender.id:
            raise BadNotification("inReplyTo names no notification you sent to this node")
        conn.execute(update(notify_inbox).where(notify_inbox.c.id == earlier.id).values(state=UNDONE))
        return Outcome(earlier.record_id, DONE, earlier.object_url)


BUILT_IN: list[Handler] = [Offers(), Announcements(), Relationships(), Answers(), Undo()]
