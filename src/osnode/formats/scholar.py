"""Google Scholar's ``citation_*`` meta tags (Highwire Press names) for an article's landing page.

Scholar indexes a page that carries them in its head: title, every author (with their institution), the date
(as YYYY/MM/DD), the journal with its ISSN, volume, issue and pages, the DOI, and where the full text is (a PDF
galley, an HTML galley) when readers may download it. Pure: the page template writes each pair, escaped.
"""

from __future__ import annotations

from . import RecordView
from .articles import ARTICLE, container, galleys
from .citation import family_given


def meta_tags(view: RecordView) -> list[tuple[str, str]]:
    """``(name, content)`` of every tag, in the order Scholar documents them; none for other kinds than articles."""
    if view.kind != ARTICLE:
        return []
    meta = view.metadata
    tags = [("citation_title", meta.main_title())]
    for creator in meta.creators:
        split = family_given(creator)
        tags.append(("citation_author", f"{split[0]}, {split[1]}" if split and split[1] else creator.name or ""))
        tags += [("citation_author_institution", a.name) for a in creator.affiliations]
        if creator.orcid:
            tags.append(("citation_author_orcid", f"https://orcid.org/{creator.orcid}"))
    if view.issued:
        tags.append(("citation_publication_date", view.issued.replace("-", "/")))
    item = container(view)
    if item is not None:
        if item.titles:
            tags.append(("citation_journal_title", item.titles[0].title))
        ident = item.relatedItemIdentifier
        if ident is not None and ident.relatedItemIdentifierType in ("ISSN", "EISSN", "LISSN"):
            tags.append(("citation_issn", ident.relatedItemIdentifier))
        for name, value in (
            ("citation_volume", item.volume),
            ("citation_issue", item.issue),
            ("citation_firstpage", item.firstPage),
            ("citation_lastpage", item.lastPage),
        ):
            if value:
                tags.append((name, value))
        if item.publisher:
            tags.append(("citation_publisher", item.publisher))
    if meta.doi:
        tags.append(("citation_doi", meta.doi))
    if meta.language:
        tags.append(("citation_language", meta.language))
    for subject in meta.subjects:
        tags.append(("citation_keywords", subject.subject))
    tags.append(("citation_abstract_html_url", view.identifier))
    for kind, galley in galleys(view):
        if kind == "pdf":
            tags.append(("citation_pdf_url", galley.download_url))
        elif kind == "html":
            tags.append(("citation_fulltext_html_url", galley.download_url))
    return [(name, content) for name, content in tags if content]
