"""Cached data profiles: what a table or a cell atlas holds, computed once per blob.

A profile depends only on the bytes (and the format they are read as), and published bytes never change,
so a profile keyed by SHA-256 is valid for ever and shared by every record and version holding the file.
A file that cannot be profiled (malformed, not a table) is cached too, as an error, so it is not retried on
every view.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Connection, DateTime, String, Table, Text, select
from sqlalchemy.exc import IntegrityError

from .catalog import metadata

data_profiles = Table(
    "data_profiles",
    metadata,
    Column("sha256", String(64), primary_key=True),
    # How the bytes were read: csv, tsv, parquet, jsonl, xlsx or h5ad.
    Column("format", String(20), primary_key=True),
    Column("status", String(10), nullable=False),  # "ok" or "error"
    Column("data", JSON, nullable=True),
    Column("error", Text, nullable=True),
    Column("created", DateTime(timezone=True), nullable=False),
)


def get_profile(conn: Connection, sha256: str, fmt: str) -> dict[str, Any] | None:
    """The cached row as a dict (status, data, error), or None when not computed yet."""
    row = conn.execute(
        select(data_profiles.c.status, data_profiles.c.data, data_profiles.c.error).where(
            data_profiles.c.sha256 == sha256, data_profiles.c.format == fmt
        )
    ).first()
    return None if row is None else {"status": row.status, "data": row.data, "error": row.error}


def put_profile(
    conn: Connection, sha256: str, fmt: str, now: datetime, data: dict[str, Any] | None, error: str | None
) -> None:
    """Store a profile; two workers computing the same one at once both succeed (the first one stays)."""
    values = {
        "sha256": sha256,
        "format": fmt,
        "status": "error" if error else "ok",
        "data": data,
        "error": error,
        "created": now,
    }
    try:
        with conn.begin_nested():
            conn.execute(data_profiles.insert().values(**values))
    except IntegrityError:
        pass


def profiled_keys(conn: Connection, pairs: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (sha256, format) pairs already have a profile."""
    if not pairs:
        return set()
    shas = sorted({sha for sha, _ in pairs})
    rows = conn.execute(
        select(data_profiles.c.sha256, data_profiles.c.format).where(data_profiles.c.sha256.in_(shas))
    ).all()
    return {(r.sha256, r.format) for r in rows} & set(pairs)
