"""schema.org JSON-LD: valid JSON with the properties search engines read."""

from __future__ import annotations

import json

import pytest

from osnode.domain import vocabularies
from osnode.formats import schemaorg

from .conftest import MINIMAL, RICH, make_view


def roundtrip(view) -> dict:
    return json.loads(json.dumps(schemaorg.to_json_ld(view)))


def test_rich_dataset(rich):
    doc = roundtrip(rich)
    assert doc["@context"] == "https://schema.org"
    assert doc["@type"] == "Dataset"
    assert doc["@id"] == "https://doi.org/10.82433/B09Z-4K37"
    assert doc["identifier"] == [
        "https://doi.org/10.82433/B09Z-4K37",
        {"@type": "PropertyValue", "propertyID": "Local accession number", "value": "UAN-2026-0042"},
    ]
    assert doc["url"] == rich.identifier
    assert doc["name"] == "Inquérito sobre malária em Luanda, 2024"
    assert "루안다 말라리아 조사" in doc["alternateName"]
    assert doc["description"] == "Inquérito domiciliar sobre a prevalência da malária."  # the abstract in "pt"
    assert doc["version"] == "1.0"
    assert doc["datePublished"] == "2026-03-01"
    assert doc["keywords"] == ["FOS: Health sciences", "Malária", "Public health"]
    assert doc["inLanguage"] == "pt"
    assert doc["license"] == ["https://spdx.org/licenses/CC-BY-4.0.html", "https://example.org/terms"]
    assert doc["isAccessibleForFree"] is True
    assert doc["publisher"] == {
        "@type": "Organization",
        "name": "Nó de Ciência Aberta de Luanda",
        "@id": "https://ror.org/04z8jg394",
    }
    assert doc["includedInDataCatalog"] == {"@type": "DataCatalog", "name": "Luanda Open Science Node"}
    assert doc["citation"] == ["https://doi.org/10.1080/00031305.1973.10478966"]
    assert doc["isPartOf"][0] == "https://arxiv.org/abs/2101.00001"
    assert doc["isPartOf"][1]["@type"] == "PublicationIssue"  # the journal it is published in (relatedItems)


def test_an_article_is_part_of_an_issue_of_a_volume_of_a_periodical(article):
    doc = roundtrip(article)
    assert doc["@type"] == "ScholarlyArticle"
    assert doc["isPartOf"] == {
        "@type": "PublicationIssue",
        "issueNumber": "3",
        "datePublished": "2026",
        "isPartOf": {
            "@type": "PublicationVolume",
            "volumeNumber": "12",
            "isPartOf": {
                "@type": "Periodical",
                "name": "Revista Angolana de Saúde Pública",
                "issn": "2049-3630",
                "publisher": {"@type": "Organization", "name": "Universidade Agostinho Neto"},
            },
        },
    }
    assert (doc["pageStart"], doc["pageEnd"]) == ("101", "118")


def test_creators_are_people_and_organizations_with_identifiers(rich):
    creators = roundtrip(rich)["creator"]
    assert [c["@type"] for c in creators] == ["Person", "Person", "Person", "Organization"]
    joao = creators[0]
    assert joao["@id"] == "https://orcid.org/0000-0001-5109-3700"
    assert (joao["name"], joao["givenName"], joao["familyName"]) == ("João Ngola", "João", "Ngola")
    assert joao["affiliation"] == [
        {"@type": "Organization", "name": "Universidade Agostinho Neto", "@id": "https://ror.org/02s376052"}
    ]
    assert creators[1]["name"] == "민준 김" and creators[1]["@id"] == "https://orcid.org/0000-0002-1694-233X"
    assert creators[2] == {
        "@type": "Person",
        "name": "محمد",
        "affiliation": [{"@type": "Organization", "name": "Instituto Nacional de Saúde"}],
    }
    assert creators[3]["@id"] == "https://ror.org/03efmqc40"
    assert [c["name"] for c in roundtrip(rich)["contributor"]] == ["Maria Tavares", "Luanda Data Centre"]


def test_distribution_lists_the_files(rich):
    distribution = roundtrip(rich)["distribution"]
    assert distribution[0] == {
        "@type": "DataDownload",
        "name": "survey.csv",
        "contentUrl": "https://node.example.org/records/k3x9a-b7q2m/files/survey.csv",
        "encodingFormat": "text/csv",
        "contentSize": "2048 B",
        "sha256": "a" * 64,
    }
    assert [d["encodingFormat"] for d in distribution] == ["text/csv", "application/pdf"]


def test_funders_grants_and_coverage(rich):
    doc = roundtrip(rich)
    assert doc["funder"] == [
        {"@type": "Organization", "name": "National Science Foundation", "@id": "https://ror.org/021nxhr62"},
        {"@type": "Organization", "name": "European Commission", "@id": "https://doi.org/10.13039/501100000780"},
        {"@type": "Organization", "name": "Fundo Local"},
    ]
    assert doc["funding"] == [
        {
            "@type": "Grant",
            "funder": doc["funder"][0],
            "identifier": "NSF-1234",
            "name": "Malaria in cities",
            "url": "https://example.org/awards/1234",
        }
    ]
    place, box = doc["spatialCoverage"]
    assert place == {
        "@type": "Place",
        "name": "Luanda, Angola",
        "geo": {"@type": "GeoCoordinates", "latitude": -8.8383, "longitude": 13.2344},
    }
    assert box["geo"] == {"@type": "GeoShape", "box": "-9.3 12.9 -8.6 13.6"}
    assert doc["temporalCoverage"] == ["2024-01-15/2024-12-20", "2024"]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("Dataset", "Dataset"),
        ("JournalArticle", "ScholarlyArticle"),
        ("Software", "SoftwareSourceCode"),
        ("Other", "CreativeWork"),
        ("Text", "CreativeWork"),
    ],
)
def test_type_follows_resource_type(kind, expected):
    doc = roundtrip(make_view(RICH | {"resourceType": kind}))
    assert doc["@type"] == expected
    # Only datasets have a distribution; the files of other works are their encodings.
    assert ("distribution" in doc) == (expected == "Dataset")
    assert ("encoding" in doc) == (expected != "Dataset")
    assert ("headline" in doc) == (expected == "ScholarlyArticle")


@pytest.mark.parametrize("kind", vocabularies.RESOURCE_TYPES)
def test_every_kind_has_a_creative_work_type(kind):
    doc = roundtrip(make_view(MINIMAL | {"resourceType": kind}))
    assert doc["@type"][0].isupper() and " " not in doc["@type"]


def test_minimal_and_empty(minimal, bare):
    doc = roundtrip(minimal)
    assert doc["@id"] == doc["identifier"] == doc["url"] == minimal.identifier
    assert doc["creator"] == [{"@type": "Person", "name": "Silva, Ana"}]
    assert doc["publisher"] == {"@type": "Organization", "name": "Some Node"}
    assert "license" not in doc and "distribution" not in doc and "encoding" not in doc
    empty = roundtrip(bare)
    assert empty["name"] == "(untitled)"
    assert "creator" not in empty and "datePublished" not in empty
    assert empty["publisher"]["name"] == "Luanda Open Science Node"


def test_harvested_record_names_its_origin(rich):
    assert roundtrip(rich)["provider"]["name"] == "Luanda Open Science Node"
    harvested = make_view(RICH, origin_node="Nó de Jacarta")
    assert roundtrip(harvested)["provider"]["name"] == "Nó de Jacarta"


def test_script_text_cannot_close_the_script_element():
    view = make_view(MINIMAL | {"titles": [{"title": "</script><script>alert(1)</script> & more"}]})
    text = schemaorg.to_script(view)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text)["name"] == "</script><script>alert(1)</script> & more"
    assert json.loads(text) == schemaorg.to_json_ld(view)


def test_date_published_is_the_publication_year_when_it_predates_the_node(minimal):
    assert roundtrip(minimal)["datePublished"] == "2025"
