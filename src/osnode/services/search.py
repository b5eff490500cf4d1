"""Searching and browsing: what a reader typed and clicked, made safe and run against the index.

Nothing a reader sends is an error here. Search syntax is not passed to the engine: the text is cut
into words (and "quoted phrases" when the quotes balance), so stray quotes, operators or a lone
``*`` simply search for the words there are. Unknown filters, impossible pages and odd sizes are
reported in ``messages`` next to a normal result.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..storage import search as index
from .node import Node

FACETS = index.FACETS
SORTS = ("relevance", "newest", "title")
DEFAULT_SIZE = 20
MAX_SIZE = 100
# Deep pages cost the engine more than they help a reader: refine the search instead.
MAX_WINDOW = 10_000
MAX_TEXT = 500
MAX_TERMS = 32
MAX_FILTER_VALUES = 20
# Query parameters the search pages understand besides the facets.
CONTROLS = ("q", "sort", "page", "size")
_PHRASE = re.compile(r'"([^"]*)"')


@dataclass
class SearchResult:
    query: str
    filters: dict[str, list[str]]
    sort: str
    page: int
    size: int
    total: int
    pages: int
    items: list[dict[str, Any]]
    facets: dict[str, list[dict[str, Any]]]
    messages: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "filters": self.filters,
            "sort": self.sort,
            "page": self.page,
            "size": self.size,
            "total": self.total,
            "pages": self.pages,
            "items": self.items,
            "facets": self.facets,
            "messages": self.messages,
        }


def parse_text(raw: str) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Words and phrases in what the reader typed; nothing else survives."""
    raw = raw[:MAX_TEXT]
    phrases: list[tuple[str, ...]] = []
    loose: list[str] = []
    if raw.count('"') % 2 == 0:
        for match in _PHRASE.finditer(raw):
            phrase = tuple(index.words(match.group(1)))
            if len(phrase) > 1:
                phrases.append(phrase)
            else:
                loose += phrase
        raw = _PHRASE.sub(" ", raw)
    found = list(dict.fromkeys(loose + index.words(raw)))[:MAX_TERMS]
    return tuple(found), tuple(dict.fromkeys(phrases))[:MAX_TERMS]


def _int(raw: str | None, default: int, name: str, messages: list[str]) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(str(raw).strip())
    except ValueError:
        messages.append(f"'{raw}' is not a whole number, so {name} {default} is shown.")
        return default


def query(
    node: Node,
    text: str = "",
    filters: Mapping[str, Sequence[str]] | None = None,
    sort: str | None = None,
    page: str | int | None = None,
    size: str | int | None = None,
    unknown: Sequence[str] = (),
) -> SearchResult:
    """Run a search; ``unknown`` names parameters the caller did not recognise, to report them."""
    messages: list[str] = []
    text = (text or "").replace("\x00", " ")
    words, phrases = parse_text(text)
    if text.strip() and not (words or phrases):
        messages.append(f"The search '{text.strip()[:80]}' has no words to look for, so every record is shown.")
    if text.count('"') % 2:
        messages.append("The quotation marks do not pair up, so the words were searched one by one.")
    if len(text) > MAX_TEXT:
        messages.append(f"Only the first {MAX_TEXT} characters of the search were used.")
    for name in unknown:
        messages.append(f"There is no filter called '{name[:40]}'; it was ignored. Filters: {', '.join(FACETS)}.")

    chosen: dict[str, list[str]] = {}
    for name, values in (filters or {}).items():
        if name not in FACETS:
            messages.append(f"There is no filter called '{name[:40]}'; it was ignored. Filters: {', '.join(FACETS)}.")
            continue
        kept = [v.replace("\x00", "").strip() for v in values if v and v.strip()]
        kept = list(dict.fromkeys(v[:500] for v in kept if v))[:MAX_FILTER_VALUES]
        if name == "year":
            bad = [v for v in kept if not v.isdigit()]
            for v in bad:
                messages.append(f"'{v[:40]}' is not a year; that filter was ignored.")
            kept = [str(int(v)) for v in kept if v.isdigit() and len(v) <= 6]
        if kept:
            chosen[name] = kept

    sort_name = sort or ("relevance" if (words or phrases) else "newest")
    if sort_name not in SORTS:
        messages.append(f"Results cannot be sorted by '{sort_name[:40]}'; sorts: {', '.join(SORTS)}.")
        sort_name = "relevance" if (words or phrases) else "newest"
    if sort_name == "relevance" and not (words or phrases):
        sort_name = "newest"

    size_n = _int(None if size is None else str(size), DEFAULT_SIZE, "page size", messages)
    if not 1 <= size_n <= MAX_SIZE:
        clamped = min(max(size_n, 1), MAX_SIZE)
        messages.append(f"A page holds 1 to {MAX_SIZE} results, so {clamped} are shown.")
        size_n = clamped
    page_n = _int(None if page is None else str(page), 1, "page", messages)
    if page_n < 1:
        messages.append("Pages are numbered from 1, so page 1 is shown.")
        page_n = 1
    window_pages = MAX_WINDOW // size_n
    offset = (page_n - 1) * size_n
    if page_n > window_pages:
        messages.append(
            f"Only the first {MAX_WINDOW:,} results can be paged through (page {window_pages} at this size);"
            " narrow the search with words or filters."
        )
        offset = -1

    q = index.Query(
        words=words,
        phrases=phrases,
        filters=tuple((name, tuple(values)) for name, values in chosen.items()),
        sort=sort_name,
    )
    with node.engine.connect() as conn:
        found = index.search(conn, q, max(offset, 0), 0 if offset < 0 else size_n)
    pages = max(1, min(-(-found.total // size_n), window_pages))
    if offset >= 0 and found.total and page_n > pages:
        messages.append(f"Page {page_n} is past the last page ({pages}).")
    items = [_item(node, hit) for hit in found.hits]
    facets = {
        name: [{"value": value, "count": count, "selected": value in chosen.get(name, [])} for value, count in values]
        for name, values in found.facets.items()
    }
    return SearchResult(text.strip(), chosen, sort_name, page_n, size_n, found.total, pages, items, facets, messages)


def _item(node: Node, hit: index.Hit) -> dict[str, Any]:
    return {
        "id": hit.version_id,
        "record_id": hit.record_id,
        "title": hit.title,
        "creators": hit.creators,
        "year": hit.year,
        "kind": hit.kind,
        "access": hit.access,
        "published_at": hit.published_at.isoformat() if hit.published_at else None,
        "url": node.record_url(hit.record_id),
        "snippet": hit.snippet,
        "score": hit.score,
    }


def from_params(node: Node, params: Sequence[tuple[str, str]]) -> SearchResult:
    """A search from URL query parameters (repeatable facet parameters OR within, AND across)."""
    values: dict[str, list[str]] = {}
    for key, value in params:
        values.setdefault(key, []).append(value)
    filters = {k: v for k, v in values.items() if k in FACETS}
    unknown = [k for k in values if k not in FACETS and k not in CONTROLS]
    first = {k: v[0] for k, v in values.items() if k in CONTROLS}
    return query(
        node,
        first.get("q", ""),
        filters,
        first.get("sort") or None,
        first.get("page"),
        first.get("size"),
        unknown=unknown,
    )


def reindex(node: Node) -> int:
    """Rebuild the whole index from the catalog (one transaction); returns the record count."""
    with node.transaction() as tx:
        return index.reindex_all(tx)


def recent(node: Node, limit: int = 50) -> list[dict[str, Any]]:
    """The newest published records, for the node's feed."""
    return query(node, "", None, "newest", 1, limit).items


def sitemap_entries(node: Node, limit: int | None = None, offset: int = 0) -> list[tuple[str, Any]]:
    with node.engine.connect() as conn:
        rows = index.published_records(conn, limit, offset)
    return [(node.record_url(r.id), r.updated) for r in rows]


def published_count(node: Node) -> int:
    with node.engine.connect() as conn:
        return index.published_count(conn)
