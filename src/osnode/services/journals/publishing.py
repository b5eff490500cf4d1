"""Publication: an accepted, proofed submission becomes an ordinary record of the node (a JournalArticle whose
``relatedItems`` names the journal, the volume, the issue and the pages), with its galleys as the record's files,
through ``services.deposit`` like any deposit, so it gets the landing page, DataCite, OAI-PMH, search,
replication and fixity. ``journal_of`` tells the export formats the journal-level facts of a record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from ...domain.access import Viewer
from ...domain.errors import Conflict, FieldError, InvalidInput, NotFound
from ...domain.journals import FileKind, ReviewMode, Stage
from ...domain.records import Role, Version
from ...formats import jats
from ...formats.articles import GALLEY_MEDIA_TYPES, JournalFacts
from ...storage.blobs import StoredBlob
from ...storage.journals import journal_issues, journal_reviews, journal_submissions, journals
from .. import deposit, records
from ..node import Node, utcnow
from . import issues, standards
from .common import journal_standing, require, signed_in, small_int, text
from .journals import Journal, get
from .reviews import reviews_of
from .submissions import Submission, _submission, row_of

REVIEWED_BY = "IsReviewedBy"


def article_metadata(
    journal: Journal,
    metadata: dict[str, Any],
    issue: issues.Issue | None,
    year: int,
    first_page: str | None = None,
    last_page: str | None = None,
) -> dict[str, Any]:
    """The record's metadata: the article's, with the journal as its container (the contract with the
    export formats: one ``relatedItems`` entry, relatedItemType Journal, relationType IsPublishedIn)."""
    meta = dict(metadata)
    container: dict[str, Any] = {
        "relatedItemType": "Journal",
        "relationType": "IsPublishedIn",
        "titles": [{"title": journal.title()}],
        "publicationYear": year,
        "publisher": journal.publisher,
    }
    if journal.issn:
        # DataCite's types name the medium, as the export formats read them: EISSN online, ISSN print.
        container["relatedItemIdentifier"] = {
            "relatedItemIdentifier": journal.issn,
            "relatedItemIdentifierType": "EISSN" if journal.issn_online else "ISSN",
        }
    if issue is not None:
        container |= {"volume": issue.volume, "issue": issue.number}
    if first_page:
        container["firstPage"] = first_page
    if last_page:
        container["lastPage"] = last_page
    meta["relatedItems"] = [container]
    meta["publisher"] = {"name": journal.publisher}
    meta["publicationYear"] = year
    meta["resourceType"] = {"resourceTypeGeneral": "JournalArticle", "resourceType": "Article"}
    meta["rightsList"] = [{"rightsIdentifier": journal.licence}]
    return meta


def schedule(node: Node, viewer: Viewer, submission_id: str, form: dict[str, Any]) -> Submission:
    """Put a proofed article into an unpublished issue (with its pages); it is published with the issue."""
    signed_in(viewer, "scheduling an article")
    errors: list[FieldError] = []
    first = text(form.get("first_page"), "first_page", errors, limit=20)
    last = text(form.get("last_page"), "last_page", errors, limit=20)
    issue_id = small_int(form.get("issue"))
    if issue_id is None:
        errors.append(FieldError("issue", "choose an issue"))
    if errors:
        raise InvalidInput("the article cannot be scheduled", errors)
    with node.transaction() as tx:
        row = row_of(tx, submission_id)
        require(journal_standing(tx, viewer, row.journal).publishes, "only the journal's managers and editors do this")
        _ready(tx, row)
        issue = tx.execute(
            select(journal_issues).where(journal_issues.c.id == issue_id, journal_issues.c.journal == row.journal)
        ).first()
        if issue is None or issue.published is not None:
            raise InvalidInput("choose an issue that is not published yet", [FieldError("issue", "not open")])
        tx.execute(
            update(journal_submissions)
            .where(journal_submissions.c.id == submission_id)
            .values(issue_id=issue.id, first_page=first or None, last_page=last or None, updated=utcnow())
        )
        return _submission(tx, row_of(tx, submission_id))


def _ready(conn: Any, row: Any) -> None:
    if row.stage != Stage.PRODUCTION.value:
        raise Conflict("only an article in production can be published")
    if row.proofs_approved is None:
        raise Conflict("the author has not approved the proofs yet")
    sub = _submission(conn, row)
    if not sub.files_of(FileKind.GALLEY):
        raise Conflict("the article has no galley")


def _publish_one(node: Node, journal: Journal, submission_id: str, issue: issues.Issue | None, editor: int) -> str:
    with node.engine.connect() as conn:
        row = row_of(conn, submission_id)
        _ready(conn, row)
        sub = _submission(conn, row)
    year = issue.year if issue is not None else utcnow().year
    # The author owns the record (it is their article); the journal acts for them here, as its editors may.
    owner = Viewer(user_id=sub.author_id, role=Role.DEPOSITOR)
    meta = article_metadata(journal, sub.metadata, issue, year, sub.first_page, sub.last_page)
    draft = deposit.create_draft(node, owner, meta, {"level": "open"})
    try:  # whatever stops the publication leaves no half-made article behind
        used: set[str] = set()
        for galley in sub.files_of(FileKind.GALLEY):
            key = galley.name if galley.name not in used else f"{galley.id}-{galley.name}"
            used.add(key)
            blob = StoredBlob(galley.sha256, galley.size)
            deposit.attach_blob(node, draft.id, key, blob, owner, galley.media_type)
        # Nothing invalid is published: the JATS (and Crossref deposit) are checked on the draft.
        _check_and_add_jats(node, journal, issue, sub, draft, owner, meta)
        reports = _publish_reports(node, journal, sub, draft.record_id, editor)
        if reports:  # the article names its published reviews, as they name it
            relations = [
                {"relatedIdentifier": node.record_url(r), "relatedIdentifierType": "URL", "relationType": REVIEWED_BY}
                for r in reports
            ]
            meta["relatedIdentifiers"] = [*meta.get("relatedIdentifiers", []), *relations]
            deposit.update_draft(node, draft.id, owner, meta)
        deposit.publish(node, draft.id, owner)
    except Exception:
        deposit.delete_draft(node, draft.id, owner)
        raise
    now = utcnow()
    with node.transaction() as tx:
        tx.execute(
            update(journal_submissions)
            .where(journal_submissions.c.id == submission_id)
            .values(stage=Stage.PUBLISHED.value, record_id=draft.record_id, published=now, updated=now)
        )
    return draft.record_id


def _body(node: Node, sub: Submission) -> tuple[dict[str, Any], jats.Galley | None]:
    """The galleys by media type, and the one the JATS body is made from (JATS, else HTML)."""
    kinds = {f.media_type: f for f in sub.files_of(FileKind.GALLEY) if f.media_type in GALLEY_MEDIA_TYPES}
    source = kinds.get(standards.JATS_TYPE) or kinds.get("text/html")
    if source is None:
        return kinds, None
    kind = "jats" if source.media_type == standards.JATS_TYPE else "html"
    return kinds, jats.Galley(kind, node.blobs.read_bytes(source.sha256))


def precheck(node: Node, journal: Journal, submission_id: str, issue: issues.Issue | None) -> None:
    """The same check as at publication, before anything is made: publishing an issue stops before its first
    article if any of them would be refused."""
    with node.engine.connect() as conn:
        sub = _submission(conn, row_of(conn, submission_id))
    year = issue.year if issue is not None else utcnow().year
    meta = article_metadata(journal, sub.metadata, issue, year, sub.first_page, sub.last_page)
    prefix = standards.doi_prefix(journal)
    if prefix and not meta.get("doi"):
        meta["doi"] = f"{prefix}/{journal.slug}.{submission_id}"
    _, body = _body(node, sub)
    standards.check(node, journal, standards.draft_view(node, meta, standards.facts(node, journal, issue)), body)


def _check_and_add_jats(
    node: Node,
    journal: Journal,
    issue: issues.Issue | None,
    sub: Submission,
    draft: Version,
    owner: Viewer,
    meta: dict[str, Any],
) -> None:
    """Nothing invalid is published: the article's JATS (with its HTML or JATS galley as the body) and, when the
    journal registers DOIs with Crossref, its Crossref deposit must be valid, or ``InvalidInput`` says why
    (the caller then drops the draft). The JATS is kept as the record's ``article.xml`` when no galley is JATS
    already (converting the body costs ~50 ms: done once here, never per request)."""
    prefix = standards.doi_prefix(journal)
    if prefix and not meta.get("doi"):
        meta["doi"] = f"{prefix}/{journal.slug}.{draft.record_id}"
        deposit.update_draft(node, draft.id, owner, meta)
    kinds, body = _body(node, sub)
    view = standards.view_of(node, records.get_version(node, draft.id, owner), standards.facts(node, journal, issue))
    document = standards.check(node, journal, view, body)  # InvalidInput: the caller drops the draft
    if document is not None and standards.JATS_TYPE not in kinds:
        blob = node.blobs.put_stream(iter([document]))
        deposit.attach_blob(node, draft.id, standards.JATS_GALLEY, blob, owner, standards.JATS_TYPE)


def _publish_reports(node: Node, journal: Journal, sub: Submission, article_id: str, editor: int) -> list[str]:
    """Open peer review, when the journal publishes its reviews: each submitted report (the comments for the
    author, never those for the editor) becomes a record of its own (PeerReview) that ``Reviews`` the article,
    in the reviewer's name. Owned by the editor who publishes: a reviewer needs no account."""
    if journal.review_mode is not ReviewMode.OPEN or not journal.text("publish_reviews"):
        return []
    made: list[str] = []
    with node.engine.connect() as conn:
        found = [r for r in reviews_of(conn, sub.id) if r.status == "submitted" and r.for_author]
    viewer = Viewer(user_id=editor, role=Role.DEPOSITOR)
    for review in found:
        meta = {
            "titles": [{"title": f"Review of: {sub.title()} (round {review.round})"}],
            "creators": [{"name": review.name, "nameType": "Personal"}],
            "descriptions": [{"description": review.for_author, "descriptionType": "Other"}],
            "resourceType": {"resourceTypeGeneral": "PeerReview"},
            "publisher": {"name": journal.publisher},
            "rightsList": [{"rightsIdentifier": journal.licence}],
            "relatedIdentifiers": [
                {
                    "relatedIdentifier": node.record_url(article_id),
                    "relatedIdentifierType": "URL",
                    "relationType": "Reviews",
                }
            ],
        }
        draft = deposit.create_draft(node, viewer, meta, {"level": "metadata-only"})
        deposit.publish(node, draft.id, viewer)
        with node.transaction() as tx:
            tx.execute(
                update(journal_reviews).where(journal_reviews.c.id == review.id).values(record_id=draft.record_id)
            )
        made.append(draft.record_id)
    return made


def publish_now(node: Node, viewer: Viewer, submission_id: str) -> str:
    """Continuous publication: the article is published at once, in no issue."""
    signed_in(viewer, "publishing")
    with node.engine.connect() as conn:
        row = row_of(conn, submission_id)
        require(
            journal_standing(conn, viewer, row.journal).publishes, "only the journal's managers and editors do this"
        )
        _ready(conn, row)
    return _publish_one(node, get(node, row.journal), submission_id, None, viewer.user_id or 0)


def publish_issue(node: Node, viewer: Viewer, slug: str, issue_id: int) -> tuple[issues.Issue, list[Submission]]:
    """Publish the issue and every article scheduled in it; an article not ready stops it before anything is
    published."""
    signed_in(viewer, "publishing")
    issue = issues.get(node, slug, issue_id, viewer)
    if issue.published is not None:
        raise Conflict("this issue is published already")
    with node.engine.connect() as conn:
        require(journal_standing(conn, viewer, slug).publishes, "only the journal's managers and editors do this")
        ids = issues.scheduled(node, issue_id)
        if not ids and not issues.contents(node, issue, 1, 1).total:
            raise Conflict("no article is scheduled in this issue")
        for submission_id in ids:
            _ready(conn, row_of(conn, submission_id))
    journal = get(node, slug)
    for submission_id in ids:
        precheck(node, journal, submission_id, issue)
    for submission_id in ids:
        _publish_one(node, journal, submission_id, issue, viewer.user_id or 0)
    issues.mark_published(node, issue_id)
    with node.engine.connect() as conn:
        done = [_submission(conn, row_of(conn, i), with_files=False) for i in ids]
    return issues.get(node, slug, issue_id), done


# -- what export formats read: the journal-level facts of a published article --------------------------------


@dataclass(frozen=True)
class Placement:
    """Where this node's journals published a record, as the pages show it (links to the journal, the issue
    and its cover); ``facts`` is what the export formats read (``formats.articles.JournalFacts``)."""

    slug: str
    title: str
    titles: list[dict[str, str]]
    issn_print: str | None
    issn_online: str | None
    issn_l: str | None
    publisher: str
    licence: str
    issue_id: int | None
    volume: str | None
    issue: str | None
    issue_title: str | None
    issue_year: int | None
    has_cover: bool
    first_page: str | None
    last_page: str | None
    submission_id: str

    def facts(self, base_url: str) -> JournalFacts:
        home = f"{base_url}/journals/{self.slug}"
        return JournalFacts(
            title=self.title,
            issn_online=self.issn_online,
            issn_print=self.issn_print,
            issn_l=self.issn_l,
            publisher=self.publisher,
            journal_id=self.slug,
            issue_title=self.issue_title,
            issue_url=f"{home}/issues/{self.issue_id}" if self.issue_id is not None else None,
            url=home,
        )


def placement_of(node: Node, record_id: str) -> Placement | None:
    """The journal (and issue) a record was published in by this node's journals, or ``None``."""
    query = (
        select(
            journal_submissions.c.id,
            journal_submissions.c.first_page,
            journal_submissions.c.last_page,
            journals,
            journal_issues.c.id.label("issue_id"),
            journal_issues.c.volume,
            journal_issues.c.number,
            journal_issues.c.title.label("issue_title"),
            journal_issues.c.year,
            journal_issues.c.cover_sha256,
        )
        .join(journals, journals.c.slug == journal_submissions.c.journal)
        .outerjoin(journal_issues, journal_issues.c.id == journal_submissions.c.issue_id)
        .where(journal_submissions.c.record_id == record_id, journal_submissions.c.published.is_not(None))
    )
    with node.engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    titles = list(row.titles or [])
    return Placement(
        slug=row.slug,
        title=titles[0]["title"] if titles else row.slug,
        titles=titles,
        issn_print=row.issn_print,
        issn_online=row.issn_online,
        issn_l=row.issn_l,
        publisher=row.publisher,
        licence=row.licence,
        issue_id=row.issue_id,
        volume=row.volume,
        issue=row.number,
        issue_title=row.issue_title,
        issue_year=row.year,
        has_cover=row.cover_sha256 is not None,
        first_page=row.first_page,
        last_page=row.last_page,
        submission_id=row.id,
    )


def journal_of(node: Node, record_id: str) -> JournalFacts | None:
    """The journal-level facts the export formats need (both ISSNs, the issue's title), or ``None`` for a
    record that is not an article of this node's journals. One query."""
    found = placement_of(node, record_id)
    return found.facts(node.settings.public_url) if found else None


def published_submission(node: Node, record_id: str) -> str:
    with node.engine.connect() as conn:
        found = conn.execute(
            select(journal_submissions.c.id).where(journal_submissions.c.record_id == record_id)
        ).scalar()
    if found is None:
        raise NotFound("no such article")
    return found
