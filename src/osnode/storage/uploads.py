"""Tables for resumable (tus) uploads and for fixity: what is being uploaded, and what was checked.

They live in their own module so the catalog stays readable; migration 0007 creates them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text

from .catalog import metadata

# One row per tus upload in progress. The bytes received so far live in a file of their own under
# the blob store's partial area, named by the upload id; ``offset`` counts only acknowledged bytes.
uploads = Table(
    "uploads",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("version_id", String(20), ForeignKey("versions.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(255), nullable=False),
    Column("owner_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("length", BigInteger, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("mimetype", String(200), nullable=True),
    # A whole-file SHA-256 the client declared up front (optional): checked on the last byte.
    Column("expected_sha256", String(64), nullable=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("expires", DateTime(timezone=True), nullable=False),
)
Index("ix_uploads_expires", uploads.c.expires)

# The latest fixity result per blob; the rotation picks the blobs checked longest ago first.
fixity_checks = Table(
    "fixity_checks",
    metadata,
    Column("sha256", String(64), ForeignKey("blobs.sha256", ondelete="CASCADE"), primary_key=True),
    Column("checked_at", DateTime(timezone=True), nullable=False),
    # ok, missing, corrupt (the last two until a repair succeeds: then ok again, with repaired_at)
    Column("status", String(10), nullable=False),
    Column("repaired_at", DateTime(timezone=True), nullable=True),
    Column("detail", Text, nullable=True),
)
Index("ix_fixity_checks_checked_at", fixity_checks.c.checked_at)

# One row per fixity round: the history the CLI and the admin page show.
fixity_runs = Table(
    "fixity_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("started", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True), nullable=True),
    Column("checked", Integer, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("ok", Integer, nullable=False),
    Column("missing", Integer, nullable=False),
    Column("corrupt", Integer, nullable=False),
    Column("repaired", Integer, nullable=False),
)

# Every problem found, and what was done about it: never overwritten, so damage has a history.
fixity_events = Table(
    "fixity_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("fixity_runs.id", ondelete="CASCADE"), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("status", String(10), nullable=False),
    Column("action", Text, nullable=False),
)
Index("ix_fixity_events_run_id", fixity_events.c.run_id)

TABLES = (uploads, fixity_checks, fixity_runs, fixity_events)
