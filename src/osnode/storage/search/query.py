"""The engine-neutral side of a search: what is asked (``Query``), what comes back (``Hit``, ``Found``), the
facet filters as SQL both engines run, and the merging of facet counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam

from ...domain.moments import as_utc
from .documents import LOCAL_ORIGIN

# Words of at least PREFIX_MIN letters also find the words they begin ("rainfal" finds "rainfall").
PREFIX_MIN = 3


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
    # Words of at least PREFIX_MIN letters also find the words they begin.
    prefix: bool = True

    @property
    def has_text(self) -> bool:
        return bool(self.words or self.phrases)

    def whole(self) -> Query:
        """The same words and phrases, each matched whole only."""
        return Query(self.words, self.phrases, prefix=False)


def prefixed(query: Query, word: str) -> bool:
    return query.prefix and len(word) >= PREFIX_MIN


def filter_sql(query: Query, id_column: str, params: dict[str, Any], binds: list[Any]) -> str:
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


def merge_labels(counted: list[Any]) -> list[tuple[str, str, int, str]]:
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


def aware(moment: datetime | str | None) -> datetime | None:
    # A raw query on SQLite hands back the stored text, naive UTC.
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return as_utc(moment)
