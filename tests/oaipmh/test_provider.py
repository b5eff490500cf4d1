"""The OAI-PMH provider, verb by verb; every response is validated strictly (see conftest)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree
from rdflib import Graph
from rdflib.namespace import DCAT, RDF

from osnode.formats import registry
from osnode.services import deposit
from osnode.services.node import Node
from tests.conftest import Account
from tests.formats.conftest import conforms, dcat_shapes
from tests.oaipmh.conftest import BASE_URL, HOST, NS, PAGE, Harvest, oai_id, publish, set_datestamp, set_origin

T0 = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


def ids(root: etree._Element) -> list[str]:
    return [e.text for e in root.iterfind(".//oai:header/oai:identifier", NS)]


def all_ids(pages: list[etree._Element]) -> list[str]:
    return [i for page in pages for i in ids(page)]


# -- Identify ------------------------------------------------------------------------------------


def test_identify(harvest: Harvest, node: Node, admin: Account) -> None:
    record = publish(node, admin.viewer)
    set_datestamp(node, record, T0)
    root = harvest.get(verb="Identify")
    identify = root.find("oai:Identify", NS)
    assert identify is not None
    assert root.find("oai:request", NS).get("verb") == "Identify"
    assert root.findtext("oai:request", namespaces=NS) == f"{BASE_URL}/oai"
    assert identify.findtext("oai:baseURL", namespaces=NS) == f"{BASE_URL}/oai"
    assert identify.findtext("oai:protocolVersion", namespaces=NS) == "2.0"
    assert identify.findtext("oai:deletedRecord", namespaces=NS) == "persistent"
    assert identify.findtext("oai:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    assert identify.findtext("oai:earliestDatestamp", namespaces=NS) <= "2026-05-01T12:00:00Z"
    assert identify.findtext("oai:adminEmail", namespaces=NS) == f"admin@{HOST}"
    description = identify.find(
        "oai:description/{http://www.openarchives.org/OAI/2.0/oai-identifier}oai-identifier", NS
    )
    assert description is not None
    assert description.findtext("{http://www.openarchives.org/OAI/2.0/oai-identifier}repositoryIdentifier") == HOST


def test_the_strict_schema_cannot_check_the_oai_identifier_description(harvest: Harvest) -> None:
    # Documented limit: oai-identifier.xsd is not among the shared schemas, so strict validation of
    # the untouched Identify response fails on exactly that element (conftest checks it by hand).
    root = harvest.get(verb="Identify")
    assert not harvest.schema.validate(etree.ElementTree(root))
    messages = [e.message for e in harvest.schema.error_log]
    assert len(messages) == 1 and "oai-identifier" in messages[0], messages


def test_identify_refuses_arguments(harvest: Harvest) -> None:
    code, root = harvest.error(verb="Identify", metadataPrefix="oai_dc")
    assert code == "badArgument"
    assert root.find("oai:request", NS).attrib == {}


def test_earliest_datestamp_of_an_empty_node_is_valid(harvest: Harvest) -> None:
    root = harvest.get(verb="Identify")
    assert root.findtext("oai:Identify/oai:earliestDatestamp", namespaces=NS).endswith("Z")


# -- ListMetadataFormats -------------------------------------------------------------------------


def test_list_metadata_formats(harvest: Harvest, node: Node, admin: Account) -> None:
    record = publish(node, admin.viewer)
    for arguments in ({}, {"identifier": oai_id(record)}):
        root = harvest.get(verb="ListMetadataFormats", **arguments)
        prefixes = [e.text for e in root.iterfind(".//oai:metadataPrefix", NS)]
        # JATS describes articles: the repository offers it, a dataset item does not (tests/oaipmh/test_jats.py).
        assert prefixes == ["oai_dc", "oai_datacite", "datacite", "dcat", *([] if arguments else ["jats"])]
        namespaces = [e.text for e in root.iterfind(".//oai:metadataNamespace", NS)]
        jats = [] if arguments else ["http://www.ncbi.nlm.nih.gov/JATS1"]
        assert namespaces == [NS["oai_dc"], NS["od"], NS["d"], "http://www.w3.org/ns/dcat#", *jats]
    code, _ = harvest.error(verb="ListMetadataFormats", identifier=oai_id("nope0-nope0"))
    assert code == "idDoesNotExist"
    code, _ = harvest.error(verb="ListMetadataFormats", identifier="oai:elsewhere.org:" + record)
    assert code == "idDoesNotExist"


# -- ListSets ------------------------------------------------------------------------------------


def test_list_sets_by_kind_and_origin(harvest: Harvest, node: Node, admin: Account) -> None:
    harvested = publish(node, admin.viewer)
    set_origin(node, harvested, "https://peer.example.net:8443")
    root = harvest.get(verb="ListSets")
    specs = [e.text for e in root.iterfind(".//oai:setSpec", NS)]
    for spec in ("kind", "kind:Dataset", "kind:Software", "kind:JournalArticle", "origin", f"origin:{HOST}"):
        assert spec in specs
    # No echo: the node harvested from a peer, but offers no set of the peer's records.
    assert [s for s in specs if s.startswith("origin:")] == [f"origin:{HOST}"]
    assert len(specs) == len(set(specs))
    code, _ = harvest.error(verb="ListSets", resumptionToken="anything")
    assert code == "badResumptionToken"
    code, _ = harvest.error(verb="ListSets", set="kind")
    assert code == "badArgument"


def test_harvest_by_set(harvest: Harvest, node: Node, admin: Account) -> None:
    dataset = publish(node, admin.viewer)
    software = publish(node, admin.viewer, resourceType={"resourceTypeGeneral": "Software"})

    def listed(set_spec: str) -> set[str]:
        return set(all_ids(harvest.pages("ListIdentifiers", metadataPrefix="oai_dc", set=set_spec)))

    assert listed("kind:Dataset") == {oai_id(dataset)}
    assert listed("kind:Software") == {oai_id(software)}
    assert listed("kind") == {oai_id(dataset), oai_id(software)}
    assert listed("origin") == listed(f"origin:{HOST}") == {oai_id(dataset), oai_id(software)}
    root = harvest.get(verb="GetRecord", identifier=oai_id(software), metadataPrefix="oai_dc")
    assert [e.text for e in root.iterfind(".//oai:setSpec", NS)] == ["kind:Software", f"origin:{HOST}"]
    for missing in ("kind:Poster", "kind:NoSuchKind", "origin:nowhere.example.com", "colour:blue"):
        code, _ = harvest.error(verb="ListRecords", metadataPrefix="oai_dc", set=missing)
        assert code == "noRecordsMatch", missing
    code, _ = harvest.error(verb="ListRecords", metadataPrefix="oai_dc", set="kind::Dataset")
    assert code == "badArgument"


@pytest.mark.parametrize("origin", ["https://peer.example.net", ""])
def test_no_echo_of_harvested_records(harvest: Harvest, node: Node, admin: Account, origin: str) -> None:
    """A record harvested from a peer is never exported as this node's own ('' counts as own)."""
    own = publish(node, admin.viewer)
    peer = publish(node, admin.viewer, resourceType={"resourceTypeGeneral": "Software"})
    set_origin(node, peer, origin)
    echoed = origin == ""
    expected = {oai_id(own), oai_id(peer)} if echoed else {oai_id(own)}
    for verb in ("ListIdentifiers", "ListRecords"):
        for arguments in ({}, {"set": "origin"}, {"set": f"origin:{HOST}"}):
            pages = harvest.pages(verb, metadataPrefix="oai_dc", **arguments)
            assert set(all_ids(pages)) == expected, (verb, arguments)
    code = harvest.get(verb="ListRecords", metadataPrefix="oai_dc", set="kind:Software").find("oai:error", NS)
    assert (code is None) == echoed
    if not echoed:
        assert code.get("code") == "noRecordsMatch"
        code, _ = harvest.error(verb="GetRecord", identifier=oai_id(peer), metadataPrefix="oai_dc")
        assert code == "idDoesNotExist"
        code, _ = harvest.error(verb="ListMetadataFormats", identifier=oai_id(peer))
        assert code == "idDoesNotExist"
        code, _ = harvest.error(verb="ListRecords", metadataPrefix="oai_dc", set="origin:peer.example.net")
        assert code == "noRecordsMatch"
    # Own withdrawals stay deleted headers; the harvested record still does not appear.
    deposit.withdraw(node, own, admin.viewer, "duplicate")
    headers = harvest.get(verb="ListIdentifiers", metadataPrefix="oai_dc").findall(".//oai:header", NS)
    assert len(headers) == (2 if echoed else 1)


# -- GetRecord -----------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["oai_dc", "oai_datacite", "datacite", "dcat"])
def test_get_record_in_every_format(harvest: Harvest, node: Node, admin: Account, prefix: str) -> None:
    record = publish(node, admin.viewer, files={"rain.csv": b"day,mm\n1,3\n"}, subjects=[{"subject": "Rain"}])
    root = harvest.get(verb="GetRecord", identifier=oai_id(record), metadataPrefix=prefix)
    request = root.find("oai:request", NS)
    assert request.get("identifier") == oai_id(record) and request.get("metadataPrefix") == prefix
    metadata = root.find("oai:GetRecord/oai:record/oai:metadata", NS)
    assert metadata is not None and len(metadata) == 1
    text = etree.tostring(metadata, encoding="unicode")
    assert "Rainfall at Luanda" in text
    # Every format links the record; DCAT-AP describes the version, at its own landing page.
    assert f"{BASE_URL}/records/{record if prefix != 'dcat' else ''}" in text
    if prefix == "oai_dc":
        assert metadata.find("oai_dc:dc/dc:subject", NS).text == "Rain"
        assert "text/csv" in [e.text for e in metadata.iterfind(".//dc:format", NS)]
    elif prefix == "oai_datacite":
        assert metadata.find("od:oai_datacite/od:payload/d:resource/d:subjects/d:subject", NS).text == "Rain"
    elif prefix == "dcat":
        assert metadata[0].tag == f"{{{NS['rdf']}}}RDF"
        assert '/files/rain.csv"' in text  # an open file is a distribution with its download URL
    else:
        assert metadata.find("d:resource/d:subjects/d:subject", NS).text == "Rain"
        assert "/files/rain.csv" not in text  # DataCite XML lists formats and sizes, not download links


def test_dcat_over_oai_pmh_conforms_to_dcat_ap(harvest: Harvest, node: Node, admin: Account) -> None:
    record = publish(node, admin.viewer, files={"rain.csv": b"day,mm\n1,3\n"})
    listed = harvest.get(verb="ListRecords", metadataPrefix="dcat")
    assert ids(listed) == [oai_id(record)]
    root = harvest.get(verb="GetRecord", identifier=oai_id(record), metadataPrefix="dcat")
    rdf = root.find("oai:GetRecord/oai:record/oai:metadata/rdf:RDF", NS)
    graph = Graph().parse(data=etree.tostring(rdf), format="xml")
    conforms(dcat_shapes(), graph)
    dataset = graph.value(predicate=RDF.type, object=DCAT.Dataset)
    assert str(graph.value(dataset, DCAT.landingPage)).startswith(f"{BASE_URL}/records/")
    assert len(list(graph.objects(dataset, DCAT.distribution))) == 1


def test_oai_datacite_payload_is_datacite_4_7_but_the_wrapper_has_no_shared_schema(
    harvest: Harvest, node: Node, admin: Account
) -> None:
    record = publish(node, admin.viewer)
    root = harvest.get(verb="GetRecord", identifier=oai_id(record), metadataPrefix="oai_datacite")
    wrapper = root.find(".//od:oai_datacite", NS)
    assert wrapper.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation") == (
        "http://schema.datacite.org/oai/oai-1.1/ http://schema.datacite.org/oai/oai-1.1/oai.xsd"
    )
    assert wrapper.findtext("od:datacentreSymbol", namespaces=NS) == HOST
    # Documented limit: strictly, the untouched response fails only for want of DataCite's oai-1.1 schema.
    assert not harvest.schema.validate(etree.ElementTree(root))
    messages = [e.message for e in harvest.schema.error_log]
    assert len(messages) == 1 and "oai_datacite" in messages[0], messages


def test_get_record_errors(harvest: Harvest, node: Node, admin: Account) -> None:
    record = publish(node, admin.viewer)
    code, root = harvest.error(verb="GetRecord", identifier=oai_id(record), metadataPrefix="marc21")
    assert code == "cannotDisseminateFormat"
    assert root.find("oai:request", NS).get("metadataPrefix") == "marc21"  # echoed: not a badArgument
    code, _ = harvest.error(verb="GetRecord", identifier=oai_id("zzzzz-zzzzz"), metadataPrefix="oai_dc")
    assert code == "idDoesNotExist"
    code, _ = harvest.error(verb="GetRecord", identifier="not-an-oai-id", metadataPrefix="oai_dc")
    assert code == "idDoesNotExist"
    code, _ = harvest.error(verb="GetRecord", identifier=oai_id(record))
    assert code == "badArgument"
    code, _ = harvest.error(verb="GetRecord", metadataPrefix="oai_dc")
    assert code == "badArgument"


def test_drafts_are_not_items(harvest: Harvest, node: Node, admin: Account) -> None:
    draft = deposit.create_draft(node, admin.viewer, {"titles": [{"title": "Secret"}]})
    code, _ = harvest.error(verb="GetRecord", identifier=oai_id(draft.record_id), metadataPrefix="oai_dc")
    assert code == "idDoesNotExist"
    code, _ = harvest.error(verb="ListIdentifiers", metadataPrefix="oai_dc")
    assert code == "noRecordsMatch"


def test_an_item_is_the_latest_published_version(harvest: Harvest, node: Node, admin: Account) -> None:
    record = publish(node, admin.viewer)
    second = deposit.new_version(node, record, admin.viewer)
    deposit.update_draft(node, second.id, admin.viewer, metadata={**second.metadata, "version": "2.0"})
    deposit.publish(node, second.id, admin.viewer)
    root = harvest.get(verb="GetRecord", identifier=oai_id(record), metadataPrefix="datacite")
    assert root.findtext(".//d:resource/d:version", namespaces=NS) == "2.0"
    assert root.findtext(".//d:resource/d:identifier", namespaces=NS) == f"{BASE_URL}/records/{second.id}"
    # Withdrawing the latest version leaves the first one as the item, not a deleted header.
    deposit.withdraw(node, second.id, admin.viewer, "wrong numbers")
    root = harvest.get(verb="GetRecord", identifier=oai_id(record), metadataPrefix="datacite")
    assert root.find(".//oai:header", NS).get("status") is None
    assert root.findtext(".//d:resource/d:version", namespaces=NS) == "1"


def test_restricted_files_are_not_linked(harvest: Harvest, node: Node, admin: Account) -> None:
    draft = deposit.create_draft(
        node, admin.viewer, {**_meta(), "titles": [{"title": "Sensitive"}]}, {"level": "restricted"}
    )
    deposit.add_file(node, draft.id, "people.csv", [b"a\n1\n"], admin.viewer)
    deposit.publish(node, draft.id, admin.viewer)
    root = harvest.get(verb="GetRecord", identifier=oai_id(draft.record_id), metadataPrefix="oai_dc")
    formats = [e.text for e in root.iterfind(".//dc:format", NS)]
    assert "text/csv" not in formats and "1 file" not in formats


def _meta() -> dict:
    from tests.conftest import minimal_metadata

    return minimal_metadata()


# -- deleted records -----------------------------------------------------------------------------


def test_withdrawn_records_are_deleted_headers(harvest: Harvest, node: Node, admin: Account) -> None:
    kept = publish(node, admin.viewer)
    gone = publish(node, admin.viewer)
    deposit.withdraw(node, gone, admin.viewer, "duplicate of another record")
    root = harvest.get(verb="ListRecords", metadataPrefix="oai_dc")
    records = root.findall("oai:ListRecords/oai:record", NS)
    by_id = {r.findtext("oai:header/oai:identifier", namespaces=NS): r for r in records}
    assert set(by_id) == {oai_id(kept), oai_id(gone)}
    assert by_id[oai_id(gone)].find("oai:header", NS).get("status") == "deleted"
    assert by_id[oai_id(gone)].find("oai:metadata", NS) is None
    assert by_id[oai_id(kept)].find("oai:header", NS).get("status") is None
    assert ids(root)[-1] == oai_id(gone)  # withdrawal moved its datestamp forward
    root = harvest.get(verb="GetRecord", identifier=oai_id(gone), metadataPrefix="datacite")
    assert root.find(".//oai:header", NS).get("status") == "deleted"
    headers = harvest.get(verb="ListIdentifiers", metadataPrefix="oai_dc", set="kind:Dataset")
    assert [h.get("status") for h in headers.iterfind(".//oai:header", NS)] == [None, "deleted"]


# -- selective harvesting by date ----------------------------------------------------------------


def test_from_until_to_the_second_and_the_day(harvest: Harvest, node: Node, admin: Account) -> None:
    made = [publish(node, admin.viewer) for _ in range(4)]
    moments = [T0, T0 + timedelta(seconds=1), T0 + timedelta(days=1), T0 + timedelta(days=2, hours=3)]
    for record, moment in zip(made, moments, strict=True):
        set_datestamp(node, record, moment + timedelta(microseconds=250_000))

    def listed(**window: str) -> list[str]:
        code = harvest.get(verb="ListIdentifiers", metadataPrefix="oai_dc", **window).find("oai:error", NS)
        if code is not None:
            assert code.get("code") == "noRecordsMatch"
            return []
        return all_ids(harvest.pages("ListIdentifiers", metadataPrefix="oai_dc", **window))

    expected = [oai_id(r) for r in made]
    assert listed() == expected
    assert listed(**{"from": "2026-05-01T12:00:01Z"}) == expected[1:]
    assert listed(until="2026-05-01T12:00:00Z") == expected[:1]  # until is inclusive, to the second
    assert listed(**{"from": "2026-05-01T12:00:00Z", "until": "2026-05-01T12:00:01Z"}) == expected[:2]
    assert listed(**{"from": "2026-05-02", "until": "2026-05-02"}) == expected[2:3]
    assert listed(**{"from": "2026-05-02"}) == expected[2:]
    assert listed(until="2026-05-01") == expected[:2]
    assert listed(until="2026-04-30") == []
    assert listed(**{"from": "2026-05-04T00:00:00Z"}) == []
    root = harvest.get(verb="ListRecords", metadataPrefix="oai_dc", **{"from": "2026-05-03"})
    assert root.findtext(".//oai:header/oai:datestamp", namespaces=NS) == "2026-05-03T15:00:00Z"
    assert root.find("oai:request", NS).get("from") == "2026-05-03"


@pytest.mark.parametrize(
    "window",
    [
        {"from": "2026-05-01T12:00:00Z", "until": "2026-05-02"},  # mixed granularities
        {"from": "2026-05-02", "until": "2026-05-01"},  # from after until
        {"from": "2026-05-02T00:00:01Z", "until": "2026-05-02T00:00:00Z"},
        {"from": "2026-13-01"},
        {"from": "2026-05-01T12:00:00"},  # no Z
        {"from": "2026-05-01T12:00:00.5Z"},  # finer than the granularity
        {"until": "2026-05-01T12:00Z"},
        {"until": "yesterday"},
        {"from": "2026-05-01T12:00:00+01:00"},
    ],
)
def test_bad_dates_are_bad_arguments(harvest: Harvest, window: dict[str, str]) -> None:
    code, root = harvest.error(verb="ListRecords", metadataPrefix="oai_dc", **window)
    assert code == "badArgument"
    assert root.find("oai:request", NS).attrib == {}


# -- resumption ----------------------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["ListRecords", "ListIdentifiers"])
def test_resumption_across_pages(harvest: Harvest, node: Node, admin: Account, verb: str) -> None:
    made = [publish(node, admin.viewer) for _ in range(2 * PAGE + 1)]
    for i, record in enumerate(made):
        set_datestamp(node, record, T0 + timedelta(seconds=i // 2))  # pairs share a second
    pages = harvest.pages(verb, metadataPrefix="oai_dc")
    assert len(pages) == 3
    in_order = sorted(made, key=lambda r: (made.index(r) // 2, r))  # same datestamp: by record id
    assert all_ids(pages) == [oai_id(r) for r in in_order]
    tokens = [p.find(f"oai:{verb}/oai:resumptionToken", NS) for p in pages]
    assert [len(ids(p)) for p in pages] == [PAGE, PAGE, 1]
    assert [t.get("cursor") for t in tokens] == ["0", str(PAGE), str(2 * PAGE)]
    assert {t.get("completeListSize") for t in tokens} == {str(2 * PAGE + 1)}
    assert tokens[0].text and tokens[1].text and not tokens[2].text  # the last page's token is empty
    assert tokens[0].get("expirationDate") is None  # tokens never expire
    second = pages[1].find("oai:request", NS)
    assert second.get("resumptionToken") == tokens[0].text and second.get("metadataPrefix") is None


def test_a_token_survives_a_restart(harvest: Harvest, node: Node, admin: Account, data_dir, database_url) -> None:
    from fastapi.testclient import TestClient

    from osnode.app import create_app
    from osnode.config import load_settings

    made = [publish(node, admin.viewer) for _ in range(PAGE + 2)]
    token = harvest.get(verb="ListRecords", metadataPrefix="datacite").findtext(".//oai:resumptionToken", namespaces=NS)
    reopened = Node.open(load_settings(data_dir, database_url=database_url, base_url=BASE_URL, oai_page_size=PAGE))
    try:
        with TestClient(create_app(reopened)) as other:
            again = Harvest(other, harvest.schema, harvest.datacite)
            root = again.get(verb="ListRecords", resumptionToken=token)
    finally:
        reopened.close()
    assert ids(root) == [oai_id(r) for r in made[PAGE:]]
    assert root.find(".//d:resource", NS) is not None  # the token remembered the format


def test_changes_during_a_harvest_are_not_lost(harvest: Harvest, node: Node, admin: Account) -> None:
    made = [publish(node, admin.viewer) for _ in range(PAGE + 1)]
    first = harvest.get(verb="ListIdentifiers", metadataPrefix="oai_dc")
    token = first.findtext(".//oai:resumptionToken", namespaces=NS)
    deposit.withdraw(node, made[0], admin.viewer, "retracted")  # already harvested: comes round again
    late = publish(node, admin.viewer)
    rest = [harvest.get(verb="ListIdentifiers", resumptionToken=token)]
    while tok := rest[-1].findtext(".//oai:resumptionToken", namespaces=NS):
        rest.append(harvest.get(verb="ListIdentifiers", resumptionToken=tok))
    assert all_ids(rest) == [oai_id(made[PAGE]), oai_id(made[0]), oai_id(late)]
    last = rest[-1].find(".//oai:resumptionToken", NS)
    assert int(last.get("completeListSize")) >= int(last.get("cursor")) + len(ids(rest[-1]))


def test_a_token_keeps_the_window_and_set(harvest: Harvest, node: Node, admin: Account) -> None:
    made = [publish(node, admin.viewer) for _ in range(2 * PAGE)]
    software = publish(node, admin.viewer, resourceType={"resourceTypeGeneral": "Software"})
    for i, record in enumerate([*made, software]):
        set_datestamp(node, record, T0 + timedelta(days=i))
    pages = harvest.pages("ListIdentifiers", metadataPrefix="oai_dc", set="kind:Dataset", until="2026-05-05")
    assert all_ids(pages) == [oai_id(r) for r in made[:5]]


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "",
        "WzEsIm9haV9kYyJd",  # a valid encoding of the wrong shape
        "WzIsIm9haV9kYyIsbnVsbCxudWxsLG51bGwsIjIwMjYtMDEtMDFUMDA6MDA6MDArMDA6MDAiLCJhIiwxLDJd",  # version 2
        "WzEsIm1hcmMiLG51bGwsbnVsbCxudWxsLCIyMDI2LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiwiYSIsMSwyXQ",  # unknown prefix
    ],
)
def test_bad_resumption_tokens(harvest: Harvest, node: Node, admin: Account, token: str) -> None:
    publish(node, admin.viewer)
    code, _ = harvest.error(verb="ListRecords", resumptionToken=token)
    assert code == ("badArgument" if token == "" else "badResumptionToken")


def test_a_resumption_token_is_exclusive(harvest: Harvest, node: Node, admin: Account) -> None:
    for _ in range(PAGE + 1):
        publish(node, admin.viewer)
    token = harvest.get(verb="ListRecords", metadataPrefix="oai_dc").findtext(".//oai:resumptionToken", namespaces=NS)
    code, _ = harvest.error(verb="ListRecords", resumptionToken=token, metadataPrefix="oai_dc")
    assert code == "badArgument"


# -- requests and errors -------------------------------------------------------------------------


def test_post_form_is_the_same_as_get(harvest: Harvest, node: Node, admin: Account) -> None:
    record = publish(node, admin.viewer)
    by_post = harvest.post(verb="GetRecord", identifier=oai_id(record), metadataPrefix="oai_dc")
    by_get = harvest.get(verb="GetRecord", identifier=oai_id(record), metadataPrefix="oai_dc")
    assert etree.tostring(by_post.find("oai:GetRecord", NS)) == etree.tostring(by_get.find("oai:GetRecord", NS))
    response = harvest.client.post(
        "/oai", content=b'{"verb": "Identify"}', headers={"content-type": "application/json"}
    )
    root = harvest._check(response)
    assert root.find("oai:error", NS).get("code") == "badArgument"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "badVerb"),
        ("verb=", "badVerb"),
        ("verb=ListEverything", "badVerb"),
        ("verb=Identify&verb=Identify", "badVerb"),
        ("verb=identify", "badVerb"),
        ("metadataPrefix=oai_dc", "badVerb"),
        ("verb=ListRecords", "badArgument"),
        ("verb=ListRecords&metadataPrefix=", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=datacite", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&colour=blue", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&identifier=x", "badArgument"),
        ("verb=ListIdentifiers&metadataPrefix=oai_dc&from=2026-01-01&from=2026-01-02", "badArgument"),
        ("verb=GetRecord&identifier=oai%3Anode.example.org%3Ax&metadataPrefix=oai_dc&set=kind", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&set=%20bad", "badArgument"),
        ("verb=ListRecords&metadataPrefix=ai%01x", "badArgument"),
        ("verb=ListRecords&metadataPrefix=marc21", "cannotDisseminateFormat"),
        ("verb=ListIdentifiers&metadataPrefix=a%20b", "badArgument"),
        ("verb=GetRecord&identifier=oai%3Anode.example.org%3Aa%20b%3C%3E%22&metadataPrefix=oai_dc", "badArgument"),
        ("verb=ListMetadataFormats&identifier=%5B%5D%25", "badArgument"),
        ("verb=ListMetadataFormats&identifier=oai%3Anode.example.org%3A%2541", "idDoesNotExist"),
        ("verb=ListRecords&metadataPrefix=oai_dc", "noRecordsMatch"),
        ("verb=ListIdentifiers&metadataPrefix=oai_dc&set=kind:Dataset", "noRecordsMatch"),
        ("verb=GetRecord&identifier=oai%3Anode.example.org%3A%00&metadataPrefix=oai_dc", "badArgument"),
        ("verb=GetRecord&identifier=oai%3Anode.example.org%3A12345-67890&metadataPrefix=oai_dc", "idDoesNotExist"),
        ("verb=%FF%FE", "badVerb"),
    ],
)
def test_every_error_validates(harvest: Harvest, query: str, code: str) -> None:
    root = harvest.raw(query)
    errors = root.findall("oai:error", NS)
    assert [e.get("code") for e in errors] == [code], etree.tostring(root)
    assert errors[0].text
    assert root.find("oai:ListRecords", NS) is None
    if code in ("badVerb", "badArgument"):
        assert root.find("oai:request", NS).attrib == {}


def test_no_set_hierarchy_and_no_metadata_formats_never_happen(harvest: Harvest, node: Node, admin: Account) -> None:
    # The node always has sets, and a deleted item still has every format (as a header): the two
    # codes the protocol reserves for repositories without them are never the answer.
    record = publish(node, admin.viewer)
    deposit.withdraw(node, record, admin.viewer, "gone")
    assert harvest.get(verb="ListSets").find("oai:ListSets", NS) is not None
    root = harvest.get(verb="ListMetadataFormats", identifier=oai_id(record))
    # Every format but JATS, which describes articles only.
    assert len(root.findall(".//oai:metadataFormat", NS)) == len(registry.oai_formats()) - 1 == 4


def test_the_base_url_without_a_domain_gives_no_oai_identifier(tmp_path, database_url, oai_schema) -> None:
    from fastapi.testclient import TestClient

    from osnode.app import create_app
    from osnode.config import load_settings

    opened = Node.open(load_settings(tmp_path / "n", database_url=database_url, base_url="http://127.0.0.1:8000"))
    try:
        with TestClient(create_app(opened)) as other:
            root = etree.fromstring(other.get("/oai?verb=Identify").content)
    finally:
        opened.close()
    oai_schema.assertValid(etree.ElementTree(root))  # strictly, with nothing taken out
    assert root.find(".//oai:description", NS) is None
    assert root.findtext(".//oai:adminEmail", namespaces=NS) == "admin@127.0.0.1"
