"""What follows any change to a record's versions, in one place: the record points at its newest
published version, its ``updated`` moment moves (OAI-PMH datestamps and feeds page by it), and the
search index holds what readers may now find. Deposit, withdrawal and import all end with it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, update

from ..domain.records import State
from . import search
from .catalog import records, versions


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
