"""The state of a mirrored (harvested) record: how many sources still have it, its metadata
replaced in place, its withdrawal when its last source deletes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select, update

from osnode.domain.records import State
from osnode.storage import search
from osnode.storage.catalog import records, versions
from osnode.storage.peers import record_sources


def live_sources(tx: Connection, record_id: str) -> int:
    return tx.execute(
        select(func.count())
        .select_from(record_sources)
        .where(record_sources.c.record_id == record_id, record_sources.c.deleted.is_(False))
    ).scalar_one()


def current_version(tx: Connection, record_id: str) -> Row | None:
    return tx.execute(
        select(versions.c.id, versions.c.state)
        .where(versions.c.record_id == record_id)
        .order_by(versions.c.number.desc())
        .limit(1)
    ).first()


def withdraw(tx: Connection, record_id: str, reason: str, now: datetime) -> bool:
    version = current_version(tx, record_id)
    if version is None or version.state != State.PUBLISHED.value:
        return False
    tx.execute(
        update(versions)
        .where(versions.c.id == version.id)
        .values(state=State.WITHDRAWN.value, withdrawn_at=now, withdrawal_reason=reason, updated=now)
    )
    tx.execute(update(records).where(records.c.id == record_id).values(latest_published_id=None, updated=now))
    search.index_record(tx, record_id)
    return True


def store_metadata(tx: Connection, record_id: str, metadata: dict[str, Any], now: datetime) -> None:
    """A harvested record mirrors its origin: new metadata replaces the old in place (the origin
    keeps the version history), and a record that reappears after a deletion is published again."""
    version = current_version(tx, record_id)
    assert version is not None
    tx.execute(
        update(versions)
        .where(versions.c.id == version.id)
        .values(
            metadata=metadata,
            state=State.PUBLISHED.value,
            withdrawn_at=None,
            withdrawal_reason=None,
            updated=now,
        )
    )
    tx.execute(update(records).where(records.c.id == record_id).values(latest_published_id=version.id, updated=now))
    search.index_record(tx, record_id)
