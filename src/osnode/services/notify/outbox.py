"""The outbox: notifications are queued in the same transaction as the change they announce and sent by a
background job, retried with backoff (1, 2, 4 ... minutes, capped at an hour, as the email outbox) until the
receiver takes them, for up to ``MAX_ATTEMPTS`` tries (more than a week of a link that is down). Queued rows
are in the catalog, so a restart loses nothing. A 4xx other than 408/429 is the receiver saying no: the
notification is marked failed at once with its answer, never retried in a loop.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import Connection, select, update

from ...storage.notify import notify_outbox
from ..jobs import Job
from ..mail import backoff
from ..node import Node, utcnow
from .partners import Partner

log = logging.getLogger("osnode.notify")
QUEUED, SENT, FAILED = "queued", "sent", "failed"
MAX_ATTEMPTS = 200
BATCH = 50
CHECK_SECONDS = 15.0
TIMEOUT = 30.0
CONTENT_TYPE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
_RETRY_STATUSES = {408, 425, 429}


def new_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


@dataclass(frozen=True)
class Sent:
    id: int
    notification_id: str
    kind: str
    target: str
    record_id: str | None
    answer: str | None
    state: str
    attempts: int
    last_error: str
    created: datetime
    body: dict[str, Any]


def sent_row(row: Any) -> Sent:
    return Sent(
        row.id,
        row.notification_id,
        row.kind,
        row.target,
        row.record_id,
        row.answer,
        row.state,
        row.attempts,
        row.last_error,
        row.created,
        row.body,
    )


def enqueue(
    conn: Connection,
    kind: str,
    target: Partner,
    body: dict[str, Any],
    *,
    record_id: str | None = None,
    in_reply_to: int | None = None,
    requested_by: int | None = None,
) -> int:
    now = utcnow()
    values = dict(
        notification_id=body["id"],
        kind=kind,
        target=target.id,
        inbox=target.inbox,
        record_id=record_id,
        in_reply_to=in_reply_to,
        body=body,
        state=QUEUED,
        attempts=0,
        next_try=now,
        last_error="",
        created=now,
        requested_by=requested_by,
    )
    return conn.execute(notify_outbox.insert().values(**values)).inserted_primary_key[0]


def send_due(node: Node, transport: httpx.BaseTransport | None = None) -> int:
    """Send what is due; how many the receivers took."""
    now = utcnow()
    query = (
        select(notify_outbox)
        .where(notify_outbox.c.state == QUEUED, notify_outbox.c.next_try <= now)
        .order_by(notify_outbox.c.id)
        .limit(BATCH)
    )
    with node.engine.connect() as conn:
        rows = conn.execute(query).all()
    if not rows:
        return 0
    done = 0
    # Redirects are not followed: the inbox is the one configured, not wherever a response points.
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False, transport=transport) as http:
        for row in rows:
            done += _send_one(node, http, row)
    return done


def _send_one(node: Node, http: httpx.Client, row: Any) -> int:
    try:
        response = http.post(row.inbox, json=row.body, headers={"Content-Type": CONTENT_TYPE})
    except httpx.HTTPError as exc:
        _failed(node, row, f"cannot reach {row.inbox}: {exc}", retry=True)
        return 0
    if response.status_code in (200, 201, 202):
        with node.transaction() as tx:
            values = dict(state=SENT, sent=utcnow(), attempts=row.attempts + 1, last_error="")
            tx.execute(update(notify_outbox).where(notify_outbox.c.id == row.id).values(**values))
        return 1
    retry = response.status_code >= 500 or response.status_code in _RETRY_STATUSES
    _failed(node, row, f"{row.inbox} answered {response.status_code}: {response.text[:500]}", retry=retry)
    return 0


def _failed(node: Node, row: Any, error: str, *, retry: bool) -> None:
    attempts = row.attempts + 1
    state = QUEUED if retry and attempts < MAX_ATTEMPTS else FAILED
    log.warning("notification %s to %s failed (attempt %s): %s", row.notification_id, row.inbox, attempts, error)
    values = dict(attempts=attempts, state=state, last_error=error[:2000], next_try=utcnow() + backoff(attempts))
    with node.transaction() as tx:
        tx.execute(update(notify_outbox).where(notify_outbox.c.id == row.id).values(**values))


def listing(node: Node, limit: int = 100) -> list[Sent]:
    with node.engine.connect() as conn:
        rows = conn.execute(select(notify_outbox).order_by(notify_outbox.c.id.desc()).limit(limit)).all()
    return [sent_row(r) for r in rows]


JOBS = [Job("notify", lambda _node: CHECK_SECONDS, send_due)]
