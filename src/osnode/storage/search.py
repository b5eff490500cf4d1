"""The search index: one document per record (its latest published version), behind one interface.

The portable part lives in ``catalog.metadata``: ``search_docs`` (what a result shows and sorts on,
plus the text) and ``search_facets`` (one row per facet value, so a multi-valued facet such as
subject filters and counts like a single-valued one). The engine-specific part is made by
migration 0002 and kept out of the declared metadata (``catalog.include_object``):

* SQLite: an FTS5 table ``search_fts`` over ``search_docs`` (external content, kept in step by
  triggers), ranked with bm25 and highlighted with ``snippet()``.
* PostgreSQL: a ``tsvector`` column ``search_docs.document`` with a GIN index, ranked with
  ``ts_rank`` and highlighted with ``ts_headline``.

Both read words the same way (``words()``: Unicode letters and digits, case and accents folded),
so the same data gives the same results on either engine. The index is written in the caller's
transaction, so it can never disagree with the catalog a reader sees.
"""

from __future__ import annotations

import difflib
import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, select, text

from ..domain.metadata import Metadata
from ..domain.moments import as_utc
from .catalog import node_settings, records, search_docs, search_facets, versions

FACETS = ("kind", "subject", "year", "licence", "access", "language", "origin")
LOCAL_ORIGIN = "local"
# Bump when what goes into a document changes: ``ensure_current`` then rebuilds the index.
INDEX_VERSION = "2"
_VERSION_KEY = "search_index_version"
_VALUE_MAX = 500

# Markers put around matched words by the engines, turned into <mark> after HTML escaping.
_START, _STOP = "\ue000", "\ue001"
_WORD = re.compile(r"[^\W_]+")
# FTS5 column weights, in column order (titles, creators, subjects, descriptions).
BM25 = "bm25(search_fts, 10.0, 4.0, 4.0, 1.0)"


def words(value: str) -> list[str]:
    """The searchable words of ``value``: letters and digits only, lower case, accents removed."""
    folded = unicodedata.normalize("NFKD", value)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    return _WORD.findall(folded)


def mark(raw: str) -> str:
    """HTML for a snippet: the text escaped, the engine's match markers as <mark>."""
    escaped = html.escape(raw, quote=False)
    return escaped.replace(_START, "<mark>").replace(_STOP, "</mark>")


# -- writing ---------------------------------------------------------------------------------


def _join(parts: Iterable[str | None]) -> str:
    return "\n".join(p for p in parts if p)


@dataclass(frozen=True)
class Document:
    """What a record's search document takes from its metadata alone (the version adds its ids,
    access, publication date and origin): computable anywhere, even in another process, before the
    writer needs it."""

    title: str
    title_sort: str
    creators: str
    titles: str
    subjects: str
    descriptions: str
    year: int | None
    kind: str | None
    # (facet, value, label): label is the value as written when ``value`` is its case-folded key.
    facets: tuple[tuple[str, str, str | None], ...]


def fold(facet: str, value: str) -> str:
    """The key a facet value is stored and filtered under: subjects are case-folded, so
    "Statistics" and "statistics" are one facet value; other facets keep their values."""
    return value.casefold()[:_VALUE_MAX] if facet == "subject" else value[:_VALUE_MAX]


def document_of(meta: Metadata) -> Document:
    title = meta.main_title()
    values: dict[tuple[str, str], str | None] = {}
    if meta.kind:
        values[("kind", meta.kind)] = None
    for subject in meta.subjects:
        values.setdefault(("subject", fold("subject", subject.subject)), subject.subject[:_VALUE_MAX])
    for licence in meta.licences():
        values[("licence", licence[:_VALUE_MAX])] = None
    if meta.language:
        values[("language", meta.language)] = None
    return Document(
        title=title,
        title_sort=" ".join(words(title))[:200],
        creators=_join(c.name for c in meta.creators),
        titles=_join(t.title for t in meta.titles),
        subjects=_join(s.subject for s in meta.subjects),
        descriptions=_join(d.description for d in meta.descriptions),
        year=meta.publicationYear,
        kind=meta.kind,
        facets=tuple((facet, value, label) for (facet, value), label in values.items()),
    )


def _row(version: Any, document: Document) -> tuple[dict[str, Any], list[tuple[str, str, str | None]]]:
    year = document.year or (version.published_at.year if version.published_at else None)
    doc = {
        "record_id": version.record_id,
        "version_id": version.id,
        "title": document.title,
        "title_sort": document.title_sort,
        "creators": document.creators,
        "titles": document.titles,
        "subjects": document.subjects,
        "descriptions": document.descriptions,
        "year": year,
        "kind": document.kind,
        "access": version.access_level,
        "published_at": version.published_at,
    }
    values = {(f, v): label for f, v, label in document.facets}
    if year:
        values[("year", str(year))] = None
    values[("access", version.access_level)] = None
    values[("origin", (version.origin_node or LOCAL_ORIGIN)[:_VALUE_MAX])] = None
    return doc, sorted((f, v, label) for (f, v), label in values.items())


def index_record(conn: Connection, record_id: str) -> None:
    """Make the index hold the record's latest published version, or nothing when it has none."""
    conn.execute(delete(search_docs).where(search_docs.c.record_id == record_id))
    latest = conn.execute(
        select(versions).join(records, records.c.latest_published_id == versions.c.id).where(records.c.id == record_id)
    ).first()
    if latest is not None:
        _insert(conn, [latest])


def index_new(conn: Connection, items: list[tuple[Any, Document]]) -> None:
    """Index many records that have no document yet, from versions and the documents of their
    already checked metadata (``items``: a version row or any object with its columns, and
    ``document_of`` its Metadata), in a few statements: for bulk writers such as the harvester,
    which would otherwise pay a query and a second validation per record."""
    if not items:
        return
    docs, facet_sets = [], []
    for version, document in items:
        doc, values = _row(version, document)
        # JSON keeps an escaped NUL, but PostgreSQL text columns refuse one: it is no word anyway.
        docs.append({k: v.replace("\x00", "") if isinstance(v, str) else v for k, v in doc.items()})
        facet_sets.append([(f, v.replace("\x00", ""), _clean(label)) for f, v, label in values])
    if conn.dialect.name == "sqlite":
        # RETURNING over many rows runs one INSERT per row on SQLite. Writers hold the database's one
        # write lock (BEGIN IMMEDIATE), so numbering the rows here is safe and one executemany does it.
        first = (conn.execute(select(func.max(search_docs.c.id))).scalar() or 0) + 1
        doc_ids = list(range(first, first + len(docs)))
        conn.execute(search_docs.insert(), [doc | {"id": i} for doc, i in zip(docs, doc_ids, strict=True)])
    else:
        inserted = conn.execute(search_docs.insert().returning(search_docs.c.id, sort_by_parameter_order=True), docs)
        doc_ids = [row.id for row in inserted]
    facets = [
        {"doc_id": i, "facet": f, "value": v, "label": label}
        for i, values in zip(doc_ids, facet_sets, strict=True)
        for f, v, label in values
    ]
    if facets:
        conn.execute(search_facets.insert(), facets)
    if conn.dialect.name == "postgresql":
        params = [_tsvector_params(doc, i) for doc, i in zip(docs, doc_ids, strict=True)]
        conn.execute(text(_TSVECTOR), params)
        _add_terms(conn, params)


def _clean(label: str | None) -> str | None:
    return label.replace("\x00", "") if label else None


def _add_terms(conn: Connection, params: list[dict[str, Any]]) -> None:
    # PostgreSQL's vocabulary for "did you mean" (SQLite reads FTS5's own, search_fts_vocab). Words
    # are never removed: a suggestion is only offered after it was searched and found something.
    terms = sorted({w for p in params for key in ("a", "b", "c") for w in p[key].split() if len(w) <= _TERM_MAX})
    if terms:
        conn.execute(text(_ADD_TERMS), [{"t": t} for t in terms])


_TERM_MAX = 60
_ADD_TERMS = "INSERT INTO search_fts_terms (term) VALUES (:t) ON CONFLICT DO NOTHING"


_TSVECTOR = (
    "UPDATE search_docs SET document ="
    " setweight(to_tsvector('simple', :a), 'A') || setweight(to_tsvector('simple', :b), 'B')"
    " || setweight(to_tsvector('simple', :c), 'C') WHERE id = :id"
)


def _tsvector_params(doc: dict[str, Any], doc_id: int) -> dict[str, Any]:
    return {
        "a": " ".join(words(doc["titles"])),
        "b": " ".join(words(doc["creators"] + "\n" + doc["subjects"])),
        "c": " ".join(words(doc["descriptions"])),
        "id": doc_id,
    }


def _insert(conn: Connection, rows: list[Any]) -> None:
    index_new(conn, [(row, document_of(Metadata.model_validate(row.metadata))) for row in rows])


def reindex_all(conn: Connection, batch: int = 500) -> int:
    """Rebuild the whole index from the catalog; returns how many records it holds."""
    conn.execute(delete(search_facets))
    conn.execute(delete(search_docs))
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES('rebuild')")
    else:
        conn.exec_driver_sql("DELETE FROM search_fts_terms")
    query = select(versions).join(records, records.c.latest_published_id == versions.c.id).order_by(versions.c.id)
    count, last = 0, ""
    while True:
        rows = conn.execute(query.where(versions.c.id > last).limit(batch)).all()
        if not rows:
            break
        _insert(conn, list(rows))
        count += len(rows)
        last = rows[-1].id
    conn.execute(delete(node_settings).where(node_settings.c.key == _VERSION_KEY))
    conn.execute(node_settings.insert().values(key=_VERSION_KEY, value=INDEX_VERSION))
    return count


def ensure_current(conn: Connection) -> bool:
    """Rebuild the index when it was built by another index version (or never); True if it did."""
    stored = conn.execute(select(node_settings.c.value).where(node_settings.c.key == _VERSION_KEY)).scalar()
    if stored == INDEX_VERSION:
        return False
    reindex_all(conn)
    return True


# -- reading ---------------------------------------------------------------------------------


@dataclass
class Hit:
    record_id: str
    version_id: str
    title: str
    creators: list[str]
    year: int | None
    kind: str | None
    access: str
    published_at: datetime | None
    snippet: str = ""
    score: float | None = None
    origin: str = LOCAL_ORIGIN


@dataclass
class Found:
    total: int
    hits: list[Hit]
    # facet -> (value, count, label): label is the most common written form of a case-folded value.
    facets: dict[str, list[tuple[str, int, str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Query:
    """What to look for, already made safe: words and phrases are lists of ``words()`` output."""

    words: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    sort: str = "relevance"
    # Words of at least PREFIX_MIN letters also find the words they begin ("rainfal" finds "rainfall").
    prefix: bool = True

    @property
    def has_text(self) -> bool:
        return bool(self.words or self.phrases)


PREFIX_MIN = 3


def _prefixed(query: Query, word: str) -> bool:
    return query.prefix and len(word) >= PREFIX_MIN


def _fts5_expression(query: Query) -> str:
    # Every word and phrase is quoted, so nothing the user typed can act as FTS5 syntax. A prefixed
    # word is asked for whole OR as a prefix: a record holding the whole word matches both and so
    # ranks above one that only holds a longer word (bm25 adds up what each part matched).
    parts = [f'("{w}" OR "{w}"*)' if _prefixed(query, w) else f'"{w}"' for w in query.words]
    parts += ['"' + " ".join(p) + '"' for p in query.phrases]
    return " AND ".join(parts)


def _tsquery(query: Query, params: dict[str, Any]) -> str:
    parts = []
    for i, word in enumerate(query.words):
        # words() output is letters and digits only, so it is safe inside a tsquery; the same
        # whole-or-prefix pair as on SQLite ranks whole-word matches first.
        params[f"tq_w{i}"] = f"{word} | {word}:*" if _prefixed(query, word) else word
        parts.append(f"to_tsquery('simple', :tq_w{i})")
    for i, phrase in enumerate(query.phrases):
        params[f"tq_p{i}"] = " ".join(phrase)
        parts.append(f"phraseto_tsquery('simple', :tq_p{i})")
    return "(" + " && ".join(parts) + ")"


def _whole_words_first(conn: Connection, query: Query, params: dict[str, Any], id_column: str) -> str:
    """An ORDER BY term putting records that hold every word whole before those that only hold longer
    words they begin (bm25's weights alone do not promise that on a small or skewed index)."""
    if not any(_prefixed(query, w) for w in query.words):
        return ""
    whole = Query(query.words, query.phrases, prefix=False)
    if conn.dialect.name == "sqlite":
        params["fts_whole"] = _fts5_expression(whole)
        return f"({id_column} IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :fts_whole)) DESC, "
    local: dict[str, Any] = {}
    tsq = _tsquery(whole, local)
    for key, value in local.items():
        params[key + "_whole"] = value
        tsq = tsq.replace(f":{key})", f":{key}_whole)")
    return f"(d.document @@ {tsq}) DESC, "


def _filter_sql(query: Query, id_column: str, params: dict[str, Any], binds: list[Any]) -> str:
    # With words, the text match is the narrow side: check each match's own facet rows (primary key
    # lookups). Without words, the facet index finds the few records a filter names. (An IN list
    # against FTS5's rowid would also be pushed into the virtual table as one lookup per id.)
    clauses = []
    for i, (facet, values) in enumerate(query.filters):
        params[f"ff{i}"], params[f"fv{i}"] = facet, list(values)
        binds.append(bindparam(f"fv{i}", expanding=True))
        if query.has_text:
            clauses.append(
                f"EXISTS (SELECT 1 FROM search_facets f{i} WHERE f{i}.doc_id = {id_column}"
                f" AND f{i}.facet = :ff{i} AND f{i}.value IN :fv{i})"
            )
        else:
            clauses.append(
                f"{id_column} IN (SELECT doc_id FROM search_facets WHERE facet = :ff{i} AND value IN :fv{i})"
            )
    return "".join(f" AND {c}" for c in clauses)


def search(conn: Connection, query: Query, offset: int, limit: int, facet_limit: int = 30) -> Found:
    """The hits from ``offset`` (at most ``limit``), the total and the facet counts of the whole result."""
    params: dict[str, Any] = {}
    binds: list[Any] = []
    sqlite = conn.dialect.name == "sqlite"
    if query.has_text and sqlite:
        params["fts"] = _fts5_expression(query)
        source = "search_fts JOIN search_docs d ON d.id = search_fts.rowid"
        bare, id_col, where = "search_fts", "search_fts.rowid", "search_fts MATCH :fts"
        score = f"-{BM25}"
        order_relevance = f"{_whole_words_first(conn, query, params, 'd.id')}{BM25}, d.record_id"
    elif query.has_text:
        tsq = _tsquery(query, params)
        source = bare = "search_docs d"
        id_col, where = "d.id", f"d.document @@ {tsq}"
        score = f"ts_rank(d.document, {tsq})"
        order_relevance = f"{_whole_words_first(conn, query, params, 'd.id')}{score} DESC, d.record_id"
    else:
        source = bare = "search_docs d"
        id_col, where, score = "d.id", "1 = 1", "NULL"
        order_relevance = "d.published_at DESC, d.record_id DESC"
    filters = _filter_sql(query, id_col, params, binds)
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
    total = run(f"SELECT count(*) FROM {bare} WHERE {where}{filters}").scalar_one()
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
            published_at=_aware(r.published_at),
            score=float(r.score) if r.score is not None else None,
        )
        for r in rows
    ]
    _snippets(conn, query, hits, {r.record_id: r for r in rows}, params)
    _origins(conn, hits, {r.record_id: r.id for r in rows})
    facets: dict[str, list[tuple[str, int, str]]] = {name: [] for name in FACETS}
    if total:
        counted = run(
            f"SELECT facet, value, label, count(*) AS n FROM search_facets WHERE doc_id IN ({matching})"
            " GROUP BY facet, value, label"
        ).all()
        for facet, value, n, label in _merge_labels(counted):
            if facet in facets and len(facets[facet]) < facet_limit:
                facets[facet].append((value, n, label))
    return Found(total, hits, facets)


def _merge_labels(counted: list[Any]) -> list[tuple[str, str, int, str]]:
    """(facet, value, count, label) per value, most frequent first: the counts of a case-folded value's
    written forms added up, and the form written most often as its label."""
    totals: dict[tuple[str, str], int] = {}
    forms: dict[tuple[str, str], dict[str, int]] = {}
    for row in counted:
        key = (row.facet, row.value)
        totals[key] = totals.get(key, 0) + row.n
        form = forms.setdefault(key, {})
        form[row.label or row.value] = form.get(row.label or row.value, 0) + row.n
    merged = [(f, v, n, max(sorted(forms[(f, v)]), key=forms[(f, v)].get)) for (f, v), n in totals.items()]
    return sorted(merged, key=lambda m: (m[0], -m[2], m[1]))


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


def _aware(moment: datetime | str | None) -> datetime | None:
    # A raw query on SQLite hands back the stored text, naive UTC.
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return as_utc(moment)


def _snippets(conn: Connection, query: Query, hits: list[Hit], rows: dict[str, Any], params: dict[str, Any]) -> None:
    if not hits:
        return
    if not query.has_text:
        for hit in hits:
            hit.snippet = html.escape(_shorten(rows[hit.record_id].descriptions or ""), quote=False)
        return
    doc_ids = [rows[h.record_id].id for h in hits]
    if conn.dialect.name == "sqlite":
        # The description's matching passage (column 3); when the description holds no match, the best
        # other column's, unless that is the title, which the result already shows.
        found = conn.execute(
            text(
                f"SELECT rowid AS id, snippet(search_fts, 3, '{_START}', '{_STOP}', '…', 24) AS a,"
                f" snippet(search_fts, -1, '{_START}', '{_STOP}', '…', 24) AS b"
                " FROM search_fts WHERE search_fts MATCH :fts AND rowid IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            {"fts": params["fts"], "ids": doc_ids},
        ).all()
        titles = {rows[h.record_id].id: rows[h.record_id].titles or "" for h in hits}
        by_id = {r.id: _pick(r.a or "", r.b or "", titles.get(r.id, "")) for r in found}
    else:
        local: dict[str, Any] = {}
        tsq = _tsquery(query, local)
        options = f"StartSel={_START}, StopSel={_STOP}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=…"
        found = conn.execute(
            text(
                f"SELECT id, ts_headline('simple', coalesce(descriptions, ''), {tsq}, :opts) AS a,"
                f" ts_headline('simple', concat_ws(' · ', creators, subjects), {tsq}, :opts) AS b"
                " FROM search_docs WHERE id IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            local | {"opts": options, "ids": doc_ids},
        ).all()
        by_id = {r.id: (r.a if _START in r.a or _START not in r.b else r.b) for r in found}
    for hit in hits:
        raw = by_id.get(rows[hit.record_id].id) or ""
        hit.snippet = mark(raw) if _START in raw else html.escape(_shorten(raw), quote=False)


def has_matches(conn: Connection, query: Query) -> bool:
    """Whether any record matches the words and phrases of ``query`` (filters aside): one index probe."""
    params: dict[str, Any] = {}
    if conn.dialect.name == "sqlite":
        params["fts"] = _fts5_expression(query)
        sql = "SELECT 1 FROM search_fts WHERE search_fts MATCH :fts LIMIT 1"
    else:
        sql = f"SELECT 1 FROM search_docs d WHERE d.document @@ {_tsquery(query, params)} LIMIT 1"
    return conn.execute(text(sql), params).first() is not None


SUGGESTIONS = 5
_SIMILAR = 0.7


def similar_words(conn: Connection, word: str) -> list[str]:
    """Words of the index that look like ``word`` (a likely typo of them), closest first.

    SQLite reads FTS5's own vocabulary (``search_fts_vocab``) among the words sharing the first two
    letters; PostgreSQL asks pg_trgm for the nearest words of ``search_fts_terms``. Both then rank
    the candidates with the same measure, so both engines suggest the same words."""
    if len(word) < PREFIX_MIN:
        return []
    if conn.dialect.name == "sqlite":
        start = word[:2]
        stop = start[:-1] + chr(ord(start[-1]) + 1)
        candidates = conn.execute(
            text("SELECT term FROM search_fts_vocab WHERE term >= :lo AND term < :hi"), {"lo": start, "hi": stop}
        ).scalars()
        pool = [t for t in candidates if abs(len(t) - len(word)) <= 2]
    else:
        pool = list(
            conn.execute(
                text(
                    "SELECT term FROM search_fts_terms WHERE term % :w"
                    " ORDER BY similarity(term, :w) DESC, term LIMIT 50"
                ),
                {"w": word},
            ).scalars()
        )
    return [t for t in difflib.get_close_matches(word, sorted(pool), SUGGESTIONS, _SIMILAR) if t != word]


def _pick(description: str, best: str, titles: str) -> str:
    if _START in description or _START not in best:
        return description
    plain = best.replace(_START, "").replace(_STOP, "").strip("…")
    return description if plain and plain in titles else best


def _shorten(value: str, limit: int = 240) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[:limit].rsplit(" ", 1)[0] + " …"


def published_records(conn: Connection, limit: int | None = None, offset: int = 0) -> list[Any]:
    """Records that have a published version, newest change first (for sitemaps and feeds)."""
    query = (
        select(records.c.id, records.c.updated)
        .where(records.c.latest_published_id.is_not(None))
        .order_by(records.c.updated.desc(), records.c.id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(conn.execute(query).all())


def published_count(conn: Connection) -> int:
    return conn.execute(
        select(func.count()).select_from(records).where(records.c.latest_published_id.is_not(None))
    ).scalar_one()
