"""The fast path gives what the formats give: ``fragments.oai_dc`` (written from stored JSON) against
``formats.dublincore.to_oai_dc`` (from the validated model), and ``trusted`` models against
validated ones for the DataCite serializer, over metadata that uses every property they map."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from osnode.domain.metadata import Metadata, parse_metadata
from osnode.domain.records import AccessLevel
from osnode.formats import FileView, RecordView, datacite, dublincore, trusted
from osnode.oaipmh import fragments
from tests.conftest import minimal_metadata
from tests.formats.conftest import ARTICLE, safe_parser

LANDING = "https://node.example.org/records/v1234-abcde"
RECORD = "https://node.example.org/records/r1234-abcde"
PUBLISHED = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
FILES = (
    FileView("a.csv", 120, "0" * 64, "text/csv", f"{LANDING}/files/a.csv"),
    FileView("b.zip", 3000, "1" * 64, "application/zip", f"{LANDING}/files/b.zip"),
    FileView("c.csv", 5, "2" * 64, "text/csv", f"{LANDING}/files/c.csv"),
)

FULL = minimal_metadata(
    titles=[
        {"title": "Rainfall & <temperature> at Luanda\r\n2001", "lang": "en"},
        {"title": "Chuva em Luanda", "lang": "pt", "titleType": "TranslatedTitle"},
        {"title": "   padded   "},
    ],
    creators=[
        {"familyName": "Silva", "givenName": "Ana", "orcid": "0000-0002-1825-0097"},
        {"name": "Instituto Nacional de Meteorologia", "nameType": "Organizational"},
        {"familyName": "Mono"},
    ],
    contributors=[{"familyName": "Costa", "givenName": "João", "contributorType": "DataCurator"}],
    publisher={"name": "Universidade Agostinho Neto", "lang": "pt"},
    publicationYear=2025,
    resourceType={"resourceTypeGeneral": "Dataset", "resourceType": "Rain gauge series"},
    subjects=[{"subject": "Precipitation", "lang": "en"}, {"subject": "Angola"}, {"subject": "Angola"}],
    dates=[
        {"date": "2001/2020", "dateType": "Collected"},
        {"date": "2025-01-02", "dateType": "Created"},
        {"date": "2025", "dateType": "Issued"},
        {"date": "2019", "dateType": "Coverage"},
        {"date": "2026-01-01", "dateType": "Available"},
    ],
    language="pt",
    alternateIdentifiers=[
        {"alternateIdentifier": "12345/678", "alternateIdentifierType": "Handle"},
        {"alternateIdentifier": "local-77", "alternateIdentifierType": "Local"},
        {"alternateIdentifier": "https://example.org/x", "alternateIdentifierType": "URL"},
    ],
    relatedIdentifiers=[
        {"relatedIdentifier": "10.1234/abc", "relatedIdentifierType": "DOI", "relationType": "Cites"},
        {"relatedIdentifier": "arXiv:2101.00001", "relatedIdentifierType": "arXiv", "relationType": "References"},
        {"relatedIdentifier": "urn:nbn:de:101", "relatedIdentifierType": "URN", "relationType": "IsPartOf"},
        {"relatedIdentifier": "10.1234/abc", "relatedIdentifierType": "DOI", "relationType": "IsCitedBy"},
    ],
    sizes=["12 MB", "3 files"],
    formats=["text/csv", "CSV"],
    version="2.1",
    rightsList=[
        {"rightsIdentifier": "CC-BY-4.0"},
        {"rights": "Some rights reserved", "rightsUri": "https://example.org/terms"},
        {"rightsIdentifier": "MIT OR Apache-2.0"},
    ],
    descriptions=[
        {"description": "Daily totals.\r\nTab\there; bell \x07 gone? & more", "lang": "en"},
        {"description": "Métodos", "descriptionType": "Methods", "lang": "pt"},
    ],
    geoLocations=[
        {"geoLocationPlace": "Luanda"},
        {"geoLocationPoint": {"pointLatitude": -8.8, "pointLongitude": 13.2}},
    ],
    fundingReferences=[{"funderName": "FCT", "awardNumber": "A-1"}],
    doi="10.5555/rain.2001",
)

CASES: dict[str, tuple[dict[str, Any], datetime | None, tuple[FileView, ...], str]] = {
    "minimal": (minimal_metadata(), PUBLISHED, (), LANDING),
    "published-year": (minimal_metadata(publicationYear=2026), PUBLISHED, FILES[:1], LANDING),
    "old-year": (minimal_metadata(publicationYear=1973), PUBLISHED, FILES, LANDING),
    "unpublished": (minimal_metadata(), None, (), LANDING),
    "full": (FULL, PUBLISHED, FILES, LANDING),
    "full-concept": (FULL, PUBLISHED, FILES, RECORD),  # the landing URL is the record's own
    "no-type": ({k: v for k, v in minimal_metadata().items() if k != "resourceType"}, PUBLISHED, (), LANDING),
    "software": (minimal_metadata(resourceType={"resourceTypeGeneral": "Software"}), PUBLISHED, (), LANDING),
    "one-file": (minimal_metadata(sizes=["1 file"]), PUBLISHED, FILES[2:], LANDING),
    "article": (ARTICLE, PUBLISHED, FILES[:1], LANDING),  # dc:source names its journal
}


def _stored(meta: dict[str, Any], published: bool = True) -> dict[str, Any]:
    """What publication stores: the validated model's JSON, publisher filled in."""
    parsed = parse_metadata(meta)
    if parsed.publisher is None and published:
        parsed = parsed.model_copy(update={"publisher": parse_metadata({"publisher": "Test Node"}).publisher})
    return parsed.to_json()


# Each access level as RecordView holds it: (level in force, embargo end).
ACCESS: dict[str, tuple[AccessLevel, date | None]] = {
    "open": (AccessLevel.OPEN, None),
    "embargoed": (AccessLevel.EMBARGOED, date(2027, 1, 1)),
    "embargo-lifted": (AccessLevel.OPEN, date(2026, 1, 1)),
    "restricted": (AccessLevel.RESTRICTED, None),
    "metadata-only": (AccessLevel.METADATA_ONLY, None),
}


def _view(
    metadata: Metadata,
    published_at: datetime | None,
    files: tuple[FileView, ...],
    identifier: str,
    access: str = "open",
):
    level, until = ACCESS[access]
    return RecordView(
        metadata=metadata,
        identifier=identifier,
        record_url=RECORD,
        version_number=3,
        published_at=published_at,
        files=files,
        node_name="Test Node",
        access_level=level,
        embargo_until=until,
    )


def _canonical(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n2")


def _fast(
    stored: dict[str, Any],
    published_at: datetime | None,
    files: tuple[FileView, ...],
    identifier: str,
    access: str = "open",
):
    level, until = ACCESS[access]
    text = fragments.oai_dc(
        stored,
        identifier=identifier,
        record_url=RECORD,
        published_at=published_at,
        files=[(f.size, f.mimetype) for f in files],
        node_name="Test Node",
        access_level=level,
        embargo_until=until,
    )
    return etree.fromstring(text.encode(), safe_parser())


@pytest.mark.parametrize("access", list(ACCESS))
@pytest.mark.parametrize("case", list(CASES))
def test_fast_oai_dc_is_the_dublin_core_serializer(case: str, access: str) -> None:
    meta, published_at, files, identifier = CASES[case]
    stored = _stored(meta, published_at is not None)
    expected = dublincore.to_oai_dc(_view(Metadata.model_validate(stored), published_at, files, identifier, access))
    assert len(expected) > 5
    assert _canonical(_fast(stored, published_at, files, identifier, access)) == _canonical(expected)


def test_the_comparison_sees_a_difference() -> None:
    meta, published_at, files, identifier = CASES["full"]
    stored = _stored(meta)
    expected = dublincore.to_oai_dc(_view(Metadata.model_validate(stored), published_at, files, identifier))
    assert _canonical(_fast(stored, published_at, files[:1], identifier)) != _canonical(expected)


@pytest.mark.parametrize("case", list(CASES))
def test_trusted_models_serialize_as_validated_ones(case: str) -> None:
    meta, published_at, files, identifier = CASES[case]
    stored = _stored(meta, published_at is not None)
    rebuilt = trusted.metadata(stored)
    validated = Metadata.model_validate(stored)
    assert rebuilt == validated
    for serialize in (datacite.to_element, dublincore.to_oai_dc):
        assert _canonical(serialize(_view(rebuilt, published_at, files, identifier))) == _canonical(
            serialize(_view(validated, published_at, files, identifier))
        )


@settings(max_examples=150, deadline=None)
@given(
    title=st.text(min_size=1, max_size=40).filter(lambda t: t.strip()),
    description=st.text(max_size=60),
    subject=st.text(max_size=20),
)
def test_any_text_comes_out_the_same(title: str, description: str, subject: str) -> None:
    meta = minimal_metadata(titles=[{"title": title}])
    if description.strip():
        meta["descriptions"] = [{"description": description}]
    if subject.strip():
        meta["subjects"] = [{"subject": subject}]
    try:
        stored = _stored(meta)
    except Exception:  # text the domain refuses (NUL...) never reaches storage
        return
    expected = dublincore.to_oai_dc(_view(Metadata.model_validate(stored), PUBLISHED, (), LANDING))
    assert _canonical(_fast(stored, PUBLISHED, (), LANDING)) == _canonical(expected)
