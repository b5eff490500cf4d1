"""The format registry: each format declared once, and every reader of the registry agrees with it."""

from __future__ import annotations

from lxml import etree
from rdflib import Graph
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, RDF

from osnode.formats import RecordView, registry
from osnode.oaipmh import provider
from osnode.services import harvest
from osnode.web import pages
from tests.formats.conftest import parse_xml


def test_names_prefixes_and_negotiated_types_are_unique() -> None:
    prefixes = [o.prefix for f in registry.FORMATS.values() for o in f.oai]
    assert len(prefixes) == len(set(prefixes))
    # Content negotiation picks a format by media type: two negotiable formats may not share one.
    negotiated = [f.media_type for f in registry.negotiable()]
    assert len(negotiated) == len(set(negotiated))
    assert all(name == f.name for name, f in registry.FORMATS.items())


def test_oai_formats_in_protocol_order() -> None:
    assert list(registry.oai_formats()) == ["oai_dc", "oai_datacite", "datacite", "dcat", "jats"]


def test_the_harvester_asks_for_the_readable_formats_in_the_registrys_order() -> None:
    assert harvest.PREFERRED_FORMATS == registry.harvestable() == ("oai_datacite", "datacite", "oai_dc")
    # A format without a reader (DCAT-AP) is served over OAI-PMH but never asked of a peer.
    readable = {o.prefix for f in registry.FORMATS.values() if f.read for o in f.oai}
    assert set(harvest.PREFERRED_FORMATS) == readable and "dcat" not in readable


def test_content_negotiation_offers_the_negotiable_formats() -> None:
    assert ["text/html", *(f.media_type for f in registry.negotiable())] == pages.OFFERED
    assert "application/xml" not in pages.OFFERED  # oai_dc is an export, not what a record URL answers


def test_provider_serves_every_oai_format_of_the_registry() -> None:
    assert {p: f.spec for p, f in provider.FORMATS.items()} == registry.oai_formats()
    # Every format the registry marks as a fast path has the provider's writer for it.
    fast = {p for p, spec in registry.oai_formats().items() if spec.fast_path}
    assert fast == set(provider._FAST_PATHS)


def test_content_type_adds_a_charset_only_where_the_type_does_not_imply_utf8() -> None:
    assert registry.FORMATS["bibtex"].content_type == "application/x-bibtex; charset=utf-8"
    assert registry.FORMATS["ris"].content_type == "application/x-research-info-systems; charset=utf-8"
    assert registry.FORMATS["json-ld"].content_type == "application/ld+json"
    assert registry.FORMATS["oai_dc"].content_type == "application/xml"


def test_readers_invert_their_writers(rich: RecordView) -> None:
    readable = [f for f in registry.FORMATS.values() if f.read]
    assert {f.name for f in readable} == {"datacite-xml", "datacite-json", "ro-crate", "oai_dc"}
    for f in readable:
        assert f.read is not None
        back = f.read(f.write(rich))
        titles = [t["title"] for t in back["titles"]]
        assert rich.metadata.titles[0].title in titles, f.name


def test_oai_datacite_wraps_the_datacite_record(rich: RecordView) -> None:
    spec = registry.oai_formats()["oai_datacite"]
    root = parse_xml(spec.write(rich, "node.example.org").encode())
    assert etree.QName(root).namespace == spec.namespace
    symbol = root.find(f"{{{spec.namespace}}}datacentreSymbol")
    assert symbol is not None and symbol.text == "node.example.org"
    payload = root.find(f"{{{spec.namespace}}}payload")
    assert payload is not None and len(payload) == 1
    assert etree.QName(payload[0]).namespace == registry.oai_formats()["datacite"].namespace


def test_oai_writers_give_schema_valid_records(
    rich: RecordView, datacite_schema: etree.XMLSchema, oai_dc_schema: etree.XMLSchema
) -> None:
    formats = registry.oai_formats()
    datacite_schema.assertValid(parse_xml(formats["datacite"].write(rich, "node.example.org").encode()))
    oai_dc_schema.assertValid(parse_xml(formats["oai_dc"].write(rich, "node.example.org").encode()))


def test_dcat_over_oai_is_the_rdf_xml_export_without_its_declaration(rich: RecordView) -> None:
    spec = registry.oai_formats()["dcat"]
    text = spec.write(rich, "node.example.org")
    assert text.startswith("<rdf:RDF") and "<?xml" not in text
    exported = Graph().parse(data=registry.FORMATS["dcat-rdf"].write(rich), format="xml")
    assert isomorphic(Graph().parse(data=text, format="xml"), exported)
    assert (None, RDF.type, DCAT.Dataset) in exported


def test_signposting_announces_one_format_per_media_type() -> None:
    # Clients pick a describedby link by its type: two with one type would hide one of them.
    types = [f.media_type for f in registry.signposted()]
    assert len(types) == len(set(types))
    assert {"dcat-ttl", "dcat-rdf"} <= {f.name for f in registry.signposted()}
