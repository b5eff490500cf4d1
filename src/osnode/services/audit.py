"""The audit log of managed access: append-only and hash-chained.

Every request, comment, vote, decision, grant, revocation, expiry, cross-border refusal and every download or
query of managed data is one row. A row's hash is SHA-256 over its sequence number, its content and the
previous row's hash, so altering, removing or reordering any row breaks the chain from there on:
``verify`` walks it and names the first row that does not fit. (An attacker who can rewrite the whole table
can also recompute the chain; export the log, or its last hash, to the ethics board to anchor it.)
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, text

from ..storage.governance import audit_log
from .node import Node, utcnow

GENESIS = "0" * 64
_SEP = "\x1f"
# A PostgreSQL advisory lock key for appends (an arbitrary constant): two writers never take the same seq.
_LOCK = 0x6F736E6F6465


@dataclass(frozen=True)
class Entry:
    seq: int
    at: str
    actor_id: int | None
    action: str
    record_id: str | None
    grant_id: int | None
    detail: str
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor_id": self.actor_id,
            "action": self.action,
            "record_id": self.record_id,
            "grant_id": self.grant_id,
            "detail": json.loads(self.detail),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def entry_hash(
    seq: int,
    at: str,
    actor_id: int | None,
    action: str,
    record_id: str | None,
    grant_id: int | None,
    detail: str,
    prev_hash: str,
) -> str:
    fields = (
        str(seq),
        at,
        "" if actor_id is None else str(actor_id),
        action,
        record_id or "",
        "" if grant_id is None else str(grant_id),
        detail,
        prev_hash,
    )
    return hashlib.sha256(_SEP.join(fields).encode()).hexdigest()


def canonical(detail: dict[str, Any]) -> str:
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def append(
    conn: Connection,
    action: str,
    *,
    actor_id: int | None = None,
    record_id: str | None = None,
    grant_id: int | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Entry:
    """Append one entry in the caller's transaction (it lands with what it records, or not at all)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
    last = conn.execute(select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    stamp = (at or utcnow()).isoformat(timespec="microseconds")
    body = canonical(detail or {})
    digest = entry_hash(seq, stamp, actor_id, action, record_id, grant_id, body, prev)
    values = dict(
        seq=seq,
        at=stamp,
        actor_id=actor_id,
        action=action,
        record_id=record_id,
        grant_id=grant_id,
        detail=body,
        prev_hash=prev,
        hash=digest,
    )
    conn.execute(audit_log.insert().values(**values))
    return Entry(**values)  # type: ignore[arg-type]


def record(node: Node, action: str, **kwargs: Any) -> Entry:
    """``append`` in a transaction of its own."""
    with node.transaction() as tx:
        return append(tx, action, **kwargs)


@dataclass(frozen=True)
class Verification:
    entries: int
    ok: bool
    first_bad: int | None = None
    problem: str = ""
    last_hash: str = GENESIS


def verify(node: Node, batch: int = 50000) -> Verification:
    """Walk the whole chain in order; the first row whose sequence, link or hash does not fit fails it.

    The hot loop reads plain tuples through the driver's cursor (a million rows in seconds, not a minute of
    row objects) and hashes exactly what ``entry_hash`` does."""
    prev, expected = GENESIS, 1
    sha = hashlib.sha256
    # The database joins each row's hashed fields (as ``entry_hash`` does): one string per row to Python.
    joined_sql = "CAST(seq AS VARCHAR(20))"
    for column in (
        "at",
        "COALESCE(CAST(actor_id AS VARCHAR(20)), '')",
        "action",
        "COALESCE(record_id, '')",
        "COALESCE(CAST(grant_id AS VARCHAR(20)), '')",
        "detail",
        "prev_hash",
    ):
        joined_sql += f" || :sep || {column}"
    sql = text(f"SELECT seq, prev_hash, hash, {joined_sql} FROM audit_log ORDER BY seq")
    with node.engine.connect().execution_options(stream_results=True, yield_per=batch) as conn:
        cursor = conn.execute(sql, {"sep": _SEP})
        while rows := cursor.fetchmany(batch):
            for seq, prev_hash, digest, joined in rows:
                if seq != expected:
                    problem = f"entry {expected} is missing (next is {seq})"
                    return Verification(expected - 1, False, expected, problem, prev)
                if prev_hash != prev:
                    problem = f"entry {seq} does not link to entry {seq - 1}"
                    return Verification(expected - 1, False, seq, problem, prev)
                if sha(joined.encode()).hexdigest() != digest:
                    problem = f"entry {seq} was altered (its hash does not match)"
                    return Verification(expected - 1, False, seq, problem, prev)
                prev = digest
                expected += 1
    return Verification(expected - 1, True, last_hash=prev)


def entries(conn: Connection, record_ids: list[str] | None = None, limit: int | None = None) -> Iterator[Entry]:
    """Entries in order (those of ``record_ids`` only, if given)."""
    query = select(audit_log).order_by(audit_log.c.seq)
    if record_ids is not None:
        query = query.where(audit_log.c.record_id.in_(record_ids))
    if limit is not None:
        query = query.limit(limit)
    for row in conn.execute(query):
        yield Entry(**row._mapping)


CSV_COLUMNS = ("seq", "at", "actor_id", "action", "record_id", "grant_id", "detail", "prev_hash", "hash")


def as_csv(items: list[Entry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for e in items:
        writer.writerow([getattr(e, c) if getattr(e, c) is not None else "" for c in CSV_COLUMNS])
    return out.getvalue()


def as_json(items: list[Entry]) -> str:
    return json.dumps([e.as_dict() for e in items], ensure_ascii=False, indent=1)
