"""Views for the serializer tests, and the official schemas they are checked against.

The schemas come from ``tests/schemas.py`` (a local folder, or the official copies fetched once and checked
against pinned SHA-256 digests), never copied into the repository, and are parsed with no network access and no
entity expansion.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

import pytest
from lxml import etree
from pyshacl import validate
from rdflib import Graph, Namespace

from osnode.domain.metadata import Metadata, parse_metadata
from osnode.formats import FileView, RecordView
from tests import schemas
from tests.schemas import load_schema, safe_parser

SH = Namespace("http://www.w3.org/ns/shacl#")

BASE = "https://node.example.org"
PUBLISHED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@functools.cache
def dcat_shapes() -> Graph:
    """The official DCAT-AP 3.0.1 SHACL shapes (the constraints and the ranges), parsed once."""
    graph = Graph()
    for name in ("dcat-ap-SHACL.ttl", "ranges.ttl"):
        graph.parse(schemas.path(f"dcat-ap/3.0.1/{name}"), format="turtle")
    # The published ranges.ttl lists five property shapes it never defines (no sh:path anywhere):
    # pyshacl refuses the whole graph for them, so those dangling references are dropped, nothing else.
    dangling = [(s, o) for s, o in graph.subject_objects(SH.property) if (o, SH.path, None) not in graph]
    assert len(dangling) == 5
    for subject, shape in dangling:
        graph.remove((subject, SH.property, shape))
    return graph


def conforms(shapes: Graph, data: Graph) -> None:
    ok, _, report = validate(data, shacl_graph=shapes, inference="none")
    assert ok, report


def parse_xml(data: bytes) -> etree._Element:
    return etree.fromstring(data, safe_parser())


@pytest.fixture(scope="session")
def datacite_schema() -> etree.XMLSchema:
    return load_schema("datacite/kernel-4.7/metadata.xsd")


@pytest.fixture(scope="session")
def oai_dc_schema() -> etree.XMLSchema:
    return load_schema("oai-pmh/oai_dc.xsd")


RICH: dict[str, Any] = {
    "doi": "https://doi.org/10.82433/B09Z-4K37",
    "titles": [
        {"title": "Inquérito sobre malária em Luanda, 2024", "lang": "pt"},
        {"title": "Malaria survey in Luanda, 2024", "lang": "en", "titleType": "TranslatedTitle"},
        {"title": "루안다 말라리아 조사", "lang": "ko", "titleType": "AlternativeTitle"},
        {"title": "مسح الملاريا في لواندا", "lang": "ar", "titleType": "TranslatedTitle"},
        {"title": "Dados domiciliares", "lang": "pt", "titleType": "Subtitle"},
    ],
    "creators": [
        {
            "givenName": "João",
            "familyName": "Ngola",
            "orcid": "https://orcid.org/0000-0001-5109-3700",
            "affiliations": [{"name": "Universidade Agostinho Neto", "ror": "https://ror.org/02s376052"}],
        },
        {"givenName": "민준", "familyName": "김", "orcid": "0000-0002-1694-233X"},
        {"name": "محمد", "nameType": "Personal", "affiliations": [{"name": "Instituto Nacional de Saúde"}]},
        {
            "name": "Consórcio de Saúde Pública de Angola",
            "nameType": "Organizational",
            "nameIdentifiers": [
                {
                    "nameIdentifier": "https://ror.org/03efmqc40",
                    "nameIdentifierScheme": "ROR",
                    "schemeUri": "https://ror.org",
                }
            ],
        },
    ],
    "contributors": [
        {"givenName": "Maria", "familyName": "Tavares", "contributorType": "Editor", "orcid": "0000-0003-4521-9770"},
        {"name": "Luanda Data Centre", "nameType": "Organizational", "contributorType": "HostingInstitution"},
    ],
    "publisher": {"name": "Nó de Ciência Aberta de Luanda", "ror": "04z8jg394", "lang": "pt"},
    "publicationYear": 2026,
    "resourceType": {"resourceTypeGeneral": "Dataset", "resourceType": "Household survey"},
    "subjects": [
        {
            "subject": "FOS: Health sciences",
            "subjectScheme": "Fields of Science and Technology (FOS)",
            "schemeUri": "http://www.oecd.org/science/inno",
            "valueUri": "http://www.oecd.org/science/inno/38235147.pdf",
            "lang": "en",
        },
        {"subject": "Malária", "lang": "pt"},
        {"subject": "Public health", "subjectScheme": "ANZSRC", "classificationCode": "4206"},
    ],
    "dates": [
        {"date": "2024-01-15/2024-12-20", "dateType": "Collected"},
        {"date": "2024", "dateType": "Coverage", "dateInformation": "survey year"},
        {"date": "2025-06-30", "dateType": "Created"},
    ],
    "language": "pt",
    "alternateIdentifiers": [
        {"alternateIdentifier": "UAN-2026-0042", "alternateIdentifierType": "Local accession number"}
    ],
    "relatedIdentifiers": [
        {
            "relatedIdentifier": "10.1080/00031305.1973.10478966",
            "relatedIdentifierType": "DOI",
            "relationType": "Cites",
        },
        {
            "relatedIdentifier": "swh:1:dir:d198bc9d7a6bcf6db04f476d29314f157507d505",
            "relatedIdentifierType": "SWHID",
            "relationType": "IsSupplementedBy",
            "resourceTypeGeneral": "Software",
        },
        {
            "relatedIdentifier": "https://example.org/protocol",
            "relatedIdentifierType": "URL",
            "relationType": "IsDocumentedBy",
        },
        {"relatedIdentifier": "2101.00001", "relatedIdentifierType": "arXiv", "relationType": "IsPartOf"},
    ],
    "sizes": ["4 tables"],
    "formats": ["text/csv"],
    "version": "1.0",
    "rightsList": [
        {"rightsIdentifier": "cc-by-4.0", "lang": "en"},
        {"rights": "Cite the survey team", "rightsUri": "https://example.org/terms"},
    ],
    "descriptions": [
        {
            "description": "Household survey of malaria prevalence.\nTwo rounds.",
            "descriptionType": "Abstract",
            "lang": "en",
        },
        {"description": "Inquérito domiciliar sobre a prevalência da malária.", "lang": "pt"},
        {"description": "Random sampling <by block> & GPS.", "descriptionType": "Methods", "lang": "en"},
    ],
    "geoLocations": [
        {
            "geoLocationPlace": "Luanda, Angola",
            "geoLocationPoint": {"pointLatitude": -8.8383, "pointLongitude": 13.2344},
        },
        {
            "geoLocationBox": {
                "westBoundLongitude": 12.9,
                "eastBoundLongitude": 13.6,
                "southBoundLatitude": -9.3,
                "northBoundLatitude": -8.6,
            }
        },
    ],
    "fundingReferences": [
        {
            "funderName": "National Science Foundation",
            "funderIdentifier": "https://ror.org/021nxhr62",
            "funderIdentifierType": "ROR",
            "awardNumber": "NSF-1234",
            "awardUri": "https://example.org/awards/1234",
            "awardTitle": "Malaria in cities",
        },
        {
            "funderName": "European Commission",
            "funderIdentifier": "10.13039/501100000780",
            "funderIdentifierType": "Crossref Funder ID",
        },
        {"funderName": "Fundo Local"},
    ],
    "relatedItems": [
        {
            "relatedItemType": "Journal",
            "relationType": "IsPublishedIn",
            "relatedItemIdentifier": {"relatedItemIdentifier": "2049-3630", "relatedItemIdentifierType": "ISSN"},
            "titles": [{"title": "Revista Angolana de Saúde Pública"}],
            "publicationYear": 2024,
            "volume": "12",
            "issue": "3",
            "number": "e42",
            "numberType": "Article",
            "firstPage": "101",
            "lastPage": "118",
            "publisher": "Universidade Agostinho Neto",
        }
    ],
}

FILES = [
    FileView("survey.csv", 2048, "a" * 64, "text/csv", f"{BASE}/records/k3x9a-b7q2m/files/survey.csv"),
    ("codebook.pdf", 1000, "b" * 64, "application/pdf", f"{BASE}/records/k3x9a-b7q2m/files/codebook.pdf"),
]


def make_view(metadata: dict[str, Any] | Metadata, **overrides: Any) -> RecordView:
    meta = metadata if isinstance(metadata, Metadata) else parse_metadata(metadata)
    values: dict[str, Any] = {
        "metadata": meta,
        "identifier": f"{BASE}/records/k3x9a-b7q2m",
        "record_url": f"{BASE}/records/c0nc3-pt1d0",
        "version_number": 2,
        "published_at": PUBLISHED,
        "files": FILES,
        "node_name": "Luanda Open Science Node",
    }
    values.update(overrides)
    return RecordView(**values)


@pytest.fixture
def rich() -> RecordView:
    return make_view(RICH)


MINIMAL: dict[str, Any] = {
    "titles": [{"title": "Notes"}],
    "creators": [{"name": "Silva, Ana"}],
    "publisher": "Some Node",
    "publicationYear": 2025,
    "resourceType": "Text",
}


@pytest.fixture
def minimal() -> RecordView:
    """What a depositor must give before publishing, and nothing more; no DOI, no files."""
    return make_view(MINIMAL, files=[], version_number=1)


@pytest.fixture
def bare() -> RecordView:
    """An empty draft: every mandatory DataCite property is missing."""
    return make_view(Metadata(), files=[], version_number=1, published_at=None)


ARTICLE_URL = f"{BASE}/records/art1c-le001"
ARTICLE: dict[str, Any] = {
    "doi": "10.82433/jasp.2026.042",
    "titles": [
        {"title": "Malaria in Luanda's households, 2024", "lang": "en"},
        {"title": "A two-round survey", "lang": "en", "titleType": "Subtitle"},
        {"title": "A malária nos domicílios de Luanda, 2024", "lang": "pt", "titleType": "TranslatedTitle"},
    ],
    "creators": [
        {
            "givenName": "João",
            "familyName": "Ngola",
            "orcid": "0000-0001-5109-3700",
            "affiliations": [{"name": "Universidade Agostinho Neto", "ror": "https://ror.org/02s376052"}],
        },
        {
            "givenName": "민준",
            "familyName": "김",
            "orcid": "0000-0002-1694-233X",
            "affiliations": [
                {"name": "Universidade Agostinho Neto", "ror": "https://ror.org/02s376052"},
                {"name": "Instituto Nacional de Saúde"},
            ],
        },
        {"name": "Angola Malaria Consortium", "nameType": "Organizational"},
    ],
    "publisher": "Revista Angolana de Saúde Pública",
    "publicationYear": 2026,
    "resourceType": {"resourceTypeGeneral": "JournalArticle", "resourceType": "Research article"},
    "language": "en",
    "subjects": [
        {"subject": "malaria", "lang": "en"},
        {"subject": "household survey", "lang": "en"},
        {"subject": "malária", "lang": "pt"},
    ],
    "descriptions": [
        {"description": "We surveyed 2,000 households.\n\nPrevalence fell by 12% <p < 0.01>.", "lang": "en"},
        {"description": "Inquirimos 2.000 domicílios.", "lang": "pt", "descriptionType": "Abstract"},
        {"description": "لقد شملنا 2000 أسرة.", "lang": "ar", "descriptionType": "Abstract"},
    ],
    "rightsList": [{"rightsIdentifier": "CC-BY-4.0"}],
    "fundingReferences": [
        {
            "funderName": "National Science Foundation",
            "funderIdentifier": "https://ror.org/021nxhr62",
            "funderIdentifierType": "ROR",
            "awardNumber": "NSF-1234",
        },
        {
            "funderName": "European Commission",
            "funderIdentifier": "10.13039/501100000780",
            "funderIdentifierType": "Crossref Funder ID",
        },
        {"funderName": "Fundo Local"},
    ],
    "relatedIdentifiers": [
        {
            "relatedIdentifier": "10.1080/00031305.1973.10478966",
            "relatedIdentifierType": "DOI",
            "relationType": "References",
        },
        {
            "relatedIdentifier": "https://example.org/report.pdf",
            "relatedIdentifierType": "URL",
            "relationType": "References",
        },
        {"relatedIdentifier": "2101.00001", "relatedIdentifierType": "arXiv", "relationType": "Cites"},
        {
            "relatedIdentifier": "swh:1:dir:d198bc9d7a6bcf6db04f476d29314f157507d505",
            "relatedIdentifierType": "SWHID",
            "relationType": "IsSupplementedBy",
        },
    ],
    "relatedItems": [
        {
            "relatedItemType": "Journal",
            "relationType": "IsPublishedIn",
            "relatedItemIdentifier": {"relatedItemIdentifier": "2049-3630", "relatedItemIdentifierType": "EISSN"},
            "titles": [{"title": "Revista Angolana de Saúde Pública"}],
            "publicationYear": 2026,
            "volume": "12",
            "issue": "3",
            "firstPage": "101",
            "lastPage": "118",
            "publisher": "Universidade Agostinho Neto",
        }
    ],
}
GALLEYS = [
    FileView("article.pdf", 90_000, "c" * 64, "application/pdf", f"{ARTICLE_URL}/files/article.pdf"),
    FileView("article.html", 30_000, "d" * 64, "text/html", f"{ARTICLE_URL}/files/article.html"),
    FileView("data.csv", 100, "e" * 64, "text/csv", f"{ARTICLE_URL}/files/data.csv"),
]


@pytest.fixture
def article() -> RecordView:
    """A published journal article: its journal as the container, PDF and HTML galleys."""
    return make_view(ARTICLE, identifier=ARTICLE_URL, record_url=ARTICLE_URL, version_number=1, files=GALLEYS)
