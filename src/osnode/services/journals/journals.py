"""Journals: created by an administrator, configured in the browser by their managers; their sections and
their people (who holds which role)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update

from ...domain import multilingual
from ...domain.access import Viewer
from ...domain.errors import Conflict, FieldError, InvalidInput, NotFound
from ...domain.identifiers import validate_issn
from ...domain.journals import STAFF_ROLES, JournalRole, ReviewMode, valid_slug
from ...domain.records import Role
from ...storage.catalog import users
from ...storage.journals import journal_roles, journal_sections, journal_submissions, journals
from .. import accounts
from ..node import Node, utcnow
from .common import MAX_LINE, journal_row, journal_standing, refuse_if, require, signed_in, text

TEXTS = (
    "description",
    "focus_scope",
    "guidelines",
    "team",
    "no_fees",
    "checklist",
    "publish_reviews",
    # Crossref: articles get DOIs under this prefix, checked (and downloadable) as Crossref deposits.
    "doi_prefix",
    "crossref_email",
)
DEFAULT_LICENCE = "CC-BY-4.0"


@dataclass(frozen=True)
class Section:
    id: int
    title: str


@dataclass(frozen=True)
class Journal:
    slug: str
    titles: list[dict[str, str]]
    issn_print: str | None
    issn_online: str | None
    issn_l: str | None
    publisher: str
    texts: dict[str, str]
    licence: str
    review_mode: ReviewMode
    languages: list[str]
    created: datetime
    sections: list[Section] = field(default_factory=list)

    def title(self, lang: str | None = None) -> str:
        return multilingual.preferred_title(self.titles, lang) or self.slug

    @property
    def issn(self) -> str | None:
        """The ISSN articles name their journal by: the online one, else the print one."""
        return self.issn_online or self.issn_print

    def text(self, name: str) -> str:
        return self.texts.get(name, "")

    @property
    def checklist(self) -> list[str]:
        return [line.strip() for line in self.text("checklist").splitlines() if line.strip()]


def _journal(row: Any, sections: list[Section] | None = None) -> Journal:
    return Journal(
        slug=row.slug,
        titles=list(row.titles or []),
        issn_print=row.issn_print,
        issn_online=row.issn_online,
        issn_l=row.issn_l,
        publisher=row.publisher,
        texts=dict(row.texts or {}),
        licence=row.licence,
        review_mode=ReviewMode(row.review_mode),
        languages=list(row.languages or []),
        created=row.created,
        sections=sections or [],
    )


def _sections(conn: Any, slug: str) -> list[Section]:
    query = select(journal_sections).where(journal_sections.c.journal == slug)
    rows = conn.execute(query.order_by(journal_sections.c.position, journal_sections.c.id))
    return [Section(r.id, r.title) for r in rows]


def get(node: Node, slug: str) -> Journal:
    with node.engine.connect() as conn:
        row = journal_row(conn, slug)
        return _journal(row, _sections(conn, slug))


def list_all(node: Node) -> list[Journal]:
    with node.engine.connect() as conn:
        return [_journal(r) for r in conn.execute(select(journals).order_by(journals.c.slug))]


def _issn(value: Any, path: str, errors: list[FieldError]) -> str | None:
    raw = text(value, path, errors, limit=20)
    if not raw:
        return None
    try:
        validate_issn(raw)
    except ValueError:
        errors.append(FieldError(path, "not a valid ISSN (the check digit is wrong, or it is not NNNN-NNNC)"))
        return None
    bare = raw.replace("-", "").upper()
    return f"{bare[:4]}-{bare[4:]}"


def _settings(form: dict[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    """The journal's settings from its form: ``title`` (main), ``title_<lang>`` for translations, ..."""
    titles: list[dict[str, str]] = []
    main = text(form.get("title"), "title", errors, limit=MAX_LINE, required=True)
    main_lang = text(form.get("title_lang") or "en", "title_lang", errors, limit=8)
    if main:
        titles.append({"title": main, "lang": main_lang or "en"})
    # Translated titles, one a line: "fr | Revue des sols".
    for n, line in enumerate(text(form.get("other_titles"), "other_titles", errors).splitlines()):
        lang, bar, other = (p.strip() for p in line.partition("|"))
        if not line.strip():
            continue
        if not bar or not other or not lang.isascii() or not 2 <= len(lang) <= 8 or len(other) > MAX_LINE:
            errors.append(FieldError(f"other_titles.{n}", "one title a line: language code | title"))
        else:
            titles.append({"title": other, "lang": lang})
    mode = form.get("review_mode") or ReviewMode.DOUBLE.value
    if mode not in {m.value for m in ReviewMode}:
        errors.append(FieldError("review_mode", "one of: " + ", ".join(m.value for m in ReviewMode)))
        mode = ReviewMode.DOUBLE.value
    languages = [x for x in (form.get("languages") or "en").replace(",", " ").split() if x]
    if any(not x.isascii() or not x.replace("-", "").isalnum() or len(x) > 8 for x in languages) or len(languages) > 20:
        errors.append(FieldError("languages", "language codes such as 'en fr ar', separated by spaces"))
        languages = ["en"]
    prefix = str(form.get("doi_prefix") or "").strip()
    if prefix and not re.fullmatch(r"10\.\d{4,9}", prefix):
        errors.append(FieldError("doi_prefix", "a DOI prefix looks like 10.12345"))
    email = str(form.get("crossref_email") or "").strip()
    if email and "@" not in email:
        errors.append(FieldError("crossref_email", "enter a valid email address"))
    values = dict(
        titles=titles,
        issn_print=_issn(form.get("issn_print"), "issn_print", errors),
        issn_online=_issn(form.get("issn_online"), "issn_online", errors),
        issn_l=_issn(form.get("issn_l"), "issn_l", errors),
        publisher=text(form.get("publisher"), "publisher", errors, limit=MAX_LINE, required=True),
        texts={name: text(form.get(name), name, errors) for name in TEXTS},
        licence=text(form.get("licence") or DEFAULT_LICENCE, "licence", errors, limit=100),
        review_mode=mode,
        languages=languages or ["en"],
    )
    return values


def create(node: Node, viewer: Viewer, slug: Any, form: dict[str, Any]) -> Journal:
    """An administrator creates a journal; its managers then configure the rest."""
    signed_in(viewer, "creating a journal")
    require(viewer.role is Role.ADMIN, "only administrators create journals")
    errors: list[FieldError] = []
    if not isinstance(slug, str) or not valid_slug(slug):
        errors.append(FieldError("slug", "lower-case letters, digits and hyphens, at most 64"))
    values = _settings(form, errors)
    refuse_if(errors, "the journal cannot be created")
    with node.transaction() as tx:
        if tx.execute(select(journals.c.slug).where(journals.c.slug == slug)).first() is not None:
            raise Conflict(f"a journal '{slug}' exists already")
        tx.execute(insert(journals).values(slug=slug, created=utcnow(), **values))
    return get(node, slug)


def edit(node: Node, viewer: Viewer, slug: str, form: dict[str, Any]) -> Journal:
    signed_in(viewer, "configuring a journal")
    errors: list[FieldError] = []
    values = _settings(form, errors)
    with node.transaction() as tx:
        journal_row(tx, slug)
        require(journal_standing(tx, viewer, slug).manages, "only the journal's managers configure it")
        refuse_if(errors, "the journal cannot be changed")
        tx.execute(update(journals).where(journals.c.slug == slug).values(**values))
    return get(node, slug)


def add_section(node: Node, viewer: Viewer, slug: str, title: Any) -> None:
    errors: list[FieldError] = []
    name = text(title, "section", errors, limit=MAX_LINE, required=True)
    with node.transaction() as tx:
        journal_row(tx, slug)
        require(journal_standing(tx, viewer, slug).manages, "only the journal's managers configure it")
        refuse_if(errors, "the section cannot be added")
        top = tx.execute(select(func.max(journal_sections.c.position)).where(journal_sections.c.journal == slug))
        tx.execute(insert(journal_sections).values(journal=slug, title=name, position=(top.scalar() or 0) + 1))


def remove_section(node: Node, viewer: Viewer, slug: str, section_id: int) -> None:
    with node.transaction() as tx:
        journal_row(tx, slug)
        require(journal_standing(tx, viewer, slug).manages, "only the journal's managers configure it")
        key = and_(journal_sections.c.journal == slug, journal_sections.c.id == section_id)
        if tx.execute(delete(journal_sections).where(key)).rowcount == 0:
            raise NotFound("no such section")
        used = journal_submissions.c.section_id == section_id
        tx.execute(update(journal_submissions).where(used).values(section_id=None))


# -- people ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    user_id: int
    name: str
    email: str
    role: JournalRole


def people(node: Node, slug: str) -> list[Person]:
    query = (
        select(users.c.id, users.c.display_name, users.c.name, users.c.email, journal_roles.c.role)
        .join(journal_roles, journal_roles.c.user_id == users.c.id)
        .where(journal_roles.c.journal == slug)
        .order_by(journal_roles.c.role, users.c.id)
    )
    with node.engine.connect() as conn:
        return [Person(r.id, r.display_name or r.name, r.email or "", JournalRole(r.role)) for r in conn.execute(query)]


def holders(node: Node, slug: str, *roles: JournalRole) -> list[accounts.Account]:
    """The accounts holding any of ``roles`` (who hears of a step); the administrators when nobody does."""
    wanted = [r.value for r in roles]
    with node.engine.connect() as conn:
        query = select(journal_roles.c.user_id).where(journal_roles.c.journal == slug, journal_roles.c.role.in_(wanted))
        ids = sorted(set(conn.execute(query).scalars()))
        if not ids:
            ids = list(conn.execute(select(users.c.id).where(users.c.role == Role.ADMIN.value)).scalars())
    found = [accounts.get(node, i) for i in ids]
    return [a for a in found if a is not None and a.email]


def _role(value: Any) -> JournalRole:
    try:
        role = JournalRole(value)
    except ValueError:
        role = None
    if role not in STAFF_ROLES:
        raise InvalidInput("choose a role", [FieldError("role", ", ".join(r.value for r in STAFF_ROLES))])
    return role


def grant(node: Node, viewer: Viewer, slug: str, email: Any, role: Any) -> accounts.Account:
    """A manager gives a role to the account with this email (an unknown email is a 404; nothing is created)."""
    signed_in(viewer, "managing a journal's people")
    given = _role(role)
    errors: list[FieldError] = []
    address = text(email, "email", errors, limit=320, required=True)
    with node.transaction() as tx:
        journal_row(tx, slug)
        require(journal_standing(tx, viewer, slug).manages, "only the journal's managers choose its people")
        refuse_if(errors, "give the email address of an account")
        account = accounts.by_email(tx, address)
        if account is None:
            raise NotFound("no account has this email address")
        key = and_(journal_roles.c.journal == slug, journal_roles.c.user_id == account.id)
        if tx.execute(select(journal_roles.c.role).where(key, journal_roles.c.role == given.value)).first() is None:
            tx.execute(insert(journal_roles).values(journal=slug, user_id=account.id, role=given.value))
    return account


def grant_to(node: Node, slug: str, user_id: int, role: JournalRole) -> None:
    """For setting up (tests, the CLI, the demo): give a role without a viewer."""
    with node.transaction() as tx:
        tx.execute(insert(journal_roles).values(journal=slug, user_id=user_id, role=role.value))


def revoke(node: Node, viewer: Viewer, slug: str, user_id: int, role: Any) -> None:
    signed_in(viewer, "managing a journal's people")
    taken = _role(role)
    with node.transaction() as tx:
        journal_row(tx, slug)
        require(journal_standing(tx, viewer, slug).manages, "only the journal's managers choose its people")
        key = and_(journal_roles.c.journal == slug, journal_roles.c.user_id == user_id)
        if tx.execute(delete(journal_roles).where(key, journal_roles.c.role == taken.value)).rowcount == 0:
            raise NotFound("this account does not hold this role")


def standing(node: Node, viewer: Viewer, slug: str) -> Any:
    with node.engine.connect() as conn:
        journal_row(conn, slug)
        return journal_standing(conn, viewer, slug)
