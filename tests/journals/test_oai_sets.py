"""Each journal is an OAI-PMH set, ``journal:<slug>``, holding its published articles (validated strictly
against OAI-PMH.xsd, oai_dc and DataCite kernel 4.7 by the ``harvest`` fixture), under a ``journal`` parent."""

from __future__ import annotations

from osnode.domain.access import Viewer
from osnode.domain.records import Role
from osnode.services import deposit
from osnode.services.node import Node
from tests.conftest import minimal_metadata
from tests.journals.helpers import cast, make_journal, publish_article
from tests.oaipmh.conftest import (  # noqa: F401 - the OAI-PMH fixtures
    NS,
    Harvest,
    client,
    datacite_schema,
    harvest,
    node,
    oai_id,
    oai_schema,
)
from tests.oaipmh.test_provider import all_ids


def test_a_journal_is_a_set_of_its_articles(harvest: Harvest, node: Node) -> None:  # noqa: F811
    people = cast(node)
    make_journal(node, people)
    make_journal(node, people, slug="other", issn_online="", issn_print="")
    articles = [publish_article(node, people, title=f"Article {n}") for n in range(4)]  # more than a page (3)
    elsewhere = publish_article(node, people, slug="other")
    viewer = Viewer(user_id=people.author.id, role=Role.DEPOSITOR)
    dataset = deposit.create_draft(node, viewer, minimal_metadata(), {"level": "metadata-only"})
    deposit.publish(node, dataset.id, viewer)

    root = harvest.get(verb="ListSets")
    sets = {s.findtext("oai:setSpec", namespaces=NS): s for s in root.iterfind(".//oai:set", NS)}
    assert {"journal", "journal:suelos", "journal:other"} <= set(sets)
    assert sets["journal:suelos"].findtext("oai:setName", namespaces=NS) == "Revista de Suelos"

    for prefix in ("oai_dc", "oai_datacite"):
        pages = harvest.pages("ListRecords", metadataPrefix=prefix, set="journal:suelos")
        assert sorted(all_ids(pages)) == sorted(oai_id(r) for r in articles), prefix
    every = set(all_ids(harvest.pages("ListIdentifiers", metadataPrefix="oai_dc", set="journal")))
    assert every == {oai_id(r) for r in [*articles, elsewhere]}
    record = harvest.get(verb="GetRecord", identifier=oai_id(articles[0]), metadataPrefix="oai_datacite")
    assert "journal:suelos" in [e.text for e in record.iterfind(".//oai:setSpec", NS)]
    assert record.find(".//d:relatedItem[@relatedItemType='Journal']", NS) is not None
    code, _ = harvest.error(verb="ListRecords", metadataPrefix="oai_dc", set="journal:none")
    assert code == "noRecordsMatch"
