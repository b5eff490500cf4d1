"""The PostgreSQL side of the index: a ``tsvector`` column ``search_docs.document`` with a GIN index, ranked
with ``ts_rank``, highlighted with ``ts_headline``, and its own vocabulary ``search_fts_terms`` (pg_trgm) for
typo suggestions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, text

from .folding import START, STOP, words
from .query import Query, prefixed

TSVECTOR = (
    "UPDATE search_docs SET document ="
    " setweight(to_tsvector('simple', :a), 'A') || setweight(to_tsvector('simple', :b), 'B')"
    " || setweight(to_tsvector('simple', :c), 'C') WHERE id = :id"
)
_TERM_MAX = 60
_ADD_TERMS = "INSERT INTO search_fts_terms (term) VALUES (:t) ON CONFLICT DO NOTHING"


def tsquery(query: Query, params: dict[str, Any]) -> str:
    parts = []
    for i, word in enumerate(query.words):
        # words() output is letters and digits only, so it is safe inside a tsquery; the same
        # whole-or-prefix pair as on SQLite ranks whole-word matches first.
        params[f"tq_w{i}"] = f"{word} | {word}:*" if prefixed(query, word) else word
        parts.append(f"to_tsquery('simple', :tq_w{i})")
    for i, phrase in enumerate(query.phrases):
        params[f"tq_p{i}"] = " ".join(phrase)
        parts.append(f"phraseto_tsquery('simple', :tq_p{i})")
    return "(" + " && ".join(parts) + ")"


def whole_words_clause(query: Query, params: dict[str, Any]) -> str:
    local: dict[str, Any] = {}
    tsq = tsquery(query.whole(), local)
    for key, value in local.items():
        params[key + "_whole"] = value
        tsq = tsq.replace(f":{key})", f":{key}_whole)")
    return f"(d.document @@ {tsq}) DESC, "


def write_documents(conn: Connection, docs: list[dict[str, Any]], doc_ids: list[int]) -> None:
    """Fill the tsvector of new documents and add their words to the vocabulary."""
    params = [_tsvector_params(doc, i) for doc, i in zip(docs, doc_ids, strict=True)]
    conn.execute(text(TSVECTOR), params)
    # The vocabulary for "did you mean" (SQLite reads FTS5's own, search_fts_vocab). Words are never
    # removed: a suggestion is only offered after it was searched and found something.
    terms = sorted({w for p in params for key in ("a", "b", "c") for w in p[key].split() if len(w) <= _TERM_MAX})
    if terms:
        conn.execute(text(_ADD_TERMS), [{"t": t} for t in terms])


def _tsvector_params(doc: dict[str, Any], doc_id: int) -> dict[str, Any]:
    return {
        "a": " ".join(words(doc["titles"])),
        "b": " ".join(words(doc["creators"] + "\n" + doc["subjects"])),
        "c": " ".join(words(doc["descriptions"])),
        "id": doc_id,
    }


def clear_terms(conn: Connection) -> None:
    conn.exec_driver_sql("DELETE FROM search_fts_terms")


def has_match_sql(query: Query, params: dict[str, Any]) -> str:
    return f"SELECT 1 FROM search_docs d WHERE d.document @@ {tsquery(query, params)} LIMIT 1"


def headlines(conn: Connection, query: Query, doc_ids: list[int]) -> dict[int, str]:
    """The description's matching passage per document, or the creators' and subjects' when only they match."""
    local: dict[str, Any] = {}
    tsq = tsquery(query, local)
    options = f"StartSel={START}, StopSel={STOP}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=…"
    found = conn.execute(
        text(
            f"SELECT id, ts_headline('simple', coalesce(descriptions, ''), {tsq}, :opts) AS a,"
            f" ts_headline('simple', concat_ws(' · ', creators, subjects), {tsq}, :opts) AS b"
            " FROM search_docs WHERE id IN :ids"
        ).bindparams(bindparam("ids", expanding=True)),
        local | {"opts": options, "ids": doc_ids},
    ).all()
    return {r.id: (r.a if START in r.a or START not in r.b else r.b) for r in found}


def trigram_near(conn: Connection, word: str) -> list[str]:
    """The 50 words of ``search_fts_terms`` pg_trgm finds nearest ``word``."""
    return list(
        conn.execute(
            text("SELECT term FROM search_fts_terms WHERE term % :w ORDER BY similarity(term, :w) DESC, term LIMIT 50"),
            {"w": word},
        ).scalars()
    )
