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
from urllib.parse import urlsplit

from sqlalchemy import Connection, select

from ..domain import multilingual
from ..storage import search as index
from ..storage.peers import peers
from . import records, summary
from .harvest.peers import origin_of
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
        kept = list(dict.fromkeys(index.fold(name, v) for v in kept if v))[:MAX_FILTER_VALUES]
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
    # Nothing typed, nothing chosen: the counts of everything are kept, not recounted (services/summary.py).
    counted = None
    if not q.has_text and not q.filters:
        kept = summary.current(node)
        counted = (kept.total, kept.facets)
    with node.engine.connect() as conn:
        found = index.search(conn, q, max(offset, 0), 0 if offset < 0 else size_n, counted=counted)
        if not found.total and words and offset >= 0:
            found = _corrected(conn, q, found, size_n, offset, messages)
        names = origin_names(conn)
    pages = max(1, min(-(-found.total // size_n), window_pages))
    if offset >= 0 and found.total and page_n > pages:
        messages.append(f"Page {page_n} is past the last page ({pages}).")
    items = [_item(node, hit, names) for hit in found.hits]
    facets = {
        name: [
            {
                "value": value,
                "label": _name(names, value) if name == "origin" and value != index.LOCAL_ORIGIN else label,
                "count": count,
                "selected": value in chosen.get(name, []),
            }
            for value, count, label in values
        ]
        for name, values in found.facets.items()
    }
    return SearchResult(text.strip(), chosen, sort_name, page_n, size_n, found.total, pages, items, facets, messages)


def reader_titles(node: Node, items: list[dict[str, Any]], lang: str | None) -> None:
    """Swap each hit's title for the one in the reader's language when its record has one.

    The index keeps one title per record (the main one); the others are in the version's metadata, read here
    for the page of hits only (at most ``MAX_SIZE`` rows, one connection)."""
    if not items or lang is None:
        return
    with node.engine.connect() as conn:
        for item in items:
            version = records.load_version(conn, item["id"])
            titles = (version.metadata.get("titles") if version else None) or []
            if len(titles) > 1:
                item["title"] = multilingual.preferred_title(titles, lang)
                item["title_lang"] = multilingual.preferred_title_lang(titles, lang)


def name_origins(node: Node, items: list[dict[str, Any]]) -> None:
    """Give each listed version (``origin_node`` set when harvested) the name of the peer it came from, as
    ``origin_name``, so two copies of one work are told apart on the page."""
    with node.engine.connect() as conn:
        names = origin_names(conn)
    for item in items:
        origin = item.get("origin_node")
        item["origin_name"] = _name(names, origin) if origin and origin != index.LOCAL_ORIGIN else None


def _corrected(
    conn: Connection, q: index.Query, found: index.Found, size: int, offset: int, messages: list[str]
) -> index.Found:
    """Nothing matched: try each unknown word's nearest words of the index (typo tolerance) and, when a
    corrected search finds records, answer with it and say so."""
    fixed = list(q.words)
    for i, word in enumerate(q.words):
        if index.has_matches(conn, index.Query(words=(word,))):
            continue
        for candidate in index.similar_words(conn, word):
            if index.has_matches(conn, index.Query(words=(candidate,), prefix=False)):
                fixed[i] = candidate
                break
    if fixed == list(q.words):
        return found
    retry = index.search(conn, index.Query(tuple(fixed), q.phrases, q.filters, q.sort), offset, size)
    if retry.total:
        messages.append(f"Nothing matched the words as typed; showing results for '{' '.join(fixed)}'.")
        return retry
    return found


def origin_names(conn: Connection) -> dict[str, str]:
    """Each harvested copy's origin (the ``origin_node`` of its version) and the name of the peer it came from."""
    return {origin_of(row.base_url): row.name for row in conn.execute(select(peers.c.name, peers.c.base_url))}


def origin_name(node: Node, origin: str | None) -> str | None:
    """The peer name of a record's origin (its host when no peer has that address), or None for local records."""
    if not origin or origin == index.LOCAL_ORIGIN:
        return None
    with node.engine.connect() as conn:
        return _name(origin_names(conn), origin)


def _name(names: dict[str, str], origin: str) -> str:
    return names.get(origin) or urlsplit(origin).hostname or origin


def _item(node: Node, hit: index.Hit, names: dict[str, str]) -> dict[str, Any]:
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
        # The peer a harvested copy came from, so two copies of one work can be told apart (None: this node's own).
        "origin": None if hit.origin == index.LOCAL_ORIGIN else _name(names, hit.origin),
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
