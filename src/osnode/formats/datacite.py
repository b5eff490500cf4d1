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

from ..domain.identifiers import orcid_url
from ..domain.metadata import Creator
from . import RecordView
from .kinds import kind_of
from .links import funder_url, rights_url
from .xmltext import XML_LANG, XSI, clean

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
    result = []
    for r in view.metadata.rightsList:
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
    return result


def _dates(view: RecordView) -> list[dict[str, Any]]:
    dates = [d.model_dump(exclude_none=True) for d in view.metadata.dates]
    if view.published_at and not any(d["dateType"] == "Available" for d in dates):
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
            "subjects": [s.model_dump(exclude_none=True) for s in meta.subjects],
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
            "schemaVersion": SCHEMA_VERSION,
        }
    )


# -- the XML encoding ------------------------------------------------------------------------


def _q(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


# JSON property name -> XML attribute name, where they differ.
_ATTRIBUTES = {
    "lang": XML_LANG,
    "schemeUri": "schemeURI",
    "valueUri": "valueURI",
    "rightsUri": "rightsURI",
    "awardUri": "awardURI",
}


def _sub(parent: etree._Element, name: str, text: Any = None, **attributes: Any) -> etree._Element:
    element = etree.SubElement(parent, _q(name))
    if text is not None:
        element.text = clean(str(text))
    for key, value in attributes.items():
        if value is not None:
            element.set(_ATTRIBUTES.get(key, key), clean(str(value)))
    return element


def _number(value: float) -> str:
    return repr(float(value))


def _agent(parent: etree._Element, tag: str, agent: dict[str, Any]) -> None:
    attributes = {"contributorType": agent["contributorType"]} if "contributorType" in agent else {}
    element = _sub(parent, tag, **attributes)
    _sub(element, f"{tag}Name", agent["name"], nameType=agent.get("nameType"))
    if "givenName" in agent:
        _sub(element, "givenName", agent["givenName"])
    if "familyName" in agent:
        _sub(element, "familyName", agent["familyName"])
    for ident in agent.get("nameIdentifiers", []):
        _sub(
            element,
            "nameIdentifier",
            ident["nameIdentifier"],
            **{k: v for k, v in ident.items() if k != "nameIdentifier"},
        )
    for affiliation in agent.get("affiliation", []):
        _sub(element, "affiliation", affiliation["name"], **{k: v for k, v in affiliation.items() if k != "name"})


def _text_list(root: etree._Element, wrapper: str, tag: str, items: list[dict[str, Any]], key: str) -> None:
    if items:
        parent = _sub(root, wrapper)
        for item in items:
            _sub(parent, tag, item[key], **{k: v for k, v in item.items() if k != key})


def to_element(view: RecordView) -> etree._Element:
    """The version as a DataCite 4.7 ``<resource>`` element (for embedding, e.g. in OAI-PMH)."""
    data = to_json(view)
    root = etree.Element(_q("resource"), nsmap={None: NAMESPACE, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{NAMESPACE} {SCHEMA_LOCATION}")

    if "doi" in data:
        _sub(root, "identifier", data["doi"], identifierType="DOI")
    else:
        _sub(root, "identifier", data["url"], identifierType="URL")

    creators = _sub(root, "creators")
    for creator in data["creators"]:
        _agent(creators, "creator", creator)
    _text_list(root, "titles", "title", data["titles"], "title")
    publisher = data["publisher"]
    _sub(root, "publisher", publisher["name"], **{k: v for k, v in publisher.items() if k != "name"})
    _sub(root, "publicationYear", f"{data['publicationYear']:04d}")
    types = data["types"]
    _sub(root, "resourceType", types.get("resourceType", ""), resourceTypeGeneral=types["resourceTypeGeneral"])

    _text_list(root, "subjects", "subject", data.get("subjects", []), "subject")
    if data.get("contributors"):
        contributors = _sub(root, "contributors")
        for contributor in data["contributors"]:
            _agent(contributors, "contributor", contributor)
    _text_list(root, "dates", "date", data.get("dates", []), "date")
    if "language" in data:
        _sub(root, "language", data["language"])
    alternates = [
        {"alternateIdentifier": a["identifier"], "alternateIdentifierType": a["identifierType"]}
        for a in data.get("identifiers", [])
    ]
    _text_list(root, "alternateIdentifiers", "alternateIdentifier", alternates, "alternateIdentifier")
    _text_list(root, "relatedIdentifiers", "relatedIdentifier", data.get("relatedIdentifiers", []), "relatedIdentifier")
    for wrapper, tag in (("sizes", "size"), ("formats", "format")):
        if data.get(wrapper):
            parent = _sub(root, wrapper)
            for value in data[wrapper]:
                _sub(parent, tag, value)
    if "version" in data:
        _sub(root, "version", data["version"])
    _text_list(root, "rightsList", "rights", data.get("rightsList", []), "rights")
    _text_list(root, "descriptions", "description", data.get("descriptions", []), "description")

    if data.get("geoLocations"):
        parent = _sub(root, "geoLocations")
        for geo in data["geoLocations"]:
            element = _sub(parent, "geoLocation")
            if "geoLocationPlace" in geo:
                _sub(element, "geoLocationPlace", geo["geoLocationPlace"])
            if "geoLocationPoint" in geo:
                point = _sub(element, "geoLocationPoint")
                _sub(point, "pointLongitude", _number(geo["geoLocationPoint"]["pointLongitude"]))
                _sub(point, "pointLatitude", _number(geo["geoLocationPoint"]["pointLatitude"]))
            if "geoLocationBox" in geo:
                box = _sub(element, "geoLocationBox")
                for side in ("westBoundLongitude", "eastBoundLongitude", "southBoundLatitude", "northBoundLatitude"):
                    _sub(box, side, _number(geo["geoLocationBox"][side]))

    if data.get("fundingReferences"):
        parent = _sub(root, "fundingReferences")
        for funding in data["fundingReferences"]:
            element = _sub(parent, "fundingReference")
            _sub(element, "funderName", funding["funderName"])
            if "funderIdentifier" in funding:
                _sub(
                    element,
                    "funderIdentifier",
                    funding["funderIdentifier"],
                    funderIdentifierType=funding["funderIdentifierType"],
                    schemeUri=funding.get("schemeUri"),
                )
            if "awardNumber" in funding or "awardUri" in funding:
                _sub(element, "awardNumber", funding.get("awardNumber", ""), awardUri=funding.get("awardUri"))
            if "awardTitle" in funding:
                _sub(element, "awardTitle", funding["awardTitle"])
    return root


def to_xml(view: RecordView) -> bytes:
    """A standalone DataCite 4.7 XML document, UTF-8."""
    return etree.tostring(to_element(view), xml_declaration=True, encoding="UTF-8", pretty_print=True)
