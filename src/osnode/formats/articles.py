"""What every article standard (JATS, Crossref, DOAJ, Google Scholar) reads the same way.

A published article is an ordinary record: its journal is the metadata's one ``relatedItems`` entry with
relationType ``IsPublishedIn`` (``Metadata.container()``), its galleys are the version's files. What a record
cannot hold (both ISSNs, the issue's title) comes as a ``JournalFacts`` from the journals service; without one,
the facts are read from the container, so an export of a record alone (OAI-PMH, content negotiation) still works.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.errors import FieldError, InvalidInput
from ..domain.identifiers import validate_issn
from ..domain.metadata import RelatedItem
from . import FileView, RecordView

ARTICLE = "JournalArticle"

# Galley kinds by the media type a file was stored with (``manuscripts.galley_kind`` sniffs the bytes).
GALLEY_MEDIA_TYPES = {
    "application/pdf": "pdf",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/jats+xml": "jats",
}


@dataclass(frozen=True)
class JournalFacts:
    """The journal and issue an article appears in, as the journals service knows them."""

    title: str
    issn_online: str | None = None
    issn_print: str | None = None
    issn_l: str | None = None
    publisher: str | None = None
    abbreviated_title: str | None = None
    journal_id: str | None = None
    """The node's short name for the journal (its slug), JATS's publisher-id."""
    issue_title: str | None = None
    issue_doi: str | None = None
    issue_url: str | None = None
    """The issue's table of contents on the node: with ``issue_doi``, Crossref registers the issue too."""
    url: str | None = None
    """The journal's home page on the node."""

    def __post_init__(self) -> None:
        # Checked here too, so an export never carries an ISSN with a wrong check digit.
        for name in ("issn_online", "issn_print", "issn_l"):
            value = getattr(self, name)
            if value:
                try:
                    object.__setattr__(self, name, validate_issn(value))
                except ValueError as exc:
                    raise InvalidInput(str(exc), [FieldError(name, str(exc))]) from None

    @property
    def issns(self) -> list[tuple[str, str]]:
        """``(issn, "electronic" | "print")``, online first (an ISSN-L alone is given as the online one)."""
        online = self.issn_online or (self.issn_l if not self.issn_print else None)
        pairs = [(online, "electronic"), (self.issn_print, "print")]
        return [(issn, medium) for issn, medium in pairs if issn]


def container(view: RecordView) -> RelatedItem | None:
    return view.metadata.container()


def journal_facts(view: RecordView, given: JournalFacts | None = None) -> JournalFacts | None:
    """The journal facts given, else the view's (``RecordView.journal``), else what the record's container
    says: its identifier's type tells the medium
    (DataCite's ``EISSN`` is the online ISSN, ``ISSN`` the print one, ``LISSN`` the linking ISSN-L)."""
    given = given or view.journal
    if given is not None:
        return given
    item = container(view)
    if item is None or not item.titles:
        return None
    ident = item.relatedItemIdentifier
    field = {"EISSN": "issn_online", "ISSN": "issn_print", "LISSN": "issn_l"}
    issn = {}
    if ident is not None and ident.relatedItemIdentifierType in field:
        issn[field[ident.relatedItemIdentifierType]] = ident.relatedItemIdentifier
    return JournalFacts(title=item.titles[0].title, publisher=item.publisher, **issn)


def article_errors(view: RecordView, journal: JournalFacts | None, *, need_doi: bool = False) -> list[FieldError]:
    """What an article lacks for its journal standards (JATS and Crossref both require an ISSN and a title)."""
    errors = []
    if not view.metadata.titles:
        errors.append(FieldError("titles", "an article needs a title"))
    if container(view) is None and journal is None:
        errors.append(FieldError("relatedItems", "an article needs its journal (a relatedItem with IsPublishedIn)"))
    elif journal is None:
        errors.append(FieldError("relatedItems.0.titles", "the journal needs a title"))
    elif not journal.issns:
        errors.append(FieldError("relatedItems.0.relatedItemIdentifier", "the journal needs an ISSN"))
    if need_doi and not view.metadata.doi:
        errors.append(FieldError("doi", "a Crossref deposit needs the article's DOI"))
    if need_doi and view.year is None:
        errors.append(FieldError("publicationYear", "a Crossref deposit needs the publication year"))
    return errors


def require_article(view: RecordView, journal: JournalFacts | None, what: str, *, need_doi: bool = False) -> None:
    errors = article_errors(view, journal, need_doi=need_doi)
    if errors:
        raise InvalidInput(f"this record cannot be exported as {what}: " + "; ".join(e.message for e in errors), errors)


def galleys(view: RecordView) -> list[tuple[str, FileView]]:
    """``(kind, file)`` of the files a reader may download that are galleys, PDF first."""
    if not view.is_open:
        return []
    found = [(GALLEY_MEDIA_TYPES[f.mimetype], f) for f in view.files if f.mimetype in GALLEY_MEDIA_TYPES]
    order = {"pdf": 0, "html": 1, "jats": 2}
    return sorted(found, key=lambda pair: order[pair[0]])


def pages(item: RelatedItem | None) -> str | None:
    """ "12-30", "12", or None."""
    if item is None or not item.firstPage:
        return None
    return f"{item.firstPage}-{item.lastPage}" if item.lastPage else item.firstPage


def paragraphs(text: str) -> list[str]:
    """An abstract's paragraphs: split at blank lines, each on one line."""
    found = [" ".join(block.split()) for block in text.replace("\r\n", "\n").split("\n\n")]
    return [p for p in found if p]
