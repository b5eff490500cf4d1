"""The one way a record's state changes: publishing a version (a deposit's draft, or a harvested
record's metadata mirrored in place), withdrawing versions, adding a file (and the blob it points
at), storing a batch of new published records, and what follows any of these (``refresh_record``).

Deposit, harvest, import (packages), replication and archive all write records through here, so the
record's pointer to its newest published version, its ``updated`` moment (OAI-PMH datestamps and
feeds page by it) and the search index can never disagree with its versions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from ..domain.records import State
from . import search
from .catalog import files, records, register_blob, versions


def latest_published(conn: Connection, record_id: str) -> str | None:
    """The id of the record's published version with the highest number, if any."""
    row = conn.execute(
        select(versions.c.id)
        .where(versions.c.record_id == record_id, versions.c.state == State.PUBLISHED.value)
        .order_by(versions.c.number.desc())
        .limit(1)
    ).first()
    return row.id if row else None


def refresh_record(conn: Connection, record_id: str, now: datetime) -> None:
    """After its versions changed: point the record at its newest published version and re-index it."""
    conn.execute(
        update(records)
        .where(records.c.id == record_id)
        .values(latest_published_id=latest_published(conn, record_id), updated=now)
    )
    search.index_record(conn, record_id)


def publish_version(
    conn: Connection,
    record_id: str,
    version_id: str,
    metadata: dict[str, Any],
    now: datetime,
    *,
    published_at: datetime | None = None,
    midway: Callable[[], None] | None = None,
) -> None:
    """Make a version published with ``metadata``: a deposit's draft (``published_at`` now), or a
    harvested record whose origin changed it or brought it back after a deletion (``published_at``
    None keeps the first publication's moment). Any earlier withdrawal of the version is lifted.

    ``midway`` runs between the version's change and the record's refresh: crash tests stop there to
    prove the two land together or not at all."""
    values: dict[str, Any] = {
        "state": State.PUBLISHED.value,
        "metadata": metadata,
        "withdrawn_at": None,
        "withdrawal_reason": None,
        "updated": now,
    }
    if published_at is not None:
        values["published_at"] = published_at
    conn.execute(update(versions).where(versions.c.id == version_id).values(**values))
    if midway is not None:
        midway()
    refresh_record(conn, record_id, now)


def withdraw_versions(conn: Connection, record_id: str, version_ids: Iterable[str], reason: str, now: datetime) -> None:
    """Withdraw these versions of one record, keeping each as a tombstone with its reason."""
    chosen = list(version_ids)
    if chosen:
        conn.execute(
            update(versions)
            .where(versions.c.id.in_(chosen), versions.c.record_id == record_id)
            .values(state=State.WITHDRAWN.value, withdrawn_at=now, withdrawal_reason=reason, updated=now)
        )
    refresh_record(conn, record_id, now)


def add_file(conn: Connection, version_id: str, key: str, sha256: str, size: int, mimetype: str, now: datetime) -> None:
    """A file entry of a version, and the blob it points at (registered once; the bytes are stored first).
    The caller removes a file of the same key first when it replaces one."""
    register_blob(conn, sha256, size, now)
    conn.execute(
        files.insert().values(version_id=version_id, key=key, sha256=sha256, size=size, mimetype=mimetype, created=now)
    )


def remove_files(conn: Connection, version_id: str, key: str | None = None) -> None:
    """A version's file entry named ``key``, or all of them (the blobs stay: other versions may share them)."""
    where = files.c.version_id == version_id
    conn.execute(delete(files).where(where if key is None else where & (files.c.key == key)))


def set_access_level(conn: Connection, record_id: str, version_id: str, level: str, now: datetime) -> None:
    """A version's access level changed (a mirrored record's files arrived): the search index follows.
    The record's ``updated`` stays: its metadata, which harvesters page by, did not change."""
    conn.execute(update(versions).where(versions.c.id == version_id).values(access_level=level, updated=now))
    search.index_record(conn, record_id)


def add_published(
    conn: Connection,
    new_records: list[dict[str, Any]],
    new_versions: list[dict[str, Any]],
    documents: list[tuple[Any, search.Document]],
) -> None:
    """New records that arrive already published, many at once (a harvested page): their rows name their
    version as ``latest_published_id`` and their search documents are made ahead, so a page is a few
    multi-row statements rather than a refresh per record."""
    if not new_records:
        return
    conn.execute(records.insert(), new_records)
    conn.execute(versions.insert(), new_versions)
    search.index_new(conn, documents)
