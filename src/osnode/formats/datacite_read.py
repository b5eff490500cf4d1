"""Reading DataCite XML (kernel-4, or older kernels with the same element names) back into the node's
metadata JSON, for harvesting: the other direction of ``datacite``, kept apart from the writer."""

from __future__ import annotations

from typing import Any

from lxml import etree

from .accessrights import is_access_right
from .datacite import ATTRIBUTES, UNAVAILABLE
from .xmltext import XML_LANG, safe_parser

_XML_ATTRIBUTES = {XML_LANG if v == "xml:lang" else v: k for k, v in ATTRIBUTES.items()}


def _local(element: etree._Element) -> str:
    # String slicing, not etree.QName: this runs for every element of every harvested record.
    tag = element.tag
    return tag[tag.rfind("}") + 1 :] if isinstance(tag, str) else ""


def _children(parent: etree._Element | None, name: str) -> list[etree._Element]:
    """Child elements called ``name`` in any namespace: peers serve kernel-3 and kernel-4 alike.
    (lxml matches ``{*}name`` in C, which matters at a million records.)"""
    if parent is None:
        return []
    return list(parent.iterchildren("{*}" + name))


def _child(parent: etree._Element | None, name: str) -> etree._Element | None:
    if parent is None:
        return None
    return next(parent.iterchildren("{*}" + name), None)


def _value(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    # Nearly every value is a leaf: its text is all of it, no itertext() walk needed.
    raw = (element.text or "") if len(element) == 0 else "".join(element.itertext())
    text = raw.strip() if _local(element) == "description" else " ".join(raw.split())
    return text if text and text != UNAVAILABLE else None


def _attrs(element: etree._Element, *names: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in element.attrib.items():
        name = _XML_ATTRIBUTES.get(str(key), str(key))
        if name in names and str(value).strip():
            found[name] = str(value).strip()
    return found


def _read_agent(element: etree._Element, tag: str) -> dict[str, Any] | None:
    name_element = _child(element, f"{tag}Name")
    agent: dict[str, Any] = {"name": _value(name_element)}
    if name_element is not None and name_element.get("nameType"):
        agent["nameType"] = name_element.get("nameType")
    for part in ("givenName", "familyName"):
        value = _value(_child(element, part))
        if value:
            agent[part] = value
    identifiers = []
    for ident in _children(element, "nameIdentifier"):
        value, scheme = _value(ident), ident.get("nameIdentifierScheme")
        if not value or not scheme:
            continue
        if scheme.upper() == "ORCID" and "orcid" not in agent:
            agent["orcid"] = value
        else:
            identifiers.append({"nameIdentifier": value, "nameIdentifierScheme": scheme} | _attrs(ident, "schemeUri"))
    if identifiers:
        agent["nameIdentifiers"] = identifiers
    affiliations = []
    for affiliation in _children(element, "affiliation"):
        name = _value(affiliation)
        if name:
            ror = affiliation.get("affiliationIdentifier")
            scheme = (affiliation.get("affiliationIdentifierScheme") or "").upper()
            affiliations.append({"name": name} | ({"ror": ror} if ror and scheme == "ROR" else {}))
    if affiliations:
        agent["affiliations"] = affiliations
    if not agent["name"] and "familyName" not in agent:
        return None
    if tag == "contributor":
        agent["contributorType"] = element.get("contributorType") or "Other"
    return {k: v for k, v in agent.items() if v is not None}


def _read_list(root: etree._Element, wrapper: str, tag: str, key: str, *attributes: str) -> list[dict[str, Any]]:
    items = []
    for element in _children(_child(root, wrapper), tag):
        value = _value(element)
        if value:
            items.append({key: value} | _attrs(element, *attributes))
    return items


def _read_rights(root: etree._Element) -> list[dict[str, Any]]:
    result = []
    for element in _children(_child(root, "rightsList"), "rights"):
        item = _attrs(element, "rightsUri", "rightsIdentifier", "rightsIdentifierScheme", "lang")
        text = _value(element)
        if text and text != item.get("rightsIdentifier"):
            item["rights"] = text
        if item.get("rightsIdentifierScheme", "").upper() == "SPDX":
            item["rightsIdentifierScheme"] = "SPDX"
        if is_access_right(item.get("rightsUri")):
            continue  # the other node's access level, not a licence: this node states its own
        if item:
            result.append(item)
    return result


def _float(element: etree._Element | None) -> float | None:
    try:
        return float(_value(element) or "")
    except ValueError:
        return None


def _read_geo(root: etree._Element) -> list[dict[str, Any]]:
    result = []
    for element in _children(_child(root, "geoLocations"), "geoLocation"):
        geo: dict[str, Any] = {}
        place = _value(_child(element, "geoLocationPlace"))
        if place:
            geo["geoLocationPlace"] = place
        point = _child(element, "geoLocationPoint")
        if point is not None:
            lat, lon = _float(_child(point, "pointLatitude")), _float(_child(point, "pointLongitude"))
            if lat is not None and lon is not None:
                geo["geoLocationPoint"] = {"pointLatitude": lat, "pointLongitude": lon}
        box = _child(element, "geoLocationBox")
        if box is not None:
            sides = ("westBoundLongitude", "eastBoundLongitude", "southBoundLatitude", "northBoundLatitude")
            values = {side: _float(_child(box, side)) for side in sides}
            if all(v is not None for v in values.values()):
                geo["geoLocationBox"] = values
        if geo:
            result.append(geo)
    return result


def _read_funding(root: etree._Element) -> list[dict[str, Any]]:
    result = []
    for element in _children(_child(root, "fundingReferences"), "fundingReference"):
        name = _value(_child(element, "funderName"))
        if not name:
            continue
        item: dict[str, Any] = {"funderName": name}
        funder = _child(element, "funderIdentifier")
        if _value(funder):
            item["funderIdentifier"] = _value(funder)
            if funder is not None and funder.get("funderIdentifierType"):
                item["funderIdentifierType"] = funder.get("funderIdentifierType")
        award = _child(element, "awardNumber")
        if _value(award):
            item["awardNumber"] = _value(award)
        if award is not None and award.get("awardURI"):
            item["awardUri"] = award.get("awardURI")
        if _value(_child(element, "awardTitle")):
            item["awardTitle"] = _value(_child(element, "awardTitle"))
        result.append(item)
    return result


def from_xml(resource: etree._Element | bytes) -> dict[str, Any]:
    """A DataCite ``<resource>`` (kernel-4, or older kernels with the same element names) as the
    node's metadata JSON, unchecked: the caller validates, and decides what to do with bad values.

    A DOI identifier becomes ``doi``; any other primary identifier (a landing page URL, a Handle)
    becomes an alternateIdentifier, so the record keeps pointing at where it came from. Values
    DataCite marks as unavailable (``(:unav)``) are left out."""
    if isinstance(resource, bytes):
        parser = safe_parser()
        resource = etree.fromstring(resource, parser)
    meta: dict[str, Any] = {}
    identifier = _child(resource, "identifier")
    alternates = _read_list(resource, "alternateIdentifiers", "alternateIdentifier", "alternateIdentifier")
    for item, element in zip(
        alternates, _children(_child(resource, "alternateIdentifiers"), "alternateIdentifier"), strict=False
    ):
        item["alternateIdentifierType"] = element.get("alternateIdentifierType") or "Other"
    if identifier is not None and _value(identifier):
        kind = (identifier.get("identifierType") or "").strip()
        if kind.upper() == "DOI":
            meta["doi"] = _value(identifier)
        elif not any(a["alternateIdentifier"] == _value(identifier) for a in alternates):
            alternates.insert(0, {"alternateIdentifier": _value(identifier), "alternateIdentifierType": kind or "URL"})
    creators = [_read_agent(e, "creator") for e in _children(_child(resource, "creators"), "creator")]
    meta["creators"] = [c for c in creators if c]
    meta["titles"] = _read_list(resource, "titles", "title", "title", "lang", "titleType")
    publisher = _child(resource, "publisher")
    if _value(publisher):
        assert publisher is not None
        meta["publisher"] = {"name": _value(publisher)} | _attrs(publisher, "lang")
        if (publisher.get("publisherIdentifierScheme") or "").upper() == "ROR":
            meta["publisher"]["ror"] = publisher.get("publisherIdentifier")
    year = _value(_child(resource, "publicationYear"))
    if year and year[:4].isdigit():
        meta["publicationYear"] = int(year[:4])
    resource_type = _child(resource, "resourceType")
    if resource_type is not None and resource_type.get("resourceTypeGeneral"):
        meta["resourceType"] = {"resourceTypeGeneral": resource_type.get("resourceTypeGeneral")}
        if _value(resource_type):
            meta["resourceType"]["resourceType"] = _value(resource_type)
    meta["subjects"] = _read_list(
        resource,
        "subjects",
        "subject",
        "subject",
        "subjectScheme",
        "schemeUri",
        "valueUri",
        "classificationCode",
        "lang",
    )
    contributors = [_read_agent(e, "contributor") for e in _children(_child(resource, "contributors"), "contributor")]
    meta["contributors"] = [c for c in contributors if c]
    meta["dates"] = _read_list(resource, "dates", "date", "date", "dateType", "dateInformation")
    if _value(_child(resource, "language")):
        meta["language"] = _value(_child(resource, "language"))
    meta["alternateIdentifiers"] = alternates
    meta["relatedIdentifiers"] = _read_list(
        resource,
        "relatedIdentifiers",
        "relatedIdentifier",
        "relatedIdentifier",
        "relatedIdentifierType",
        "relationType",
        "resourceTypeGeneral",
    )
    meta["sizes"] = [v for v in (_value(e) for e in _children(_child(resource, "sizes"), "size")) if v]
    meta["formats"] = [v for v in (_value(e) for e in _children(_child(resource, "formats"), "format")) if v]
    if _value(_child(resource, "version")):
        meta["version"] = _value(_child(resource, "version"))
    meta["rightsList"] = _read_rights(resource)
    meta["descriptions"] = _read_list(resource, "descriptions", "description", "description", "descriptionType", "lang")
    meta["geoLocations"] = _read_geo(resource)
    meta["fundingReferences"] = _read_funding(resource)
    return {k: v for k, v in meta.items() if v not in (None, [], "")}
