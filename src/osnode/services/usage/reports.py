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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from ...domain import multilingual
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
        select(m.record_id, m.access_method, m.metric, m.month, func.sum(m.count))
        .where(m.source == "", m.month >= first, m.month <= last)
        .group_by(m.record_id, m.access_method, m.metric, m.month)
    )
    if item:
        query = query.where(m.record_id == item)
    performance: dict[str, dict[str, dict[str, dict[str, int]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(dict))
    )
    with node.engine.connect() as conn:
        for record_id, method, metric, month, total in conn.execute(query):
            performance[record_id][method][metric][month] = int(total)
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
                    "Performance": {k: dict(sorted(v.items())) for k, v in sorted(by_metric.items())},
                }
                for method, by_metric in sorted(performance[record_id].items())
            ],
        }
        if info.authors:
            entry["Authors"] = [{"Name": a} for a in info.authors[:20]]
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
    authors: list[str] = field(default_factory=list)


def _describe(conn: Any, record_ids: list[str]) -> dict[str, _Item]:
    out: dict[str, _Item] = {}
    for start in range(0, len(record_ids), 5000):
        chunk = record_ids[start : start + 5000]
        rows = conn.execute(
            select(records.c.id, versions.c.metadata, dois.c.doi)
            .join(versions, versions.c.id == records.c.latest_published_id)
            .outerjoin(dois, dois.c.record_id == records.c.id)
            .where(records.c.id.in_(chunk))
        )
        for record_id, meta, doi in rows:
            publisher = meta.get("publisher") or {}
            out[record_id] = _Item(
                title=multilingual.preferred_title(meta.get("titles") or [], None),
                kind=(meta.get("resourceType") or {}).get("resourceTypeGeneral", ""),
                doi=doi or meta.get("doi") or "",
                publisher=publisher.get("name", "") if isinstance(publisher, dict) else str(publisher),
                authors=[c.get("name") or _name(c) for c in meta.get("creators") or [] if isinstance(c, dict)],
            )
    return out


def _name(creator: dict[str, Any]) -> str:
    return ", ".join(p for p in (creator.get("familyName"), creator.get("givenName")) if p)


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
        select(m.source, m.access_method, m.metric, m.country, func.sum(m.count))
        .where(m.record_id == record_id)
        .group_by(m.source, m.access_method, m.metric, m.country)
    )
    local: dict[str, int] = defaultdict(int)
    network: dict[str, int] = defaultdict(int)
    countries: dict[str, int] = defaultdict(int)
    machine = 0
    with node.engine.connect() as conn:
        for source, method, metric, country, total in conn.execute(query):
            total = int(total)
            if source == "" and method == "Regular":
                local[metric] += total
            if source == "" and method == "Machine" and metric == "Total_Item_Investigations":
                machine += total
            if method == "Regular":
                network[metric] += total
                if metric == "Total_Item_Investigations":
                    countries[country] += total
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
