"""Software Heritage deposit packages: the Atom entry (codemeta + swhdeposit metadata) and its tarball.

A package is a folder holding what ``swh deposit upload --archive ... --metadata ...`` sends to the global
archive over SWORD v2: ``metadata.xml`` (an Atom entry with codemeta terms and the origin to create) and
``archive.tar.gz``, plus ``manifest.json`` (our own: the SWHIDs and checksums a receiving node verifies).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from ..formats.xmltext import safe_parser

ATOM = "http://www.w3.org/2005/Atom"
CODEMETA = "https://doi.org/10.5063/SCHEMA/CODEMETA-2.0"
SWHDEPOSIT = "https://www.softwareheritage.org/schema/2018/deposit"
NSMAP = {None: ATOM, "codemeta": CODEMETA, "swhdeposit": SWHDEPOSIT}

METADATA_FILE = "metadata.xml"
ARCHIVE_FILE = "archive.tar.gz"
MANIFEST_FILE = "manifest.json"


def _sub(parent: etree._Element, ns: str, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ns}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def build_entry(meta: dict[str, Any], origin: str, record_url: str, swhid: str) -> bytes:
    entry = etree.Element(f"{{{ATOM}}}entry", nsmap=NSMAP)
    title = (meta.get("titles") or [{"title": "software"}])[0]["title"]
    _sub(entry, ATOM, "title", title)
    _sub(entry, ATOM, "id", record_url)
    _sub(entry, CODEMETA, "name", title)
    _sub(entry, CODEMETA, "url", record_url)
    _sub(entry, CODEMETA, "identifier", swhid)
    for creator in meta.get("creators", []):
        author = _sub(entry, CODEMETA, "author")
        _sub(author, CODEMETA, "name", creator.get("name", ""))
        if creator.get("givenName"):
            _sub(author, CODEMETA, "givenName", creator["givenName"])
        if creator.get("familyName"):
            _sub(author, CODEMETA, "familyName", creator["familyName"])
        if creator.get("orcid"):
            _sub(author, CODEMETA, "identifier", f"https://orcid.org/{creator['orcid']}")
        for affiliation in creator.get("affiliations", []):
            _sub(author, CODEMETA, "affiliation", affiliation["name"])
    for rights in meta.get("rightsList", []):
        if rights.get("rightsIdentifier"):
            _sub(entry, CODEMETA, "license").append(
                _element(CODEMETA, "url", f"https://spdx.org/licenses/{rights['rightsIdentifier']}")
            )
    if meta.get("version"):
        _sub(entry, CODEMETA, "version", meta["version"])
    for subject in meta.get("subjects", []):
        _sub(entry, CODEMETA, "keywords", subject["subject"])
    for description in meta.get("descriptions", []):
        _sub(entry, CODEMETA, "description", description["description"])
    if meta.get("publicationYear"):
        _sub(entry, CODEMETA, "datePublished", str(meta["publicationYear"]))
    deposit = _sub(entry, SWHDEPOSIT, "deposit")
    create = _sub(deposit, SWHDEPOSIT, "create_origin")
    _sub(create, SWHDEPOSIT, "origin", url=origin)
    return etree.tostring(entry, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _element(ns: str, tag: str, text: str) -> etree._Element:
    element = etree.Element(f"{{{ns}}}{tag}")
    element.text = text
    return element


def parse_entry(data: bytes) -> tuple[dict[str, Any], str | None]:
    """(codemeta-like metadata in DataCite names, origin url) from an Atom deposit entry; no entities, no network."""
    parser = safe_parser()
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"the deposit metadata is not well-formed XML: {exc}") from None
    if root.tag != f"{{{ATOM}}}entry":
        raise ValueError("the deposit metadata is not an Atom entry")

    def text(element: etree._Element, tag: str, ns: str = CODEMETA) -> str | None:
        found = element.find(f"{{{ns}}}{tag}")
        return found.text.strip() if found is not None and found.text and found.text.strip() else None

    meta: dict[str, Any] = {}
    title = text(root, "name") or text(root, "title", ATOM)
    if title:
        meta["titles"] = [{"title": title}]
    creators = []
    for author in root.findall(f"{{{CODEMETA}}}author"):
        family, given, name = text(author, "familyName"), text(author, "givenName"), text(author, "name")
        person: dict[str, Any] = {"familyName": family, "givenName": given} if family else {"name": name}
        identifier = text(author, "identifier") or ""
        if "orcid.org/" in identifier:
            person["orcid"] = identifier.rsplit("/", 1)[-1]
        affiliations = [a.text.strip() for a in author.findall(f"{{{CODEMETA}}}affiliation") if a.text]
        if affiliations:
            person["affiliations"] = [{"name": a} for a in affiliations]
        if person.get("familyName") or person.get("name"):
            creators.append({k: v for k, v in person.items() if v})
    if creators:
        meta["creators"] = creators
    licences = [u.text.strip() for u in root.iterfind(f"{{{CODEMETA}}}license/{{{CODEMETA}}}url") if u.text]
    if licences:
        meta["rightsList"] = [{"rightsIdentifier": u.rstrip("/").rsplit("/", 1)[-1]} for u in licences]
    if version := text(root, "version"):
        meta["version"] = version
    keywords = [k.text.strip() for k in root.findall(f"{{{CODEMETA}}}keywords") if k.text and k.text.strip()]
    if keywords:
        meta["subjects"] = [{"subject": k} for k in keywords]
    if description := text(root, "description"):
        meta["descriptions"] = [{"description": description, "descriptionType": "Abstract"}]
    origin = root.find(f"{{{SWHDEPOSIT}}}deposit/{{{SWHDEPOSIT}}}create_origin/{{{SWHDEPOSIT}}}origin")
    meta["resourceType"] = {"resourceTypeGeneral": "Software"}
    return meta, origin.get("url") if origin is not None else None
