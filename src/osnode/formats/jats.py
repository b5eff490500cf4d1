"""JATS 1.3 (Journal Publishing, with MathML 3) XML of a published article.

Front matter from the record (journal-meta from ``JournalFacts`` or the container, article-meta from the DataCite
metadata: titles per language, contributors with ORCID, affiliations with ROR, abstracts per language, keywords,
funding, volume/issue/pages, publication date, licence, galleys as self-uri, the DOI), the body when an HTML or
JATS galley is given (``jats_body`` rebuilds it from an allow-list), and the references as a ref-list.
An article the schema would refuse (no journal, no ISSN) raises ``InvalidInput`` before anything is written.
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from lxml import etree

from ..domain.identifiers import orcid_url
from ..domain.metadata import Creator
from . import RecordView, jats_body
from .articles import ARTICLE, JournalFacts, container, galleys, journal_facts, paragraphs, require_article
from .citation import family_given
from .links import funder_url, identifier_url, rights_url
from .xmltext import XML_LANG, clean

XLINK = "http://www.w3.org/1999/xlink"
ALI = "http://www.niso.org/schemas/ali/1.0/"
MEDIA_TYPE = "application/jats+xml"
OAI_PREFIX = "jats"
# JATS elements have no namespace, but OAI-PMH's <metadata> takes only elements of another namespace: there the
# article is put in the NCBI JATS namespace, the one Crossref deposits carry JATS in (``jats:abstract``), under
# which the JATS 1.3 schema that Crossref and commonmeta-py ship declares it.
JATS_NAMESPACE = "http://www.ncbi.nlm.nih.gov/JATS1"
OAI_NAMESPACE = JATS_NAMESPACE
OAI_SCHEMA = "https://jats.nlm.nih.gov/publishing/1.3/xsd/JATS-journalpublishing1-3-mathml3.xsd"
_NSMAP = {"xlink": XLINK, "ali": ALI}
_REFERENCES = ("References", "Cites")


@dataclass(frozen=True)
class Galley:
    """The text of an HTML or JATS galley, for the body; the caller reads the file (formats do no I/O)."""

    kind: Literal["html", "jats"]
    data: bytes


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, tag, {k.replace("_", "-"): v for k, v in attributes.items()})
    if text is not None:
        element.text = clean(text)
    return element


def _lang(element: etree._Element, lang: str | None) -> etree._Element:
    if lang:
        element.set(XML_LANG, lang)
    return element


def abstract(parent: etree._Element, tag: str, text: str, lang: str | None, namespace: str = "") -> None:
    """One abstract (or ``trans-abstract``) as paragraphs; Crossref reuses it in the JATS namespace."""
    ns = f"{{{namespace}}}" if namespace else ""
    element = _lang(etree.SubElement(parent, f"{ns}{tag}"), lang)
    for paragraph in paragraphs(text) or [text.strip()]:
        etree.SubElement(element, f"{ns}p").text = clean(paragraph)


def _journal_meta(front: etree._Element, journal: JournalFacts) -> None:
    meta = _sub(front, "journal-meta")
    _sub(meta, "journal-id", journal.journal_id or journal.title, journal_id_type="publisher-id")
    group = _sub(meta, "journal-title-group")
    _sub(group, "journal-title", journal.title)
    if journal.abbreviated_title:
        _sub(group, "abbrev-journal-title", journal.abbreviated_title)
    for issn, medium in journal.issns:
        _sub(meta, "issn", issn, publication_format=medium)
    if journal.issn_l:
        _sub(meta, "issn-l", journal.issn_l)
    if journal.publisher:
        _sub(_sub(meta, "publisher"), "publisher-name", journal.publisher)


def _name(contrib: etree._Element, creator: Creator) -> None:
    split = family_given(creator)
    if creator.nameType == "Organizational":
        _sub(contrib, "collab", creator.name)
    elif split is None:
        _sub(contrib, "string-name", creator.name)
    else:
        name = _sub(contrib, "name")
        _sub(name, "surname", split[0])
        if split[1]:
            _sub(name, "given-names", split[1])


def _ids(view: RecordView) -> str:
    """A prefix for the article's xs:ID values, from its own id: several articles in one document (an OAI-PMH
    list page) must not share one, and an ID starts with a letter."""
    slug = re.sub(r"[^A-Za-z0-9._-]", "_", view.identifier.rstrip("/").rsplit("/", 1)[-1])
    return f"a{slug}-"


def _contributors(meta_element: etree._Element, view: RecordView) -> None:
    meta = view.metadata
    affiliations: dict[tuple[str, str | None], str] = {}
    for creator in meta.creators:
        for a in creator.affiliations:
            affiliations.setdefault((a.name, a.ror), f"{_ids(view)}aff{len(affiliations) + 1}")
    if meta.creators:
        group = _sub(meta_element, "contrib-group")
        for creator in meta.creators:
            contrib = _sub(group, "contrib", contrib_type="author")
            if creator.orcid:
                _sub(contrib, "contrib-id", orcid_url(creator.orcid), contrib_id_type="orcid")
            _name(contrib, creator)
            for a in creator.affiliations:
                _sub(contrib, "xref", ref_type="aff", rid=affiliations[(a.name, a.ror)])
    for (name, ror), ident in affiliations.items():
        aff = _sub(meta_element, "aff", id=ident)
        wrap = _sub(aff, "institution-wrap")
        if ror:
            _sub(wrap, "institution-id", ror, institution_id_type="ror")
        _sub(wrap, "institution", name)


def _pub_date(meta_element: etree._Element, view: RecordView) -> None:
    issued = view.issued or (str(view.year) if view.year else None)
    if issued is None:
        _sub(meta_element, "pub-date-not-available")
        return
    date = _sub(meta_element, "pub-date", publication_format="electronic", date_type="pub")
    parts = issued.split("-")
    if len(parts) == 3:
        _sub(date, "day", parts[2])
    if len(parts) >= 2:
        _sub(date, "month", parts[1])
    _sub(date, "year", parts[0])


def _permissions(meta_element: etree._Element, view: RecordView) -> None:
    stated = [r for r in view.metadata.rightsList if rights_url(r) or r.rights or r.rightsIdentifier]
    if not stated:
        return
    permissions = _sub(meta_element, "permissions")
    for rights in stated:
        licence = _sub(permissions, "license")
        url = rights_url(rights)
        if url:
            licence.set(f"{{{XLINK}}}href", url)
            _sub(licence, f"{{{ALI}}}license_ref", url)
        _lang(_sub(licence, "license-p", rights.rights or rights.rightsIdentifier or url), rights.lang)


def _abstracts(meta_element: etree._Element, view: RecordView) -> None:
    found = [d for d in view.metadata.descriptions if d.descriptionType == "Abstract"]
    # The abstract in the article's language is the abstract; the others are its translations.
    found.sort(key=lambda d: d.lang != view.metadata.language)
    for i, description in enumerate(found):
        abstract(meta_element, "abstract" if i == 0 else "trans-abstract", description.description, description.lang)


def _keywords(meta_element: etree._Element, view: RecordView) -> None:
    by_lang: dict[str | None, list[str]] = defaultdict(list)
    for subject in view.metadata.subjects:
        if subject.subject not in by_lang[subject.lang]:
            by_lang[subject.lang].append(subject.subject)
    for lang, words in by_lang.items():
        group = _lang(_sub(meta_element, "kwd-group", kwd_group_type="author"), lang)
        for word in words:
            _sub(group, "kwd", word)


def _funding(meta_element: etree._Element, view: RecordView) -> None:
    if not view.metadata.fundingReferences:
        return
    group = _sub(meta_element, "funding-group")
    for funding in view.metadata.fundingReferences:
        award = _sub(group, "award-group")
        source = _sub(award, "funding-source")
        url = funder_url(funding)
        if url:
            wrap = _sub(source, "institution-wrap")
            kind = "ror" if "ror.org" in url else "doi" if "doi.org" in url else "uri"
            _sub(wrap, "institution-id", url, institution_id_type=kind)
            _sub(wrap, "institution", funding.funderName)
        else:
            source.text = clean(funding.funderName)
        if funding.awardNumber:
            _sub(award, "award-id", funding.awardNumber)


def _article_meta(front: etree._Element, view: RecordView) -> None:
    meta = view.metadata
    element = _sub(front, "article-meta")
    if meta.doi:
        _sub(element, "article-id", meta.doi, pub_id_type="doi")
    _sub(element, "article-id", view.identifier.rstrip("/").rsplit("/", 1)[-1], pub_id_type="publisher-id")
    titles = _sub(element, "title-group")
    _sub(titles, "article-title", meta.main_title())
    main = next((t for t in meta.titles if t.title == meta.main_title()), None)
    if main is not None and main.lang:
        titles[-1].set(XML_LANG, main.lang)
    for title in meta.titles:
        if title.titleType == "Subtitle":
            _lang(_sub(titles, "subtitle", title.title), title.lang)
    for title in meta.titles:
        if title.titleType == "TranslatedTitle":
            group = _lang(_sub(titles, "trans-title-group"), title.lang)
            _sub(group, "trans-title", title.title)
    for title in meta.titles:
        if title.titleType == "AlternativeTitle":
            _lang(_sub(titles, "alt-title", title.title), title.lang)
    _contributors(element, view)
    _pub_date(element, view)
    item = container(view)
    if item is not None:
        if item.volume:
            _sub(element, "volume", item.volume)
        if item.issue:
            _sub(element, "issue", item.issue)
        if item.firstPage:
            _sub(element, "fpage", item.firstPage)
            if item.lastPage:
                _sub(element, "lpage", item.lastPage)
    _permissions(element, view)
    for kind, galley in galleys(view):
        _sub(element, "self-uri", galley.key, content_type=kind).set(f"{{{XLINK}}}href", galley.download_url)
    _abstracts(element, view)
    _keywords(element, view)
    _funding(element, view)


def _references(article: etree._Element, view: RecordView) -> None:
    cited = [r for r in view.metadata.relatedIdentifiers if r.relationType in _REFERENCES]
    if not cited:
        return
    ref_list = _sub(_sub(article, "back"), "ref-list")
    for i, related in enumerate(cited, start=1):
        citation = _sub(_sub(ref_list, "ref", id=f"{_ids(view)}r{i}"), "mixed-citation")
        if related.relatedIdentifierType in ("DOI", "PMID", "arXiv", "Handle", "ISBN"):
            kind = {"DOI": "doi", "PMID": "pmid", "arXiv": "arxiv", "Handle": "handle", "ISBN": "isbn"}
            _sub(citation, "pub-id", related.relatedIdentifier, pub_id_type=kind[related.relatedIdentifierType])
        else:
            url = identifier_url(related.relatedIdentifierType, related.relatedIdentifier)
            if url:
                _sub(citation, "ext-link", url, ext_link_type="uri").set(f"{{{XLINK}}}href", url)
            else:
                citation.text = clean(f"{related.relatedIdentifierType}: {related.relatedIdentifier}")


def to_element(view: RecordView, journal: JournalFacts | None = None, galley: Galley | None = None) -> etree._Element:
    """The article as a JATS ``<article>`` element; ``InvalidInput`` when the schema would refuse it."""
    facts = journal_facts(view, journal)
    require_article(view, facts, "JATS")
    assert facts is not None
    article = etree.Element("article", nsmap=_NSMAP)
    article.set("article-type", "research-article" if view.kind == ARTICLE else "other")
    # No dtd-version: the 1.3 schema Crossref ships knows only its drafts' values ("1.3d2"), the final one "1.3".
    lang = view.metadata.language or next((t.lang for t in view.metadata.titles if t.lang), None)
    _lang(article, lang)
    front = _sub(article, "front")
    _journal_meta(front, facts)
    _article_meta(front, view)
    if galley is not None:
        body = jats_body.from_html(galley.data) if galley.kind == "html" else jats_body.from_jats(galley.data)
        if body is not None:
            article.append(body)
    _references(article, view)
    return article


def to_xml(view: RecordView, journal: JournalFacts | None = None, galley: Galley | None = None) -> bytes:
    """A standalone JATS document, UTF-8."""
    return etree.tostring(to_element(view, journal, galley), xml_declaration=True, encoding="UTF-8")


def in_namespace(article: etree._Element, namespace: str = JATS_NAMESPACE) -> etree._Element:
    """The same article with its JATS elements in ``namespace`` (attributes and other namespaces unchanged)."""
    root = etree.Element(f"{{{namespace}}}article", dict(article.attrib), nsmap={None: namespace, **_NSMAP})
    root.extend(copy.deepcopy(list(article)))
    for element in root.iter():
        if isinstance(element.tag, str) and not element.tag.startswith("{"):
            element.tag = f"{{{namespace}}}{element.tag}"
    return root


def to_oai_text(view: RecordView, _repository: str) -> str:
    """The ``<article>`` inside an OAI-PMH ``<metadata>`` (front matter and references, no body)."""
    return etree.tostring(in_namespace(to_element(view)), encoding="unicode")
