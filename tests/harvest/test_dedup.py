"""The same work reached through two peers is one record with two sources (same DOI, else same OAI
identifier); it is withdrawn only when every source has deleted it. Landing pages list the sources;
administrators see the peers page."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from osnode.services import harvest, search
from osnode.services.node import Node
from osnode.storage.catalog import versions
from osnode.storage.peers import record_sources
from tests.conftest import Account
from tests.harvest.conftest import OAI_HEAD, FakePeer, dc_record, fast_client, formats_xml, identify_xml

XML = {"Content-Type": "text/xml"}


def datacite_record(identifier: str, datestamp: str, doi: str, title: str) -> str:
    return (
        f"<record><header><identifier>{identifier}</identifier><datestamp>{datestamp}</datestamp></header><metadata>"
        '<oai_datacite xmlns="http://schema.datacite.org/oai/oai-1.1/"><schemaVersion>4.7</schemaVersion>'
        "<datacentreSymbol>X</datacentreSymbol><payload>"
        '<resource xmlns="http://datacite.org/schema/kernel-4">'
        f'<identifier identifierType="DOI">{doi}</identifier>'
        '<creators><creator><creatorName nameType="Personal">Silva, Ana</creatorName><givenName>Ana</givenName>'
        "<familyName>Silva</familyName>"
        '<nameIdentifier nameIdentifierScheme="ORCID">https://orcid.org/0000-0002-1825-0097</nameIdentifier>'
        "</creator><creator><creatorName>Costa, Rui</creatorName>"
        '<nameIdentifier nameIdentifierScheme="ORCID">not-an-orcid</nameIdentifier></creator></creators>'
        f"<titles><title>{title}</title></titles><publisher>Origin Repository</publisher>"
        '<publicationYear>2019</publicationYear><resourceType resourceTypeGeneral="Dataset">Survey</resourceType>'
        "<subjects><subject>hydrology</subject></subjects>"
        '<rightsList><rights rightsIdentifier="CC-BY-4.0" rightsIdentifierScheme="SPDX">CC BY 4.0</rights></rightsList>'
        '<alternateIdentifiers><alternateIdentifier alternateIdentifierType="URL">https://origin.example.org/r/1'
        "</alternateIdentifier></alternateIdentifiers>"
        '<relatedIdentifiers><relatedIdentifier relatedIdentifierType="DOI" relationType="Cites">not a doi'
        "</relatedIdentifier></relatedIdentifiers>"
        "</resource></payload></oai_datacite></metadata></record>"
    )


def two_hosts(peer: FakePeer, deleted: set[str]) -> None:
    """One server, two names: 127.0.0.1 serves the work as oai:one:1, localhost as oai:two:9."""

    def respond(params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if params["verb"] == "Identify":
            return 200, XML, identify_xml()
        if params["verb"] == "ListMetadataFormats":
            return 200, XML, formats_xml("oai_dc", "oai_datacite")
        one = params["_host"].startswith("127.0.0.1")
        ident = "oai:one:1" if one else "oai:two:9"
        stamp = "2026-11-19T08:00:00Z" if ident not in deleted else "2026-11-20T08:00:00Z"
        item = (
            dc_record(ident, stamp, "", deleted=True)
            if ident in deleted
            else datacite_record(ident, stamp, "10.5555/RAIN", "Rainfall")
        )
        # Both also serve a DOI-less record under one shared OAI identifier (a mirrored repository).
        mirror = dc_record("oai:mirror:7", "2026-11-19T08:00:00Z", "Mirrored thing")
        body = f"{OAI_HEAD}<ListRecords>\n{item}\n{mirror}\n<resumptionToken/></ListRecords></OAI-PMH>"
        return 200, XML, body.encode()

    peer.respond = respond


def test_one_work_through_two_peers_is_one_record_with_two_sources(
    node: Node, fake_peer: FakePeer, admin: Account, client: TestClient
) -> None:
    deleted: set[str] = set()
    two_hosts(fake_peer, deleted)
    port = fake_peer.url.rsplit(":", 1)[1]
    harvest.add_peer(node, f"http://127.0.0.1:{port}/oai", name="one", connect=fast_client)
    harvest.add_peer(node, f"http://localhost:{port}/oai", name="two", connect=fast_client)
    first = harvest.harvest(node, "one", fast_client)
    second = harvest.harvest(node, "two", fast_client)
    assert (first.added, first.errors, second.added, second.updated) == (2, 0, 0, 2), (first, second)
    assert first.metadata_prefix == "oai_datacite"

    with node.engine.connect() as conn:
        sources = conn.execute(select(record_sources).order_by(record_sources.c.oai_identifier)).all()
        stored = conn.execute(select(versions.c.metadata)).scalars().all()
    assert len({s.record_id for s in sources}) == 2 and len(sources) == 4
    rain_record = next(s.record_id for s in sources if s.doi == "10.5555/rain")
    assert {s.oai_identifier for s in sources if s.record_id == rain_record} == {"oai:one:1", "oai:two:9"}
    rain = next(m for m in stored if m.get("doi"))
    # DataCite read back: the valid ORCID kept, the invalid one and the bad related DOI dropped.
    assert rain["creators"][0]["orcid"] == "0000-0002-1825-0097"
    assert rain["creators"][1] == {"name": "Costa, Rui"}
    assert "relatedIdentifiers" not in rain and rain["rightsList"][0]["rightsIdentifier"] == "CC-BY-4.0"
    assert rain["publicationYear"] == 2019 and rain["resourceType"]["resourceType"] == "Survey"
    assert any("values dropped" in e["message"] for e in first.error_list if not e["error"])
    assert search.query(node, "rainfall").total == 1

    # The landing page names both sources and links to the original.
    page = client.get(f"/records/{rain_record}")
    assert page.status_code == 200
    assert 'href="https://origin.example.org/r/1"' in page.text
    assert "oai:one:1" in page.text and "oai:two:9" in page.text

    # Deleted at one peer: still held by the other, so still published.
    deleted.add("oai:one:1")
    assert harvest.harvest(node, "one", fast_client).deleted == 0
    assert search.query(node, "rainfall").total == 1
    # Deleted at both: withdrawn, with a tombstone.
    deleted.add("oai:two:9")
    assert harvest.harvest(node, "two", fast_client).deleted == 1
    assert search.query(node, "rainfall").total == 0
    assert client.get(f"/records/{rain_record}").status_code == 410

    # The admin page: administrators only, with the last runs.
    assert client.get("/admin/peers").status_code == 401
    admin_page = client.get("/admin/peers", headers=admin.headers)
    assert admin_page.status_code == 200
    assert "peer-one" in admin_page.text and "peer-two" in admin_page.text


def test_the_peers_page_is_for_administrators_only(node: Node, client: TestClient, depositor: Account) -> None:
    response = client.get("/admin/peers", headers=depositor.headers)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")


def test_removing_a_peer_withdraws_what_only_it_provided(node: Node, fake_peer: FakePeer) -> None:
    two_hosts(fake_peer, set())
    port = fake_peer.url.rsplit(":", 1)[1]
    harvest.add_peer(node, f"http://127.0.0.1:{port}/oai", name="one")
    harvest.harvest(node, "one", fast_client)
    assert search.query(node, "").total == 2
    assert harvest.remove_peer(node, "one") == 2
    assert search.query(node, "").total == 0 and harvest.list_peers(node) == []
