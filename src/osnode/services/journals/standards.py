"""The journals and the article standards: the ``formats.articles.JournalFacts`` of a journal and issue, the
check that what is about to be published exports as valid JATS (and Crossref, when the journal registers DOIs
with Crossref), and the Crossref deposits journal managers download."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ...domain.access import ANONYMOUS, Viewer
from ...domain.errors import Conflict, FieldError, InvalidInput, NotFound
from ...domain.metadata import parse_metadata
from ...domain.records import Version
from ...formats import RecordView, crossref, jats
from ...formats.articles import JournalFacts
from .. import records
from ..node import Node, utcnow
from . import issues
from .common import journal_standing, require, signed_in
from .journals import Journal, get

JATS_GALLEY = "article.xml"
JATS_TYPE = "application/jats+xml"
_DOI_PREFIX = re.compile(r"^10\.\d{4,9}$")


def facts(node: Node, journal: Journal, issue: issues.Issue | None) -> JournalFacts:
    """What the export formats need of the journal and issue (both ISSNs, the issue's title, the addresses)."""
    home = f"{node.settings.public_url}/journals/{journal.slug}"
    return JournalFacts(
        title=journal.title(),
        issn_online=journal.issn_online,
        issn_print=journal.issn_print,
        issn_l=journal.issn_l,
        publisher=journal.publisher,
        journal_id=journal.slug,
        issue_title=(issue.title or None) if issue is not None else None,
        issue_url=f"{home}/issues/{issue.id}" if issue is not None else None,
        url=home,
    )


def doi_prefix(journal: Journal) -> str | None:
    """The Crossref DOI prefix the journal registers its articles under (its ``doi_prefix`` setting), if any."""
    prefix = journal.text("doi_prefix").strip()
    return prefix if _DOI_PREFIX.match(prefix) else None


def deposit_for(node: Node, journal: Journal, batch: str, when: datetime | None = None) -> crossref.Deposit:
    """Who deposits with Crossref: the publisher, at the journal's Crossref email (else the node's admin)."""
    email = journal.text("crossref_email").strip() or node.settings.admin_email
    return crossref.Deposit(
        depositor_name=journal.publisher,
        email=email,
        registrant=journal.publisher,
        batch_id=batch,
        timestamp=when or utcnow(),
    )


def view_of(node: Node, version: Version, journal_facts: JournalFacts) -> RecordView:
    """The view of a draft (or published version) as the exports will see it once published."""
    from ..exports import file_url, landing_url  # exports reads publishing.journal_of: imported late

    view = RecordView.from_version(
        version,
        identifier=landing_url(node, version),
        record_url=node.record_url(version.record_id),
        file_url=lambda entry: file_url(node, version, entry),
        node_name=node.settings.node_name,
        today=node.today(),
    )
    return RecordView(**{**view.__dict__, "journal": journal_facts})


def draft_view(node: Node, metadata: dict[str, Any], journal_facts: JournalFacts) -> RecordView:
    """A view of metadata not yet stored (no files, a provisional address): for checking before anything is made."""
    return RecordView(
        metadata=parse_metadata(metadata),
        identifier=node.record_url("unpublished"),
        record_url=node.record_url("unpublished"),
        node_name=node.settings.node_name,
        journal=journal_facts,
    )


def check(node: Node, journal: Journal, view: RecordView, galley: jats.Galley | None) -> bytes | None:
    """The article's JATS (with the galley's body), and its Crossref deposit when the journal registers DOIs
    with Crossref: ``InvalidInput`` naming what is wrong if either cannot be made valid. Returns the JATS, or
    None for a journal without an ISSN yet: JATS needs one, and an ISSN is only given to a journal that has
    published, so a new journal publishes without JATS (its JATS export says why) until it has one."""
    errors: list[FieldError] = []
    document = None
    if journal.issn:
        try:
            document = jats.to_xml(view, view.journal, galley)
        except InvalidInput as exc:
            errors += [FieldError(f"jats.{e.path}", e.message) for e in exc.errors] or [FieldError("jats", str(exc))]
    if doi_prefix(journal):
        try:
            crossref.to_xml(view, view.journal, deposit_for(node, journal, f"check-{view.metadata.doi or 'none'}"))
        except InvalidInput as exc:
            errors += [FieldError(f"crossref.{e.path}", e.message) for e in exc.errors] or [
                FieldError("crossref", str(exc))
            ]
    if errors:
        raise InvalidInput(
            "the article cannot be published: its JATS or Crossref export would be invalid: "
            + "; ".join(f"{e.path}: {e.message}" for e in errors),
            errors,
        )
    return document


# -- Crossref deposits for the journal's managers and editors ----------------------------------------------

MAX_ISSUE_ARTICLES = 5_000
"""An issue larger than this is not deposited in one batch (Crossref's own advice is batches of a few MB)."""


def _may_deposit(node: Node, viewer: Viewer, slug: str) -> Journal:
    signed_in(viewer, "Crossref deposits")
    with node.engine.connect() as conn:
        require(journal_standing(conn, viewer, slug).publishes, "only the journal's managers and editors do this")
    return get(node, slug)


def _published_view(node: Node, record_id: str) -> RecordView:
    from ..exports import record_view  # exports reads publishing.journal_of: imported late

    return record_view(node, records.get_version(node, record_id, ANONYMOUS), ANONYMOUS)


def article_deposit(node: Node, viewer: Viewer, slug: str, record_id: str) -> bytes:
    """The Crossref 5.5.0 deposit of one published article of the journal."""
    journal = _may_deposit(node, viewer, slug)
    view = _published_view(node, record_id)
    if view.journal is None or view.journal.journal_id != slug:
        raise NotFound("no such article in this journal")
    return crossref.to_xml(view, view.journal, deposit_for(node, journal, f"{slug}-{record_id}"))


def issue_deposit(node: Node, viewer: Viewer, slug: str, issue_id: int) -> bytes:
    """One Crossref 5.5.0 batch registering every published article of the issue."""
    journal = _may_deposit(node, viewer, slug)
    issue = issues.get(node, slug, issue_id, viewer)
    entries = issues.contents(node, issue, 1, MAX_ISSUE_ARTICLES).entries
    if not entries:
        raise Conflict("the issue has no published article to deposit")
    views = [_published_view(node, e.record_id) for e in entries]
    batch = f"{slug}-issue-{issue_id}"
    return crossref.issue_to_xml(views, facts(node, journal, issue), deposit_for(node, journal, batch))
