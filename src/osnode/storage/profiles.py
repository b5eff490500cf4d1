"""Cached data profiles: what a table or a cell atlas holds, computed once per blob.

A profile depends only on the bytes (and the format they are read as), and published bytes never change,
so a profile keyed by SHA-256 is valid for ever and shared by every record and version holding the file.
A file that cannot be profiled (malformed, not a table) is cached too, as an error, so it is not retried on
every view.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Connection, DateTime, String, Table, Text, select
from sqlalchemy.exc import IntegrityError

from .catalog import insert_or_ignore, metadata

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


# Derived columnar copies: a table file (CSV, TSV, JSON Lines) rewritten as Parquet, so queries, profiles and
# previews read typed columns instead of parsing text each time. Keyed, like a profile, by the source's SHA-256
# and the format it was read as; the copy itself lives in the explore work folder under that key. A source
# that could not be copied is remembered as an error, so it is not retried on every query.
derived_copies = Table(
    "derived_copies",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("format", String(20), primary_key=True),
    Column("status", String(10), nullable=False),  # "ok" or "error"
    Column("bytes", BigInteger, nullable=True),
    Column("error", Text, nullable=True),
    Column("created", DateTime(timezone=True), nullable=False),
)


def get_derived(conn: Connection, sha256: str, fmt: str) -> Any:
    """The row of a derived copy (status, bytes, error), or None when none was attempted."""
    return conn.execute(
        select(derived_copies.c.status, derived_copies.c.bytes, derived_copies.c.error).where(
            derived_copies.c.sha256 == sha256, derived_copies.c.format == fmt
        )
    ).first()


def put_derived(conn: Connection, sha256: str, fmt: str, now: datetime, size: int | None, error: str | None) -> None:
    """Remember a derived copy (or why there is none), replacing what was remembered."""
    key = (derived_copies.c.sha256 == sha256) & (derived_copies.c.format == fmt)
    conn.execute(derived_copies.delete().where(key))
    status = "error" if error else "ok"
    row = {"sha256": sha256, "format": fmt, "status": status, "bytes": size, "error": error, "created": now}
    conn.execute(insert_or_ignore(conn, derived_copies).values(**row))
