"""What the aggregates say: the COUNTER R5.1 Item Report (IR) as JSON, and a record's numbers for its page.

The report follows the Code of Practice R5.1 JSON layout (Report_Header, Report_Items with Item, Item_ID,
Platform, Publisher, Data_Type and Attribute_Performance by Access_Method, each metric a month -> count map).
Only this node's own readers are in it (``source`` empty): usage reported by other nodes' copies is shown as
network totals on the landing page, never mixed into the node's COUNTER report. The Research Data Code's
Machine access method is reported as R5.1's ``TDM`` (scripted access), Regular as ``Regular``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Text, cast, func, select

from ...domain.errors import InvalidInput
from ...storage.catalog import records, versions
from ...storage.dois import dois
from ...storage.usage import usage_days, usage_monthly
from ..node import Node

METRICS = ("Total_Item_Investigations", "Unique_Item_Investigations", "Total_Item_Requests", "Unique_Item_Requests")
R51_ACCESS = {"Regular": "Regular", "Machine": "TDM"}
# DataCite resourceTypeGeneral -> COUNTER R5.1 Data_Type.
DATA_TYPES = {
    "Dataset": "Dataset",
    "Software": "Software",
    "JournalArticle": "Article",
    "Preprint": "Article",
    "DataPaper": "Article",
    "Text": "Article",
    "Image": "Image",
    "Sound": "Sound",
    "Audiovisual": "Audiovisual",
    "Report": "Report",
    "Dissertation": "Thesis_or_Dissertation",
    "Standard": "Standard",
    "Book": "Book",
    "BookChapter": "Book_Segment",
    "ConferencePaper": "Conference_Item",
    "InteractiveResource": "Interactive_Resource",
}
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def _month(value: str, name: str) -> str:
    value = value.strip()[:7]
    if not _MONTH.fullmatch(value):
        raise InvalidInput(f"{name} must be a month (YYYY-MM) or a date (YYYY-MM-DD)")
    return value


def _last_day(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:])
    following = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=UTC)
    return (following - timedelta(days=1)).strftime("%Y-%m-%d")


def item_report(node: Node, begin: str, end: str, item: str | None = None) -> dict[str, Any]:
    return orjson.loads(item_report_json(node, begin, end, item))


# (catalog, begin, end, item) -> (the counting stamp it was built at, the report). The aggregates change only
# when a day is counted, so a report stays true until then; a few recent ones are kept.
_cache: dict[tuple[str, str, str, str | None], tuple[Any, bytes]] = {}
CACHED_REPORTS = 16


def item_report_json(node: Node, begin: str, end: str, item: str | None = None) -> bytes:
    """The item report as JSON text. A year of a big node is millions of (record, month) counts: the database
    folds each record's months into JSON objects itself, and the report is assembled as text around them; the
    text is then kept until the next day is counted."""
    first, last = _month(begin, "begin_date"), _month(end, "end_date")
    if first > last:
        raise InvalidInput("begin_date is after end_date")
    with node.engine.connect() as conn:
        stamp = tuple(conn.execute(select(func.count(), func.max(usage_days.c.counted))).one())
    key = (node.settings.catalog_url, first, last, item)
    cached = _cache.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    built = _build(node, first, last, item)
    if len(_cache) >= CACHED_REPORTS:
        _cache.pop(next(iter(_cache)))
    _cache[key] = (stamp, built)
    return built


def _build(node: Node, first: str, last: str, item: str | None) -> bytes:
    m = usage_monthly.c
    sums = [func.sum(m[c]).label(c) for c in _COLUMNS]
    monthly = (
        select(m.record_id, m.access_method, m.month, *sums)
        .where(m.source == "", m.month >= first, m.month <= last)
        .group_by(m.record_id, m.access_method, m.month)  # the key's order: read in order, never sorted
    )
    if item:
        monthly = monthly.where(m.record_id == item)
    inner = monthly.subquery()
    with node.engine.connect() as conn:
        fold = func.json_object_agg if conn.dialect.name == "postgresql" else func.json_group_object
        folded = [cast(fold(inner.c.month, inner.c[c]).filter(inner.c[c] > 0), Text) for c in _COLUMNS]
        query = (
            select(inner.c.record_id, inner.c.access_method, *folded)
            .group_by(inner.c.record_id, inner.c.access_method)
            .order_by(inner.c.record_id, inner.c.access_method)
        )
        rows = conn.execute(query).all()
        described = _describe(conn, sorted({r[0] for r in rows}))
    platform, name = _platform_id(node), node.settings.node_name
    items: list[bytes] = []
    current, attributes = None, []  # type: ignore[var-annotated]

    def close() -> None:
        if current is None:
            return
        info = described.get(current, _Item())
        item_id = {"Proprietary": f"{platform}:{current}", "URI": node.record_url(current)}
        if info.doi:
            item_id["DOI"] = info.doi
        head = {"Item": info.title or current, "Publisher": info.publisher or name, "Platform": name}
        head["Item_ID"] = item_id  # type: ignore[assignment]
        items.append(orjson.dumps(head)[:-1] + b',"Attribute_Performance":[' + b",".join(attributes) + b"]}")

    for record_id, method, *months in rows:
        if record_id != current:
            close()
            current, attributes = record_id, []
        info = described.get(record_id, _Item())
        performance = b",".join(
            b'"' + metric.encode() + b'":' + value.encode()
            for metric, value in zip(METRICS, months, strict=True)
            if value and value != "{}"
        )
        head = orjson.dumps({"Data_Type": DATA_TYPES.get(info.kind, "Other"), "Access_Method": R51_ACCESS[method]})
        attributes.append(head[:-1] + b',"Performance":{' + performance + b"}}")
    close()
    header = orjson.dumps(
        {
            "Release": "5.1",
            "Report_ID": "IR",
            "Report_Name": "Item Report",
            "Created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Created_By": name,
            "Institution_Name": "The World",  # open access: usage is not attributed to institutions
            "Report_Attributes": {"Attributes_To_Show": ["Access_Method"]},
            "Report_Filters": {
                "Begin_Date": f"{first}-01",
                "End_Date": _last_day(last),
                "Access_Method": ["Regular", "TDM"],
                "Metric_Type": list(METRICS),
            },
        }
    )
    return b'{"Report_Header":' + header + b',"Report_Items":[' + b",".join(items) + b"]}"


_COLUMNS = ("total_investigations", "unique_investigations", "total_requests", "unique_requests")


def _platform_id(node: Node) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "", node.settings.node_name)[:20] or "osnode"


@dataclass
class _Item:
    title: str = ""
    kind: str = ""
    doi: str = ""
    publisher: str = ""


def _describe(conn: Any, record_ids: list[str]) -> dict[str, _Item]:
    """Title, type, DOI and publisher of each record, read out of the metadata by the database (the JSON of
    100,000 records is not parsed in Python for a report)."""
    meta = versions.c.metadata
    columns = (
        records.c.id,
        meta["titles"][0]["title"].as_string(),
        meta["resourceType"]["resourceTypeGeneral"].as_string(),
        func.coalesce(dois.c.doi, meta["doi"].as_string()),
        meta["publisher"]["name"].as_string(),
    )
    out: dict[str, _Item] = {}
    for start in range(0, len(record_ids), 5000):
        query = (
            select(*columns)
            .join(versions, versions.c.id == records.c.latest_published_id)
            .outerjoin(dois, dois.c.record_id == records.c.id)
            .where(records.c.id.in_(record_ids[start : start + 5000]))
        )
        for record_id, title, kind, doi, publisher in conn.execute(query).all():
            out[record_id] = _Item(title or "", kind or "", doi or "", publisher or "")

    return out


@dataclass(frozen=True)
class Totals:
    views: int
    downloads: int
    unique_views: int
    unique_downloads: int
    machine: int  # investigations by scripts (Machine access), counted apart
    network_views: int  # across every node holding a copy, this one included
    network_downloads: int
    countries: list[tuple[str, int]]  # (ISO code or "", investigations) across the network, most first


def record_totals(node: Node, record_id: str) -> Totals:
    m = usage_monthly.c
    query = (
        select(
            m.source,
            m.access_method,
            m.country,
            func.sum(m.total_investigations),
            func.sum(m.unique_investigations),
            func.sum(m.total_requests),
            func.sum(m.unique_requests),
        )
        .where(m.record_id == record_id)
        .group_by(m.source, m.access_method, m.country)
    )
    local: dict[str, int] = defaultdict(int)
    network: dict[str, int] = defaultdict(int)
    countries: dict[str, int] = defaultdict(int)
    machine = 0
    with node.engine.connect() as conn:
        for source, method, country, *counts in conn.execute(query):
            values = dict(zip(METRICS, (int(c) for c in counts), strict=True))
            if source == "" and method == "Machine":
                machine += values["Total_Item_Investigations"]
            if method != "Regular":
                continue
            for metric, value in values.items():
                network[metric] += value
                if source == "":
                    local[metric] += value
            countries[country] += values["Total_Item_Investigations"]
    return Totals(
        local["Total_Item_Investigations"],
        local["Total_Item_Requests"],
        local["Unique_Item_Investigations"],
        local["Unique_Item_Requests"],
        machine,
        network["Total_Item_Investigations"],
        network["Total_Item_Requests"],
        sorted(countries.items(), key=lambda kv: (-kv[1], kv[0])),
    )
