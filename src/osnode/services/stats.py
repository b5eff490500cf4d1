"""What a node holds, in a few numbers: for its home page."""

from __future__ import annotations

from dataclasses import dataclass

from . import summary
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
    # Kept by the search index's summary (recounted only after a change), not counted per request.
    kept = summary.current(node)
    kinds = [(value, count) for value, count, _ in kept.facets.get("kind", [])]
    return Totals(records=kept.total, kinds=kinds, files=kept.files, bytes=kept.bytes)
