"""Tables of the software archive: the Software Heritage graph (contents, directories, revisions, releases,
snapshots), origins and their visits, and the link from a record version to what it archived.

Every object is keyed by its sha1_git (hex); ``swh_objects`` lists them all with their type, so "which of these
ids are new?" is one indexed query per batch. A content's bytes live in the blob store under their SHA-256, so
identical bytes are stored once across all deposits; ``swh_contents`` maps sha1_git to that SHA-256. Names and
raw manifests are bytes: git allows names that are not UTF-8.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
)

from .catalog import insert_or_ignore, metadata

swh_objects = Table(
    "swh_objects",
    metadata,
    Column("sha1_git", String(40), primary_key=True),
    Column("type", String(3), nullable=False),
)

swh_contents = Table(
    "swh_contents",
    metadata,
    Column("sha1_git", String(40), primary_key=True),
    Column("sha256", String(64), ForeignKey("blobs.sha256"), nullable=False),
    Column("length", BigInteger, nullable=False),
)

swh_directory_entries = Table(
    "swh_directory_entries",
    metadata,
    Column("directory", String(40), primary_key=True),
    Column("name", LargeBinary, primary_key=True),
    Column("perms", Integer, nullable=False),
    Column("target", String(40), nullable=False),
)

swh_revisions = Table(
    "swh_revisions",
    metadata,
    Column("sha1_git", String(40), primary_key=True),
    Column("directory", String(40), nullable=False),
    Column("author", Text, nullable=False),
    Column("date", BigInteger, nullable=True),
    Column("date_offset", String(16), nullable=False),
    Column("message", Text, nullable=False),
    # The git commit body, exactly: re-hashing it gives the id back.
    Column("raw", LargeBinary, nullable=False),
)

swh_revision_parents = Table(
    "swh_revision_parents",
    metadata,
    Column("revision", String(40), primary_key=True),
    Column("rank", Integer, primary_key=True),
    Column("parent", String(40), nullable=False),
)

swh_releases = Table(
    "swh_releases",
    metadata,
    Column("sha1_git", String(40), primary_key=True),
    Column("name", Text, nullable=False),
    Column("target", String(40), nullable=False),
    Column("target_type", String(3), nullable=False),
    Column("message", Text, nullable=False),
    Column("raw", LargeBinary, nullable=False),
)

swh_snapshot_branches = Table(
    "swh_snapshot_branches",
    metadata,
    Column("snapshot", String(40), primary_key=True),
    Column("name", LargeBinary, primary_key=True),
    Column("target_type", String(10), nullable=False),
    # Raw 20-byte id for objects, the other branch's name for aliases, null when dangling.
    Column("target", LargeBinary, nullable=True),
)

swh_origins = Table(
    "swh_origins",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", String(1000), nullable=False, unique=True),
)

swh_visits = Table(
    "swh_visits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("origin_id", Integer, ForeignKey("swh_origins.id"), nullable=False),
    Column("visit", Integer, nullable=False),
    Column("date", DateTime(timezone=True), nullable=False),
    Column("type", String(20), nullable=False),
    # The snapshot (git sources) or the root directory (archive files) this visit found.
    Column("swhid", String(60), nullable=False),
    UniqueConstraint("origin_id", "visit", name="uq_swh_visits_origin_visit"),
)

swh_deposits = Table(
    "swh_deposits",
    metadata,
    Column("version_id", String(20), ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True),
    Column("swhid", String(60), nullable=False),
    Column("origin", String(1000), nullable=False),
    Column("visit", Integer, nullable=False),
    Column("head_revision", String(40), nullable=True),
    Column("root_directory", String(40), nullable=False),
)
Index("ix_swh_revision_parents_parent", swh_revision_parents.c.parent)
Index("ix_swh_contents_sha256", swh_contents.c.sha256)
# Walking the graph upwards (which directories hold this file? which commits this tree?) decides visibility.
Index("ix_swh_directory_entries_target", swh_directory_entries.c.target)
Index("ix_swh_revisions_directory", swh_revisions.c.directory)
Index("ix_swh_releases_target", swh_releases.c.target)
Index("ix_swh_snapshot_branches_target", swh_snapshot_branches.c.target)

BATCH = 500


def insert_ignoring_duplicates(tx: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows, skipping any whose key is already there (another archive may have stored it first)."""
    for start in range(0, len(rows), BATCH):
        tx.execute(insert_or_ignore(tx, table), rows[start : start + BATCH])


def existing(conn: Connection, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` the archive already holds (checked in batches)."""
    wanted = list(ids)
    found: set[str] = set()
    for start in range(0, len(wanted), BATCH):
        batch = wanted[start : start + BATCH]
        found.update(conn.execute(select(swh_objects.c.sha1_git).where(swh_objects.c.sha1_git.in_(batch))).scalars())
    return found
