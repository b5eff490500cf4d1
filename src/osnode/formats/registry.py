"""Every metadata format the node speaks, each declared once.

Exports (``/records/{id}/export/{name}``), content negotiation on the record URL, FAIR
Signposting and the OAI-PMH provider all read this registry, so adding a format is one module
in ``formats/`` (a pure function of ``RecordView``) plus one entry in ``FORMATS`` below.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from . import (
    RecordView,
    citation,
    datacite,
    datacite_json_read,
    datacite_read,
    dcat,
    doaj,
    dublincore,
    jats,
    rocrate,
    rocrate_read,
    schemaorg,
)
from .articles import ARTICLE

Writer = Callable[[RecordView], bytes]
# A reader takes the file's bytes (the XML readers also a parsed element) and returns the node's metadata JSON.
Reader = Callable[[Any], dict[str, Any]]


@dataclass(frozen=True)
class OAIFormat:
    """How a format is disseminated by the OAI-PMH provider."""

    prefix: str
    schema: str
    namespace: str
    write: Callable[[RecordView, str], str]
    """The record's metadata as XML text, given the view and the repository identifier
    (pages are joined as text, see ``oaipmh.fragments``)."""
    rank: int
    """Position in ListMetadataFormats: ``oai_dc``, which every harvester understands, first."""
    fast_path: bool = False
    """The provider writes it straight from the stored JSON (``oaipmh.fragments``) instead of
    through a ``RecordView``, for speed on large lists; ``write`` says what it must produce."""
    kind: str | None = None
    """Only records of this resourceTypeGeneral can be disseminated in it (None: every record)."""


@dataclass(frozen=True)
class Format:
    name: str
    """The path segment under ``/records/{id}/export/``, and the key of the registry."""
    media_type: str
    label: str
    extension: str
    write: Writer
    profile: str | None = None
    """The namespace or profile URI, announced in Signposting's ``profile``."""
    negotiable: bool = True
    """Offered by content negotiation on the record URL (not a bare ``application/xml``)."""
    signposted: bool = True
    """Announced as ``describedby`` in Signposting; off where another format has the same media type,
    since clients pick a link by its type (the JSON-LD they find must stay schema.org's)."""
    oai: tuple[OAIFormat, ...] = ()
    """Its OAI-PMH disseminations (one format may be wrapped more than one way)."""
    read: Reader | None = None
    """The reverse mapping, to the node's metadata JSON: for harvesting (a format with an OAI-PMH prefix) and
    for starting a deposit from a file (``services.metadata_import``)."""
    kinds: frozenset[str] | None = None
    """The resourceTypeGeneral values it describes (JATS: articles); None: every record."""

    def describes(self, kind: str | None) -> bool:
        return self.kinds is None or kind in self.kinds

    @property
    def content_type(self) -> str:
        """The media type with a charset where the type does not imply UTF-8 itself."""
        if self.media_type.endswith(("json", "+xml")) or self.media_type == "application/xml":
            return self.media_type
        return f"{self.media_type}; charset=utf-8"


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1).encode()


def _text(node: etree._Element) -> str:
    return etree.tostring(node, encoding="unicode")


def _datacite_text(view: RecordView, _repository: str) -> str:
    return datacite.to_text(view)


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "datacite-xml",
            "application/vnd.datacite.datacite+xml",
            "DataCite XML",
            "xml",
            datacite.to_xml,
            datacite.NAMESPACE,
            oai=(
                # DataCite's own OAI wrapper around the same XML, which OpenAIRE harvests; a harvester
                # asks for it first (it is what DataCite repositories serve most completely).
                OAIFormat("oai_datacite", datacite.OAI_SCHEMA, datacite.OAI_NAMESPACE, datacite.to_oai_text, 1),
                OAIFormat("datacite", datacite.SCHEMA_LOCATION, datacite.NAMESPACE, _datacite_text, 2),
            ),
            read=datacite_read.from_xml,
        ),
        Format(
            "datacite-json",
            "application/vnd.datacite.datacite+json",
            "DataCite JSON",
            "json",
            lambda v: _json(datacite.to_json(v)),
            read=datacite_json_read.from_json,
        ),
        Format("json-ld", "application/ld+json", "JSON-LD", "jsonld", lambda v: _json(schemaorg.to_json_ld(v))),
        Format("bibtex", "application/x-bibtex", "BibTeX", "bib", lambda v: citation.to_bibtex(v).encode()),
        Format(
            "csl-json",
            "application/vnd.citationstyles.csl+json",
            "CSL-JSON",
            "json",
            lambda v: _json(citation.to_csl_json(v)),
        ),
        Format("ris", "application/x-research-info-systems", "RIS", "ris", lambda v: citation.to_ris(v).encode()),
        Format(
            "oai_dc",
            "application/xml",
            "Dublin Core",
            "xml",
            dublincore.to_xml,
            dublincore.OAI_DC,
            negotiable=False,
            oai=(
                OAIFormat(
                    "oai_dc",
                    "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
                    dublincore.OAI_DC,
                    lambda v, _: _text(dublincore.to_oai_dc(v)),
                    0,
                    fast_path=True,
                ),
            ),
            read=dublincore.from_oai_dc,
        ),
        # DCAT-AP 3.0.1 in three RDF syntaxes; its JSON-LD is not negotiated, since a record URL
        # asked for application/ld+json answers schema.org, what search engines read.
        Format("dcat-ttl", "text/turtle", "DCAT-AP (Turtle)", "ttl", dcat.to_turtle, dcat.PROFILE),
        Format(
            "dcat-rdf",
            "application/rdf+xml",
            "DCAT-AP (RDF/XML)",
            "rdf",
            dcat.to_rdf_xml,
            dcat.PROFILE,
            # What CKAN's DCAT harvester and national portals read, offered over OAI-PMH too.
            oai=(OAIFormat(dcat.OAI_PREFIX, dcat.OAI_SCHEMA, dcat.OAI_NAMESPACE, dcat.to_oai_text, 3),),
        ),
        # RO-Crate 1.1's ro-crate-metadata.json (what a bag carries), read back to start a deposit from a crate;
        # JSON-LD like schema.org's, so neither negotiated nor signposted (clients pick a link by its type).
        Format(
            "ro-crate",
            "application/ld+json",
            "RO-Crate",
            "json",
            lambda v: _json(rocrate.to_json(v)),
            rocrate.PROFILE,
            negotiable=False,
            signposted=False,
            read=rocrate_read.from_json,
        ),
        # Articles only: JATS for the whole text's front matter and references (OAI-PMH ``jats``), DOAJ's JSON.
        Format(
            "jats",
            jats.MEDIA_TYPE,
            "JATS XML",
            "xml",
            lambda v: jats.to_xml(v),
            negotiable=False,
            signposted=False,
            oai=(OAIFormat(jats.OAI_PREFIX, jats.OAI_SCHEMA, jats.OAI_NAMESPACE, jats.to_oai_text, 4, kind=ARTICLE),),
            kinds=frozenset({ARTICLE}),
        ),
        Format(
            "doaj",
            "application/json",
            "DOAJ article (JSON)",
            "json",
            lambda v: _json(doaj.to_json(v)),
            negotiable=False,
            signposted=False,
            kinds=frozenset({ARTICLE}),
        ),
        Format(
            "dcat-jsonld",
            "application/ld+json",
            "DCAT-AP (JSON-LD)",
            "jsonld",
            dcat.to_json_ld,
            dcat.PROFILE,
            negotiable=False,
            signposted=False,
        ),
    )
}


def exports(kind: str | None = None) -> list[Format]:
    """The formats served under ``/records/{id}/export/`` for a record of ``kind`` (every format when not
    given), in the node's order of preference."""
    return [f for f in FORMATS.values() if kind is None or f.describes(kind)]


def signposted() -> list[Format]:
    """The formats a landing page announces as ``describedby`` links."""
    return [f for f in FORMATS.values() if f.signposted]


def negotiable() -> list[Format]:
    """The formats content negotiation offers on the record URL, in the node's order of preference."""
    return [f for f in FORMATS.values() if f.negotiable]


def oai_formats() -> dict[str, OAIFormat]:
    """The OAI-PMH metadata formats by prefix, in ListMetadataFormats order."""
    found = sorted((o for f in FORMATS.values() for o in f.oai), key=lambda o: o.rank)
    return {o.prefix: o for o in found}


def harvestable() -> tuple[str, ...]:
    """The OAI-PMH prefixes the harvester can read (a format with a reader), in the order it asks
    for them: the registry's order of preference (DataCite says the most, oai_dc is what everyone
    serves), each format's disseminations in the order it lists them."""
    return tuple(o.prefix for f in FORMATS.values() if f.read is not None for o in f.oai)
