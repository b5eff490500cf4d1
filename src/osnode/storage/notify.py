"""COAR Notify tables: what arrived in the node's LDN inbox and what the node sends from its outbox.

``notify_inbox.notification_id`` is unique: a notification's ``id`` is accepted once, so a replay changes
nothing. ``notify_outbox`` is sent by a background job with retries and backoff (``services/notify/outbox.py``);
its rows survive restarts, and the answer a service gives to an offer we sent (Accept, Reject...) is kept on
the offer's row.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, Table, Text

from .catalog import metadata

notify_inbox = Table(
    "notify_inbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("notification_id", String(1000), nullable=False, unique=True),
    # The pattern's name, e.g. RequestReview, AnnounceReview (services/notify/patterns.py).
    Column("kind", String(40), nullable=False),
    # The sender's service id (origin.id), one of the allow-list's.
    Column("sender", String(1000), nullable=False),
    # The record of this node the notification is about, when there is one.
    Column("record_id", String(20), nullable=True),
    Column("in_reply_to", String(1000), nullable=True),
    # The remote resource it names: the review, the endorsement, the related object, the record to review.
    Column("object_url", String(2000), nullable=True),
    # new | accepted | rejected | announced | undone | done
    Column("state", String(20), nullable=False),
    Column("body", JSON, nullable=False),
    Column("received", DateTime(timezone=True), nullable=False),
    Column("decided_by", Integer, nullable=True),
)
Index("ix_notify_inbox_record_id", notify_inbox.c.record_id)
Index("ix_notify_inbox_kind_state", notify_inbox.c.kind, notify_inbox.c.state)

notify_outbox = Table(
    "notify_outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("notification_id", String(1000), nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    # The receiving service's id and the inbox the notification goes to (from the allow-list, never from input).
    Column("target", String(1000), nullable=False),
    Column("inbox", String(2000), nullable=False),
    Column("record_id", String(20), nullable=True),
    # The inbox row this answers (Accept, Reject, Announce Review of a request we received).
    Column("in_reply_to", Integer, nullable=True),
    # For an offer we sent: the service's answer (accepted, rejected, tentatively-accepted, ...).
    Column("answer", String(30), nullable=True),
    Column("body", JSON, nullable=False),
    # queued | sent | failed
    Column("state", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_try", DateTime(timezone=True), nullable=False),
    Column("last_error", Text, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("sent", DateTime(timezone=True), nullable=True),
    Column("requested_by", Integer, nullable=True),
)
Index("ix_notify_outbox_state_next_try", notify_outbox.c.state, notify_outbox.c.next_try)
Index("ix_notify_outbox_record_id", notify_outbox.c.record_id)
