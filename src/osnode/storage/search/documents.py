"""What goes into a record's search document: its text, sort keys and facet values."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ...domain.metadata import Metadata
from .folding import VALUE_MAX, fold, words

FACETS = ("kind", "subject", "year", "licence", "access", "language", "origin", "community")
LOCAL_ORIGIN = "local"


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


def document_of(meta: Metadata) -> Document:
    title = meta.main_title()
    values: dict[tuple[str, str], str | None] = {}
    if meta.kind:
        values[("kind", meta.kind)] = None
    for subject in meta.subjects:
        values.setdefault(("subject", fold("subject", subject.subject)), subject.subject[:VALUE_MAX])
    for licence in meta.licences():
        values[("licence", licence[:VALUE_MAX])] = None
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


def row_of(version: Any, document: Document) -> tuple[dict[str, Any], list[tuple[str, str, str | None]]]:
    """The ``search_docs`` row and the (facet, value, label) rows of a version and its document."""
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
    values[("origin", (version.origin_node or LOCAL_ORIGIN)[:VALUE_MAX])] = None
    return doc, sorted((f, v, label) for (f, v), label in values.items())
