"""The typo fallback: words of the index that look like a word that found nothing ("did you mean")."""

from __future__ import annotations

import difflib

from sqlalchemy import Connection

from . import fts5, postgres
from .query import PREFIX_MIN

SUGGESTIONS = 5
_SIMILAR = 0.7


def similar_words(conn: Connection, word: str) -> list[str]:
    """Words of the index that look like ``word`` (a likely typo of them), closest first.

    SQLite reads FTS5's own vocabulary (``search_fts_vocab``) among the words sharing the first two
    letters; PostgreSQL asks pg_trgm for the nearest words of ``search_fts_terms``. Both then rank
    the candidates with the same measure, so both engines suggest the same words."""
    if len(word) < PREFIX_MIN:
        return []
    pool = fts5.vocabulary_near(conn, word) if conn.dialect.name == "sqlite" else postgres.trigram_near(conn, word)
    return [t for t in difflib.get_close_matches(word, sorted(pool), SUGGESTIONS, _SIMILAR) if t != word]
