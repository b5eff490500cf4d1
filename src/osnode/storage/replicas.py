"""Replication tables: what each peer's records are mirrored with, and who holds which copy.

``replication_policies`` holds one row per peer whose files are mirrored (no row: metadata only).
``replication_state`` remembers, per harvested source record, the origin datestamp whose files are
in place here, so a re-run looks at the network only for records that changed or lost a blob.
``replicas`` lists the nodes known to hold the bytes of a local version's files: this node's own
copies (``is_self``) and the nodes that told us they serve them (the origin's JSON API).
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text

from .catalog import metadata

replication_policies = Table(
    "replication_policies",
    metadata,
    Column("peer_id", Integer, ForeignKey("peers.id", ondelete="CASCADE"), primary_key=True),
    # metadata (no files), open (every open file), sets (open files of records in ``sets``)
    Column("policy", String(20), nullable=False),
    Column("sets", JSON, nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
)

replication_state = Table(
    "replication_state",
    metadata,
    Column("peer_id", Integer, ForeignKey("peers.id", ondelete="CASCADE"), primary_key=True),
    Column("oai_identifier", String(1000), primary_key=True),
    Column("record_id", String(20), nullable=False),
    # The source datestamp whose files were mirrored; null until a replication succeeded.
    Column("datestamp", String(30), nullable=True),
    Column("replicated", DateTime(timezone=True), nullable=False),
    # ok, failed (see message), skipped (not open / not in the chosen sets / no JSON API)
    Column("status", String(20), nullable=False),
    Column("message", Text, nullable=True),
)

replicas = Table(
    "replicas",
    metadata,
    Column("version_id", String(20), ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True),
    Column("sha256", String(64), primary_key=True),
    # The holder's site URL (this node's public URL for its own copies).
    Column("holder", String(1000), primary_key=True),
    Column("record_id", String(20), nullable=False),
    Column("is_self", Boolean, nullable=False),
    Column("reported", DateTime(timezone=True), nullable=False),
)
Index("ix_replicas_sha256", replicas.c.sha256)
Index("ix_replicas_record_id", replicas.c.record_id)

TABLES = (replication_policies, replication_state, replicas)
