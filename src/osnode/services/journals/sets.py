"""What OAI-PMH needs of the journals: a set per journal (``journal:<slug>``) holding its published articles."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, and_, exists, select

from ...storage.catalog import records
from ...storage.journals import journal_submissions, journals
from ..node import Node


@dataclass(frozen=True)
class JournalSet:
    slug: str
    title: str
    description: str


def journal_sets(node: Node) -> list[JournalSet]:
    with node.engine.connect() as conn:
        rows = conn.execute(select(journals.c.slug, journals.c.titles, journals.c.texts).order_by(journals.c.slug))
        return [
            JournalSet(r.slug, (r.titles or [{}])[0].get("title", r.slug), (r.texts or {}).get("description", ""))
            for r in rows
        ]


def journal_exists(node: Node, slug: str) -> bool:
    with node.engine.connect() as conn:
        return conn.execute(select(journals.c.slug).where(journals.c.slug == slug)).first() is not None


ANY_JOURNAL = "*"


def in_journal(slug: str) -> ColumnElement[bool]:
    """The records published by journal ``slug`` (any journal: ``ANY_JOURNAL``), as a clause on ``records``."""
    published = and_(journal_submissions.c.record_id == records.c.id, journal_submissions.c.published.is_not(None))
    if slug != ANY_JOURNAL:
        published = and_(published, journal_submissions.c.journal == slug)
    return exists().where(published)


def journals_of(conn: Connection, record_ids: list[str]) -> dict[str, str]:
    """The journal of each record that is a published article: one query for a whole page."""
    if not record_ids:
        return {}
    query = select(journal_submissions.c.record_id, journal_submissions.c.journal).where(
        journal_submissions.c.record_id.in_(record_ids), journal_submissions.c.published.is_not(None)
    )
    return {r.record_id: r.journal for r in conn.execute(query)}
