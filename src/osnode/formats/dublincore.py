"""Simple Dublin Core as OAI-PMH's ``oai_dc`` format, the one every harvester understands.

Fifteen unqualified elements cannot say everything DataCite can, so the mapping follows the
DataCite-to-Dublin-Core crosswalk and the OpenAIRE guidelines where they agree: every title,
creators as "Family, Given", identifiers and relations as resolvable URLs, the DCMI type next to
the DataCite type, licences by URL.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from ..domain.vocabularies import RESOURCE_TYPES
from . import RecordView, unique
from .accessrights import dc_dates, dc_rights, is_access_right
from .kinds import kind_of
from .links import identifier_url, rights_url
from .xmltext import XML_LANG, XSI, clean, safe_parser

OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
SCHEMA_LOCATION = "http://www.openarchives.org/OAI/2.0/oai_dc/ http://www.openarchives.org/OAI/2.0/oai_dc.xsd"


def _add(root: etree._Element, name: str, text: str | None, lang: str | None = None) -> None:
    if text is None or not text.strip():
        return
    element = etree.SubElement(root, f"{{{DC}}}{name}")
    element.text = clean(text)
    if lang:
        element.set(XML_LANG, lang)


def _dates(view: RecordView) -> list[str]:
    dates = [view.issued] if view.issued else []
    # Under an embargo the files are available on its end date, whatever the depositor wrote.
    kept = ("Issued", "Created") if view.embargo_until else ("Issued", "Created", "Available")
    dates += [d.date for d in view.metadata.dates if d.dateType in kept]
    return unique([*dates, *dc_dates(view.embargo_until)])


def _rights(view: RecordView) -> list[str]:
    rights = []
    for r in view.metadata.rightsList:
        if is_access_right(r.rightsUri):
            continue  # stated by the node itself, below
        url = rights_url(r)
        if url:
            rights.append(url)
        if r.rights or r.rightsIdentifier:
            rights.append(r.rights or r.rightsIdentifier or "")
    return unique([*rights, *dc_rights(view.access_level)])


def dc_sources(related_items: list[dict[str, Any]]) -> list[str]:
    """dc:source of a work published in a journal, as OJS writes it (what harvesters of journals read):
    "Journal; Vol. 12 No. 3 (2026); 101-118", then the journal's ISSN alone. ``related_items`` is the stored
    JSON of relatedItems, so the OAI-PMH fast path (``oaipmh.fragments``) shares this function."""
    item = next((i for i in related_items if i.get("relationType") == "IsPublishedIn"), None)
    if item is None or not item.get("titles"):
        return []
    issue = " ".join(
        part
        for part in (
            f"Vol. {item['volume']}" if item.get("volume") else "",
            f"No. {item['issue']}" if item.get("issue") else "",
            f"({item['publicationYear']})" if item.get("publicationYear") else "",
        )
        if part
    )
    pages = item.get("firstPage", "") + (
        f"-{item['lastPage']}" if item.get("firstPage") and item.get("lastPage") else ""
    )
    sources = ["; ".join(part for part in (item["titles"][0]["title"], issue, pages) if part)]
    ident = item.get("relatedItemIdentifier") or {}
    if ident.get("relatedItemIdentifierType") in ("ISSN", "EISSN", "LISSN"):
        sources.append(ident["relatedItemIdentifier"])
    return sources


def to_oai_dc(view: RecordView) -> etree._Element:
    """The version as an ``<oai_dc:dc>`` element, ready to go inside an OAI-PMH ``<metadata>``."""
    meta = view.metadata
    root = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", SCHEMA_LOCATION)

    for title in meta.titles:
        _add(root, "title", title.title, title.lang)
    for creator in meta.creators:
        _add(root, "creator", creator.name)
    for subject in meta.subjects:
        _add(root, "subject", subject.subject, subject.lang)
    for description in meta.descriptions:
        _add(root, "description", description.description, description.lang)
    _add(root, "publisher", view.publisher_name, meta.publisher.lang if meta.publisher else None)
    for contributor in meta.contributors:
        _add(root, "contributor", contributor.name)
    for date in _dates(view):
        _add(root, "date", date)
    # The DCMI term and the DataCite term are often the same word ("Dataset", "Software"): once each.
    types = [kind_of(view.kind).dcmi, view.kind]
    if meta.resourceType and meta.resourceType.resourceType:
        types.append(meta.resourceType.resourceType)
    for kind in unique(types):
        _add(root, "type", kind)
    for media_type in view.formats():
        _add(root, "format", media_type)
    for size in view.sizes():
        _add(root, "format", size)
    identifiers = [view.doi_url, view.identifier]
    identifiers += [identifier_url(a.alternateIdentifierType, a.alternateIdentifier) for a in meta.alternateIdentifiers]
    for identifier in unique(i for i in identifiers if i):
        _add(root, "identifier", identifier)
    _add(root, "language", meta.language)
    relations = [
        identifier_url(r.relatedIdentifierType, r.relatedIdentifier) or r.relatedIdentifier
        for r in meta.relatedIdentifiers
    ]
    if view.record_url != view.identifier:
        relations.append(view.record_url)
    for relation in unique(relations):
        _add(root, "relation", relation)
    for source in dc_sources([i.model_dump(exclude_none=True) for i in meta.relatedItems]):
        _add(root, "source", source)
    for geo in meta.geoLocations:
        _add(root, "coverage", geo.geoLocationPlace)
    for date in meta.dates:
        if date.dateType in ("Coverage", "Collected"):
            _add(root, "coverage", date.date)
    for rights in _rights(view):
        _add(root, "rights", rights)
    return root


def to_xml(view: RecordView) -> bytes:
    """A standalone oai_dc document, UTF-8."""
    return etree.tostring(to_oai_dc(view), xml_declaration=True, encoding="UTF-8", pretty_print=True)


# -- reading oai_dc (harvesting) -------------------------------------------------------------------

_DOI_IN_TEXT = re.compile(r"^(?:doi:|https?://(?:dx\.)?doi\.org/)?(10\.\d{4,9}/\S+)$", re.I)
_YEAR = re.compile(r"\b(1\d{3}|2\d{3})\b")
# DCMI Type Vocabulary -> DataCite resourceTypeGeneral, for dc:type values that are not DataCite's own.
_FROM_DCMI = {
    "dataset": "Dataset",
    "text": "Text",
    "software": "Software",
    "image": "Image",
    "stillimage": "Image",
    "movingimage": "Audiovisual",
    "sound": "Sound",
    "collection": "Collection",
    "event": "Event",
    "interactiveresource": "InteractiveResource",
    "physicalobject": "PhysicalObject",
    "service": "Service",
    "article": "JournalArticle",
    "journalarticle": "JournalArticle",
    "preprint": "Preprint",
    "thesis": "Dissertation",
    "report": "Report",
    "book": "Book",
}


_ISSN_TEXT = re.compile(r"^(?:issn:?\s*)?(\d{4}-?\d{3}[\dXx])$", re.I)
_VOLUME = re.compile(r"\bVol(?:ume)?\.?\s*([^\s;,()]+)", re.I)
_NUMBER = re.compile(r"\b(?:No|Num|Number|Issue)\.?\s*([^\s;,()]+)", re.I)
_PAGES = re.compile(r"^(\w+)(?:\s*[-\u2013]\s*(\w+))?$")


def _container_from_sources(sources: list[str]) -> dict[str, Any] | None:
    """The journal a harvested article is in, read back from dc:source as OJS writes it (``dc_sources``):
    "Journal; Vol. 4 No. 1 (2019); 1-9", and the ISSN in a dc:source of its own."""
    issn = next((m.group(1).upper() for s in sources if (m := _ISSN_TEXT.match(s.strip()))), None)
    citation = next((s for s in sources if ";" in s and not _ISSN_TEXT.match(s.strip())), None)
    if citation is None:
        return None
    title, *rest = [part.strip() for part in citation.split(";")]
    if not title:
        return None
    item: dict[str, Any] = {"relatedItemType": "Journal", "relationType": "IsPublishedIn", "titles": [{"title": title}]}
    for part in rest:
        if (volume := _VOLUME.search(part)) is not None:
            item["volume"] = volume.group(1)
        if (number := _NUMBER.search(part)) is not None:
            item["issue"] = number.group(1)
        if (year := re.search(r"\((\d{4})\)", part)) is not None:
            item["publicationYear"] = int(year.group(1))
        if (pages := _PAGES.match(part)) is not None and any(c.isdigit() for c in part):
            item["firstPage"] = pages.group(1)
            if pages.group(2):
                item["lastPage"] = pages.group(2)
    if issn:
        item["relatedItemIdentifier"] = {"relatedItemIdentifier": issn, "relatedItemIdentifierType": "ISSN"}
    return item


def _dc_values(root: etree._Element, name: str) -> list[tuple[str, str | None]]:
    values = []
    for element in root.iter(f"{{{DC}}}{name}"):
        text = " ".join("".join(element.itertext()).split()) if name != "description" else "".join(element.itertext())
        text = text.strip()
        if text:
            values.append((text, element.get(XML_LANG)))
    return values


def _resource_type(types: list[str]) -> dict[str, str] | None:
    general = next((t for t in types if t in RESOURCE_TYPES and t != "Other"), None)
    if general is None:
        general = next(
            (_FROM_DCMI[t.lower().split("/")[-1]] for t in types if t.lower().split("/")[-1] in _FROM_DCMI), None
        )
    if general is None:
        return None
    others = [t for t in types if t != general and t.lower() not in _FROM_DCMI and not t.startswith("info:")]
    return {"resourceTypeGeneral": general} | ({"resourceType": others[0]} if others else {})


def from_oai_dc(root: etree._Element | bytes) -> dict[str, Any]:
    """An ``<oai_dc:dc>`` record as the node's metadata JSON, unchecked (the caller validates).

    Dublin Core says less than DataCite, so the mapping reverses the crosswalk ``to_oai_dc`` uses:
    a DOI among the identifiers becomes ``doi``, other URLs alternate identifiers; the first year in
    a date is the publication year; dc:type is read as a DataCite or DCMI type."""
    if isinstance(root, bytes):
        parser = safe_parser()
        root = etree.fromstring(root, parser)
    meta: dict[str, Any] = {}
    meta["titles"] = [{"title": t} | ({"lang": lang} if lang else {}) for t, lang in _dc_values(root, "title")]
    meta["creators"] = [{"name": n} for n, _ in _dc_values(root, "creator")]
    meta["contributors"] = [{"name": n, "contributorType": "Other"} for n, _ in _dc_values(root, "contributor")]
    meta["subjects"] = [{"subject": s} | ({"lang": lang} if lang else {}) for s, lang in _dc_values(root, "subject")]
    meta["descriptions"] = [
        {"description": d, "descriptionType": "Abstract"} | ({"lang": lang} if lang else {})
        for d, lang in _dc_values(root, "description")
    ]
    publishers = _dc_values(root, "publisher")
    if publishers:
        meta["publisher"] = {"name": publishers[0][0]}
    for value, _ in _dc_values(root, "date"):
        if value.startswith("info:"):
            continue  # an OpenAIRE term (embargoEnd), not the publication date
        year = _YEAR.search(value)
        if year:
            meta["publicationYear"] = int(year.group(1))
            break
    resource_type = _resource_type([t for t, _ in _dc_values(root, "type")])
    if resource_type:
        meta["resourceType"] = resource_type
    alternates = []
    for value, _ in _dc_values(root, "identifier"):
        doi = _DOI_IN_TEXT.match(value)
        if doi and "doi" not in meta:
            meta["doi"] = doi.group(1)
        elif value.startswith(("https://", "http://")):
            alternates.append({"alternateIdentifier": value, "alternateIdentifierType": "URL"})
    meta["alternateIdentifiers"] = alternates
    languages = _dc_values(root, "language")
    if languages:
        meta["language"] = languages[0][0]
    related = []
    for value, _ in _dc_values(root, "relation"):
        doi = _DOI_IN_TEXT.match(value)
        if doi:
            related.append(
                {"relatedIdentifier": doi.group(1), "relatedIdentifierType": "DOI", "relationType": "References"}
            )
        elif value.startswith(("https://", "http://")):
            related.append({"relatedIdentifier": value, "relatedIdentifierType": "URL", "relationType": "References"})
    meta["relatedIdentifiers"] = related
    meta["formats"] = [f for f, _ in _dc_values(root, "format") if "/" in f]
    meta["geoLocations"] = [{"geoLocationPlace": c} for c, _ in _dc_values(root, "coverage") if not _YEAR.match(c)]
    rights = []
    for value, _ in _dc_values(root, "rights"):
        if is_access_right(value):
            continue  # the other node's access level, not a licence: this node states its own
        rights.append({"rightsUri": value} if value.startswith(("https://", "http://")) else {"rights": value})
    meta["rightsList"] = rights
    journal = _container_from_sources([s for s, _ in _dc_values(root, "source")])
    if journal is not None:
        meta["relatedItems"] = [journal]
    return {k: v for k, v in meta.items() if v not in (None, [], "")}
