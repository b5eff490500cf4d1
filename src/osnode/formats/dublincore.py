"""Simple Dublin Core as OAI-PMH's ``oai_dc`` format, the one every harvester understands.

Fifteen unqualified elements cannot say everything DataCite can, so the mapping follows the
DataCite-to-Dublin-Core crosswalk and the OpenAIRE guidelines where they agree: every title,
creators as "Family, Given", identifiers and relations as resolvable URLs, the DCMI type next to
the DataCite type, licences by URL.
"""

from __future__ import annotations

from lxml import etree

from . import RecordView, unique
from .kinds import kind_of
from .links import identifier_url, rights_url
from .xmltext import XML_LANG, XSI, clean

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
    dates += [d.date for d in view.metadata.dates if d.dateType in ("Issued", "Created", "Available")]
    return unique(dates)


def _rights(view: RecordView) -> list[str]:
    rights = []
    for r in view.metadata.rightsList:
        url = rights_url(r)
        if url:
            rights.append(url)
        if r.rights or r.rightsIdentifier:
            rights.append(r.rights or r.rightsIdentifier or "")
    return unique(rights)


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
    _add(root, "type", kind_of(view.kind).dcmi)
    _add(root, "type", view.kind)
    if meta.resourceType and meta.resourceType.resourceType:
        _add(root, "type", meta.resourceType.resourceType)
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
