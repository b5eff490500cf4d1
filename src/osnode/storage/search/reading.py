"""Reading the index: one search (hits, total, facet counts of the whole result) on either engine, and the
one-probe ``has_matches`` the typo fallback asks first."""

from __future__ import annotations

import html
from typing import Any

from sqlalchemy import Connection, select, text

from ..catalog import search_facets
from . import fts5, postgres
from .documents import FACETS, LOCAL_ORIGIN
from .folding import START, mark, shorten
from .query import Found, Hit, Query, aware, filter_sql, merge_labels, prefixed


def _whole_words_first(conn: Connection, query: Query, params: dict[str, Any], id_column: str) -> str:
    """An ORDER BY term putting records that hold every word whole before those that only hold longer
    words they begin (bm25's weights alone do not promise that on a small or skewed index)."""
    if not any(prefixed(query, w) for w in query.words):
        return ""
    if conn.dialect.name == "sqlite":
        return fts5.whole_words_clause(query, params, id_column)
    return postgres.whole_words_clause(query, params)


def search(
    conn: Connection,
    query: Query,
    offset: int,
    limit: int,
    facet_limit: int = 30,
    counted: tuple[int, dict[str, list[tuple[str, int, str]]]] | None = None,
) -> Found:
    """The hits from ``offset`` (at most ``limit``), the total and the facet counts of the whole result.
    ``counted``: the total and facet counts, already known (``summary``): only the hits are read."""
    params: dict[str, Any] = {}
    binds: list[Any] = []
    sqlite = conn.dialect.name == "sqlite"
    if query.has_text and sqlite:
        params["fts"] = fts5.expression(query)
        source = "search_fts JOIN search_docs d ON d.id = search_fts.rowid"
        bare, id_col, where = "search_fts", "search_fts.rowid", "search_fts MATCH :fts"
        score = f"-{fts5.BM25}"
        order_relevance = f"{_whole_words_first(conn, query, params, 'd.id')}{fts5.BM25}, d.record_id"
    elif query.has_text:
        tsq = postgres.tsquery(query, params)
        source = bare = "search_docs d"
        id_col, where = "d.id", f"d.document @@ {tsq}"
        score = f"ts_rank(d.document, {tsq})"
        order_relevance = f"{_whole_words_first(conn, query, params, 'd.id')}{score} DESC, d.record_id"
    else:
        source = bare = "search_docs d"
        id_col, where, score = "d.id", "1 = 1", "NULL"
        order_relevance = "d.published_at DESC, d.record_id DESC"
    filters = filter_sql(query, id_col, params, binds)
    orders = {
        "relevance": order_relevance,
        "newest": "d.published_at DESC, d.record_id DESC",
        "title": "d.title_sort, d.record_id",
    }
    order = orders.get(query.sort, order_relevance)

    def run(sql: str, extra: dict[str, Any] | None = None) -> Any:
        statement = text(sql).bindparams(*binds) if binds else text(sql)
        return conn.execute(statement, params | (extra or {}))

    matching = f"SELECT {id_col} FROM {bare} WHERE {where}{filters}"
    counting = f"SELECT count(*) FROM {bare} WHERE {where}{filters}"
    total = run(counting).scalar_one() if counted is None else counted[0]
    rows = []
    if total and limit > 0 and offset < total:
        rows = run(
            f"SELECT d.*, {score} AS score FROM {source} WHERE {where}{filters}"
            f" ORDER BY {order} LIMIT :limit OFFSET :offset",
            {"limit": limit, "offset": offset},
        ).all()
    hits = [
        Hit(
            record_id=r.record_id,
            version_id=r.version_id,
            title=r.title,
            creators=[c for c in (r.creators or "").split("\n") if c],
            year=r.year,
            kind=r.kind,
            access=r.access,
            published_at=aware(r.published_at),
            score=float(r.score) if r.score is not None else None,
        )
        for r in rows
    ]
    _snippets(conn, query, hits, {r.record_id: r for r in rows}, params)
    _origins(conn, hits, {r.record_id: r.id for r in rows})
    facets: dict[str, list[tuple[str, int, str]]] = {name: [] for name in FACETS}
    if counted is not None:
        facets |= {name: values[:facet_limit] for name, values in counted[1].items() if name in facets}
    elif total:
        counted = run(
            f"SELECT facet, value, label, count(*) AS n FROM search_facets WHERE doc_id IN ({matching})"
            " GROUP BY facet, value, label"
        ).all()
        for facet, value, n, label in merge_labels(counted):
            if facet in facets and len(facets[facet]) < facet_limit:
                facets[facet].append((value, n, label))
    return Found(total, hits, facets)


def _origins(conn: Connection, hits: list[Hit], doc_ids: dict[str, int]) -> None:
    if not hits:
        return
    found = conn.execute(
        select(search_facets.c.doc_id, search_facets.c.value).where(
            search_facets.c.facet == "origin", search_facets.c.doc_id.in_(list(doc_ids.values()))
        )
    ).all()
    by_id = {r.doc_id: r.value for r in found}
    for hit in hits:
        hit.origin = by_id.get(doc_ids[hit.record_id], LOCAL_ORIGIN)


def _snippets(conn: Connection, query: Query, hits: list[Hit], rows: dict[str, Any], params: dict[str, Any]) -> None:
    if not hits:
        return
    if not query.has_text:
        for hit in hits:
            hit.snippet = html.escape(shorten(rows[hit.record_id].descriptions or ""), quote=False)
        return
    doc_ids = [rows[h.record_id].id for h in hits]
    if conn.dialect.name == "sqlite":
        titles = {rows[h.record_id].id: rows[h.record_id].titles or "" for h in hits}
        by_id = fts5.snippets(conn, params["fts"], doc_ids, titles)
    else:
        by_id = postgres.headlines(conn, query, doc_ids)
    for hit in hits:
        raw = by_id.get(rows[hit.record_id].id) or ""
        hit.snippet = mark(raw) if START in raw else html.escape(shorten(raw), quote=False)


def has_matches(conn: Connection, query: Query) -> bool:
    """Whether any record matches the words and phrases of ``query`` (filters aside): one index probe."""
    params: dict[str, Any] = {}
    engine = fts5 if conn.dialect.name == "sqlite" else postgres
    sql = engine.has_match_sql(query, params)
    return conn.execute(text(sql), params).first() is not None
