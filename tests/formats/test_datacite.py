"""DataCite 4.7 XML is checked against the official XSD; its content and the JSON are checked by value."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from osnode.domain import vocabularies
from osnode.domain.metadata import Metadata, parse_metadata
from osnode.formats import RecordView, datacite
from osnode.formats.xmltext import clean
from osnode.services.demo import sample_records
from tests import schemas

from .conftest import BASE, MINIMAL, PUBLISHED, RICH, make_view, parse_xml, safe_parser

NS = {"d": datacite.NAMESPACE}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def assert_valid(schema: etree.XMLSchema, document: bytes) -> etree._Element:
    root = parse_xml(document)
    assert schema.validate(root), "\n".join(str(e) for e in schema.error_log)
    return root


def texts(root: etree._Element, path: str) -> list[str]:
    return [e.text or "" for e in root.xpath(path, namespaces=NS)]


# -- the schema check itself can fail ---------------------------------------------------------


def test_schema_accepts_the_official_examples_and_rejects_a_broken_record(datacite_schema, rich):
    examples = sorted(name for name in schemas.PINS if name.startswith("datacite/kernel-4.7/example/"))
    assert len(examples) == 17
    for example in examples:
        assert datacite_schema.validate(etree.parse(str(schemas.path(example)), safe_parser())), example
    root = parse_xml(datacite.to_xml(rich))
    root.remove(root.find("d:creators", NS))
    assert not datacite_schema.validate(root)
    assert "creators" in str(datacite_schema.error_log)


# -- validity ---------------------------------------------------------------------------------


def test_rich_record_validates(datacite_schema, rich):
    assert_valid(datacite_schema, datacite.to_xml(rich))


def test_minimal_record_validates(datacite_schema, minimal):
    assert_valid(datacite_schema, datacite.to_xml(minimal))


def test_empty_draft_validates_with_datacite_standard_values(datacite_schema, bare):
    root = assert_valid(datacite_schema, datacite.to_xml(bare))
    assert texts(root, "d:creators/d:creator/d:creatorName") == ["(:unav)"]
    assert texts(root, "d:titles/d:title") == ["(:unav)"]
    assert texts(root, "d:publisher") == ["Luanda Open Science Node"]
    assert texts(root, "d:publicationYear") == [str(datetime.now(UTC).year)]
    assert root.find("d:resourceType", NS).get("resourceTypeGeneral") == "Other"


@pytest.mark.parametrize("published", [False, True], ids=["as-deposited", "published"])
def test_demo_records_validate(datacite_schema, published):
    samples = sample_records()
    assert len(samples) == 4  # dataset, article, software, cell atlas
    for number, (metadata, files) in enumerate(samples):
        view = make_view(
            metadata,
            published_at=PUBLISHED if published else None,
            files=[
                (key, len(data), hashlib.sha256(data).hexdigest(), "application/octet-stream", f"{BASE}/f/{key}")
                for key, data in files
            ],
            identifier=f"{BASE}/records/demo{number}",
        )
        root = assert_valid(datacite_schema, datacite.to_xml(view))
        assert texts(root, "d:titles/d:title")[0] == metadata["titles"][0]["title"]
        expected_year = PUBLISHED.year if published else datetime.now(UTC).year
        assert texts(root, "d:publicationYear") == [str(expected_year)]


@pytest.mark.parametrize("kind", vocabularies.RESOURCE_TYPES)
def test_every_resource_type_validates(datacite_schema, kind):
    view = make_view(MINIMAL | {"resourceType": kind})
    root = assert_valid(datacite_schema, datacite.to_xml(view))
    assert root.find("d:resourceType", NS).get("resourceTypeGeneral") == kind


def test_control_characters_are_dropped_not_fatal(datacite_schema):
    view = make_view(MINIMAL | {"titles": [{"title": "Bad\x00 \x0bbytes\x1f here"}]})
    root = assert_valid(datacite_schema, datacite.to_xml(view))
    assert texts(root, "d:titles/d:title") == ["Bad bytes here"]


# -- content ----------------------------------------------------------------------------------


def test_document_is_utf8_with_the_47_schema_location(rich):
    data = datacite.to_xml(rich)
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert "<familyName>김</familyName>".encode() in data  # UTF-8, not character references
    root = parse_xml(data)
    assert root.tag == "{http://datacite.org/schema/kernel-4}resource"
    location = root.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation")
    assert location == "http://datacite.org/schema/kernel-4 https://schema.datacite.org/meta/kernel-4.7/metadata.xsd"


def test_identifier_is_the_doi_and_the_landing_page_an_alternate(rich):
    root = parse_xml(datacite.to_xml(rich))
    identifier = root.find("d:identifier", NS)
    assert (identifier.get("identifierType"), identifier.text) == ("DOI", "10.82433/B09Z-4K37")
    alternates = [(e.get("alternateIdentifierType"), e.text) for e in root.iterfind("d:alternateIdentifiers/*", NS)]
    assert alternates == [("URL", rich.identifier), ("Local accession number", "UAN-2026-0042")]


def test_without_doi_the_landing_page_is_the_identifier(minimal):
    root = parse_xml(datacite.to_xml(minimal))
    identifier = root.find("d:identifier", NS)
    assert (identifier.get("identifierType"), identifier.text) == ("URL", minimal.identifier)
    assert root.find("d:alternateIdentifiers", NS) is None
    assert "doi" not in datacite.to_json(minimal)


def test_creators_carry_orcid_affiliation_ror_and_name_types(rich):
    root = parse_xml(datacite.to_xml(rich))
    creators = root.findall("d:creators/d:creator", NS)
    assert [c.findtext("d:creatorName", namespaces=NS) for c in creators] == [
        "Ngola, João",
        "김, 민준",
        "محمد",
        "Consórcio de Saúde Pública de Angola",
    ]
    assert [c.find("d:creatorName", NS).get("nameType") for c in creators] == [
        "Personal",
        "Personal",
        "Personal",
        "Organizational",
    ]
    joao = creators[0]
    assert joao.findtext("d:givenName", namespaces=NS) == "João"
    assert joao.findtext("d:familyName", namespaces=NS) == "Ngola"
    orcid = joao.find("d:nameIdentifier", NS)
    assert orcid.text == "https://orcid.org/0000-0001-5109-3700"
    assert (orcid.get("nameIdentifierScheme"), orcid.get("schemeURI")) == ("ORCID", "https://orcid.org")
    affiliation = joao.find("d:affiliation", NS)
    assert affiliation.text == "Universidade Agostinho Neto"
    assert affiliation.get("affiliationIdentifier") == "https://ror.org/02s376052"
    assert affiliation.get("affiliationIdentifierScheme") == "ROR"
    assert affiliation.get("schemeURI") == "https://ror.org"
    # An affiliation without ROR has no identifier attributes at all.
    plain = creators[2].find("d:affiliation", NS)
    assert plain.text == "Instituto Nacional de Saúde" and plain.attrib == {}
    org_id = creators[3].find("d:nameIdentifier", NS)
    assert (org_id.text, org_id.get("nameIdentifierScheme")) == ("https://ror.org/03efmqc40", "ROR")


def test_titles_publisher_type_and_contributors(rich):
    root = parse_xml(datacite.to_xml(rich))
    titles = [(t.text, t.get(XML_LANG), t.get("titleType")) for t in root.iterfind("d:titles/d:title", NS)]
    assert titles[0] == ("Inquérito sobre malária em Luanda, 2024", "pt", None)
    assert ("루안다 말라리아 조사", "ko", "AlternativeTitle") in titles
    assert ("مسح الملاريا في لواندا", "ar", "TranslatedTitle") in titles
    assert len(titles) == 5
    publisher = root.find("d:publisher", NS)
    assert publisher.text == "Nó de Ciência Aberta de Luanda"
    assert publisher.get("publisherIdentifier") == "https://ror.org/04z8jg394"
    assert publisher.get("publisherIdentifierScheme") == "ROR"
    assert publisher.get(XML_LANG) == "pt"
    assert texts(root, "d:publicationYear") == ["2026"]
    resource_type = root.find("d:resourceType", NS)
    assert (resource_type.get("resourceTypeGeneral"), resource_type.text) == ("Dataset", "Household survey")
    contributors = root.findall("d:contributors/d:contributor", NS)
    assert [c.get("contributorType") for c in contributors] == ["Editor", "HostingInstitution"]
    assert contributors[0].find("d:nameIdentifier", NS).text == "https://orcid.org/0000-0003-4521-9770"


def test_subjects_dates_language_and_version(rich):
    root = parse_xml(datacite.to_xml(rich))
    fos = root.find("d:subjects/d:subject", NS)
    assert fos.text == "FOS: Health sciences"
    assert fos.get("schemeURI") == "http://www.oecd.org/science/inno"
    assert fos.get("valueURI") == "http://www.oecd.org/science/inno/38235147.pdf"
    assert fos.get(XML_LANG) == "en"
    assert root.find("d:subjects/d:subject[@classificationCode='4206']", NS).text == "Public health"
    dates = [(d.text, d.get("dateType"), d.get("dateInformation")) for d in root.iterfind("d:dates/d:date", NS)]
    assert dates == [
        ("2024-01-15/2024-12-20", "Collected", None),
        ("2024", "Coverage", "survey year"),
        ("2025-06-30", "Created", None),
        ("2026-03-01", "Available", None),  # when the node published it
    ]
    assert texts(root, "d:language") == ["pt"]
    assert texts(root, "d:version") == ["1.0"]


def test_version_falls_back_to_the_node_version_number(minimal):
    assert texts(parse_xml(datacite.to_xml(minimal)), "d:version") == ["1"]


def test_related_identifiers_include_swhid_and_the_concept(rich):
    root = parse_xml(datacite.to_xml(rich))
    related = [
        (r.text, r.get("relatedIdentifierType"), r.get("relationType"), r.get("resourceTypeGeneral"))
        for r in root.iterfind("d:relatedIdentifiers/d:relatedIdentifier", NS)
    ]
    assert related == [
        ("10.1080/00031305.1973.10478966", "DOI", "Cites", None),
        ("swh:1:dir:d198bc9d7a6bcf6db04f476d29314f157507d505", "SWHID", "IsSupplementedBy", "Software"),
        ("https://example.org/protocol", "URL", "IsDocumentedBy", None),
        ("arXiv:2101.00001", "arXiv", "IsPartOf", None),
        (rich.record_url, "URL", "IsVersionOf", None),
    ]


def test_concept_landing_page_is_not_related_to_itself():
    view = make_view(MINIMAL, record_url=f"{BASE}/records/k3x9a-b7q2m")
    assert datacite.to_json(view).get("relatedIdentifiers") is None


def test_sizes_and_formats_come_from_metadata_and_files(rich):
    root = parse_xml(datacite.to_xml(rich))
    assert texts(root, "d:sizes/d:size") == ["4 tables", "2 files", "3048 bytes"]
    assert texts(root, "d:formats/d:format") == ["text/csv", "application/pdf"]


def test_rights_are_spdx_with_licence_url(rich):
    root = parse_xml(datacite.to_xml(rich))
    spdx, other, *access = root.findall("d:rightsList/d:rights", NS)
    assert [a.get("rightsURI") for a in access] == [  # the access level follows the licences
        "http://purl.org/coar/access_right/c_abf2",
        "info:eu-repo/semantics/openAccess",
    ]
    assert spdx.get("rightsIdentifier") == "CC-BY-4.0"  # normalized from "cc-by-4.0"
    assert spdx.get("rightsIdentifierScheme") == "SPDX"
    assert spdx.get("schemeURI") == "https://spdx.org/licenses/"
    assert spdx.get("rightsURI") == "https://spdx.org/licenses/CC-BY-4.0.html"
    assert spdx.get(XML_LANG) == "en"
    assert (other.text, other.get("rightsURI"), other.get("rightsIdentifierScheme")) == (
        "Cite the survey team",
        "https://example.org/terms",
        None,
    )


def test_compound_licence_has_no_single_url(datacite_schema):
    view = make_view(MINIMAL | {"rightsList": [{"rightsIdentifier": "MIT OR Apache-2.0"}]})
    rights = assert_valid(datacite_schema, datacite.to_xml(view)).find("d:rightsList/d:rights", NS)
    assert rights.get("rightsIdentifier") == "MIT OR Apache-2.0"
    assert rights.get("rightsURI") is None


def test_descriptions_geolocations_and_funding(rich):
    root = parse_xml(datacite.to_xml(rich))
    descriptions = [
        (d.text, d.get("descriptionType"), d.get(XML_LANG)) for d in root.iterfind("d:descriptions/d:description", NS)
    ]
    assert descriptions[0] == ("Household survey of malaria prevalence.\nTwo rounds.", "Abstract", "en")
    assert descriptions[1][1:] == ("Abstract", "pt")
    assert descriptions[2] == ("Random sampling <by block> & GPS.", "Methods", "en")

    place, box = root.findall("d:geoLocations/d:geoLocation", NS)
    assert place.findtext("d:geoLocationPlace", namespaces=NS) == "Luanda, Angola"
    assert float(place.findtext("d:geoLocationPoint/d:pointLatitude", namespaces=NS)) == -8.8383
    assert float(place.findtext("d:geoLocationPoint/d:pointLongitude", namespaces=NS)) == 13.2344
    assert float(box.findtext("d:geoLocationBox/d:southBoundLatitude", namespaces=NS)) == -9.3
    assert float(box.findtext("d:geoLocationBox/d:eastBoundLongitude", namespaces=NS)) == 13.6

    nsf, ec, local = root.findall("d:fundingReferences/d:fundingReference", NS)
    funder = nsf.find("d:funderIdentifier", NS)
    assert (funder.text, funder.get("funderIdentifierType"), funder.get("schemeURI")) == (
        "https://ror.org/021nxhr62",
        "ROR",
        "https://ror.org",
    )
    award = nsf.find("d:awardNumber", NS)
    assert (award.text, award.get("awardURI")) == ("NSF-1234", "https://example.org/awards/1234")
    assert nsf.findtext("d:awardTitle", namespaces=NS) == "Malaria in cities"
    crossref = ec.find("d:funderIdentifier", NS)
    assert (crossref.text, crossref.get("funderIdentifierType")) == (
        "https://doi.org/10.13039/501100000780",
        "Crossref Funder ID",
    )
    assert [child.tag.split("}")[1] for child in local] == ["funderName"]


def test_funder_identifier_without_type_still_validates(datacite_schema):
    funding = {"funderName": "Fund", "funderIdentifier": "F-1", "awardUri": "https://example.org/a"}
    view = make_view(MINIMAL | {"fundingReferences": [funding]})
    root = assert_valid(datacite_schema, datacite.to_xml(view))
    assert root.find("d:fundingReferences/*/d:funderIdentifier", NS).get("funderIdentifierType") == "Other"
    assert root.find("d:fundingReferences/*/d:awardNumber", NS).get("awardURI") == "https://example.org/a"


# -- JSON -------------------------------------------------------------------------------------

# Metadata property -> where DataCite's REST API puts it.
JSON_NAMES = {"resourceType": "types", "alternateIdentifiers": "identifiers", "publicationYear": "publicationYear"}


def test_json_maps_every_metadata_property(rich):
    data = datacite.to_json(rich)
    for name in Metadata.model_fields:
        assert JSON_NAMES.get(name, name) in data, f"{name} is not mapped"
    # And the rich fixture really uses every property, so this test covers them all.
    assert set(RICH) == set(Metadata.model_fields)


def test_json_values(rich):
    data = datacite.to_json(rich)
    assert data["doi"] == "10.82433/B09Z-4K37"
    assert data["url"] == rich.identifier
    assert data["schemaVersion"] == "http://datacite.org/schema/kernel-4"
    assert data["types"] == {
        "resourceTypeGeneral": "Dataset",
        "resourceType": "Household survey",
        "schemaOrg": "Dataset",
        "citeproc": "dataset",
        "bibtex": "dataset",
        "ris": "DATA",
    }
    joao = data["creators"][0]
    assert joao["nameIdentifiers"] == [
        {
            "nameIdentifier": "https://orcid.org/0000-0001-5109-3700",
            "nameIdentifierScheme": "ORCID",
            "schemeUri": "https://orcid.org",
        }
    ]
    assert joao["affiliation"] == [
        {
            "name": "Universidade Agostinho Neto",
            "affiliationIdentifier": "https://ror.org/02s376052",
            "affiliationIdentifierScheme": "ROR",
            "schemeUri": "https://ror.org",
        }
    ]
    assert data["publisher"]["publisherIdentifierScheme"] == "ROR"
    assert data["publicationYear"] == 2026
    assert data["identifiers"][0] == {"identifier": rich.identifier, "identifierType": "URL"}
    assert data["rightsList"][0]["rightsUri"] == "https://spdx.org/licenses/CC-BY-4.0.html"
    assert data["geoLocations"][0]["geoLocationPoint"] == {"pointLatitude": -8.8383, "pointLongitude": 13.2344}
    assert data["contributors"][0]["contributorType"] == "Editor"
    assert data["sizes"] == ["4 tables", "2 files", "3048 bytes"]


def test_xml_and_json_say_the_same(rich):
    """The XML is written from the JSON mapping; spot-check that every list made it across."""
    data = datacite.to_json(rich)
    root = parse_xml(datacite.to_xml(rich))
    pairs = {
        "creators": "d:creators/d:creator",
        "titles": "d:titles/d:title",
        "subjects": "d:subjects/d:subject",
        "contributors": "d:contributors/d:contributor",
        "dates": "d:dates/d:date",
        "identifiers": "d:alternateIdentifiers/d:alternateIdentifier",
        "relatedIdentifiers": "d:relatedIdentifiers/d:relatedIdentifier",
        "sizes": "d:sizes/d:size",
        "formats": "d:formats/d:format",
        "rightsList": "d:rightsList/d:rights",
        "descriptions": "d:descriptions/d:description",
        "geoLocations": "d:geoLocations/d:geoLocation",
        "fundingReferences": "d:fundingReferences/d:fundingReference",
    }
    for key, path in pairs.items():
        assert len(data[key]) == len(root.xpath(path, namespaces=NS)), key


def test_serializing_does_not_change_the_view(rich):
    before = copy.deepcopy(rich.metadata.model_dump())
    datacite.to_xml(rich)
    datacite.to_json(rich)
    assert rich.metadata.model_dump() == before


def test_view_from_stored_version():
    from osnode.domain.records import Access, FileEntry, State, Version

    now = datetime(2026, 1, 2, tzinfo=UTC)
    version = Version(
        id="k3x9a-b7q2m",
        record_id="c0nc3-pt1d0",
        number=3,
        state=State.PUBLISHED,
        metadata=parse_metadata(MINIMAL).to_json(),
        access=Access(),
        owner_id=1,
        created=now,
        updated=now,
        published_at=now,
        origin_node="Other node",
        files=[FileEntry("a.csv", "c" * 64, 10, "text/csv", now)],
    )
    view = RecordView.from_version(
        version,
        identifier=f"{BASE}/records/k3x9a-b7q2m",
        record_url=f"{BASE}/records/c0nc3-pt1d0",
        file_url=lambda f: f"{BASE}/api/records/k3x9a-b7q2m/files/{f.key}",
        node_name="N",
        today=now.date(),
    )
    assert view.files[0].download_url == f"{BASE}/api/records/k3x9a-b7q2m/files/a.csv"
    assert (view.version_number, view.origin_node, view.metadata.main_title()) == (3, "Other node", "Notes")
    assert datacite.to_json(view)["version"] == "3"


# -- the text writer ---------------------------------------------------------------------------


AWARD_URI = "https://example.org/awards?id=1&lang=pt"
_TEXT = st.text(min_size=1, max_size=30).filter(lambda t: clean(t).strip() != "")


@settings(max_examples=200, deadline=None)
@given(title=_TEXT, creator=_TEXT, affiliation=_TEXT, description=_TEXT, award=_TEXT)
def test_any_text_comes_back_as_written(
    datacite_schema: etree.XMLSchema, title: str, creator: str, affiliation: str, description: str, award: str
) -> None:
    """The XML is written as text: markup characters in element text and in attribute values
    (quotes, ``&``, ``<``, newlines, tabs, carriage returns, ``]]>``) must parse back unchanged, and
    only the characters XML cannot carry are dropped."""
    meta = MINIMAL | {
        "titles": [{"title": title}],
        "creators": [{"name": creator, "nameType": "Organizational", "affiliations": [{"name": affiliation}]}],
        "descriptions": [{"description": description}],
        "fundingReferences": [{"funderName": "Funder", "awardNumber": award, "awardUri": AWARD_URI}],
        "subjects": [{"subject": "Rain", "subjectScheme": description, "classificationCode": title}],
    }
    try:
        metadata = parse_metadata(meta)
    except Exception:  # the domain refuses some values (a malformed URI, say): not this test's subject
        return
    root = assert_valid(datacite_schema, datacite.to_xml(make_view(metadata)))
    assert texts(root, "d:titles/d:title") == [clean(metadata.titles[0].title)]
    assert texts(root, "d:creators/d:creator/d:creatorName") == [clean(metadata.creators[0].name)]
    assert texts(root, "d:creators/d:creator/d:affiliation") == [clean(metadata.creators[0].affiliations[0].name)]
    assert texts(root, "d:descriptions/d:description") == [clean(metadata.descriptions[0].description)]
    funding = metadata.fundingReferences[0]
    assert texts(root, "d:fundingReferences/d:fundingReference/d:awardNumber") == [clean(funding.awardNumber or "")]
    award_number = root.find("d:fundingReferences/d:fundingReference/d:awardNumber", NS)
    assert award_number.get("awardURI") == AWARD_URI  # an attribute with '&' in it
    subject = root.find("d:subjects/d:subject", NS)  # free-text attributes: quotes, newlines, tabs
    assert subject.get("subjectScheme") == clean(metadata.subjects[0].subjectScheme or "")
    # An anyURI: the domain refuses what the XSD would (the record is skipped above), takes the rest.
    assert subject.get("classificationCode") == metadata.subjects[0].classificationCode
