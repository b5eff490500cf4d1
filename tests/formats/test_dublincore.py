"""oai_dc is checked against the official OAI-PMH oai_dc schema, and by value."""

from __future__ import annotations

from lxml import etree

from osnode.formats import dublincore

from .conftest import MINIMAL, make_view, parse_xml

NS = {"oai_dc": dublincore.OAI_DC, "dc": dublincore.DC}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def values(root: etree._Element, name: str) -> list[str]:
    return [e.text or "" for e in root.iterfind(f"dc:{name}", NS)]


def assert_valid(schema: etree.XMLSchema, root: etree._Element) -> None:
    assert schema.validate(root), "\n".join(str(e) for e in schema.error_log)


def test_schema_rejects_an_element_outside_dublin_core(oai_dc_schema, rich):
    root = dublincore.to_oai_dc(rich)
    etree.SubElement(root, f"{{{dublincore.DC}}}author").text = "not a DC element"
    assert not oai_dc_schema.validate(root)


def test_rich_minimal_and_empty_records_validate(oai_dc_schema, rich, minimal, bare):
    for view in (rich, minimal, bare):
        assert_valid(oai_dc_schema, dublincore.to_oai_dc(view))
        assert_valid(oai_dc_schema, parse_xml(dublincore.to_xml(view)))


def test_root_and_namespaces(rich):
    data = dublincore.to_xml(rich)
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = parse_xml(data)
    assert root.tag == "{http://www.openarchives.org/OAI/2.0/oai_dc/}dc"
    assert root.nsmap["dc"] == "http://purl.org/dc/elements/1.1/"
    assert "http://www.openarchives.org/OAI/2.0/oai_dc.xsd" in root.get(
        "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation"
    )


def test_rich_values(rich):
    root = dublincore.to_oai_dc(rich)
    titles = [(t.text, t.get(XML_LANG)) for t in root.iterfind("dc:title", NS)]
    assert titles[0] == ("Inquérito sobre malária em Luanda, 2024", "pt")
    assert ("루안다 말라리아 조사", "ko") in titles and len(titles) == 5
    assert values(root, "creator") == ["Ngola, João", "김, 민준", "محمد", "Consórcio de Saúde Pública de Angola"]
    assert values(root, "contributor") == ["Tavares, Maria", "Luanda Data Centre"]
    assert values(root, "subject") == ["FOS: Health sciences", "Malária", "Public health"]
    assert len(values(root, "description")) == 3
    assert values(root, "publisher") == ["Nó de Ciência Aberta de Luanda"]
    assert values(root, "date") == ["2026-03-01", "2025-06-30"]  # published, then created
    assert values(root, "type") == ["Dataset", "Household survey"]  # DCMI and DataCite "Dataset" once
    assert values(root, "format") == ["text/csv", "application/pdf", "4 tables", "2 files", "3048 bytes"]
    assert values(root, "identifier") == ["https://doi.org/10.82433/B09Z-4K37", rich.identifier]
    assert values(root, "language") == ["pt"]
    assert values(root, "relation") == [
        "https://doi.org/10.1080/00031305.1973.10478966",
        "https://archive.softwareheritage.org/swh:1:dir:d198bc9d7a6bcf6db04f476d29314f157507d505",
        "https://example.org/protocol",
        "https://arxiv.org/abs/2101.00001",
        rich.record_url,
    ]
    assert values(root, "coverage") == ["Luanda, Angola", "2024-01-15/2024-12-20", "2024"]
    assert values(root, "rights") == [
        "https://spdx.org/licenses/CC-BY-4.0.html",
        "CC-BY-4.0",
        "https://example.org/terms",
        "Cite the survey team",
        "http://purl.org/coar/access_right/c_abf2",
        "info:eu-repo/semantics/openAccess",
    ]


def test_minimal_values(minimal):
    root = dublincore.to_oai_dc(minimal)
    assert values(root, "title") == ["Notes"]
    assert values(root, "creator") == ["Silva, Ana"]
    assert values(root, "date") == ["2025"]  # the depositor's publication year, not the node's publishing day
    assert values(root, "type") == ["Text"]
    assert values(root, "identifier") == [minimal.identifier]
    assert values(root, "rights") == ["http://purl.org/coar/access_right/c_abf2", "info:eu-repo/semantics/openAccess"]


def test_empty_draft_still_names_its_publisher_and_type(bare):
    root = dublincore.to_oai_dc(bare)
    assert values(root, "publisher") == ["Luanda Open Science Node"]
    assert values(root, "type") == ["Text", "Other"]
    assert values(root, "date") == []


def test_full_date_when_published_in_the_publication_year():
    root = dublincore.to_oai_dc(make_view(MINIMAL | {"publicationYear": 2026}))
    assert values(root, "date") == ["2026-03-01"]
    assert values(dublincore.to_oai_dc(make_view(MINIMAL, published_at=None)), "date") == ["2025"]


def test_an_article_names_its_journal_as_ojs_does(oai_dc_schema, article):
    root = dublincore.to_oai_dc(article)
    assert_valid(oai_dc_schema, root)
    assert values(root, "source") == ["Revista Angolana de Saúde Pública; Vol. 12 No. 3 (2026); 101-118", "2049-3630"]


def test_a_journal_with_only_a_title_is_named_alone():
    assert dublincore.dc_sources([{"relationType": "IsPublishedIn", "titles": [{"title": "J"}]}]) == ["J"]
    assert dublincore.dc_sources([{"relationType": "IsPublishedIn", "titles": [{"title": "J"}], "issue": "2"}]) == [
        "J; No. 2"
    ]
    assert dublincore.dc_sources([{"relationType": "HasPart", "titles": [{"title": "J"}]}]) == []


def test_dc_source_reads_back_as_the_journal(article):
    read = dublincore.from_oai_dc(dublincore.to_xml(article))
    assert read["relatedItems"] == [
        {
            "relatedItemType": "Journal",
            "relationType": "IsPublishedIn",
            "titles": [{"title": "Revista Angolana de Saúde Pública"}],
            "volume": "12",
            "issue": "3",
            "publicationYear": 2026,
            "firstPage": "101",
            "lastPage": "118",
            "relatedItemIdentifier": {"relatedItemIdentifier": "2049-3630", "relatedItemIdentifierType": "ISSN"},
        }
    ]
    ojs = (
        f'<oai_dc:dc xmlns:oai_dc="{dublincore.OAI_DC}" xmlns:dc="{dublincore.DC}"><dc:title>T</dc:title>'
        '<dc:source xml:lang="en-US">Jurnal Ilmu; Vol 5 No 2 (2020): Edisi Juli; 112–120</dc:source>'
        "<dc:source>2477-8524</dc:source><dc:source>not an issn</dc:source></oai_dc:dc>"
    )
    item = dublincore.from_oai_dc(ojs.encode())["relatedItems"][0]
    assert (item["titles"][0]["title"], item["volume"], item["issue"], item["firstPage"], item["lastPage"]) == (
        "Jurnal Ilmu",
        "5",
        "2",
        "112",
        "120",
    )
    assert item["relatedItemIdentifier"]["relatedItemIdentifier"] == "2477-8524"
    assert "relatedItems" not in dublincore.from_oai_dc(
        b'<d xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:source>x</dc:source></d>'
    )
