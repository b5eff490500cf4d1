"""Which records are published, newest change first (for sitemaps and feeds), and how many."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from ..catalog import records


def published_records(conn: Connection, limit: int | None = None, offset: int = 0) -> list[Any]:
    """Records that have a published version, newest change first (for sitemaps and feeds)."""
    query = (
        select(records.c.id, records.c.updated)
        .where(records.c.latest_published_id.is_not(None))
        .order_by(records.c.updated.desc(), records.c.id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(conn.execute(query).all())


def published_count(conn: Connection) -> int:
    return conn.execute(
        select(func.count()).select_from(records).where(records.c.latest_published_id.is_not(None))
    ).scalar_one()
