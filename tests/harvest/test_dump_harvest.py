"""A first, full harvest of an osnode peer reads its bulk dump instead of paging through OAI-PMH:
the same records with the same OAI identifiers, datestamps and links, checked in a worker process,
resumable after the download breaks off; later harvests ask OAI-PMH for what changed."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from lxml import etree
from sqlalchemy import func, select

from osnode.domain.records import id_of
from osnode.services import deposit, harvest, search
from osnode.services.harvest import (
    HarvestError,
    OAIClient,
    OAIProtocolError,
    RetryPolicy,
    merging,
    pipeline,
    read_dump_lines,
)
from osnode.services.node import Node
from osnode.storage.catalog import records, versions
from osnode.storage.peers import peers, record_sources
from tests.conftest import Account, LiveServer
from tests.harvest.conftest import fast_client, publish, serve

OAI = "{http://www.openarchives.org/OAI/2.0/}"
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    """Thresholds a test can reach: a list of 3 or more reads the dump, 2 lines a batch."""
    monkeypatch.setattr(pipeline, "DUMP_FROM", 3)
    monkeypatch.setattr(pipeline, "DUMP_BATCH", 2)


@pytest.fixture
def peer(node: Node, admin: Account, data_dir: Any, database_url: str) -> Iterator[tuple[LiveServer, list[str]]]:
    """A live osnode with six published records (one with a DOI) and one withdrawn, two a page."""
    made = [
        publish(
            node, admin.viewer, titles=[{"title": f"Tide gauge {i}"}], **({"doi": "10.1234/tide"} if i == 1 else {})
        )
        for i in range(7)
    ]
    deposit.withdraw(node, made[6], admin.viewer, "duplicate")
    server = serve(data_dir, database_url, {"OSNODE_OAI_PAGE_SIZE": "2"})
    yield server, made
    server.stop()


def _listed(url: str) -> dict[str, str]:
    """identifier -> datestamp of the live records, as the peer's OAI-PMH lists them."""
    client = OAIClient(f"{url}/oai")
    params = {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}
    listed: dict[str, str] = {}
    try:
        while True:
            root = etree.fromstring(client.fetch(params))
            for header in root.iter(f"{OAI}header"):
                if header.get("status") != "deleted":
                    listed[header.findtext(f"{OAI}identifier") or ""] = header.findtext(f"{OAI}datestamp") or ""
            token = root.findtext(f".//{OAI}resumptionToken")
            if not token:
                return listed
            params = {"verb": "ListIdentifiers", "resumptionToken": token}
    finally:
        client.close()


def _sources(harvester: Node) -> dict[str, str]:
    with harvester.engine.connect() as conn:
        return {r.oai_identifier: r.datestamp for r in conn.execute(select(record_sources)) if not r.deleted}


def _titles(harvester: Node) -> set[str]:
    return {item["title"] for item in search.query(harvester, "tide", size=100).items}


def _read_from_dump(run: harvest.RunInfo) -> bool:
    return any("bulk dump" in str(e["message"]) for e in run.error_list)


def test_a_first_harvest_reads_the_dump_then_oai_gives_what_changed(
    small: None, node: Node, admin: Account, peer: tuple[LiveServer, list[str]], harvester: Node
) -> None:
    server, made = peer
    harvest.add_peer(harvester, f"{server.url}/oai", name="p", connect=fast_client)
    run = harvest.harvest(harvester, "p", fast_client)
    assert (run.status, run.added, run.skipped, run.errors) == ("ok", 6, 1, 0), run.error_list
    assert _read_from_dump(run) and run.metadata_prefix == "oai_datacite"
    assert run.pages == 4  # seven lines (one a deletion), two a batch

    # The same identifiers and datestamps as OAI-PMH gives, so later OAI harvests match them.
    assert _sources(harvester) == _listed(server.url)
    assert _titles(harvester) == {f"Tide gauge {i}" for i in range(6)}
    with harvester.engine.connect() as conn:
        tide = conn.execute(select(record_sources).where(record_sources.c.doi == "10.1234/tide")).one()
        version_id = conn.execute(select(records.c.latest_published_id).where(records.c.id == tide.record_id))
        stored = conn.execute(select(versions.c.metadata).where(versions.c.id == version_id.scalar_one())).scalar_one()
        state = conn.execute(select(peers.c.resumption_token, peers.c.next_from)).one()
    with node.engine.connect() as conn:
        origin_version = conn.execute(select(records.c.latest_published_id).where(records.c.id == made[1])).scalar_one()
    assert tide.url == f"{server.url}/records/{origin_version}"  # the landing page at the origin
    assert stored["doi"] == "10.1234/tide" and stored["titles"][0]["title"] == "Tide gauge 1"
    assert state.resumption_token is None and state.next_from is not None

    # Later harvests are incremental, over OAI-PMH: one new record, one withdrawn at the origin.
    publish(node, admin.viewer, titles=[{"title": "Tide gauge late"}])
    deposit.withdraw(node, made[3], admin.viewer, "retracted")
    run = harvest.harvest(harvester, "p", fast_client)
    assert (run.status, run.added, run.deleted) == ("ok", 1, 1), run.error_list
    assert not _read_from_dump(run) and run.from_datestamp == state.next_from
    assert _titles(harvester) == {f"Tide gauge {i}" for i in (0, 1, 2, 4, 5)} | {"Tide gauge late"}


class _Cut(OAIClient):
    """A client whose first dump download breaks off after two batches, as a dropped link would."""

    def open_dump(self, after: str | None = None) -> Any:
        dump = super().open_dump(after)
        if dump is None or after is not None:
            return dump
        batches = dump.batches

        def cut(lines: int) -> Iterator[bytes]:
            for number, batch in enumerate(batches(lines)):
                if number == 2:
                    raise HarvestError("the link dropped")
                yield batch

        dump.batches = cut
        return dump


def test_a_dump_cut_off_resumes_after_its_last_stored_line(
    small: None, peer: tuple[LiveServer, list[str]], harvester: Node
) -> None:
    server, _ = peer
    harvest.add_peer(harvester, f"{server.url}/oai", name="p", connect=fast_client)
    run = harvest.harvest(harvester, "p", lambda url: _Cut(url, retry=RetryPolicy(attempts=1)))
    assert (run.status, run.added) == ("failed", 4) and "link dropped" in (run.message or "")
    with harvester.engine.connect() as conn:
        token = conn.execute(select(peers.c.resumption_token)).scalar_one()
    assert token is not None and token.startswith("dump:")

    run = harvest.harvest(harvester, "p", fast_client)
    assert (run.status, run.resumed, run.added, run.skipped) == ("ok", True, 2, 1), run.error_list
    assert _sources(harvester) == _listed(server.url)  # nothing lost, nothing twice
    with harvester.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(versions)).scalar_one() == 6


def test_an_oai_harvest_is_checked_in_a_worker_process_when_long(
    monkeypatch: pytest.MonkeyPatch, peer: tuple[LiveServer, list[str]], harvester: Node
) -> None:
    """Without the dump (the caller says so), a long list is read and checked in a worker process."""
    monkeypatch.setattr(pipeline, "WORKER_FROM", 3)
    started: list[bool] = []
    use_worker = pipeline._Checker.use_worker

    def spy(self: pipeline._Checker) -> None:
        started.append(True)
        use_worker(self)

    monkeypatch.setattr(pipeline._Checker, "use_worker", spy)
    server, _ = peer
    harvest.add_peer(harvester, f"{server.url}/oai", name="p", connect=fast_client)
    run = harvest.harvest(harvester, "p", fast_client, use_dump=False)
    assert (run.status, run.added, run.pages) == ("ok", 6, 4), run.error_list
    assert started and not _read_from_dump(run)
    assert _sources(harvester) == _listed(server.url)


def test_dump_lines_are_read_defensively() -> None:
    good = {
        "id": "a",
        "updated": "2026-11-20T10:00:00+00:00",
        "datestamp": "2026-11-20T10:00:00Z",
        "oai_identifier": "oai:peer:a",
        "metadata": {"titles": [{"title": "Good"}]},
        "links": {"html": "https://peer/records/v1"},
    }
    lines = [
        orjson.dumps(good),
        b"{not json",
        b"[1, 2]",
        orjson.dumps(good | {"id": "b", "oai_identifier": ""}),
        orjson.dumps(good | {"id": "c", "oai_identifier": "oai:peer:c", "datestamp": "yesterday"}),
        orjson.dumps(good | {"id": "d", "oai_identifier": "oai:peer:d", "metadata": "none"}),
        orjson.dumps(
            {
                "id": "e",
                "deleted": True,
                "updated": "2026-11-21T00:00:00+00:00",
                "oai_identifier": "oai:peer:e",
                "datestamp": "2026-11-21T00:00:00Z",
            }
        ),
    ]
    page = read_dump_lines(b"\n".join(lines))
    assert [(r.identifier, r.deleted, r.landing) for r in page.records] == [
        ("oai:peer:a", False, "https://peer/records/v1"),
        ("oai:peer:e", True, None),
    ]
    refused = [(p.identifier, p.is_error) for p in page.problems]
    assert refused == [(None, True), (None, True), (None, True), ("oai:peer:c", True), ("oai:peer:d", True)]
    assert page.token == "2026-11-21T00:00:00+00:00,e"  # the last line read: where to go on from


def test_an_oai_error_crosses_back_from_the_worker_whole() -> None:
    error = pickle.loads(pickle.dumps(OAIProtocolError("badResumptionToken", "expired")))
    assert (type(error), error.code, str(error)) == (
        OAIProtocolError,
        "badResumptionToken",
        "badResumptionToken: expired",
    )


def test_an_id_block_holding_a_taken_id_is_drawn_again(
    node: Node, admin: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New harvested records take consecutive ids (they land side by side in the id indexes); a
    block that would reuse an existing record's id is never used."""
    existing = publish(node, admin.viewer)
    number = 0
    for char in existing.replace("-", ""):
        number = number * 32 + _ALPHABET.index(char)
    draws = iter([number - 3, 2**40])  # the first block holds the existing id, the second is free
    monkeypatch.setattr(merging.secrets, "randbits", lambda _bits: next(draws))
    with node.transaction() as tx:
        ids = list(merging._id_block(tx, 10))
    assert existing not in ids
    assert ids == [id_of(2**40 + k) for k in range(10)] and ids == sorted(ids)
