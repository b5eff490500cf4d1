"""Reading DataCite JSON (the ``attributes`` of a DataCite REST API ``dois`` resource, as ``datacite.to_json``
writes them and as api.datacite.org serves them) back into the node's metadata JSON: the other direction of
``datacite.to_json``, for starting a deposit from a file.

The input is a stranger's file: every value is checked for its JSON type and anything else is left out, so a
hostile file gives at worst an empty or partial result (which the deposit form then checks field by field),
never an exception other than ``ValueError`` for what is not JSON at all.
"""

from __future__ import annotations

import json
from typing import Any

from .accessrights import is_access_right
from .datacite import UNAVAILABLE

# What this node keeps of each list's items: the DataCite JSON property names it shares with the node's own.
_KEEP = {
    "titles": ("title", "lang", "titleType"),
    "subjects": ("subject", "subjectScheme", "schemeUri", "valueUri", "classificationCode", "lang"),
    "dates": ("date", "dateType", "dateInformation"),
    "relatedIdentifiers": ("relatedIdentifier", "relatedIdentifierType", "relationType", "resourceTypeGeneral"),
    "descriptions": ("description", "descriptionType", "lang"),
    "rightsList": ("rights", "rightsUri", "rightsIdentifier", "rightsIdentifierScheme", "lang"),
    "fundingReferences": ("funderName", "funderIdentifier", "funderIdentifierType", "awardNumber", "awardUri",
                          "awardTitle"),
}  # fmt: skip
MAX_ITEMS = 500  # per list: more than a form shows, far less than a hostile file may hold


def load(data: bytes | str | dict[str, Any]) -> dict[str, Any]:
    """The parsed JSON object (``ValueError`` if it is not JSON or not an object)."""
    if isinstance(data, dict):
        return data
    try:
        parsed = json.loads(data)
    except RecursionError:  # nested past what the parser allows: not a metadata file
        raise ValueError("nested too deeply") from None
    if not isinstance(parsed, dict):
        raise ValueError("not a JSON object")
    return parsed


def text(value: Any) -> str | None:
    """A JSON string, trimmed; None for anything else, empty, or DataCite's "unavailable"."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    found = " ".join(str(value).split()) if not isinstance(value, str) or "\n" not in value else value.strip()
    return found if found and found != UNAVAILABLE else None


def items(value: Any) -> list[dict[str, Any]]:
    """The objects of a JSON list (a lone object counts as a list of one), at most ``MAX_ITEMS``."""
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return []
    return [v for v in value[:MAX_ITEMS] if isinstance(v, dict)]


def _picked(item: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: t for k in keys if (t := text(item.get(k))) is not None}


def _agent(item: dict[str, Any], contributor: bool) -> dict[str, Any] | None:
    agent = _picked(item, ("name", "nameType", "givenName", "familyName"))
    others = []
    for ident in items(item.get("nameIdentifiers")):
        value, scheme = text(ident.get("nameIdentifier")), text(ident.get("nameIdentifierScheme"))
        if not value or not scheme:
            continue
        if scheme.upper() == "ORCID" and "orcid" not in agent:
            agent["orcid"] = value.removeprefix("https://orcid.org/").removeprefix("http://orcid.org/")
        else:
            others.append({"nameIdentifier": value, "nameIdentifierScheme": scheme} | _picked(ident, ("schemeUri",)))
    if others:
        agent["nameIdentifiers"] = others
    affiliations = []
    # DataCite's REST API says "affiliation" (a list of objects, or of plain names with ?affiliation=false).
    raw = item.get("affiliation", item.get("affiliations"))
    for entry in raw[:MAX_ITEMS] if isinstance(raw, list) else items(raw):
        if isinstance(entry, str) and text(entry):
            affiliations.append({"name": text(entry)})
        elif isinstance(entry, dict) and text(entry.get("name")):
            found: dict[str, Any] = {"name": text(entry.get("name"))}
            ror, scheme = text(entry.get("affiliationIdentifier")), text(entry.get("affiliationIdentifierScheme"))
            if ror and (scheme or "").upper() == "ROR":
                found["ror"] = ror
            affiliations.append(found)
    if affiliations:
        agent["affiliations"] = affiliations
    if "name" not in agent and "familyName" not in agent:
        return None
    if contributor:
        agent["contributorType"] = text(item.get("contributorType")) or "Other"
    return agent


def _geo(item: dict[str, Any]) -> dict[str, Any]:
    geo: dict[str, Any] = {}
    if text(item.get("geoLocationPlace")):
        geo["geoLocationPlace"] = text(item.get("geoLocationPlace"))
    point = item.get("geoLocationPoint")
    if isinstance(point, dict):
        lat, lon = _number(point.get("pointLatitude")), _number(point.get("pointLongitude"))
        if lat is not None and lon is not None:
            geo["geoLocationPoint"] = {"pointLatitude": lat, "pointLongitude": lon}
    box = item.get("geoLocationBox")
    if isinstance(box, dict):
        sides = ("westBoundLongitude", "eastBoundLongitude", "southBoundLatitude", "northBoundLatitude")
        values = {side: _number(box.get(side)) for side in sides}
        if all(v is not None for v in values.values()):
            geo["geoLocationBox"] = values
    return geo


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        found = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return found if abs(found) <= 360 else None


def from_json(data: bytes | str | dict[str, Any]) -> dict[str, Any]:
    """DataCite JSON as the node's metadata JSON, unchecked (the caller validates). A whole REST answer
    (``{"data": {"attributes": ...}}``) is read as its attributes."""
    doc = load(data)
    inner = doc.get("data")
    if isinstance(inner, dict):
        doc = inner
    if isinstance(doc.get("attributes"), dict):
        doc = doc["attributes"]
    meta: dict[str, Any] = {}
    if text(doc.get("doi")):
        meta["doi"] = text(doc.get("doi"))
    meta["creators"] = [a for a in (_agent(i, False) for i in items(doc.get("creators"))) if a]
    meta["contributors"] = [a for a in (_agent(i, True) for i in items(doc.get("contributors"))) if a]
    for name, keys in _KEEP.items():
        meta[name] = [p for p in (_picked(i, keys) for i in items(doc.get(name))) if keys[0] in p]
    meta["rightsList"] = [r for r in meta["rightsList"] if not is_access_right(r.get("rightsUri"))]
    publisher = doc.get("publisher")
    if isinstance(publisher, dict) and text(publisher.get("name")):
        meta["publisher"] = {"name": text(publisher.get("name"))} | _picked(publisher, ("lang",))
        if (text(publisher.get("publisherIdentifierScheme")) or "").upper() == "ROR":
            meta["publisher"]["ror"] = text(publisher.get("publisherIdentifier"))
    elif text(publisher):
        meta["publisher"] = {"name": text(publisher)}
    year = text(doc.get("publicationYear"))
    if year and year[:4].isdigit():
        meta["publicationYear"] = int(year[:4])
    types = doc.get("types")
    if isinstance(types, dict) and text(types.get("resourceTypeGeneral")):
        meta["resourceType"] = _picked(types, ("resourceTypeGeneral", "resourceType"))
    for name in ("language", "version"):
        if text(doc.get(name)):
            meta[name] = text(doc.get(name))
    alternates = []
    for item in items(doc.get("identifiers")) + items(doc.get("alternateIdentifiers")):
        value = text(item.get("identifier", item.get("alternateIdentifier")))
        kind = text(item.get("identifierType", item.get("alternateIdentifierType"))) or "Other"
        if value and kind.upper() != "DOI":
            alternates.append({"alternateIdentifier": value, "alternateIdentifierType": kind})
    meta["alternateIdentifiers"] = alternates
    meta["geoLocations"] = [g for g in (_geo(i) for i in items(doc.get("geoLocations"))) if g]
    return {k: v for k, v in meta.items() if v not in (None, [], "", {})}
