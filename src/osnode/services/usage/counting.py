"""From a day's event log to COUNTER metrics, in DuckDB (a million events take seconds, not minutes).

The rules, from the Code of Practice (R5.1 section 7, and the Code of Practice for Research Data):
- double clicks: the same client doing the same thing to the same item again within 30 seconds counts once
  (a chain of clicks each within 30 s of the last counts once);
- a request (download) is also an investigation;
- unique counts: the number of sessions that did it at least once, a session being the client (account or
  IP address, with its user agent) in one hour of one day;
- robots are not in the log at all (``events``); a client doing more than ``usage_client_day_cap`` things in
  a day is unusual activity (an unlisted robot, an attack) and its day is not counted.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ...storage.usage import usage_days, usage_monthly, usage_salts
from ..jobs import Job
from ..node import Node, utcnow
from . import events

log = logging.getLogger("osnode.usage")
DOUBLE_CLICK_SECONDS = 30
CHECK_SECONDS = 900.0
COLUMNS = {"ts": "DOUBLE", "client": "VARCHAR", "item": "VARCHAR", "action": "VARCHAR", "method": "VARCHAR"}
COLUMNS |= {"country": "VARCHAR"}

COUNT_SQL = f"""
WITH e AS (
    SELECT make_timestamp(CAST(ts * 1000000 AS BIGINT)) AS ts, client, item, action, method,
           coalesce(country, '') AS country
    FROM events
),
heavy AS (SELECT client, CAST(ts AS DATE) AS day FROM e GROUP BY ALL HAVING count(*) > $cap),
f AS (SELECT e.* FROM e ANTI JOIN heavy ON e.client = heavy.client AND CAST(e.ts AS DATE) = heavy.day),
d AS (SELECT *, lead(ts) OVER (PARTITION BY client, item, action ORDER BY ts) AS next_ts FROM f),
kept AS (SELECT * FROM d WHERE next_ts IS NULL OR next_ts > ts + INTERVAL {DOUBLE_CLICK_SECONDS} SECOND),
s AS (SELECT *, client || strftime(ts, '%Y-%m-%d %H') AS session FROM kept)
SELECT item, strftime(ts, '%Y-%m') AS month, method, country,
       count(*) AS total_investigations,
       count(DISTINCT session) AS unique_investigations,
       count(*) FILTER (WHERE action = 'request') AS total_requests,
       count(DISTINCT session) FILTER (WHERE action = 'request') AS unique_requests
FROM s GROUP BY ALL ORDER BY ALL
"""
# (item, month, access method, country, Total/Unique_Item_Investigations, Total/Unique_Item_Requests)
Counts = tuple[str, str, str, str, int, int, int, int]


def count(con: duckdb.DuckDBPyConnection, cap: int) -> list[Counts]:
    """COUNTER metrics of the ``events`` relation in ``con``, one row per item, month, method and country. Every
    kept event is an investigation (a request is one too); requests are the downloads among them."""
    return [tuple(row) for row in con.execute(COUNT_SQL, {"cap": cap}).fetchall()]  # type: ignore[misc]


def count_rows(rows: list[tuple[Any, ...]], cap: int = 1000) -> list[Counts]:
    """``count`` of events given as (epoch seconds, client, item, action, method, country) tuples."""
    con = duckdb.connect()
    con.execute("CREATE TABLE events (" + ", ".join(f"{k} {t}" for k, t in COLUMNS.items()) + ")")
    if rows:
        con.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", rows)
    return count(con, cap)


def count_file(path: Path, cap: int) -> tuple[list[Counts], int]:
    con = duckdb.connect()
    columns = "{" + ", ".join(f"'{k}': '{t}'" for k, t in COLUMNS.items()) + "}"
    literal = "'" + str(path).replace("'", "''") + "'"  # a view cannot take parameters; the path is ours
    con.execute(
        f"CREATE VIEW events AS SELECT * FROM read_csv({literal}, delim='\t', header=false, columns={columns}, "
        "quote='', escape='', ignore_errors=true)"
    )
    total = con.execute("SELECT count(*) FROM events").fetchone()
    return count(con, cap), int(total[0]) if total else 0


METRIC_COLUMNS = ("total_investigations", "unique_investigations", "total_requests", "unique_requests")


def add(conn: Connection, rows: list[Counts], source: str = "") -> None:
    """Add counts to the monthly aggregates (an upsert that sums)."""
    if not rows:
        return
    keys = ("record_id", "month", "access_method", "country")
    values = [dict(zip(keys + METRIC_COLUMNS, r[:4] + r[4:], strict=True), source=source) for r in rows]
    # SQLite and PostgreSQL both spell it INSERT ... ON CONFLICT DO UPDATE, from each dialect's own insert.
    insert = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(usage_monthly)
    stmt = insert.on_conflict_do_update(
        index_elements=["record_id", "access_method", "month", "country", "source"],
        set_={c: usage_monthly.c[c] + insert.excluded[c] for c in METRIC_COLUMNS},
    )
    for start in range(0, len(values), 5000):
        conn.execute(stmt, values[start : start + 5000])


def count_closed_days(node: Node, today: str | None = None) -> int:
    """Count every day's log before today (UTC) not counted yet, then delete it and its salt; days counted."""
    today = today or datetime.now(UTC).strftime("%Y-%m-%d")
    folder = events.log_dir(node)
    done = 0
    for path in sorted(folder.glob("*.tsv")) if folder.is_dir() else []:
        day = path.stem
        if day >= today:
            continue
        events.forget(node, day)
        with node.engine.connect() as conn:
            seen = conn.execute(select(usage_days.c.day).where(usage_days.c.day == day)).first()
        if seen is None:
            rows, total = count_file(path, node.settings.usage_client_day_cap)
            with node.transaction() as tx:
                add(tx, rows)
                tx.execute(usage_days.insert().values(day=day, counted=utcnow(), events=total))
            done += 1
            log.info("usage of %s counted: %s events", day, total)
        with node.transaction() as tx:
            tx.execute(delete(usage_salts).where(usage_salts.c.day == day))
        path.unlink(missing_ok=True)
    return done


JOBS = [Job("usage", lambda _node: CHECK_SECONDS, count_closed_days)]
