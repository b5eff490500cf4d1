"""Writing the index, in the caller's transaction: one record, a batch of new records, or the whole index
(rebuilt when ``INDEX_VERSION`` changes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, select

from ...domain.metadata import Metadata
from ..catalog import node_settings, records, search_docs, search_facets, versions
from ..communities import ACCEPTED, record_communities
from . import fts5, postgres, summary
from .documents import Document, document_of, row_of

# Bump when what goes into a document changes: ``ensure_current`` then rebuilds the index.
INDEX_VERSION = "3"  # 2: case-folded facets and the typo vocabulary; 3: the communities a record was accepted into
_VERSION_KEY = "search_index_version"


def index_record(conn: Connection, record_id: str) -> None:
    """Make the index hold the record's latest published version, or nothing when it has none."""
    summary.bump(conn)
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
    summary.bump(conn)
    docs, facet_sets = [], []
    for version, document in items:
        doc, values = row_of(version, document)
        # JSON keeps an escaped NUL, but PostgreSQL text columns refuse one: it is no word anyway.
        docs.append({k: v.replace("\x00", "") if isinstance(v, str) else v for k, v in doc.items()})
        facet_sets.append([(f, v.replace("\x00", ""), _clean(label)) for f, v, label in values])
    _add_communities(conn, [doc["record_id"] for doc in docs], facet_sets)
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
        postgres.write_documents(conn, docs, doc_ids)


def _clean(label: str | None) -> str | None:
    return label.replace("\x00", "") if label else None


def _add_communities(
    conn: Connection, record_ids: list[str], facet_sets: list[list[tuple[str, str, str | None]]]
) -> None:
    """The ``community`` facet: the communities each record was accepted into (one query for the batch)."""
    rc = record_communities
    found: dict[str, list[str]] = {}
    query = select(rc.c.record_id, rc.c.slug).where(rc.c.record_id.in_(record_ids), rc.c.status == ACCEPTED)
    for row in conn.execute(query):
        found.setdefault(row.record_id, []).append(row.slug)
    for record_id, values in zip(record_ids, facet_sets, strict=True):
        values.extend(("community", slug, None) for slug in sorted(found.get(record_id, [])))


def _insert(conn: Connection, rows: list[Any]) -> None:
    index_new(conn, [(row, document_of(Metadata.model_validate(row.metadata))) for row in rows])


def reindex_all(conn: Connection, batch: int = 500) -> int:
    """Rebuild the whole index from the catalog; returns how many records it holds."""
    summary.bump(conn)
    conn.execute(delete(search_facets))
    conn.execute(delete(search_docs))
    if conn.dialect.name == "sqlite":
        fts5.rebuild(conn)
    else:
        postgres.clear_terms(conn)
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
