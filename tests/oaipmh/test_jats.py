"""OAI-PMH's ``jats`` prefix: articles only, every response valid strictly against OAI-PMH.xsd together with the
official JATS 1.3 schema (as commonmeta-py ships it), and harvested by an independent client (oaipmh-scythe)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from oaipmh_scythe import Scythe
from oaipmh_scythe.exceptions import CannotDisseminateFormat

from osnode.formats import jats
from osnode.services import deposit
from osnode.services.node import Node
from tests import article_schemas, schemas
from tests.conftest import Account, LiveServer, start_server
from tests.formats.conftest import ARTICLE
from tests.oaipmh.conftest import BASE_URL, NS, oai_id, publish
from tests.schemas import safe_parser

J = {"j": jats.JATS_NAMESPACE, **NS}


@pytest.fixture(scope="module")
def oai_jats_schema() -> etree.XMLSchema:
    combined = f"""<schema xmlns="http://www.w3.org/2001/XMLSchema">
      <import namespace="{NS["oai"]}" schemaLocation="{schemas.path("oai-pmh/OAI-PMH.xsd").as_uri()}"/>
      <import namespace="{jats.JATS_NAMESPACE}"
              schemaLocation="{(article_schemas.folder() / article_schemas.JATS).as_uri()}"/>
    </schema>"""
    return etree.XMLSchema(etree.fromstring(combined.encode(), safe_parser()))


def article(number: int, **changes: Any) -> dict[str, Any]:
    meta = copy.deepcopy(ARTICLE)
    del meta["doi"]  # the node's own DOI registration is not what this tests
    meta["titles"] = [{"title": f"Article {number}", "lang": "en"}]
    meta["relatedItems"][0]["firstPage"] = str(number * 10)
    meta.update(changes)
    return meta


@pytest.fixture
def catalog(node: Node, admin: Account) -> dict[str, list[str]]:
    articles = [publish(node, admin.viewer, files={"a.pdf": b"%PDF-1.4 x"}, **article(n)) for n in range(1, 5)]
    datasets = [publish(node, admin.viewer) for _ in range(2)]
    no_issn = article(9)
    del no_issn["relatedItems"][0]["relatedItemIdentifier"]
    incomplete = [publish(node, admin.viewer, **no_issn)]
    withdrawn = publish(node, admin.viewer, **article(10))
    deposit.withdraw(node, withdrawn, admin.viewer, "retracted")
    return {"articles": articles, "datasets": datasets, "incomplete": incomplete, "withdrawn": [withdrawn]}


def get(client: TestClient, schema: etree.XMLSchema, **arguments: str) -> etree._Element:
    response = client.get("/oai", params=arguments)
    assert response.status_code == 200
    root = etree.fromstring(response.content, safe_parser())
    assert schema.validate(root), schema.error_log  # strict: the JATS inside is checked too
    return root


def test_list_metadata_formats_offers_jats_for_articles_only(client, oai_jats_schema, catalog) -> None:
    def prefixes(**arguments: str) -> list[str]:
        root = get(client, oai_jats_schema, verb="ListMetadataFormats", **arguments)
        return [e.text for e in root.iterfind(".//oai:metadataPrefix", NS)]

    assert "jats" in prefixes()
    assert "jats" in prefixes(identifier=oai_id(catalog["articles"][0]))
    assert "jats" not in prefixes(identifier=oai_id(catalog["datasets"][0]))


def test_get_record_is_valid_jats(client, oai_jats_schema, catalog) -> None:
    root = get(
        client, oai_jats_schema, verb="GetRecord", identifier=oai_id(catalog["articles"][0]), metadataPrefix="jats"
    )
    article_element = root.find("oai:GetRecord/oai:record/oai:metadata/j:article", J)
    assert article_element is not None
    assert article_element.findtext("j:front/j:article-meta/j:title-group/j:article-title", namespaces=J) == "Article 1"
    assert article_element.findtext("j:front/j:journal-meta/j:issn", namespaces=J) == "2049-3630"
    self_uri = article_element.find("j:front/j:article-meta/j:self-uri", J)
    assert self_uri.get("content-type") == "pdf"
    assert self_uri.get("{http://www.w3.org/1999/xlink}href").endswith("/files/a.pdf")
    assert article_schemas.assert_jats(article_element) is article_element


def test_what_jats_cannot_describe_is_refused(client, oai_jats_schema, catalog) -> None:
    for record in (catalog["datasets"][0], catalog["incomplete"][0]):
        root = get(client, oai_jats_schema, verb="GetRecord", identifier=oai_id(record), metadataPrefix="jats")
        assert root.find("oai:error", NS).get("code") == "cannotDisseminateFormat"
    root = get(client, oai_jats_schema, verb="ListRecords", metadataPrefix="jats", set="kind:Dataset")
    assert root.find("oai:error", NS).get("code") == "noRecordsMatch"


def test_list_records_pages_through_the_articles(client, oai_jats_schema, catalog) -> None:
    seen, deleted = [], []
    root = get(client, oai_jats_schema, verb="ListRecords", metadataPrefix="jats")
    while True:
        for record in root.iterfind("oai:ListRecords/oai:record", NS):
            header = record.find("oai:header", NS)
            target = deleted if header.get("status") == "deleted" else seen
            target.append(header.findtext("oai:identifier", namespaces=NS))
        token = root.findtext("oai:ListRecords/oai:resumptionToken", namespaces=NS)
        if not token:
            break
        root = get(client, oai_jats_schema, verb="ListRecords", resumptionToken=token)
    assert seen == [oai_id(r) for r in catalog["articles"]]  # no dataset; the one without an ISSN left out
    assert deleted == [oai_id(r) for r in catalog["withdrawn"]]
    # ListIdentifiers in jats lists the articles (headers need no metadata, so the incomplete one is there too).
    listed = []
    root = get(client, oai_jats_schema, verb="ListIdentifiers", metadataPrefix="jats")
    while True:
        listed += [
            h.findtext("oai:identifier", namespaces=NS) for h in root.iterfind("oai:ListIdentifiers/oai:header", NS)
        ]
        token = root.findtext("oai:ListIdentifiers/oai:resumptionToken", namespaces=NS)
        if not token:
            break
        root = get(client, oai_jats_schema, verb="ListIdentifiers", resumptionToken=token)
    articles = [*catalog["articles"], *catalog["incomplete"], *catalog["withdrawn"]]
    assert sorted(listed) == sorted(oai_id(r) for r in articles)


@pytest.fixture
def server(node: Node, data_dir: Path, database_url: str) -> Iterator[LiveServer]:
    live = start_server(data_dir, database_url, {"OSNODE_BASE_URL": BASE_URL, "OSNODE_OAI_PAGE_SIZE": "2"})
    yield live
    live.stop()


def test_an_independent_client_harvests_the_articles(server: LiveServer, catalog, oai_jats_schema) -> None:
    with Scythe(f"{server.url}/oai") as scythe:
        records = list(scythe.list_records(metadata_prefix="jats", ignore_deleted=True))
        assert [r.header.identifier for r in records] == [oai_id(r) for r in catalog["articles"]]
        for record in records:
            assert "<article" in record.raw and "2049-3630" in record.raw
        with pytest.raises(CannotDisseminateFormat):
            scythe.get_record(identifier=oai_id(catalog["datasets"][0]), metadata_prefix="jats")


def test_oai_dc_and_oai_datacite_carry_the_journal(harvest, catalog) -> None:  # noqa: ANN001
    identifier = oai_id(catalog["articles"][0])
    dc = harvest.get(verb="GetRecord", identifier=identifier, metadataPrefix="oai_dc")
    sources = [e.text for e in dc.iterfind(".//dc:source", NS)]
    assert sources == ["Revista Angolana de Saúde Pública; Vol. 12 No. 3 (2026); 10-118", "2049-3630"]
    datacite = harvest.get(verb="GetRecord", identifier=identifier, metadataPrefix="oai_datacite")
    item = datacite.find(".//d:relatedItem", NS)
    assert item.get("relatedItemType") == "Journal" and item.get("relationType") == "IsPublishedIn"
    assert item.findtext("d:volume", namespaces=NS) == "12" and item.findtext("d:firstPage", namespaces=NS) == "10"


def test_a_page_of_articles_jats_cannot_describe_is_skipped(client, oai_jats_schema, node, admin) -> None:  # noqa: ANN001
    no_issn = article(20)
    del no_issn["relatedItems"][0]["relatedItemIdentifier"]
    for _ in range(4):  # more than a page (3) of them first
        publish(node, admin.viewer, **no_issn)
    root = get(client, oai_jats_schema, verb="ListRecords", metadataPrefix="jats")
    assert root.find("oai:error", NS).get("code") == "noRecordsMatch"
    described = publish(node, admin.viewer, **article(21))
    root = get(client, oai_jats_schema, verb="ListRecords", metadataPrefix="jats")
    headers = root.findall("oai:ListRecords/oai:record/oai:header", NS)
    assert [h.findtext("oai:identifier", namespaces=NS) for h in headers] == [oai_id(described)]
