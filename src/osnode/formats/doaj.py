"""An article in DOAJ's JSON article format (the ``bibjson`` its article API takes and returns).

DOAJ publishes no package with its XML article schema, so the node writes the JSON its API documents, shaped as
DOAJ's own test fixture for creating an article: title, identifiers (DOI, print and online ISSNs), the journal
(title, volume, number, publisher, languages), year and month, pages, full-text links (the galleys, else the
landing page), the abstract, authors with affiliation and ORCID, keywords.
"""

from __future__ import annotations

from typing import Any

from ..domain.identifiers import orcid_url
from . import RecordView, unique
from .articles import JournalFacts, container, galleys, journal_facts, require_article

_CONTENT_TYPES = {"pdf": "PDF", "html": "HTML", "jats": "XML"}


def _abstract(view: RecordView) -> str | None:
    """DOAJ takes one abstract: the one in the article's language, else the first."""
    abstracts = [d for d in view.metadata.descriptions if d.descriptionType == "Abstract"]
    chosen = next((d for d in abstracts if d.lang == view.metadata.language), abstracts[0] if abstracts else None)
    return chosen.description if chosen else None


def to_json(view: RecordView, journal: JournalFacts | None = None) -> dict[str, Any]:
    """The article's ``{"bibjson": ...}``; ``InvalidInput`` when DOAJ would refuse it (no journal, no ISSN)."""
    facts = journal_facts(view, journal)
    require_article(view, facts, "a DOAJ article")
    assert facts is not None
    meta = view.metadata
    identifiers = [{"type": "doi", "id": meta.doi}] if meta.doi else []
    identifiers += [{"type": "eissn" if m == "electronic" else "pissn", "id": i} for i, m in facts.issns]
    journal_part: dict[str, Any] = {"title": facts.title}
    item = container(view)
    if item is not None and item.volume:
        journal_part["volume"] = item.volume
    if item is not None and item.issue:
        journal_part["number"] = item.issue
    if facts.publisher or item is not None and item.publisher:
        journal_part["publisher"] = facts.publisher or (item.publisher if item else None)
    if meta.language:
        journal_part["language"] = [meta.language.split("-")[0].upper()]
    bibjson: dict[str, Any] = {"title": meta.main_title(), "identifier": identifiers, "journal": journal_part}
    if view.issued:
        year, *rest = view.issued.split("-")
        bibjson["year"] = year
        if rest:
            bibjson["month"] = str(int(rest[0]))
    if item is not None and item.firstPage:
        bibjson["start_page"] = item.firstPage
        if item.lastPage:
            bibjson["end_page"] = item.lastPage
    links = [{"type": "fulltext", "url": f.download_url, "content_type": _CONTENT_TYPES[k]} for k, f in galleys(view)]
    bibjson["link"] = links or [{"type": "fulltext", "url": view.identifier, "content_type": "HTML"}]
    abstract = _abstract(view)
    if abstract:
        bibjson["abstract"] = abstract
    authors = []
    for creator in meta.creators:
        author: dict[str, Any] = {"name": creator.name}
        if creator.affiliations:
            author["affiliation"] = "; ".join(a.name for a in creator.affiliations)
        if creator.orcid:
            author["orcid_id"] = orcid_url(creator.orcid)
        authors.append(author)
    if authors:
        bibjson["author"] = authors
    keywords = unique(s.subject for s in meta.subjects)
    if keywords:
        bibjson["keywords"] = keywords
    return {"bibjson": bibjson}
