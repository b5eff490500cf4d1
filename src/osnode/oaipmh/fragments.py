"""The hot path of a harvest: list pages written as XML text, record by record.

A ListRecords page of 500 records built as one lxml tree, each record's metadata parsed back into
pydantic models first, cost milliseconds a record; a harvest of a million records took hours. Here
each record is one string:

- headers are formatted directly;
- ``oai_dc`` is written straight from the stored DataCite JSON by ``oai_dc``, which mirrors
  ``formats.dublincore.to_oai_dc`` element for element (tests/oaipmh/test_fragments.py checks
  that both give the same XML for every metadata shape the tests and the benchmark know);
- the DataCite formats use the one DataCite serializer (``formats.datacite``) on models rebuilt
  without validation (``trusted``), serialized per record.

The page's envelope (responseDate, request, resumptionToken) is still built with lxml, and the
records are spliced into it as bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from ..domain.licences import spdx_url
from ..domain.records import AccessLevel
from ..formats.accessrights import dc_dates, dc_rights, is_access_right
from ..formats.dublincore import DC, OAI_DC, SCHEMA_LOCATION, dc_sources
from ..formats.kinds import kind_of
from ..formats.links import identifier_url
from ..formats.xmltext import XSI, clean, escape_attribute, escape_text

OAI_DC_OPEN = (
    f'<oai_dc:dc xmlns:oai_dc="{OAI_DC}" xmlns:dc="{DC}" xmlns:xsi="{XSI}" xsi:schemaLocation="{SCHEMA_LOCATION}">'
)
OAI_DC_CLOSE = "</oai_dc:dc>"


def header(identifier: str, datestamp: str, set_specs: Iterable[str], deleted: bool) -> str:
    specs = "".join(f"<setSpec>{escape_text(spec)}</setSpec>" for spec in set_specs)
    status = ' status="deleted"' if deleted else ""
    identifier = escape_text(identifier)
    return f"<header{status}><identifier>{identifier}</identifier><datestamp>{datestamp}</datestamp>{specs}</header>"


# -- oai_dc from stored JSON (mirrors formats.dublincore.to_oai_dc) ------------------------------


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _year(meta: dict[str, Any], published_at: datetime | None) -> int | None:
    if meta.get("publicationYear"):
        return meta["publicationYear"]
    return published_at.year if published_at else None


def _issued(meta: dict[str, Any], published_at: datetime | None) -> str | None:
    year = _year(meta, published_at)
    if published_at and published_at.year == year:
        return published_at.date().isoformat()
    return str(year) if year else None


def _rights(meta: dict[str, Any], access_level: AccessLevel) -> list[str]:
    rights: list[str] = []
    for r in meta.get("rightsList") or ():
        if is_access_right(r.get("rightsUri")):
            continue
        url = r.get("rightsUri")
        if not url and r.get("rightsIdentifier") and r.get("rightsIdentifierScheme") == "SPDX":
            url = spdx_url(r["rightsIdentifier"])
        if url:
            rights.append(url)
        if r.get("rights") or r.get("rightsIdentifier"):
            rights.append(r.get("rights") or r.get("rightsIdentifier") or "")
    return _unique([*rights, *dc_rights(access_level)])


def oai_dc(
    meta: dict[str, Any],
    *,
    identifier: str,
    record_url: str,
    published_at: datetime | None,
    files: Iterable[tuple[int, str]],
    node_name: str,
    access_level: AccessLevel,
    embargo_until: date | None,
) -> str:
    """``<oai_dc:dc>`` of one version: ``meta`` is its stored DataCite JSON, ``files`` the
    ``(size, media type)`` of the files a reader may download (none when access is closed),
    ``access_level`` and ``embargo_until`` as in ``RecordView``."""
    out = [OAI_DC_OPEN]

    def add(name: str, value: Any, lang: Any = None) -> None:
        if value is None or not value.strip():
            return
        lang_attribute = f' xml:lang="{escape_attribute(lang)}"' if lang else ""
        out.append(f"<dc:{name}{lang_attribute}>{escape_text(value)}</dc:{name}>")

    get = meta.get
    for title in get("titles") or ():
        add("title", title.get("title"), title.get("lang"))
    for creator in get("creators") or ():
        add("creator", creator.get("name"))
    for subject in get("subjects") or ():
        add("subject", subject.get("subject"), subject.get("lang"))
    for description in get("descriptions") or ():
        add("description", description.get("description"), description.get("lang"))
    publisher = get("publisher")
    if isinstance(publisher, str):
        publisher = {"name": publisher}
    add("publisher", publisher["name"] if publisher else node_name, publisher.get("lang") if publisher else None)
    for contributor in get("contributors") or ():
        add("contributor", contributor.get("name"))
    dates = get("dates") or ()
    issued = _issued(meta, published_at)
    kept = ("Issued", "Created") if embargo_until else ("Issued", "Created", "Available")
    for value in _unique(
        [
            *([issued] if issued else []),
            *(d["date"] for d in dates if d.get("dateType") in kept),
            *dc_dates(embargo_until),
        ]
    ):
        add("date", value)
    resource_type = get("resourceType")
    if isinstance(resource_type, str):
        resource_type = {"resourceTypeGeneral": resource_type}
    kind = (resource_type or {}).get("resourceTypeGeneral") or "Other"
    types = [kind_of(kind).dcmi, kind]
    if resource_type and resource_type.get("resourceType"):
        types.append(resource_type["resourceType"])
    for value in _unique(types):
        add("type", value)
    files = list(files)
    for media_type in _unique([*(get("formats") or ()), *(m for _, m in files if m)]):
        add("format", media_type)
    derived = []
    if files:
        count = len(files)
        derived = [f"{count} file{'s' if count != 1 else ''}", f"{sum(s for s, _ in files)} bytes"]
    for size in _unique([*(get("sizes") or ()), *derived]):
        add("format", size)
    doi = get("doi")
    identifiers = [f"https://doi.org/{doi}" if doi else None, identifier]
    identifiers += [
        identifier_url(a["alternateIdentifierType"], a["alternateIdentifier"])
        for a in get("alternateIdentifiers") or ()
    ]
    for value in _unique(i for i in identifiers if i):
        add("identifier", value)
    add("language", get("language"))
    relations = [
        identifier_url(r["relatedIdentifierType"], r["relatedIdentifier"]) or r["relatedIdentifier"]
        for r in get("relatedIdentifiers") or ()
    ]
    if record_url != identifier:
        relations.append(record_url)
    for relation in _unique(relations):
        add("relation", relation)
    for source in dc_sources(get("relatedItems") or []):
        add("source", source)
    for geo in get("geoLocations") or ():
        add("coverage", geo.get("geoLocationPlace"))
    for d in dates:
        if d.get("dateType") in ("Coverage", "Collected"):
            add("coverage", d["date"])
    for rights in _rights(meta, access_level):
        add("rights", rights)
    out.append(OAI_DC_CLOSE)
    return clean("".join(out))
