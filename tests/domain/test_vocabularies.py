"""The controlled lists in ``osnode.domain.vocabularies`` are exactly DataCite 4.7's, read from the official XSDs.

The schemas live outside the repository: ``tests/schemas.py`` finds them (``$OSNODE_SCHEMAS``, ``../shared/schemas``)
or fetches the official copies once and checks their pinned SHA-256; they are never copied in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from osnode.domain import vocabularies
from osnode.domain.errors import InvalidInput
from osnode.domain.metadata import parse_metadata
from tests import schemas

INCLUDE = "datacite/kernel-4.7/include"
XS = {"xs": "http://www.w3.org/2001/XMLSchema"}

# vocabulary constant -> (XSD file, simpleType name)
SOURCES = {
    "RESOURCE_TYPES": ("datacite-resourceType-v4.xsd", "resourceType"),
    "TITLE_TYPES": ("datacite-titleType-v4.xsd", "titleType"),
    "NAME_TYPES": ("datacite-nameType-v4.xsd", "nameType"),
    "CONTRIBUTOR_TYPES": ("datacite-contributorType-v4.xsd", "contributorType"),
    "DATE_TYPES": ("datacite-dateType-v4.xsd", "dateType"),
    "DESCRIPTION_TYPES": ("datacite-descriptionType-v4.xsd", "descriptionType"),
    "FUNDER_IDENTIFIER_TYPES": ("datacite-funderIdentifierType-v4.xsd", "funderIdentifierType"),
    "RELATED_IDENTIFIER_TYPES": ("datacite-relatedIdentifierType-v4.xsd", "relatedIdentifierType"),
    "RELATION_TYPES": ("datacite-relationType-v4.xsd", "relationType"),
}
# Enumerations in the kernel the node does not model (relatedItem numbers), named so a new one is noticed.
NOT_MODELLED = {"numberType"}


def _parse(path: Path) -> Any:
    # Safe parsing, as everywhere in the node: no entities, no network.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.parse(str(path), parser)


def enumeration(filename: str, type_name: str) -> tuple[str, ...]:
    path = schemas.path(f"{INCLUDE}/{filename}")
    values = _parse(path).xpath(
        "//xs:simpleType[@name=$name]/xs:restriction/xs:enumeration/@value", namespaces=XS, name=type_name
    )
    assert values, f"no enumeration {type_name} in {path}"
    return tuple(str(v) for v in values)


def test_schemas_are_there() -> None:
    assert schemas.path("datacite/kernel-4.7/metadata.xsd").is_file()


@pytest.mark.parametrize("constant", sorted(SOURCES))
def test_vocabulary_equals_the_xsd_enumeration(constant: str) -> None:
    ours = getattr(vocabularies, constant)
    official = enumeration(*SOURCES[constant])
    assert tuple(ours) == official, (
        f"{constant}: missing {set(official) - set(ours)}, extra {set(ours) - set(official)}"
    )


@pytest.mark.parametrize("constant", sorted(SOURCES))
def test_vocabulary_is_an_immutable_tuple(constant: str) -> None:
    # A module-level list could be appended to at run time by any importer.
    assert isinstance(getattr(vocabularies, constant), tuple)


def test_every_enumeration_in_the_kernel_is_accounted_for() -> None:
    found = set()
    included = sorted(name for name in schemas.PINS if name.startswith(f"{INCLUDE}/") and name.endswith(".xsd"))
    assert included, "no DataCite 4.7 include files pinned"
    for path in map(schemas.path, included):
        tree = _parse(path)
        for simple in tree.xpath("//xs:simpleType[xs:restriction/xs:enumeration]", namespaces=XS):
            found.add(simple.get("name"))
    modelled = {type_name for _, type_name in SOURCES.values()}
    # xml.xsd's xml:space enumeration is XML's own, not DataCite's.
    assert found - {None, "space"} == modelled | NOT_MODELLED


def test_the_node_kinds_are_datacite_resource_types() -> None:
    for kind in (vocabularies.KIND_DATASET, vocabularies.KIND_ARTICLE, vocabularies.KIND_SOFTWARE):
        assert kind in enumeration(*SOURCES["RESOURCE_TYPES"])


# -- the metadata parser accepts exactly the official values -------------------------------------


def _with(constant: str, value: str) -> dict[str, Any]:
    related = {"relatedIdentifier": "10.1000/x", "relatedIdentifierType": "DOI", "relationType": "Cites"}
    return {
        "RESOURCE_TYPES": {"resourceType": {"resourceTypeGeneral": value}},
        "TITLE_TYPES": {"titles": [{"title": "t", "titleType": value}]},
        "NAME_TYPES": {"creators": [{"name": "n", "nameType": value}]},
        "CONTRIBUTOR_TYPES": {"contributors": [{"name": "n", "contributorType": value}]},
        "DATE_TYPES": {"dates": [{"date": "2020", "dateType": value}]},
        "DESCRIPTION_TYPES": {"descriptions": [{"description": "d", "descriptionType": value}]},
        "FUNDER_IDENTIFIER_TYPES": {
            # ROR-typed identifiers are checked as ROR ids, so give a real one.
            "fundingReferences": [{"funderName": "f", "funderIdentifier": "03yrm5c26", "funderIdentifierType": value}]
        },
        "RELATION_TYPES": {"relatedIdentifiers": [related | {"relationType": value}]},
    }[constant]


@pytest.mark.parametrize("constant", sorted(set(SOURCES) - {"RELATED_IDENTIFIER_TYPES"}))
def test_parser_accepts_every_official_value_and_nothing_else(constant: str) -> None:
    official = enumeration(*SOURCES[constant])
    for value in official:
        parse_metadata(_with(constant, value))
    for wrong in {value.lower() for value in official} - set(official) | {"Unknown", ""}:
        with pytest.raises(InvalidInput):
            parse_metadata(_with(constant, wrong))


def test_parser_accepts_every_official_related_identifier_type() -> None:
    samples = {
        "DOI": "10.1000/x",
        "URL": "https://example.org/x",
        "PURL": "https://purl.org/x",
        "w3id": "https://w3id.org/x",
        "arXiv": "2101.00001",
        "PMID": "123",
        "SWHID": "swh:1:cnt:" + "a" * 40,
        "Handle": "20.500.1/x",
        "ISSN": "0317-8471",
        "EISSN": "0317-8471",
        "LISSN": "0317-8471",
        "ISBN": "0-306-40615-2",
    }
    for kind in enumeration(*SOURCES["RELATED_IDENTIFIER_TYPES"]):
        value = samples.get(kind, "some-identifier")
        meta = parse_metadata(
            {
                "relatedIdentifiers": [
                    {"relatedIdentifier": value, "relatedIdentifierType": kind, "relationType": "Cites"}
                ]
            }
        )
        assert meta.relatedIdentifiers[0].relatedIdentifierType == kind
    with pytest.raises(InvalidInput):
        parse_metadata(
            {
                "relatedIdentifiers": [
                    {"relatedIdentifier": "x", "relatedIdentifierType": "doi", "relationType": "Cites"}
                ]
            }
        )
