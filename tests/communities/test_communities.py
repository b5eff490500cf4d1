"""Communities: the service rules, the API, the CLI and the OAI-PMH sets ``community:<slug>``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from osnode.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from osnode.services import communities, deposit
from osnode.services.node import Node
from osnode.storage.catalog import records
from tests.conftest import Account
from tests.oaipmh.conftest import HOST, NS, Harvest, oai_id, publish
from tests.oaipmh.test_provider import all_ids
from tests.test_cli import Cli, cli, fails, ok, open_node, token_in  # noqa: F401  (cli is a fixture)


def _updated(node: Node, record_id: str):  # type: ignore[no-untyped-def]
    with node.engine.connect() as conn:
        return conn.execute(select(records.c.updated).where(records.c.id == record_id)).scalar_one()


# -- service rules -------------------------------------------------------------------------------


def test_curators_create_and_fill_communities(node: Node, curator: Account, depositor: Account) -> None:
    made = communities.create(node, curator.viewer, "climate", " Climate data ", "Rain, wind and heat.")
    assert (made.slug, made.title, made.description) == ("climate", "Climate data", "Rain, wind and heat.")
    record = publish(node, depositor.viewer)
    before = _updated(node, record)
    membership = communities.include(node, curator.viewer, "climate", record)
    assert membership.status == "accepted"
    assert _updated(node, record) > before  # its set membership changed: harvesters must see it again
    again = communities.include(node, curator.viewer, "climate", record)
    assert again.status == "accepted"
    [listed] = communities.list_all(node)
    assert (listed.slug, listed.records) == ("climate", 1)
    communities.remove(node, curator.viewer, "climate", record)
    assert communities.get(node, "climate").records == 0
    with pytest.raises(NotFound):
        communities.remove(node, curator.viewer, "climate", record)


def test_depositors_ask_and_curators_accept(
    node: Node, curator: Account, depositor: Account, other_depositor: Account
) -> None:
    communities.create(node, curator.viewer, "soil", "Soil")
    own = publish(node, depositor.viewer)
    assert communities.include(node, depositor.viewer, "soil", own).status == "requested"
    assert communities.get(node, "soil").records == 0  # a request is not a membership
    assert communities.requests(node, curator.viewer, "soil") == [own]
    with pytest.raises(Forbidden):
        communities.requests(node, depositor.viewer, "soil")
    with pytest.raises(Forbidden):  # not their record
        communities.include(node, other_depositor.viewer, "soil", own)
    with pytest.raises(Forbidden):
        communities.remove(node, other_depositor.viewer, "soil", own)
    assert communities.include(node, curator.viewer, "soil", own).status == "accepted"
    assert communities.requests(node, curator.viewer, "soil") == []
    # Asking again for an accepted record changes nothing; the owner may take it out.
    assert communities.include(node, depositor.viewer, "soil", own).status == "accepted"
    communities.remove(node, depositor.viewer, "soil", own)
    assert communities.get(node, "soil").records == 0


def test_what_communities_refuse(node: Node, admin: Account, depositor: Account) -> None:
    from osnode.domain.access import ANONYMOUS

    with pytest.raises(Forbidden):
        communities.create(node, depositor.viewer, "mine", "Mine")
    with pytest.raises(Unauthorized):
        communities.create(node, ANONYMOUS, "mine", "Mine")
    for slug in ("", "Upper", "-edge", "edge-", "a b", "x" * 65, "community:x", "é"):
        with pytest.raises(InvalidInput):
            communities.create(node, admin.viewer, slug, "Title")
    with pytest.raises(InvalidInput) as refused:
        communities.create(node, admin.viewer, "ok", "  ", 12)
    assert {e.path for e in refused.value.errors} == {"title", "description"}
    communities.create(node, admin.viewer, "ok", "OK")
    with pytest.raises(Conflict):
        communities.create(node, admin.viewer, "ok", "Again")
    draft = deposit.create_draft(node, admin.viewer, {"titles": [{"title": "Unfinished"}]})
    with pytest.raises(Conflict):  # drafts join no community
        communities.include(node, admin.viewer, "ok", draft.record_id)
    with pytest.raises(NotFound):
        communities.include(node, admin.viewer, "ok", "nope0-nope0")
    with pytest.raises(NotFound):
        communities.include(node, admin.viewer, "nowhere", publish(node, admin.viewer))
    with pytest.raises(NotFound):  # a version id is not a record id
        communities.include(node, admin.viewer, "ok", draft.id + "x")
    with pytest.raises(Unauthorized):
        communities.include(node, ANONYMOUS, "ok", publish(node, admin.viewer))


# -- API -----------------------------------------------------------------------------------------


def test_the_api(client: TestClient, node: Node, curator: Account, depositor: Account) -> None:
    body = {"slug": "oceans", "title": "Oceans", "description": "Sea-level and salinity."}
    assert client.post("/api/communities", json=body, headers=depositor.headers).status_code == 403
    assert client.post("/api/communities", json=body).status_code == 401
    created = client.post("/api/communities", json=body, headers=curator.headers)
    assert created.status_code == 201, created.text
    assert created.json()["links"]["oai_set"].endswith("set=community:oceans")
    again = client.post("/api/communities", json=body, headers=curator.headers)
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    bad = client.post("/api/communities", json={"slug": "Bad Slug", "title": "x"}, headers=curator.headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "slug"
    extra = client.post("/api/communities", json={**body, "owner": 1}, headers=curator.headers)
    assert extra.status_code == 422

    record = publish(node, depositor.viewer)
    asked = client.put(f"/api/communities/oceans/records/{record}", headers=depositor.headers)
    assert asked.status_code == 200 and asked.json() == {
        "record_id": record,
        "community": "oceans",
        "status": "requested",
    }
    seen = client.get("/api/communities/oceans", headers=curator.headers).json()
    assert seen["requests"] == [record] and seen["records"] == 0
    assert "requests" not in client.get("/api/communities/oceans").json()
    accepted = client.put(f"/api/communities/oceans/records/{record}", headers=curator.headers)
    assert accepted.json()["status"] == "accepted"
    listed = client.get("/api/communities").json()["items"]
    assert [(c["slug"], c["records"], c["title"]) for c in listed] == [("oceans", 1, "Oceans")]
    assert client.put("/api/communities/nowhere/records/" + record, headers=curator.headers).status_code == 404
    assert client.put("/api/communities/oceans/records/zzzzz-zzzzz", headers=curator.headers).status_code == 404
    assert client.get("/api/communities/nowhere").status_code == 404
    assert client.delete(f"/api/communities/oceans/records/{record}").status_code == 401
    assert client.delete(f"/api/communities/oceans/records/{record}", headers=curator.headers).status_code == 204
    assert client.delete(f"/api/communities/oceans/records/{record}", headers=curator.headers).status_code == 404


# -- CLI -----------------------------------------------------------------------------------------


def test_the_cli(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, cli: Cli) -> None:  # noqa: F811
    # In-process (``osnode.cli.main``): a process per command proved nothing more and cost ~2 s each.
    monkeypatch.setenv("OSNODE_DATABASE_URL", database_url)
    data = tmp_path / "cli-node"
    token_in(ok(cli("init", "--data", data)))
    ok(cli("communities", "add", "health", "--title", "Health", "--data", data))
    fails(cli("communities", "add", "health", "--title", "Again", "--data", data), "exists already")
    fails(cli("communities", "add", "Bad", "--title", "x", "--data", data), "slug")
    opened = open_node(data, database_url)
    try:
        from osnode.services import users

        admin = users.first_admin(opened)
        assert admin is not None
        record = publish(opened, users.viewer_for(admin))
    finally:
        opened.close()
    ok(cli("communities", "include", "health", record, "--data", data))
    fails(cli("communities", "include", "nowhere", record, "--data", data), "nowhere")
    listed = ok(cli("communities", "list", "--json", "--data", data)).json()
    assert [(c["slug"], c["records"]) for c in listed["items"]] == [("health", 1)]
    table = ok(cli("communities", "list", "--data", data)).stdout
    assert "health" in table and "Health" in table
    ok(cli("communities", "remove", "health", record, "--data", data))
    listed = json.loads(cli("communities", "list", "--json", "--data", data).stdout)
    assert listed["items"][0]["records"] == 0


# -- OAI-PMH sets --------------------------------------------------------------------------------


def test_communities_are_oai_sets(harvest: Harvest, node: Node, admin: Account) -> None:
    communities.create(node, admin.viewer, "climate", "Climate & weather", "Rain <and> wind, 2001-2020.")
    communities.create(node, admin.viewer, "empty", "Nothing yet")
    inside = [publish(node, admin.viewer) for _ in range(4)]  # more than a page (PAGE = 3)
    outside = publish(node, admin.viewer)
    for record in inside:
        communities.include(node, admin.viewer, "climate", record)

    root = harvest.get(verb="ListSets")  # validated strictly, setDescription (oai_dc) included
    sets = {s.findtext("oai:setSpec", namespaces=NS): s for s in root.iterfind(".//oai:set", NS)}
    assert {"community", "community:climate", "community:empty"} <= set(sets)
    climate = sets["community:climate"]
    assert climate.findtext("oai:setName", namespaces=NS) == "Climate & weather"
    assert climate.findtext("oai:setDescription/oai_dc:dc/dc:description", namespaces=NS) == (
        "Rain <and> wind, 2001-2020."
    )
    assert sets["community:empty"].find("oai:setDescription", NS) is None

    for verb in ("ListIdentifiers", "ListRecords"):
        for prefix in ("oai_dc", "oai_datacite"):
            pages = harvest.pages(verb, metadataPrefix=prefix, set="community:climate")
            assert all_ids(pages) == [oai_id(r) for r in inside], (verb, prefix)
    assert set(all_ids(harvest.pages("ListIdentifiers", metadataPrefix="oai_dc", set="community"))) == {
        oai_id(r) for r in inside
    }
    root = harvest.get(verb="GetRecord", identifier=oai_id(inside[0]), metadataPrefix="oai_dc")
    assert [e.text for e in root.iterfind(".//oai:setSpec", NS)] == [
        "kind:Dataset",
        f"origin:{HOST}",
        "community:climate",
    ]
    root = harvest.get(verb="GetRecord", identifier=oai_id(outside), metadataPrefix="oai_dc")
    assert "community:climate" not in [e.text for e in root.iterfind(".//oai:setSpec", NS)]
    for missing in ("community:empty", "community:nowhere"):
        code, _ = harvest.error(verb="ListRecords", metadataPrefix="oai_dc", set=missing)
        assert code == "noRecordsMatch"
    # An empty community fills up as soon as a curator includes a record.
    communities.include(node, admin.viewer, "empty", outside)
    assert all_ids(harvest.pages("ListIdentifiers", metadataPrefix="oai_dc", set="community:empty")) == [
        oai_id(outside)
    ]
