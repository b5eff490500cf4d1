"""Usage counted the COUNTER way, kept as monthly aggregates only (never raw logs).

``usage_monthly`` holds the COUNTER metrics per record, month, access method (Regular or Machine) and country,
for this node's own readers (``source`` empty) and as reported by the nodes holding copies (``source``: the
peer's site), so a record's page can show the network's totals. ``usage_days`` notes the days whose event log
was counted, in the same transaction as the counts, so a day is counted once however often the job runs.
``usage_salts`` holds the salt of each day's client hashes; it is deleted with that day's log.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, String, Table

from .catalog import metadata

usage_monthly = Table(
    "usage_monthly",
    metadata,
    Column("record_id", String(20), primary_key=True),
    # Key order = the item report's grouping (record, method, month): the database reads it in order, no sort.
    Column("access_method", String(10), primary_key=True),  # Regular | Machine
    Column("month", String(7), primary_key=True),  # YYYY-MM
    Column("country", String(2), primary_key=True),  # ISO 3166-1 alpha-2, or empty when unknown
    Column("source", String(300), primary_key=True),  # empty: this node; else the reporting peer's site
    # The four COUNTER item metrics, one column each (a report reads a quarter of the rows it would otherwise).
    Column("total_investigations", Integer, nullable=False),
    Column("unique_investigations", Integer, nullable=False),
    Column("total_requests", Integer, nullable=False),
    Column("unique_requests", Integer, nullable=False),
)
Index("ix_usage_monthly_month", usage_monthly.c.month)

usage_days = Table(
    "usage_days",
    metadata,
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD, UTC
    Column("counted", DateTime(timezone=True), nullable=False),
    Column("events", Integer, nullable=False),
)

usage_salts = Table(
    "usage_salts",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("salt", String(64), nullable=False),
)
