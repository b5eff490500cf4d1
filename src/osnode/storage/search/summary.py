"""The unfiltered figures of the index (how many records, the facet counts of all of them, and the files of the
latest published versions), kept in the catalog so that the home page and an empty search do not recount them
on every request, in every process.

Every write to the index bumps a generation number in the same transaction (``bump``), so the generation a
reader sees and the documents it sees always agree. A summary is stored with the generation read before it was
counted; it is current while the stored generation is the catalog's. Anything counted after a newer change
was committed carries an older generation and is thrown away by the next reader: a summary is never newer than
its generation says, so it can only be recounted too often, never kept too long."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, cast, delete, func, select, update
from sqlalchemy.types import Integer, Text

from ..catalog import files, insert_or_ignore, node_settings, records
from .query import Query
from .reading import search

GENERATION_KEY = "search_generation"
SUMMARY_KEY = "search_summary"
FACET_LIMIT = 30


@dataclass(frozen=True)
class Summary:
    generation: int
    total: int
    # facet -> (value, count, label), as ``Found.facets``
    facets: dict[str, list[tuple[str, int, str]]]
    files: int
    bytes: int

    def as_json(self) -> str:
        return json.dumps(
            {
                "generation": self.generation,
                "total": self.total,
                "facets": self.facets,
                "files": self.files,
                "bytes": self.bytes,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Summary:
        data = json.loads(text)
        facets = {name: [(v, int(n), label) for v, n, label in values] for name, values in data["facets"].items()}
        return cls(int(data["generation"]), int(data["total"]), facets, int(data["files"]), int(data["bytes"]))


def bump(conn: Connection) -> None:
    """Say the index changed (in the writer's transaction): every stored summary is out of date."""
    value = node_settings.c.value
    done = conn.execute(
        update(node_settings)
        .where(node_settings.c.key == GENERATION_KEY)
        .values(value=cast(cast(value, Integer) + 1, Text))
    )
    if done.rowcount == 0:
        conn.execute(insert_or_ignore(conn, node_settings).values(key=GENERATION_KEY, value="1"))


def generation(conn: Connection) -> int:
    value = conn.execute(select(node_settings.c.value).where(node_settings.c.key == GENERATION_KEY)).scalar()
    return int(value) if value is not None else 0


def cached(conn: Connection) -> Summary | None:
    """The stored summary if it is current, else None."""
    rows = dict(
        conn.execute(
            select(node_settings.c.key, node_settings.c.value).where(
                node_settings.c.key.in_((GENERATION_KEY, SUMMARY_KEY))
            )
        ).all()
    )
    current = int(rows.get(GENERATION_KEY) or 0)
    stored = rows.get(SUMMARY_KEY)
    if stored is None:
        return None
    try:
        summary = Summary.from_json(stored)
    except (ValueError, KeyError, TypeError):  # written by another version of this code: count again
        return None
    return summary if summary.generation == current else None


def count(conn: Connection) -> Summary:
    """Count everything afresh (the whole facet table and the published files: the costly part)."""
    at = generation(conn)  # read first: what is counted below is at least this generation
    found = search(conn, Query(sort="newest"), 0, 0, FACET_LIMIT)
    shown = files.join(records, records.c.latest_published_id == files.c.version_id)
    n, size = conn.execute(select(func.count(), func.coalesce(func.sum(files.c.size), 0)).select_from(shown)).one()
    return Summary(at, found.total, found.facets, int(n), int(size))


def store(conn: Connection, summary: Summary) -> None:
    """Keep a summary for the other requests and processes (replacing the one stored)."""
    conn.execute(delete(node_settings).where(node_settings.c.key == SUMMARY_KEY))
    conn.execute(insert_or_ignore(conn, node_settings).values(key=SUMMARY_KEY, value=summary.as_json()))
