"""The harvester's parsers: DataCite and oai_dc read back what the node's serializers write, and no
byte sequence makes the page reader fail other than with a harvest error."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from osnode.domain.metadata import parse_metadata
from osnode.formats import datacite, datacite_read, dublincore
from osnode.services.harvest import HarvestError, Page, check_datestamp, coerce_metadata, parse_document, read_page
from tests.formats.conftest import RICH, make_view
from tests.harvest.conftest import dc_record, list_records_xml

SAME = (
    "doi",
    "titles",
    "creators",
    "contributors",
    "publicationYear",
    "resourceType",
    "subjects",
    "language",
    "descriptions",
    "geoLocations",
    "version",
)


def test_datacite_reads_back_what_the_node_writes() -> None:
    original = parse_metadata(RICH)
    xml = datacite.to_xml(make_view(original))
    read, dropped = coerce_metadata(datacite_read.from_xml(xml), publisher="x", datestamp="2026-01-01")
    assert dropped == []
    for name in SAME:
        assert getattr(read, name) == getattr(original, name), name
    assert read.publisher == original.publisher
    assert read.licences() == original.licences()
    assert [f.funderName for f in read.fundingReferences] == [f.funderName for f in original.fundingReferences]
    # What the export adds (the landing page, the version's concept) stays, pointing at the origin.
    assert any(a.alternateIdentifierType == "URL" for a in read.alternateIdentifiers) or read.doi


def test_oai_dc_reads_back_the_essentials() -> None:
    original = parse_metadata(RICH)
    element = dublincore.to_oai_dc(make_view(original))
    read, _ = coerce_metadata(dublincore.from_oai_dc(etree.tostring(element)), publisher="x", datestamp="2026")
    assert [t.title for t in read.titles] == [t.title for t in original.titles]
    assert [c.name for c in read.creators] == [c.name for c in original.creators]
    assert read.doi == original.doi and read.kind == "Dataset" and read.publicationYear == 2026
    assert read.language == "pt" and read.publisher is not None


def test_datestamps() -> None:
    assert check_datestamp("2026-11-21") and check_datestamp("2026-11-21T03:00:00Z")
    assert check_datestamp("2026-11-21T03:00:00.5Z") and check_datestamp("2016-12-31T23:59:60Z")  # leap second
    for bad in (
        "2026-02-30",
        "2026-11-21T25:00:00Z",
        "2026-11-21T03:61:00Z",
        "2026-02-29T03:00:00Z",
        "21/11/2026",
        "",
        "2026-11-21T03:00:00",
        "2026-11-21T03:00:00+01:00",
    ):
        assert not check_datestamp(bad), bad


PAGE = list_records_xml(
    [dc_record(f"oai:p:{i}", "2026-11-19T08:00:00Z", f"Title {i} &amp; more") for i in range(3)], token="next"
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_no_damage_to_a_page_breaks_the_reader(data: st.DataObject) -> None:
    raw = bytearray(PAGE)
    for _ in range(data.draw(st.integers(1, 6))):
        position = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["replace", "delete", "insert"]))
        byte = data.draw(st.sampled_from([0, 0x0B, 0x26, 0x3C, 0x3E, 0x22, 0xFC, 0xFF, 0x41]))
        if action == "replace":
            raw[position] = byte
        elif action == "delete":
            del raw[position]
        else:
            raw.insert(position, byte)
    try:
        page = read_page(parse_document(bytes(raw)))
    except HarvestError:
        return
    assert isinstance(page, Page)
    # Every record is either kept or reported; none vanishes silently while the page stays whole.
    assert len(page.records) + len([p for p in page.problems if p.is_error]) <= 3 + page.duplicates + 3
    for record in page.records:
        assert check_datestamp(record.datestamp)
