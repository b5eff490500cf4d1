"""The state of a mirrored (harvested) record: how many sources still have it, its metadata
replaced in place, its withdrawal when its last source deletes it. The writes themselves are the
node's one way to change a record (``storage.record_state``), the same a deposit uses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select

from osnode.domain.records import State
from osnode.storage.catalog import versions
from osnode.storage.peers import record_sources
from osnode.storage.record_state import publish_version, withdraw_versions


def live_sources(tx: Connection, record_id: str) -> int:
    return tx.execute(
        select(func.count())
        .select_from(record_sources)
        .where(record_sources.c.record_id == record_id, record_sources.c.deleted.is_(False))
    ).scalar_one()


def current_version(tx: Connection, record_id: str) -> Row | None:
    """The record's newest version (id, state), whatever its state: a mirror has one version, replaced in
    place; harvest and replication both ask this."""
    return tx.execute(
        select(versions.c.id, versions.c.state)
        .where(versions.c.record_id == record_id)
        .order_by(versions.c.number.desc())
        .limit(1)
    ).first()


def withdraw_mirror(tx: Connection, record_id: str, reason: str, now: datetime) -> bool:
    """Withdraw a harvested record whose last source deleted it; False when it was not published."""
    version = current_version(tx, record_id)
    if version is None or version.state != State.PUBLISHED.value:
        return False
    withdraw_versions(tx, record_id, [version.id], reason, now)
    return True


def store_metadata(tx: Connection, record_id: str, metadata: dict[str, Any], now: datetime) -> None:
    """A harvested record mirrors its origin: new metadata replaces the old in place (the origin
    keeps the version history), and a record that reappears after a deletion is published again
    (keeping the moment it was first published here)."""
    version = current_version(tx, record_id)
    assert version is not None
    publish_version(tx, record_id, version.id, metadata, now)
