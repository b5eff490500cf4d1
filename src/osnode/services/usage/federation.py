"""Federated usage: the nodes holding copies of a record tell its origin how much the copies were used.

A node publishes the monthly aggregates of its harvested copies as a feed (``feed``: counts only, never a
log, each copy named by the OAI identifier it was harvested under); an origin node reads the feed of each
of its peers (``collect``, a scheduled job) and keeps, for its own records, the counts each peer reported,
as rows whose ``source`` is that peer. Each reading replaces what the peer said before for the months it
covers, so reading twice counts nothing twice. A peer's feed is input like any other: size, months, codes
and numbers are checked, and only records of this node are taken.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import and_, delete, select

from ...domain.errors import InvalidInput
from ...storage.catalog import records
from ...storage.peers import record_sources
from ...storage.usage import usage_monthly
from .. import oai
from ..harvest.peers import list_peers, origin_of
from ..jobs import Job
from ..node import Node
from . import counting

log = logging.getLogger("osnode.usage")
FEED_PATH = "/api/usage/aggregates"
MAX_FEED_BYTES = 64 * 1024 * 1024
MAX_COUNT = 1_000_000_000
COLLECT_SECONDS = 6 * 3600.0
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_COUNTRY = re.compile(r"[A-Z]{2}|")
METHODS = ("Regular", "Machine")


def _since_default() -> str:
    now = datetime.now(UTC)
    return f"{now.year - 1:04d}-{now.month:02d}"


def feed(node: Node, since: str | None = None) -> dict[str, Any]:
    """This node's usage of the copies it harvested, by month, from ``since`` (YYYY-MM) on."""
    since = since or _since_default()
    if not _MONTH.fullmatch(since):
        raise InvalidInput("since must be a month, YYYY-MM")
    m = usage_monthly.c
    query = (
        select(record_sources.c.oai_identifier, m.month, m.access_method, m.country, *counting_columns())
        .join(record_sources, record_sources.c.record_id == m.record_id)
        .where(m.source == "", m.month >= since, record_sources.c.deleted.is_(False))
        .order_by(record_sources.c.oai_identifier, m.month)
    )
    with node.engine.connect() as conn:
        rows = conn.execute(query).all()
    items = [
        {"oai_identifier": r[0], "month": r[1], "access_method": r[2], "country": r[3]}
        | dict(zip(counting.METRIC_COLUMNS, (int(v) for v in r[4:]), strict=True))
        for r in rows
    ]
    return {"node": node.settings.public_url, "since": since, "aggregates": items}


def counting_columns() -> list[Any]:
    return [usage_monthly.c[c] for c in counting.METRIC_COLUMNS]


def _checked(node: Node, body: Any, own_prefix: str) -> tuple[list[counting.Counts], set[str]]:
    """The rows of a peer's feed that are about this node's records, checked; months the feed covers."""
    if not isinstance(body, dict) or not isinstance(body.get("aggregates"), list):
        raise ValueError("not a usage feed")
    rows: list[counting.Counts] = []
    months: set[str] = set()
    for item in body["aggregates"]:
        if not isinstance(item, dict):
            raise ValueError("an aggregate is not an object")
        month, method, country = item.get("month"), item.get("access_method"), item.get("country", "")
        counts = [item.get(c) for c in counting.METRIC_COLUMNS]
        if not (isinstance(month, str) and _MONTH.fullmatch(month)) or method not in METHODS:
            raise ValueError(f"bad month or access method in {str(item)[:200]}")
        if not isinstance(country, str) or not _COUNTRY.fullmatch(country):
            raise ValueError(f"bad country in {str(item)[:200]}")
        if not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c < MAX_COUNT for c in counts):
            raise ValueError(f"bad counts in {str(item)[:200]}")
        months.add(month)
        identifier = item.get("oai_identifier")
        if isinstance(identifier, str) and identifier.startswith(own_prefix):
            record_id = identifier.removeprefix(own_prefix)
            rows.append((record_id, month, method, country, *counts))  # type: ignore[arg-type]
    return rows, months


def collect(node: Node, transport: httpx.BaseTransport | None = None) -> int:
    """Read every peer's usage feed; how many aggregate rows about this node's records were kept."""
    own_prefix = f"oai:{oai.repository_id(node)}:"
    kept = 0
    with httpx.Client(timeout=60, follow_redirects=False, transport=transport) as http:
        for peer in list_peers(node):
            site = origin_of(peer.base_url).rstrip("/")
            try:
                response = http.get(f"{site}{FEED_PATH}", params={"since": _since_default()})
                if response.status_code != 200 or len(response.content) > MAX_FEED_BYTES:
                    raise ValueError(f"answered {response.status_code} with {len(response.content)} bytes")
                rows, months = _checked(node, response.json(), own_prefix)
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("usage feed of peer %s not read: %s", peer.name, exc)
                continue
            kept += _replace(node, site, rows, months)
    return kept


def _replace(node: Node, source: str, rows: list[counting.Counts], months: set[str]) -> int:
    with node.transaction() as tx:
        ours = {r[0] for r in rows}
        known = set(tx.execute(select(records.c.id).where(records.c.id.in_(ours))).scalars()) if ours else set()
        rows = [r for r in rows if r[0] in known]
        if months:
            tx.execute(
                delete(usage_monthly).where(and_(usage_monthly.c.source == source, usage_monthly.c.month.in_(months)))
            )
        counting.add(tx, rows, source=source)
    return len(rows)


JOBS = [Job("usage-federation", lambda _node: COLLECT_SECONDS, collect)]
