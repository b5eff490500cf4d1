"""End to end: one node harvests a live ``osnode serve`` over HTTP; incremental re-harvests,
deletions, search with the origin facet, the landing page's sources panel, and node-to-node
harvesting without echo."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from osnode.app import create_app
from osnode.services import deposit, harvest, search
from osnode.services.node import Node, utcnow
from osnode.storage.catalog import records, versions
from osnode.storage.peers import record_sources
from tests.conftest import Account, LiveServer
from tests.harvest.conftest import fast_client, publish


def _age(node: Node, record_ids: list[str], days: int = 1) -> None:
    """Move records' OAI datestamps into the past, so 'changed since the last harvest' is exact."""
    with node.transaction() as tx:
        tx.execute(update(records).where(records.c.id.in_(record_ids)).values(updated=utcnow() - timedelta(days=days)))


def _titles(node: Node, origin: str | None = None) -> set[str]:
    filters = {"origin": [origin]} if origin else None
    found = search.query(node, "", filters, size=100)
    return {item["title"] for item in found.items}


def test_harvest_a_live_node_incrementally_with_deletions(
    node: Node, admin: Account, live_server: LiveServer, harvester: Node
) -> None:
    first = [
        publish(node, admin.viewer, titles=[{"title": "Rainfall at Luanda"}], doi="10.1234/rain"),
        publish(node, admin.viewer, titles=[{"title": "Soil moisture in Bali"}], subjects=[{"subject": "soil"}]),
        publish(node, admin.viewer, titles=[{"title": "Mangrove census"}]),
    ]
    _age(node, first)
    harvest.add_peer(harvester, f"{live_server.url}/oai", name="peer", connect=fast_client)

    run = harvest.harvest(harvester, "peer", fast_client)
    assert (run.status, run.added, run.updated, run.errors) == ("ok", 3, 0, 0), run.error_list
    assert run.metadata_prefix == "oai_datacite"  # preferred over oai_dc when offered
    origin = live_server.url
    assert _titles(harvester, origin) == {"Rainfall at Luanda", "Soil moisture in Bali", "Mangrove census"}
    facets = dict((f["value"], f["count"]) for f in search.query(harvester, "").facets["origin"])
    assert facets[origin] == 3

    with harvester.engine.connect() as conn:
        rows = conn.execute(select(record_sources)).all()
        origins = set(conn.execute(select(versions.c.origin_node)).scalars())
    assert {r.oai_identifier.rsplit(":", 1)[1] for r in rows} == set(first)
    assert {r.doi for r in rows} == {"10.1234/rain", None}
    assert origins == {origin}
    rain = next(r for r in rows if r.doi)
    assert rain.url == f"{origin}/records/{_version_of(node, first[0])}"

    # The landing page links to the original record.
    with TestClient(create_app(harvester)) as web:
        page = web.get(f"/records/{rain.record_id}")
    assert page.status_code == 200
    assert f'href="{rain.url}"' in page.text and rain.oai_identifier in page.text

    # Incremental: only what changed since is fetched.
    later = [publish(node, admin.viewer, titles=[{"title": f"Tide gauge {i}"}]) for i in range(2)]
    run = harvest.harvest(harvester, "peer", fast_client)
    assert (run.status, run.added, run.updated, run.unchanged, run.deleted) == ("ok", 2, 0, 0, 0)
    assert run.from_datestamp is not None
    assert "Tide gauge 1" in _titles(harvester)

    # A deletion at the origin withdraws the harvested copy (tombstone) and drops it from search.
    deposit.withdraw(node, later[0], admin.viewer, "duplicate")
    run = harvest.harvest(harvester, "peer", fast_client)
    assert (run.status, run.added, run.deleted) == ("ok", 0, 1)
    assert "Tide gauge 0" not in _titles(harvester)
    with harvester.engine.connect() as conn:
        record_id = conn.execute(
            select(record_sources.c.record_id).where(record_sources.c.oai_identifier.like(f"%:{later[0]}"))
        ).scalar_one()
    with TestClient(create_app(harvester)) as web:
        assert web.get(f"/records/{record_id}").status_code == 410

    peers = harvest.list_peers(harvester)
    assert peers[0].records == 5 and peers[0].last_run is not None and peers[0].last_run.deleted == 1


def _version_of(node: Node, record_id: str) -> str:
    with node.engine.connect() as conn:
        return conn.execute(select(records.c.latest_published_id).where(records.c.id == record_id)).scalar_one()


def test_two_nodes_harvest_each_other_without_echo(
    node: Node, admin: Account, live_server: LiveServer, harvester: Node, harvester_dir, harvester_url: str
) -> None:
    from osnode.services import users
    from tests.harvest.conftest import serve as start_server

    publish(node, admin.viewer, titles=[{"title": "Made at A"}])
    owner = users.create_user(harvester, "b-admin", "admin")
    publish(harvester, users.viewer_for(owner), titles=[{"title": "Made at B"}])
    harvester.close()
    b_server = start_server(harvester_dir, harvester_url)
    try:
        b = Node.open(_settings(harvester_dir, harvester_url, b_server.url))
        harvest.add_peer(b, f"{live_server.url}/oai", name="a", connect=fast_client)
        assert harvest.harvest(b, "a", fast_client).added == 1
        harvest.harvest(b, "a", fast_client)

        harvest.add_peer(node, f"{b_server.url}/oai", name="b", connect=fast_client)
        run = harvest.harvest(node, "b", fast_client)
        # A gets B's own record, never its own record back through B.
        assert run.added == 1, run
        assert _titles(node) == {"Made at A", "Made at B"}
        # And B, harvesting A again, does not take back what A harvested from it.
        again = harvest.harvest(b, "a", fast_client)
        assert again.added == 0
        assert sorted(_titles(b)) == ["Made at A", "Made at B"]
        b.close()
    finally:
        b_server.stop()


def _settings(data_dir, url: str, public: str):  # type: ignore[no-untyped-def]
    from osnode.config import load_settings

    return load_settings(data_dir, database_url=url, base_url=public)
