"""DataCite Metadata Schema 4.7: XML (the kernel-4 namespace) and JSON (REST API attribute style).

``to_json`` maps the metadata to DataCite's properties once; ``to_element`` writes that same
mapping as XML, so the two encodings cannot disagree.

The primary identifier. DataCite registers DOIs only, and its documentation lists "DOI" as the
only identifierType, but the 4.7 XSD leaves ``identifierType`` unrestricted and makes
``<identifier>`` mandatory. A version with a DOI gets ``<identifier identifierType="DOI">`` and its
landing page as an alternateIdentifier of type URL. A version without a DOI (the default on a
node that mints none) gets its landing page as ``<identifier identifierType="URL">``: it validates,
says truthfully what the record is known by, and is replaced by the DOI the day one is minted.
Such XML is for harvesters and exports; it cannot be sent to DataCite to register a DOI until
there is one.

Mandatory properties a draft may still lack are filled as DataCite recommends: unknown creators and
titles get the standard value ``(:unav)``, the publisher is the node (as on publication), the
year is the publication year or, for a draft, the current year, and the type is ``Other``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lxml import etree

from ..domain import duo
from ..domain.identifiers import orcid_url
from ..domain.metadata import Creator
from . import RecordView
from .accessrights import COAR_SCHEME, COAR_SCHEME_URI, access_right, is_access_right
from .kinds import kind_of
from .links import funder_url, rights_url
from .xmltext import XSI, clean, escape_attribute, escape_text

NAMESPACE = "http://datacite.org/schema/kernel-4"
SCHEMA_LOCATION = "https://schema.datacite.org/meta/kernel-4.7/metadata.xsd"
SCHEMA_VERSION = "http://datacite.org/schema/kernel-4"
UNAVAILABLE = "(:unav)"

ORCID_SCHEME = "https://orcid.org"
ROR_SCHEME = "https://ror.org"
SPDX_SCHEME = "https://spdx.org/licenses/"


def _drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None and v != [] and v != ""}


# -- the mapping ------------------------------------------------------------------------------


def _person(creator: Creator) -> dict[str, Any]:
    identifiers = []
    if creator.orcid:
        identifiers.append(
            {"nameIdentifier": orcid_url(creator.orcid), "nameIdentifierScheme": "ORCID", "schemeUri": ORCID_SCHEME}
        )
    for ident in creator.nameIdentifiers:
        if creator.orcid and ident.nameIdentifierScheme.upper() == "ORCID" and creator.orcid in ident.nameIdentifier:
            continue  # the same ORCID given twice
        identifiers.append(
            _drop_empty(
                {
                    "nameIdentifier": ident.nameIdentifier,
                    "nameIdentifierScheme": ident.nameIdentifierScheme,
                    "schemeUri": ident.schemeUri,
                }
            )
        )
    affiliations = [
        _drop_empty(
            {
                "name": a.name,
                "affiliationIdentifier": a.ror,
                "affiliationIdentifierScheme": "ROR" if a.ror else None,
                "schemeUri": ROR_SCHEME if a.ror else None,
            }
        )
        for a in creator.affiliations
    ]
    return _drop_empty(
        {
            "name": creator.name,
            "nameType": creator.nameType,
            "givenName": creator.givenName,
            "familyName": creator.familyName,
            "nameIdentifiers": identifiers,
            "affiliation": affiliations,
        }
    )


def _rights(view: RecordView) -> list[dict[str, Any]]:
    """The licences, then the access level as a COAR and an info:eu-repo term (see ``accessrights``)."""
    result = []
    for r in view.metadata.rightsList:
        if is_access_right(r.rightsUri):
            continue  # the node states the access level itself, below: never the stored one
        spdx = r.rightsIdentifierScheme == "SPDX" and r.rightsIdentifier
        result.append(
            _drop_empty(
                {
                    "rights": r.rights or r.rightsIdentifier,
                    "rightsUri": rights_url(r),
                    "rightsIdentifier": r.rightsIdentifier,
                    "rightsIdentifierScheme": r.rightsIdentifierScheme,
                    "schemeUri": SPDX_SCHEME if spdx else None,
                    "lang": r.lang,
                }
            )
        )
    right = access_right(view.access_level)
    result.append(
        {
            "rights": right.label,
            "rightsUri": right.coar_uri,
            "rightsIdentifier": right.coar_code,
            "rightsIdentifierScheme": COAR_SCHEME,
            "schemeUri": COAR_SCHEME_URI,
        }
    )
    result.append({"rights": right.label, "rightsUri": right.eu_repo_uri})
    # GA4GH DUO terms of a managed version: each term as a rights statement in the DUO scheme.
    for term in view.data_use.term_list() if view.data_use else []:
        result.append(
            {
                "rights": f"{term.shorthand}: {term.label}",
                "rightsUri": term.purl,
                "rightsIdentifier": term.id,
                "rightsIdentifierScheme": duo.SCHEME,
                "schemeUri": duo.SCHEME_URI,
            }
        )
    return result


def _subjects(view: RecordView) -> list[dict[str, Any]]:
    stated = [s.model_dump(exclude_none=True) for s in view.metadata.subjects]
    for term in view.data_use.term_list() if view.data_use else []:
        stated.append(
            {
                "subject": term.label,
                "subjectScheme": duo.SCHEME,
                "schemeUri": duo.SCHEME_URI,
                "valueUri": term.purl,
                "classificationCode": term.id,
            }
        )
    return stated


def _dates(view: RecordView) -> list[dict[str, Any]]:
    """The depositor's dates, with ``Available`` saying when the files are (or were) open to all:
    the embargo's end for an embargoed record, the publication day for an open one, and none for
    files that are never open to all (restricted, metadata only)."""
    dates = [d.model_dump(exclude_none=True) for d in view.metadata.dates]
    if view.embargo_until:
        dates = [d for d in dates if d["dateType"] != "Available"]
        dates.append({"date": view.embargo_until.isoformat(), "dateType": "Available"})
    elif view.is_open and view.published_at and not any(d["dateType"] == "Available" for d in dates):
        dates.append({"date": view.published_at.date().isoformat(), "dateType": "Available"})
    return dates


def _related(view: RecordView) -> list[dict[str, Any]]:
    related = [r.model_dump(exclude_none=True) for r in view.metadata.relatedIdentifiers]
    # A version points at its concept, as repositories minting version and concept DOIs do.
    if view.record_url != view.identifier and not any(r["relatedIdentifier"] == view.record_url for r in related):
        related.append(
            {"relatedIdentifier": view.record_url, "relatedIdentifierType": "URL", "relationType": "IsVersionOf"}
        )
    return related


def _alternates(view: RecordView) -> list[dict[str, Any]]:
    alternates = [
        {"identifier": a.alternateIdentifier, "identifierType": a.alternateIdentifierType}
        for a in view.metadata.alternateIdentifiers
    ]
    if view.metadata.doi and not any(a["identifier"] == view.identifier for a in alternates):
        alternates.insert(0, {"identifier": view.identifier, "identifierType": "URL"})
    return alternates


def _geo(view: RecordView) -> list[dict[str, Any]]:
    return [g.model_dump(exclude_none=True) for g in view.metadata.geoLocations]


def _funding(view: RecordView) -> list[dict[str, Any]]:
    result = []
    for f in view.metadata.fundingReferences:
        kind = f.funderIdentifierType or ("Other" if f.funderIdentifier else None)
        result.append(
            _drop_empty(
                {
                    "funderName": f.funderName,
                    "funderIdentifier": funder_url(f) or f.funderIdentifier,
                    "funderIdentifierType": kind,
                    "schemeUri": ROR_SCHEME if kind == "ROR" else None,
                    "awardNumber": f.awardNumber,
                    "awardUri": f.awardUri,
                    "awardTitle": f.awardTitle,
                }
            )
        )
    return result


def to_json(view: RecordView) -> dict[str, Any]:
    """The version's DataCite metadata, as the ``attributes`` of a DataCite REST API ``dois`` resource."""
    meta = view.metadata
    kind = kind_of(view.kind)
    creators = [_person(c) for c in meta.creators] or [{"name": UNAVAILABLE}]
    titles = [t.model_dump(exclude_none=True) for t in meta.titles] or [{"title": UNAVAILABLE}]
    publisher = _drop_empty(
        {
            "name": view.publisher_name,
            "publisherIdentifier": meta.publisher.ror if meta.publisher else None,
            "publisherIdentifierScheme": "ROR" if meta.publisher and meta.publisher.ror else None,
            "schemeUri": ROR_SCHEME if meta.publisher and meta.publisher.ror else None,
            "lang": meta.publisher.lang if meta.publisher else None,
        }
    )
    contributors = [_person(c) | {"contributorType": c.contributorType} for c in meta.contributors]
    return _drop_empty(
        {
            "doi": meta.doi,
            "url": view.identifier,
            "identifiers": _alternates(view),
            "creators": creators,
            "titles": titles,
            "publisher": publisher,
            "publicationYear": view.year or datetime.now(UTC).year,
            "types": _drop_empty(
                {
                    "resourceTypeGeneral": view.kind,
                    "resourceType": meta.resourceType.resourceType if meta.resourceType else None,
                    "schemaOrg": kind.schema_org,
                    "citeproc": kind.csl,
                    "bibtex": kind.bibtex,
                    "ris": kind.ris,
                }
            ),
            "subjects": _subjects(view),
            "contributors": contributors,
            "dates": _dates(view),
            "language": meta.language,
            "relatedIdentifiers": _related(view),
            "sizes": view.sizes(),
            "formats": view.formats(),
            "version": view.version_label,
            "rightsList": _rights(view),
            "descriptions": [d.model_dump(exclude_none=True) for d in meta.descriptions],
            "geoLocations": _geo(view),
            "fundingReferences": _funding(view),
            "relatedItems": [item.model_dump(exclude_none=True) for item in meta.relatedItems],
            "schemaVersion": SCHEMA_VERSION,
        }
    )


# -- the XML encoding ------------------------------------------------------------------------
#
# Written as text, not built as an lxml tree: a harvest serializes a million of these, and creating
# the elements one by one cost more than everything else about a record. ``to_element`` parses the
# text for callers that want a tree.

# JSON property name -> XML attribute name, where they differ.
ATTRIBUTES = {
    "lang": "xml:lang",
    "schemeUri": "schemeURI",
    "valueUri": "valueURI",
    "rightsUri": "rightsURI",
    "awardUri": "awardURI",
}
_OPEN = f'<resource xmlns="{NAMESPACE}" xmlns:xsi="{XSI}" xsi:schemaLocation="{NAMESPACE} {SCHEMA_LOCATION}">'


def _element(out: list[str], name: str, text: Any = None, attributes: dict[str, Any] | None = None) -> None:
    """``<name attributes>text</name>`` (``<name .../>`` without text); None attributes are left out."""
    attrs = ""
    if attributes:
        attrs = "".join(
            f' {ATTRIBUTES.get(k, k)}="{escape_attribute(str(v))}"' for k, v in attributes.items() if v is not None
        )
    if text is None:
        out.append(f"<{name}{attrs}/>")
    else:
        out.append(f"<{name}{attrs}>{escape_text(str(text))}</{name}>")


def _number(value: float) -> str:
    return repr(float(value))


def _without(item: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != key}


def _agent(out: list[str], tag: str, agent: dict[str, Any]) -> None:
    contributor_type = agent.get("contributorType")
    out.append(f'<{tag} contributorType="{contributor_type}">' if contributor_type else f"<{tag}>")
    _element(out, f"{tag}Name", agent["name"], {"nameType": agent.get("nameType")})
    if "givenName" in agent:
        _element(out, "givenName", agent["givenName"])
    if "familyName" in agent:
        _element(out, "familyName", agent["familyName"])
    for ident in agent.get("nameIdentifiers", ()):
        _element(out, "nameIdentifier", ident["nameIdentifier"], _without(ident, "nameIdentifier"))
    for affiliation in agent.get("affiliation", ()):
        _element(out, "affiliation", affiliation["name"], _without(affiliation, "name"))
    out.append(f"</{tag}>")


def _text_list(out: list[str], wrapper: str, tag: str, items: list[dict[str, Any]], key: str) -> None:
    if items:
        out.append(f"<{wrapper}>")
        for item in items:
            _element(out, tag, item[key], _without(item, key))
        out.append(f"</{wrapper}>")


def _geo_locations(out: list[str], locations: list[dict[str, Any]]) -> None:
    out.append("<geoLocations>")
    for geo in locations:
        out.append("<geoLocation>")
        if "geoLocationPlace" in geo:
            _element(out, "geoLocationPlace", geo["geoLocationPlace"])
        if "geoLocationPoint" in geo:
            point = geo["geoLocationPoint"]
            out.append(
                f"<geoLocationPoint><pointLongitude>{_number(point['pointLongitude'])}</pointLongitude>"
                f"<pointLatitude>{_number(point['pointLatitude'])}</pointLatitude></geoLocationPoint>"
            )
        if "geoLocationBox" in geo:
            out.append("<geoLocationBox>")
            for side in ("westBoundLongitude", "eastBoundLongitude", "southBoundLatitude", "northBoundLatitude"):
                _element(out, side, _number(geo["geoLocationBox"][side]))
            out.append("</geoLocationBox>")
        out.append("</geoLocation>")
    out.append("</geoLocations>")


def _funding_references(out: list[str], references: list[dict[str, Any]]) -> None:
    out.append("<fundingReferences>")
    for funding in references:
        out.append("<fundingReference>")
        _element(out, "funderName", funding["funderName"])
        if "funderIdentifier" in funding:
            _element(
                out,
                "funderIdentifier",
                funding["funderIdentifier"],
                {"funderIdentifierType": funding["funderIdentifierType"], "schemeUri": funding.get("schemeUri")},
            )
        if "awardNumber" in funding or "awardUri" in funding:
            _element(out, "awardNumber", funding.get("awardNumber", ""), {"awardUri": funding.get("awardUri")})
        if "awardTitle" in funding:
            _element(out, "awardTitle", funding["awardTitle"])
        out.append("</fundingReference>")
    out.append("</fundingReferences>")


_ITEM_TEXTS = ("publicationYear", "volume", "issue", "number", "firstPage", "lastPage", "publisher", "edition")


def _related_items(out: list[str], items: list[dict[str, Any]]) -> None:
    out.append("<relatedItems>")
    for item in items:
        out.append(
            f'<relatedItem relatedItemType="{escape_attribute(item["relatedItemType"])}"'
            f' relationType="{escape_attribute(item["relationType"])}">'
        )
        if "relatedItemIdentifier" in item:
            ident = item["relatedItemIdentifier"]
            _element(
                out,
                "relatedItemIdentifier",
                ident["relatedItemIdentifier"],
                {"relatedItemIdentifierType": ident["relatedItemIdentifierType"]},
            )
        _text_list(out, "titles", "title", item.get("titles", []), "title")
        for name in _ITEM_TEXTS:
            if name in item:
                attributes = {"numberType": item.get("numberType")} if name == "number" else None
                _element(out, name, item[name], attributes)
        out.append("</relatedItem>")
    out.append("</relatedItems>")


def to_text(view: RecordView) -> str:
    """The version as a DataCite 4.7 ``<resource>`` element, as XML text (no declaration)."""
    data = to_json(view)
    out = [_OPEN]
    if "doi" in data:
        _element(out, "identifier", data["doi"], {"identifierType": "DOI"})
    else:
        _element(out, "identifier", data["url"], {"identifierType": "URL"})
    out.append("<creators>")
    for creator in data["creators"]:
        _agent(out, "creator", creator)
    out.append("</creators>")
    _text_list(out, "titles", "title", data["titles"], "title")
    publisher = data["publisher"]
    _element(out, "publisher", publisher["name"], _without(publisher, "name"))
    _element(out, "publicationYear", f"{data['publicationYear']:04d}")
    types = data["types"]
    _element(out, "resourceType", types.get("resourceType", ""), {"resourceTypeGeneral": types["resourceTypeGeneral"]})
    _text_list(out, "subjects", "subject", data.get("subjects", []), "subject")
    if data.get("contributors"):
        out.append("<contributors>")
        for contributor in data["contributors"]:
            _agent(out, "contributor", contributor)
        out.append("</contributors>")
    _text_list(out, "dates", "date", data.get("dates", []), "date")
    if "language" in data:
        _element(out, "language", data["language"])
    alternates = [
        {"alternateIdentifier": a["identifier"], "alternateIdentifierType": a["identifierType"]}
        for a in data.get("identifiers", [])
    ]
    _text_list(out, "alternateIdentifiers", "alternateIdentifier", alternates, "alternateIdentifier")
    _text_list(out, "relatedIdentifiers", "relatedIdentifier", data.get("relatedIdentifiers", []), "relatedIdentifier")
    for wrapper, tag in (("sizes", "size"), ("formats", "format")):
        if data.get(wrapper):
            out.append(f"<{wrapper}>")
            for value in data[wrapper]:
                _element(out, tag, value)
            out.append(f"</{wrapper}>")
    if "version" in data:
        _element(out, "version", data["version"])
    _text_list(out, "rightsList", "rights", data.get("rightsList", []), "rights")
    _text_list(out, "descriptions", "description", data.get("descriptions", []), "description")
    if data.get("geoLocations"):
        _geo_locations(out, data["geoLocations"])
    if data.get("fundingReferences"):
        _funding_references(out, data["fundingReferences"])
    if data.get("relatedItems"):
        _related_items(out, data["relatedItems"])
    out.append("</resource>")
    # Characters XML cannot carry are dropped once for the whole text (our markup holds none).
    return clean("".join(out))


# DataCite's OAI-PMH wrapper (oai-1.1), which OpenAIRE's guidelines for data archives harvest.
OAI_NAMESPACE = "http://schema.datacite.org/oai/oai-1.1/"
OAI_SCHEMA = "http://schema.datacite.org/oai/oai-1.1/oai.xsd"
OAI_SCHEMA_VERSION = "4.7"


def to_oai_text(view: RecordView, datacentre: str) -> str:
    """The version wrapped in ``<oai_datacite>``; ``datacentre`` names the repository (the node
    registers no DOIs with DataCite, so it has no DataCite client symbol and names itself)."""
    return (
        f'<oai_datacite xmlns="{OAI_NAMESPACE}" xmlns:xsi="{XSI}"'
        f' xsi:schemaLocation="{OAI_NAMESPACE} {OAI_SCHEMA}">'
        f"<schemaVersion>{OAI_SCHEMA_VERSION}</schemaVersion>"
        f"<datacentreSymbol>{escape_text(datacentre)}</datacentreSymbol>"
        f"<payload>{to_text(view)}</payload></oai_datacite>"
    )


def to_element(view: RecordView) -> etree._Element:
    """The version as a DataCite 4.7 ``<resource>`` element (for embedding, e.g. in OAI-PMH)."""
    return etree.fromstring(to_text(view))


def to_xml(view: RecordView) -> bytes:
    """A standalone DataCite 4.7 XML document, UTF-8."""
    return etree.tostring(to_element(view), xml_declaration=True, encoding="UTF-8", pretty_print=True)
