"""The search index: one document per record (its latest published version), behind one interface.

The portable part lives in ``catalog.metadata``: ``search_docs`` (what a result shows and sorts on,
plus the text) and ``search_facets`` (one row per facet value, so a multi-valued facet such as
subject filters and counts like a single-valued one). The engine-specific part is made by
migration 0002 and kept out of the declared metadata (``catalog.include_object``):

* SQLite (``fts5``): an FTS5 table ``search_fts`` over ``search_docs`` (external content, kept in step by
  triggers), ranked with bm25 and highlighted with ``snippet()``.
* PostgreSQL (``postgres``): a ``tsvector`` column ``search_docs.document`` with a GIN index, ranked with
  ``ts_rank`` and highlighted with ``ts_headline``.

Both read words the same way (``folding.words``: Unicode letters and digits, case and accents folded),
so the same data gives the same results on either engine. The index is written in the caller's
transaction (``writing``), so it can never disagree with the catalog a reader sees. ``documents`` says what
a record's document holds, ``query`` what is asked and the SQL both engines share, ``reading`` runs a
search, ``suggest`` is the typo fallback, ``published`` lists published records, ``summary`` keeps the
unfiltered counts (every write bumps a generation that invalidates them).

The names callers use are re-exported here, so ``search.X`` keeps working.
"""

from __future__ import annotations

from .documents import FACETS, LOCAL_ORIGIN, Document, document_of
from .folding import fold, mark, words
from .fts5 import BM25
from .published import published_count, published_records
from .query import PREFIX_MIN, Found, Hit, Query
from .reading import has_matches, search
from .suggest import SUGGESTIONS, similar_words
from .summary import Summary
from .writing import INDEX_VERSION, ensure_current, index_new, index_record, reindex_all

__all__ = [
    "BM25",
    "FACETS",
    "INDEX_VERSION",
    "LOCAL_ORIGIN",
    "PREFIX_MIN",
    "SUGGESTIONS",
    "Summary",
    "Document",
    "Found",
    "Hit",
    "Query",
    "document_of",
    "ensure_current",
    "fold",
    "has_matches",
    "index_new",
    "index_record",
    "mark",
    "published_count",
    "published_records",
    "reindex_all",
    "search",
    "similar_words",
    "words",
]
