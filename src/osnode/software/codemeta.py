"""Prefill a Software record's metadata (DataCite JSON names) from codemeta.json and CITATION.cff.

Both files are the author's own description of their software; we take what maps cleanly (title, authors with
ORCID and affiliation, licence, version, keywords, description, repository) and leave the rest out rather than
guess. Values that would not validate (an unknown licence, a malformed ORCID) are dropped, never fatal.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from ..domain.licences import normalize_spdx

_ORCID = re.compile(r"(\d{4}-\d{4}-\d{4}-\d{3}[\dX])")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _licence(value: Any) -> str | None:
    for item in _as_list(value):
        text = item.get("@id") or item.get("url") if isinstance(item, dict) else item
        if not isinstance(text, str):
            continue
        key = text.rstrip("/").removesuffix(".html").rsplit("/", 1)[-1]
        try:
            return normalize_spdx(key)
        except ValueError:
            continue
    return None


def _orcid(value: Any) -> str | None:
    match = _ORCID.search(value) if isinstance(value, str) else None
    return match.group(1) if match else None


def _person(given: Any, family: Any, name: Any, orcid: Any, affiliation: Any, organization: bool) -> dict | None:
    person: dict[str, Any] = {}
    if organization or (name and not family):
        if not isinstance(name, str) or not name.strip():
            return None
        person = {"name": name.strip(), "nameType": "Organizational" if organization else "Personal"}
    elif isinstance(family, str) and family.strip():
        person = {"familyName": family.strip()}
        if isinstance(given, str) and given.strip():
            person["givenName"] = given.strip()
    else:
        return None
    if found := _orcid(orcid):
        person["orcid"] = found
    names = [a.get("name") if isinstance(a, dict) else a for a in _as_list(affiliation)]
    affiliations = [{"name": n.strip()} for n in names if isinstance(n, str) and n.strip()]
    if affiliations:
        person["affiliations"] = affiliations
    return person


def from_codemeta(data: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(doc, dict):
        return {}
    meta: dict[str, Any] = {}
    if isinstance(doc.get("name"), str) and doc["name"].strip():
        meta["titles"] = [{"title": doc["name"].strip()}]
    creators = []
    for author in _as_list(doc.get("author")):
        if not isinstance(author, dict):
            continue
        organization = author.get("@type") == "Organization"
        person = _person(
            author.get("givenName"),
            author.get("familyName"),
            author.get("name"),
            author.get("@id") or author.get("identifier"),
            author.get("affiliation"),
            organization,
        )
        if person:
            creators.append(person)
    if creators:
        meta["creators"] = creators
    _common(meta, doc.get("license"), doc.get("version"), doc.get("keywords"), doc.get("description"))
    return meta


def from_citation_cff(data: bytes) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(data)
    except (yaml.YAMLError, UnicodeDecodeError):
        return {}
    if not isinstance(doc, dict):
        return {}
    meta: dict[str, Any] = {}
    if isinstance(doc.get("title"), str) and doc["title"].strip():
        meta["titles"] = [{"title": doc["title"].strip()}]
    creators = []
    for author in _as_list(doc.get("authors")):
        if not isinstance(author, dict):
            continue
        person = _person(
            author.get("given-names"),
            author.get("family-names"),
            author.get("name"),
            author.get("orcid"),
            author.get("affiliation"),
            organization="name" in author and "family-names" not in author,
        )
        if person:
            creators.append(person)
    if creators:
        meta["creators"] = creators
    _common(meta, doc.get("license"), doc.get("version"), doc.get("keywords"), doc.get("abstract"))
    return meta


def _common(meta: dict[str, Any], licence: Any, version: Any, keywords: Any, description: Any) -> None:
    if spdx := _licence(licence):
        meta["rightsList"] = [{"rightsIdentifier": spdx}]
    if isinstance(version, (str, int, float)) and str(version).strip():
        meta["version"] = str(version).strip()
    if isinstance(keywords, str):
        keywords = [k for k in keywords.split(",")]
    words = [k.strip() for k in _as_list(keywords) if isinstance(k, str) and k.strip()]
    if words:
        meta["subjects"] = [{"subject": w} for w in dict.fromkeys(words)]
    if isinstance(description, str) and description.strip():
        meta["descriptions"] = [{"description": description.strip(), "descriptionType": "Abstract"}]


def prefill(codemeta: bytes | None, citation_cff: bytes | None) -> dict[str, Any]:
    """codemeta.json first; CITATION.cff fills what codemeta.json leaves out. resourceType is Software."""
    merged: dict[str, Any] = {}
    for found in (from_codemeta(codemeta) if codemeta else {}, from_citation_cff(citation_cff) if citation_cff else {}):
        for key, value in found.items():
            merged.setdefault(key, value)
    merged["resourceType"] = {"resourceTypeGeneral": "Software"}
    return merged
