"""What a node holds, in a few numbers: for its home page."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ..storage.catalog import files, records
from . import search
from .node import Node


@dataclass(frozen=True)
class Totals:
    records: int
    kinds: list[tuple[str, int]]
    """(resourceTypeGeneral, published records of that kind), most first."""
    files: int
    bytes: int
    """Sum of the sizes of the files of the latest published versions (what a reader can see listed)."""


def totals(node: Node) -> Totals:
    # The search index already counts published records by kind; one facet query, no extra bookkeeping.
    found = search.query(node, "", None, "newest", 1, 1)
    kinds = [(v["value"], v["count"]) for v in found.facets.get("kind", [])]
    shown = files.join(records, records.c.latest_published_id == files.c.version_id)
    with node.engine.connect() as conn:
        count, size = conn.execute(
            select(func.count(), func.coalesce(func.sum(files.c.size), 0)).select_from(shown)
        ).one()
    return Totals(records=found.total, kinds=kinds, files=int(count), bytes=int(size))
