"""Reading an RO-Crate's ``ro-crate-metadata.json`` (1.1 and 1.2) into the node's metadata JSON: the root data
entity's name, description, authors (ORCID from their ``@id``, affiliations with ROR), licence (SPDX from its
URL), keywords, datePublished, version, identifier (a DOI) and funders. The other direction of ``rocrate``.

The crate is a stranger's file: entities are looked up by ``@id`` in its ``@graph`` (never fetched), every value
is checked for its JSON type, and what does not fit is left out.
"""

from __future__ import annotations

import re
from typing import Any

from .datacite_json_read import MAX_ITEMS, items, load, text

DESCRIPTOR = "ro-crate-metadata.json"
_ORCID = re.compile(r"^https?://orcid\.org/(\d{4}-\d{4}-\d{4}-\d{3}[\dX])/?$")
_ROR = re.compile(r"^https?://ror\.org/[0-9a-z]{9}$")
_SPDX = re.compile(r"^https?://spdx\.org/licenses/([A-Za-z0-9.+-]{1,80}?)(?:\.html|\.json)?/?$")
_DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)


def is_crate(doc: dict[str, Any]) -> bool:
    """Whether a JSON object is an RO-Crate: a ``@graph`` holding the metadata descriptor."""
    return any(e.get("@id") == DESCRIPTOR for e in items(doc.get("@graph")))


def _root(graph: dict[str, dict[str, Any]]) -> dict[str, Any]:
    about = graph.get(DESCRIPTOR, {}).get("about")
    root_id = about.get("@id") if isinstance(about, dict) else None
    return graph.get(root_id if isinstance(root_id, str) else "./", {})


def _refs(value: Any, graph: dict[str, dict[str, Any]]) -> list[dict[str, Any] | str]:
    """A property's values: entities (followed by ``@id`` within the crate, or inline) or plain strings."""
    found: list[dict[str, Any] | str] = []
    for item in (value if isinstance(value, list) else [value])[:MAX_ITEMS]:
        if isinstance(item, dict):
            ref = item.get("@id")
            found.append(graph.get(ref, item) if isinstance(ref, str) else item)
        elif isinstance(item, str) and item.strip():
            found.append(item.strip())
    return found


def _person(entity: dict[str, Any] | str, graph: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    if isinstance(entity, str):
        return {"name": text(entity)} if text(entity) else None
    person: dict[str, Any] = {}
    family, given = text(entity.get("familyName")), text(entity.get("givenName"))
    name = text(entity.get("name")) or (f"{family}, {given}" if family and given else family)
    if not name:
        return None
    person["name"] = name
    if family:
        person["familyName"] = family
    if given:
        person["givenName"] = given
    kinds = entity.get("@type")
    if kinds == "Organization" or (isinstance(kinds, list) and "Organization" in kinds):
        person["nameType"] = "Organizational"
    orcid = _ORCID.match(str(entity.get("@id", "")))
    if orcid:
        person["orcid"] = orcid.group(1)
    affiliations = []
    for org in _refs(entity.get("affiliation"), graph):
        org_name = text(org) if isinstance(org, str) else text(org.get("name"))
        if org_name:
            ror = "" if isinstance(org, str) else str(org.get("@id", ""))
            affiliations.append({"name": org_name} | ({"ror": ror} if _ROR.match(ror) else {}))
    if affiliations:
        person["affiliations"] = affiliations
    return person


def _licence(entity: dict[str, Any] | str) -> dict[str, Any] | None:
    url = entity if isinstance(entity, str) else str(entity.get("@id", ""))
    spdx = _SPDX.match(url)
    if spdx:
        return {"rightsIdentifier": spdx.group(1), "rightsIdentifierScheme": "SPDX"}
    name = None if isinstance(entity, str) else text(entity.get("name"))
    if url.startswith(("http://", "https://")):
        return {"rights": name or url, "rightsUri": url}
    return {"rights": name or url} if (name or url) and not url.startswith("#") else None


def _keywords(value: Any) -> list[dict[str, Any]]:
    words = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else []
    return [{"subject": w} for w in (text(x) for x in words[:MAX_ITEMS]) if w]


def from_json(data: bytes | str | dict[str, Any]) -> dict[str, Any]:
    """The crate's root data entity as the node's metadata JSON, unchecked (the caller validates)."""
    doc = load(data)
    graph = {e["@id"]: e for e in items(doc.get("@graph")) if isinstance(e.get("@id"), str)}
    root = _root(graph)
    meta: dict[str, Any] = {}
    if text(root.get("name")):
        meta["titles"] = [{"title": text(root.get("name"))}]
    if text(root.get("description")):
        meta["descriptions"] = [{"description": str(root["description"]).strip(), "descriptionType": "Abstract"}]
    authors = [_person(a, graph) for a in _refs(root.get("author", root.get("creator")), graph)]
    meta["creators"] = [a for a in authors if a]
    rights = [_licence(x) for x in _refs(root.get("license"), graph)]
    meta["rightsList"] = [r for r in rights if r]
    meta["subjects"] = _keywords(root.get("keywords"))
    published = text(root.get("datePublished"))
    if published and published[:4].isdigit():
        meta["publicationYear"] = int(published[:4])
        meta["dates"] = [{"date": published[:10], "dateType": "Issued"}]
    if text(root.get("version")):
        meta["version"] = text(root.get("version"))
    for ident in _refs(root.get("identifier"), graph):
        value = text(ident) if isinstance(ident, str) else text(ident.get("@id") or ident.get("value"))
        doi = _DOI.match(value or "")
        if doi:
            meta["doi"] = doi.group(1)
            break
    funders = []
    for funder in _refs(root.get("funder"), graph):
        name = text(funder) if isinstance(funder, str) else text(funder.get("name"))
        if name:
            funders.append({"funderName": name})
    meta["fundingReferences"] = funders
    meta["resourceType"] = {"resourceTypeGeneral": "Dataset"}  # a crate's root is a Dataset by definition
    if not meta.get("titles") and not meta["creators"]:
        return {}
    return {k: v for k, v in meta.items() if v not in (None, [], "", {})}
