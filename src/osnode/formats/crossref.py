"""Crossref deposit XML, schema 5.5.0: one article, or every article of an issue, in one ``doi_batch``.

What a record holds (titles, authors with ORCID and ROR affiliations, abstracts, dates, pages, licence, funding,
references, DOI and landing page) comes from its ``RecordView``; what only the node and the journals service know
(who deposits, for which registrant, the batch's id and time, both ISSNs, the issue's title) is passed in.
An article that Crossref's schema would refuse raises ``InvalidInput`` naming every missing field: nothing is
written (the batch is built in memory and returned whole).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from babel import Locale, UnknownLocaleError
from lxml import etree

from ..domain.errors import FieldError, InvalidInput
from ..domain.identifiers import orcid_url
from ..domain.metadata import Creator, RelatedItem
from . import RecordView
from .articles import JournalFacts, article_errors, container, journal_facts
from .citation import family_given
from .jats import JATS_NAMESPACE, abstract
from .links import funder_url, identifier_url, rights_url
from .xmltext import XSI, clean

NAMESPACE = "http://www.crossref.org/schema/5.5.0"
SCHEMA_LOCATION = f"{NAMESPACE} https://www.crossref.org/schemas/crossref5.5.0.xsd"
AI = "http://www.crossref.org/AccessIndicators.xsd"
FR = "http://www.crossref.org/fundref.xsd"
MEDIA_TYPE = "application/vnd.crossref.deposit+xml"
_NSMAP = {None: NAMESPACE, "xsi": XSI, "jats": JATS_NAMESPACE, "ai": AI, "fr": FR}
_CITED = ("References", "Cites")


@dataclass(frozen=True)
class Deposit:
    """Who deposits a batch, for whom, and the batch's own id and time (Crossref refuses a batch whose timestamp
    is not larger than the last one it took for the same DOI, so the caller keeps them increasing)."""

    depositor_name: str
    email: str
    registrant: str
    batch_id: str
    timestamp: datetime

    def errors(self) -> list[FieldError]:
        found = []
        for name in ("depositor_name", "email", "registrant", "batch_id"):
            if not _t(getattr(self, name)):
                found.append(FieldError(f"deposit.{name}", f"a Crossref deposit needs its {name.replace('_', ' ')}"))
        if "@" not in self.email:
            found.append(FieldError("deposit.email", "the depositor's email address is not an address"))
        found += _lengths(
            "deposit.",
            {
                "depositor_name": self.depositor_name,
                "email": self.email,
                "registrant": self.registrant,
                "batch_id": self.batch_id,
            },
        )
        return found


# The schema's length limits (common5.5.0.xsd, crossref5.5.0.xsd): what would make a batch invalid.
_LIMITS = {
    "depositor_name": (1, 130),
    "email": (6, 200),
    "registrant": (1, 255),
    "batch_id": (4, 100),
    "journal title": (1, 255),
    "volume": (1, 32),
    "issue": (1, 32),
    "firstPage": (1, 32),
    "lastPage": (1, 32),
    "familyName": (1, 200),
    "givenName": (1, 200),
}


def _lengths(prefix: str, values: dict[str, str | None]) -> list[FieldError]:
    errors = []
    for name, value in values.items():
        low, high = _LIMITS[name]
        text = _t(value)
        if text is not None and not low <= len(text) <= high:
            errors.append(FieldError(prefix + name, f"Crossref takes {low} to {high} characters for the {name}"))
    return errors


_DOI = re.compile(r"10\.[0-9]{4,9}/.{1,200}")


def doi_fits(doi: str) -> bool:
    """Whether Crossref's schema takes the DOI (its suffix is at most 200 characters)."""
    return _DOI.fullmatch(doi) is not None


def crossref_language(lang: str | None) -> str | None:
    """The ISO 639-1 code Crossref's ``language`` attribute takes ("pt" of "pt-BR"), or None when there is none."""
    if not lang:
        return None
    code = lang.split("-")[0].lower()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        return None
    try:
        Locale(code)
    except (UnknownLocaleError, ValueError):
        return None
    return code


def _t(value: str | None) -> str | None:
    """The text as written (what XML cannot carry removed, ends trimmed), None when nothing is left: an element
    Crossref requires to be non-empty is then left out, or the deposit refused."""
    if not value:
        return None
    return clean(value).strip() or None


def _e(parent: etree._Element, tag_name: str, text: str | None = None, **attributes: str) -> etree._Element:
    tag = tag_name if tag_name.startswith("{") else f"{{{NAMESPACE}}}{tag_name}"
    element = etree.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = clean(text)
    return element


def _date(parent: etree._Element, issued: str | None, year: int | None) -> None:
    date = _e(parent, "publication_date", media_type="online")
    parts = (issued or str(year)).split("-")
    if len(parts) >= 2:
        _e(date, "month", parts[1])
    if len(parts) == 3:
        _e(date, "day", parts[2])
    _e(date, "year", parts[0])


def _person(parent: etree._Element, creator: Creator, sequence: str) -> None:
    split = family_given(creator)
    if split is None:
        _e(parent, "organization", _t(creator.name), sequence=sequence, contributor_role="author")
        return
    person = _e(parent, "person_name", sequence=sequence, contributor_role="author")
    family, given = split
    if _t(given):
        _e(person, "given_name", _t(given))
    _e(person, "surname", _t(family))
    named = [a for a in creator.affiliations if _t(a.name)]
    if named:
        affiliations = _e(person, "affiliations")
        for a in named:
            institution = _e(affiliations, "institution")
            _e(institution, "institution_name", _t(a.name))
            if a.ror:
                _e(institution, "institution_id", a.ror, type="ror")
    if creator.orcid:
        _e(person, "ORCID", orcid_url(creator.orcid))


def _titles(parent: etree._Element, view: RecordView) -> None:
    titles = _e(parent, "titles")
    meta = view.metadata
    _e(titles, "title", _t(meta.main_title()))
    subtitle = next((t.title for t in meta.titles if t.titleType == "Subtitle"), None)
    if _t(subtitle):
        _e(titles, "subtitle", _t(subtitle))
    original = next((t for t in meta.titles if t.titleType == "TranslatedTitle" and _t(t.title)), None)
    if original is not None:
        language = crossref_language(original.lang)
        _e(titles, "original_language_title", original.title, **({"language": language} if language else {}))


def _funding(parent: etree._Element, view: RecordView) -> None:
    named = [f for f in view.metadata.fundingReferences if _t(f.funderName)]
    if not named:
        return
    program = _e(parent, f"{{{FR}}}program", name="fundref")
    for funding in named:
        group = _e(program, f"{{{FR}}}assertion", name="fundgroup")
        name = _e(group, f"{{{FR}}}assertion", _t(funding.funderName), name="funder_name")
        url = funder_url(funding)
        if url and funding.funderIdentifierType == "Crossref Funder ID":
            _e(name, f"{{{FR}}}assertion", url, name="funder_identifier")
        elif url and funding.funderIdentifierType == "ROR":
            _e(name, f"{{{FR}}}assertion", url, name="ror")
        if _t(funding.awardNumber):
            _e(group, f"{{{FR}}}assertion", _t(funding.awardNumber), name="award_number")


def _licences(parent: etree._Element, view: RecordView) -> None:
    urls = [u for r in view.metadata.rightsList if (u := rights_url(r))]
    if not urls and not view.is_open:
        return
    program = _e(parent, f"{{{AI}}}program", name="AccessIndicators")
    if view.is_open:
        _e(program, f"{{{AI}}}free_to_read")
    for url in urls:
        _e(program, f"{{{AI}}}license_ref", url, applies_to="vor")


def _citations(parent: etree._Element, view: RecordView) -> None:
    cited = [r for r in view.metadata.relatedIdentifiers if r.relationType in _CITED and _t(r.relatedIdentifier)]
    if not cited:
        return
    citations = _e(parent, "citation_list")
    for i, related in enumerate(cited, start=1):
        citation = _e(citations, "citation", key=f"ref{i}")
        if related.relatedIdentifierType == "DOI" and doi_fits(related.relatedIdentifier):
            _e(citation, "doi", related.relatedIdentifier)
        else:
            url = identifier_url(related.relatedIdentifierType, related.relatedIdentifier)
            _e(citation, "unstructured_citation", _t(url or related.relatedIdentifier))


def _article(journal_element: etree._Element, view: RecordView) -> None:
    meta = view.metadata
    article = _e(journal_element, "journal_article", publication_type="full_text")
    if language := crossref_language(meta.language):
        article.set("language", language)
    _titles(article, view)
    if meta.creators:
        contributors = _e(article, "contributors")
        for i, creator in enumerate(meta.creators):
            _person(contributors, creator, "first" if i == 0 else "additional")
    for d in meta.descriptions:
        if d.descriptionType == "Abstract":
            abstract(article, "abstract", d.description, d.lang, JATS_NAMESPACE)
    _date(article, view.issued, view.year)
    item = container(view)
    if item is not None and _t(item.firstPage):
        pages = _e(article, "pages")
        _e(pages, "first_page", _t(item.firstPage))
        if _t(item.lastPage):
            _e(pages, "last_page", _t(item.lastPage))
    _funding(article, view)
    _licences(article, view)
    doi_data = _e(article, "doi_data")
    _e(doi_data, "doi", meta.doi)
    _e(doi_data, "resource", view.identifier)
    _citations(article, view)


def _journal(body: etree._Element, views: Sequence[RecordView], journal: JournalFacts) -> None:
    element = _e(body, "journal")
    metadata = _e(element, "journal_metadata")
    _e(metadata, "full_title", _t(journal.title))
    if _t(journal.abbreviated_title):
        _e(metadata, "abbrev_title", _t(journal.abbreviated_title))
    for issn, medium in journal.issns:
        _e(metadata, "issn", issn, media_type=medium)
    item: RelatedItem | None = container(views[0])
    if item is not None and (item.volume or item.issue or journal.issue_title):
        issue = _e(element, "journal_issue")
        if _t(journal.issue_title):
            _e(_e(issue, "titles"), "title", _t(journal.issue_title))
        year = item.publicationYear or views[0].year
        _date(issue, None if item.publicationYear else min(v.issued or "9999" for v in views), year)
        if _t(item.volume):
            _e(_e(issue, "journal_volume"), "volume", _t(item.volume))
        if _t(item.issue):
            _e(issue, "issue", _t(item.issue))
        if journal.issue_doi and journal.issue_url:
            doi_data = _e(issue, "doi_data")
            _e(doi_data, "doi", journal.issue_doi)
            _e(doi_data, "resource", journal.issue_url)
    for view in views:
        _article(element, view)


def _issue_key(view: RecordView) -> tuple[str | None, str | None]:
    item = container(view)
    return (item.volume, item.issue) if item else (None, None)


def _check(views: Sequence[RecordView], journal: JournalFacts | None, deposit: Deposit) -> JournalFacts:
    errors = deposit.errors()
    if not views:
        errors.append(FieldError("articles", "a deposit needs at least one article"))
    facts = journal_facts(views[0], journal) if views else journal
    for i, view in enumerate(views):
        prefix = f"articles.{i}." if len(views) > 1 else ""
        errors += [FieldError(prefix + e.path, e.message) for e in article_errors(view, facts, need_doi=True)]
        if not _t(view.metadata.main_title()):
            errors.append(FieldError(f"{prefix}titles", "the title has no text Crossref can take"))
        for n, creator in enumerate(view.metadata.creators):
            split = family_given(creator)
            if not _t(split[0] if split else creator.name):
                errors.append(FieldError(f"{prefix}creators.{n}", "the name has no text Crossref can take"))
        if view.metadata.doi and not doi_fits(view.metadata.doi):
            errors.append(
                FieldError(f"{prefix}doi", "Crossref takes DOIs with at most 200 characters after the prefix")
            )
        item = container(view)
        if item is not None:
            pages = {"volume": item.volume, "issue": item.issue, "firstPage": item.firstPage, "lastPage": item.lastPage}
            errors += _lengths(f"{prefix}relatedItems.0.", pages)
        for n, creator in enumerate(view.metadata.creators):
            names = {"familyName": creator.familyName, "givenName": creator.givenName}
            errors += _lengths(f"{prefix}creators.{n}.", names)
        if _issue_key(view) != _issue_key(views[0]):
            errors.append(FieldError(f"{prefix}relatedItems", "every article of an issue deposit is in one issue"))
    if facts is not None:
        errors += _lengths("journal.", {"journal title": facts.title})
        if not _t(facts.title):
            errors.append(FieldError("journal.title", "the journal's title has no text Crossref can take"))
    if errors or facts is None:
        messages = "; ".join(dict.fromkeys(e.message for e in errors))
        raise InvalidInput(f"this cannot be deposited with Crossref: {messages}", errors)
    return facts


def issue_to_xml(views: Sequence[RecordView], journal: JournalFacts | None, deposit: Deposit) -> bytes:
    """One ``doi_batch`` registering every article of one issue (volume and issue from their container)."""
    facts = _check(views, journal, deposit)
    root = etree.Element(f"{{{NAMESPACE}}}doi_batch", nsmap=_NSMAP, version="5.5.0")
    root.set(f"{{{XSI}}}schemaLocation", SCHEMA_LOCATION)
    head = _e(root, "head")
    _e(head, "doi_batch_id", _t(deposit.batch_id))
    _e(head, "timestamp", deposit.timestamp.strftime("%Y%m%d%H%M%S%f")[:17])
    depositor = _e(head, "depositor")
    _e(depositor, "depositor_name", _t(deposit.depositor_name))
    _e(depositor, "email_address", _t(deposit.email))
    _e(head, "registrant", _t(deposit.registrant))
    _journal(_e(root, "body"), views, facts)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def to_xml(view: RecordView, journal: JournalFacts | None, deposit: Deposit) -> bytes:
    """One ``doi_batch`` registering one article."""
    return issue_to_xml([view], journal, deposit)
