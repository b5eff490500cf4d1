"""Communities (collections of records): the two tables behind them.

A community is a named, curated collection; ``record_communities`` says which records belong to
which community. A depositor may ask for their own record to be included (``requested``); a
curator or an administrator accepts it (``accepted``). Only accepted memberships are public (and
OAI-PMH sets ``community:<slug>``).
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Table, Text

from .catalog import metadata

ACCEPTED = "accepted"
REQUESTED = "requested"
DECLINED = "declined"

communities = Table(
    "communities",
    metadata,
    # The slug is the community's id in URLs and OAI-PMH setSpecs, so it is short and plain.
    Column("slug", String(64), primary_key=True),
    Column("title", String(500), nullable=False),
    Column("description", Text, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    # The path of its logo ("/site/logo-<hash>.png", re-encoded by services.images), or NULL: migration 0022.
    Column("logo", String(64), nullable=True),
)

record_communities = Table(
    "record_communities",
    metadata,
    Column("record_id", String(20), ForeignKey("records.id", ondelete="CASCADE"), primary_key=True),
    Column("slug", String(64), ForeignKey("communities.slug", ondelete="CASCADE"), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("requested_by", Integer, ForeignKey("users.id"), nullable=True),
    Column("created", DateTime(timezone=True), nullable=False),
    # The depositor's note to the curators, and the curator's decision: who, when, and the message the
    # depositor is sent with it (a declined request stays, so the depositor can read why).
    Column("message", Text, nullable=True),
    # A plain user id, not a foreign key: SQLite's batch migrations rebuild ``users`` and a second reference
    # to it made that fail; the decision's record outlives the account anyway.
    Column("decided_by", Integer, nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("decision_message", Text, nullable=True),
)
# A community's records (OAI-PMH sets, listings); the primary key serves a record's communities.
Index("ix_record_communities_slug_status", record_communities.c.slug, record_communities.c.status)
