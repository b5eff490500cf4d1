"""Issues: editors put one together (volume, number, year, title, cover), schedule accepted articles into it
and publish it; readers see the current issue, each issue's table of contents and the archive, page by page.

The reading queries are single index ranges (``ix_journal_issues_journal_published``,
``ix_journal_submissions_issue_id``): an issue of 500 articles or an archive of 2,000 issues costs one range
each, whatever the journal's size (``bench/journals.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ...domain.access import Viewer
from ...domain.errors import Conflict, FieldError, NotFound
from ...domain.journals import Stage
from ...storage.journals import journal_issues, journal_submissions
from ..node import Node, utcnow
from .common import journal_row, journal_standing, refuse_if, require, signed_in, small_int, text

PAGE = 50


@dataclass(frozen=True)
class Issue:
    id: int
    journal: str
    volume: str
    number: str
    year: int
    title: str
    cover_sha256: str | None
    cover_type: str | None
    published: datetime | None
    articles: int = 0

    @property
    def label(self) -> str:
        return f"Vol. {self.volume} No. {self.number} ({self.year})"


def _issue(row: Any, articles: int = 0) -> Issue:
    return Issue(
        row.id,
        row.journal,
        row.volume,
        row.number,
        row.year,
        row.title,
        row.cover_sha256,
        row.cover_type,
        row.published,
        articles,
    )


def _short(value: Any, path: str, errors: list[FieldError]) -> str:
    got = text(value, path, errors, limit=20, required=True)
    if got and not all(c.isalnum() or c in "-./ " for c in got):
        errors.append(FieldError(path, "letters, digits, '-', '.' or '/'"))
    return got


def create(node: Node, viewer: Viewer, slug: str, form: dict[str, Any], cover: tuple[str, str] | None = None) -> Issue:
    """A new, unpublished issue. "Vol. 3 No. 2" twice in one journal is refused, and nothing is made."""
    signed_in(viewer, "making an issue")
    errors: list[FieldError] = []
    volume = _short(form.get("volume"), "volume", errors)
    number = _short(form.get("number"), "number", errors)
    year = small_int(form.get("year"))
    if year is None or not 1000 <= year <= 9999:
        errors.append(FieldError("year", "a four-digit year"))
    title = text(form.get("title"), "title", errors, limit=500)
    with node.transaction() as tx:
        journal_row(tx, slug)
        require(journal_standing(tx, viewer, slug).publishes, "only the journal's managers and editors make issues")
        refuse_if(errors, "the issue cannot be made")
        same = and_(journal_issues.c.journal == slug, journal_issues.c.volume == volume)
        if tx.execute(select(journal_issues.c.id).where(same, journal_issues.c.number == number)).first():
            raise Conflict(f"volume {volume} number {number} exists already in this journal")
        values = dict(journal=slug, volume=volume, number=number, year=year, title=title, created=utcnow())
        if cover is not None:
            values |= dict(cover_sha256=cover[0], cover_type=cover[1])
        try:
            issue_id = tx.execute(insert(journal_issues).values(**values)).inserted_primary_key[0]
        except IntegrityError:
            raise Conflict(f"volume {volume} number {number} exists already in this journal") from None
        return _issue(tx.execute(select(journal_issues).where(journal_issues.c.id == issue_id)).one())


def get(node: Node, slug: str, issue_id: int, viewer: Viewer | None = None) -> Issue:
    """An issue: published ones for everyone, unpublished ones for those who make issues."""
    with node.engine.connect() as conn:
        row = conn.execute(
            select(journal_issues).where(journal_issues.c.id == issue_id, journal_issues.c.journal == slug)
        ).first()
        if row is None:
            raise NotFound("no such issue")
        if row.published is None and not (viewer and journal_standing(conn, viewer, slug).publishes):
            raise NotFound("no such issue")
        return _issue(row)


def unpublished(node: Node, viewer: Viewer, slug: str) -> list[Issue]:
    with node.engine.connect() as conn:
        if not journal_standing(conn, viewer, slug).publishes:
            return []
        query = select(journal_issues).where(journal_issues.c.journal == slug, journal_issues.c.published.is_(None))
        return [_issue(r) for r in conn.execute(query.order_by(journal_issues.c.id))]


def current(node: Node, slug: str) -> Issue | None:
    query = (
        select(journal_issues)
        .where(journal_issues.c.journal == slug, journal_issues.c.published.is_not(None))
        .order_by(journal_issues.c.published.desc(), journal_issues.c.id.desc())
        .limit(1)
    )
    with node.engine.connect() as conn:
        row = conn.execute(query).first()
    return _issue(row) if row else None


@dataclass(frozen=True)
class Archive:
    issues: list[Issue]
    page: int
    pages: int
    total: int


def archive(node: Node, slug: str, page: int = 1) -> Archive:
    """The published issues, newest first, ``PAGE`` a page, each with its number of articles."""
    page = max(1, page)
    published = and_(journal_issues.c.journal == slug, journal_issues.c.published.is_not(None))
    with node.engine.connect() as conn:
        journal_row(conn, slug)
        total = conn.execute(select(func.count()).select_from(journal_issues).where(published)).scalar_one()
        query = (
            select(journal_issues)
            .where(published)
            .order_by(journal_issues.c.published.desc(), journal_issues.c.id.desc())
            .offset((page - 1) * PAGE)
            .limit(PAGE)
        )
        rows = conn.execute(query).all()
        ids = [r.id for r in rows]
        counts = dict(
            conn.execute(
                select(journal_submissions.c.issue_id, func.count())
                .where(journal_submissions.c.issue_id.in_(ids), journal_submissions.c.published.is_not(None))
                .group_by(journal_submissions.c.issue_id)
            ).all()
        )
    return Archive([_issue(r, counts.get(r.id, 0)) for r in rows], page, max(1, -(-total // PAGE)), total)


@dataclass(frozen=True)
class Entry:
    """One article in a table of contents or a feed: what the listing shows, without opening the record."""

    submission_id: str
    record_id: str
    section_id: int | None
    titles: list[dict[str, Any]]
    creators: list[str]
    first_page: str | None
    last_page: str | None
    published: datetime
    abstract: str


def _entry(row: Any) -> Entry:
    meta = row.metadata or {}
    names = [
        c.get("name") or " ".join(filter(None, [c.get("givenName"), c.get("familyName")]))
        for c in meta.get("creators") or []
    ]
    abstract = next((d.get("description", "") for d in meta.get("descriptions") or []), "")
    return Entry(
        row.id,
        row.record_id,
        row.section_id,
        meta.get("titles") or [],
        [n for n in names if n],
        row.first_page,
        row.last_page,
        row.published,
        abstract,
    )


_ENTRY_COLUMNS = (
    journal_submissions.c.id,
    journal_submissions.c.record_id,
    journal_submissions.c.section_id,
    journal_submissions.c.metadata,
    journal_submissions.c.first_page,
    journal_submissions.c.last_page,
    journal_submissions.c.published,
)


TOC_PAGE = 80


@dataclass(frozen=True)
class Contents:
    entries: list[Entry]
    page: int
    pages: int
    total: int


def contents(node: Node, issue: Issue, page: int = 1, size: int = TOC_PAGE) -> Contents:
    """An issue's published articles in order (by section, then as published), ``size`` a page: an issue of
    500 articles is seven light pages rather than one heavy one."""
    page = max(1, page)
    in_issue = and_(journal_submissions.c.issue_id == issue.id, journal_submissions.c.published.is_not(None))
    query = (
        select(*_ENTRY_COLUMNS)
        .where(in_issue)
        .order_by(journal_submissions.c.section_id, journal_submissions.c.published, journal_submissions.c.id)
        .offset((page - 1) * size)
        .limit(size)
    )
    with node.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(journal_submissions).where(in_issue)).scalar_one()
        entries = [_entry(r) for r in conn.execute(query)]
    return Contents(entries, page, max(1, -(-total // size)), total)


def latest(node: Node, slug: str, limit: int = 30) -> list[Entry]:
    """The journal's latest published articles (its Atom feed, its home page)."""
    query = (
        select(*_ENTRY_COLUMNS)
        .where(journal_submissions.c.journal == slug, journal_submissions.c.published.is_not(None))
        .order_by(journal_submissions.c.published.desc(), journal_submissions.c.id.desc())
        .limit(limit)
    )
    with node.engine.connect() as conn:
        return [_entry(r) for r in conn.execute(query)]


def scheduled(node: Node, issue_id: int) -> list[str]:
    query = select(journal_submissions.c.id).where(
        journal_submissions.c.issue_id == issue_id, journal_submissions.c.stage == Stage.PRODUCTION.value
    )
    with node.engine.connect() as conn:
        return list(conn.execute(query).scalars())


def mark_published(node: Node, issue_id: int) -> None:
    with node.transaction() as tx:
        tx.execute(update(journal_issues).where(journal_issues.c.id == issue_id).values(published=utcnow()))
