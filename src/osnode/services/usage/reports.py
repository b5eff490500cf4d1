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

from sqlalchemy import func, select

from ...domain.errors import InvalidInput
from ...storage.catalog import records, versions
from ...storage.dois import dois
from ...storage.usage import usage_monthly
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
    first, last = _month(begin, "begin_date"), _month(end, "end_date")
    if first > last:
        raise InvalidInput("begin_date is after end_date")
    m = usage_monthly.c
    query = (
        select(
            m.record_id,
            m.access_method,
            m.month,
            func.sum(m.total_investigations),
            func.sum(m.unique_investigations),
            func.sum(m.total_requests),
            func.sum(m.unique_requests),
        )
        .where(m.source == "", m.month >= first, m.month <= last)
        .group_by(m.record_id, m.access_method, m.month)
    )
    if item:
        query = query.where(m.record_id == item)
    # record -> access method -> metric -> month -> count; zero counts are left out, as COUNTER reports do.
    performance: dict[str, dict[str, dict[str, dict[str, int]]]] = {}
    ti, ui, tr, ur = METRICS
    with node.engine.connect() as conn:
        rows = conn.execute(query).all()  # fetched at once: a year of a big node is millions of small rows
        for record_id, method, month, c1, c2, c3, c4 in rows:
            by_metric = performance.setdefault(record_id, {}).setdefault(method, {})
            if c1:
                by_metric.setdefault(ti, {})[month] = int(c1)
            if c2:
                by_metric.setdefault(ui, {})[month] = int(c2)
            if c3:
                by_metric.setdefault(tr, {})[month] = int(c3)
            if c4:
                by_metric.setdefault(ur, {})[month] = int(c4)
        described = _describe(conn, list(performance))
    items = []
    for record_id in sorted(performance):
        info = described.get(record_id, _Item())
        item_id = {"Proprietary": f"{_platform_id(node)}:{record_id}", "URI": node.record_url(record_id)}
        if info.doi:
            item_id["DOI"] = info.doi
        entry: dict[str, Any] = {
            "Item": info.title or record_id,
            "Publisher": info.publisher or node.settings.node_name,
            "Platform": node.settings.node_name,
            "Item_ID": item_id,
            "Attribute_Performance": [
                {
                    "Data_Type": DATA_TYPES.get(info.kind, "Other"),
                    "Access_Method": R51_ACCESS.get(method, method),
                    "Performance": {k: by_metric[k] for k in METRICS if k in by_metric},
                }
                for method, by_metric in sorted(performance[record_id].items())
            ],
        }
        items.append(entry)
    return {
        "Report_Header": {
            "Release": "5.1",
            "Report_ID": "IR",
            "Report_Name": "Item Report",
            "Created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Created_By": node.settings.node_name,
            "Institution_Name": "The World",  # open access: usage is not attributed to institutions
            "Report_Attributes": {"Attributes_To_Show": ["Access_Method"]},
            "Report_Filters": {
                "Begin_Date": f"{first}-01",
                "End_Date": _last_day(last),
                "Access_Method": ["Regular", "TDM"],
                "Metric_Type": list(METRICS),
            },
        },
        "Report_Items": items,
    }


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
