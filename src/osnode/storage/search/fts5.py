"""The SQLite side of the index: an FTS5 table ``search_fts`` over ``search_docs`` (external content, kept in
step by triggers), ranked with bm25, highlighted with ``snippet()``, its vocabulary read for typo suggestions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, text

from .folding import START, STOP
from .query import Query, prefixed

# FTS5 column weights, in column order (titles, creators, subjects, descriptions).
BM25 = "bm25(search_fts, 10.0, 4.0, 4.0, 1.0)"


def expression(query: Query) -> str:
    # Every word and phrase is quoted, so nothing the user typed can act as FTS5 syntax. A prefixed
    # word is asked for whole OR as a prefix: a record holding the whole word matches both and so
    # ranks above one that only holds a longer word (bm25 adds up what each part matched).
    parts = [f'("{w}" OR "{w}"*)' if prefixed(query, w) else f'"{w}"' for w in query.words]
    parts += ['"' + " ".join(p) + '"' for p in query.phrases]
    return " AND ".join(parts)


def whole_words_clause(query: Query, params: dict[str, Any], id_column: str) -> str:
    params["fts_whole"] = expression(query.whole())
    return f"({id_column} IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :fts_whole)) DESC, "


def rebuild(conn: Connection) -> None:
    conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES('rebuild')")


def has_match_sql(query: Query, params: dict[str, Any]) -> str:
    params["fts"] = expression(query)
    return "SELECT 1 FROM search_fts WHERE search_fts MATCH :fts LIMIT 1"


def snippets(conn: Connection, fts: str, doc_ids: list[int], titles: dict[int, str]) -> dict[int, str]:
    """The description's matching passage (column 3) per document; when the description holds no match, the
    best other column's, unless that is the title, which the result already shows."""
    found = conn.execute(
        text(
            f"SELECT rowid AS id, snippet(search_fts, 3, '{START}', '{STOP}', '…', 24) AS a,"
            f" snippet(search_fts, -1, '{START}', '{STOP}', '…', 24) AS b"
            " FROM search_fts WHERE search_fts MATCH :fts AND rowid IN :ids"
        ).bindparams(bindparam("ids", expanding=True)),
        {"fts": fts, "ids": doc_ids},
    ).all()
    return {r.id: _pick(r.a or "", r.b or "", titles.get(r.id, "")) for r in found}


def _pick(description: str, best: str, titles: str) -> str:
    if START in description or START not in best:
        return description
    plain = best.replace(START, "").replace(STOP, "").strip("…")
    return description if plain and plain in titles else best


def vocabulary_near(conn: Connection, word: str) -> list[str]:
    """FTS5's own vocabulary (``search_fts_vocab``): the words sharing ``word``'s first two letters, of about
    its length."""
    start = word[:2]
    stop = start[:-1] + chr(ord(start[-1]) + 1)
    candidates = conn.execute(
        text("SELECT term FROM search_fts_vocab WHERE term >= :lo AND term < :hi"), {"lo": start, "hi": stop}
    ).scalars()
    return [t for t in candidates if abs(len(t) - len(word)) <= 2]
