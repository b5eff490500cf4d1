"""Interrupted harvests go on from the saved resumption token; each page is stored with the token
of the next in one transaction, so nothing is lost or applied twice. Scheduled harvests run when due."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from osnode.domain.errors import Conflict
from osnode.services import harvest
from osnode.services.harvest import OAIClient
from osnode.services.jobs import Job, Scheduler
from osnode.services.node import Node, utcnow
from osnode.storage.peers import harvest_runs, peers
from tests.harvest.conftest import (
    OAI_HEAD,
    FakePeer,
    dc_record,
    fast_client,
    formats_xml,
    identify_xml,
    list_records_xml,
)

XML = {"Content-Type": "text/xml"}
D = "2026-11-19T08:00:00Z"


def paged_peer(peer: FakePeer, state: dict[str, bool]) -> None:
    """Three pages of two records; page 2 answers 500 while ``state['down']``."""

    def respond(params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if params["verb"] == "Identify":
            return 200, XML, identify_xml()
        if params["verb"] == "ListMetadataFormats":
            return 200, XML, formats_xml("oai_dc")
        token = params.get("resumptionToken")
        if token == "t2" and state["down"]:
            return 500, {}, b"proxy error"
        page = {None: 1, "t2": 2, "t3": 3}[token]
        items = [dc_record(f"oai:p:{page}{i}", D, f"Page {page} record {i}") for i in range(2)]
        return 200, XML, list_records_xml(items, token={1: "t2", 2: "t3", 3: None}[page])

    peer.respond = respond


def _peer_state(node: Node) -> tuple[str | None, str | None, str | None]:
    with node.engine.connect() as conn:
        row = conn.execute(select(peers.c.resumption_token, peers.c.pending_from, peers.c.next_from)).one()
    return row.resumption_token, row.pending_from, row.next_from


def test_an_interrupted_harvest_resumes_from_its_token(node: Node, fake_peer: FakePeer) -> None:
    state = {"down": True}
    paged_peer(fake_peer, state)
    harvest.add_peer(node, f"{fake_peer.url}/oai", name="p")

    cut = harvest.harvest(node, "p", fast_client)
    assert (cut.status, cut.pages, cut.added) == ("failed", 1, 2)
    assert "500" in (cut.message or "")
    # Page 1 is stored and the token of page 2 saved with it; next_from waits for a whole harvest.
    assert _peer_state(node) == ("t2", "2026-11-20T10:00:00Z", None)

    state["down"] = False
    fake_peer.requests.clear()
    resumed = harvest.harvest(node, "p", fast_client)
    assert (resumed.status, resumed.resumed, resumed.pages, resumed.added, resumed.unchanged) == ("ok", True, 2, 4, 0)
    listing = [r for r in fake_peer.requests if r["verb"] == "ListRecords"]
    assert listing[0] == {"verb": "ListRecords", "resumptionToken": "t2"}  # not from the start
    assert _peer_state(node) == (None, None, "2026-11-20T10:00:00Z")
    assert harvest.get_peer(node, "p").records == 6


def test_a_forgotten_token_restarts_the_harvest(node: Node, fake_peer: FakePeer) -> None:
    state = {"down": False}
    paged_peer(fake_peer, state)
    harvest.add_peer(node, f"{fake_peer.url}/oai", name="p")
    with node.transaction() as tx:
        tx.execute(update(peers).values(resumption_token="expired", pending_prefix="oai_dc"))
    inner = fake_peer.respond
    assert inner is not None

    def forgetful(params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if params.get("resumptionToken") == "expired":
            body = f'{OAI_HEAD}<error code="badResumptionToken">expired</error></OAI-PMH>'.encode()
            return 200, XML, body
        return inner(params)

    fake_peer.respond = forgetful
    run = harvest.harvest(node, "p", fast_client)
    assert (run.status, run.added, run.resumed) == ("ok", 6, False)
    assert any("resumption token" in e["message"] for e in run.error_list)


def test_a_run_cut_off_by_a_dead_process_is_marked_interrupted(node: Node, fake_peer: FakePeer) -> None:
    paged_peer(fake_peer, {"down": False})
    harvest.add_peer(node, f"{fake_peer.url}/oai", name="p")
    with node.transaction() as tx:
        peer_id = tx.execute(select(peers.c.id)).scalar_one()
        tx.execute(
            harvest_runs.insert().values(
                peer_id=peer_id,
                started=utcnow() - timedelta(hours=1),
                status="running",
                resumed=False,
                pages=1,
                added=2,
                updated=0,
                deleted=0,
                unchanged=0,
                skipped=0,
                errors=0,
                error_list=[],
            )
        )
    harvest.harvest(node, "p", fast_client)
    runs = harvest.peer_runs(node, "p")
    assert [r.status for r in runs] == ["ok", "interrupted"]


def test_scheduled_harvests_run_when_due(node: Node, fake_peer: FakePeer) -> None:
    paged_peer(fake_peer, {"down": False})
    harvest.add_peer(node, f"{fake_peer.url}/oai", name="hourly", every_hours=1)
    harvest.add_peer(node, f"{fake_peer.url}/oai", name="manual", set_spec="other")
    assert harvest.due_peers(node) == ["hourly"]
    job = Job("harvest", lambda _node: 0.0, lambda n: harvest.harvest_due(n, fast_client))
    scheduler = Scheduler(node, [job])
    scheduler._due["harvest"] = 0.0  # due now (start() would wait one interval)
    assert scheduler.run_due() == ["harvest"]
    assert harvest.get_peer(node, "hourly").last_run.added == 6  # type: ignore[union-attr]
    assert harvest.get_peer(node, "manual").last_run is None
    assert harvest.due_peers(node) == []  # not again within the hour
    assert harvest.due_peers(node, utcnow() + timedelta(hours=1, minutes=1)) == ["hourly"]


def test_one_harvest_of_a_peer_at_a_time(node: Node, fake_peer: FakePeer) -> None:
    """While a harvest holds a peer (the scheduler's, say), another (a command's) is refused with a
    clear message and the scheduler leaves it be; the lease goes back at the end, and a lease left
    by a process that died runs out."""
    paged_peer(fake_peer, {"down": False})
    inside, go_on = threading.Event(), threading.Event()
    respond = fake_peer.respond
    assert respond is not None

    def slow(params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if params.get("resumptionToken") == "t2" and not go_on.is_set():
            inside.set()
            go_on.wait(30)
        return respond(params)

    fake_peer.respond = slow
    harvest.add_peer(node, f"{fake_peer.url}/oai", name="p", every_hours=1)
    first: list[harvest.RunInfo] = []
    worker = threading.Thread(target=lambda: first.append(harvest.harvest(node, "p", fast_client)))
    worker.start()
    try:
        assert inside.wait(30)
        with pytest.raises(Conflict, match="being harvested already"):
            harvest.harvest(node, "p", fast_client)
        assert harvest.harvest_due(node, fast_client) == []  # due, but busy: skipped
    finally:
        go_on.set()
        worker.join(30)
    assert first[0].status == "ok" and first[0].added == 6
    assert [r.status for r in harvest.peer_runs(node, "p")] == ["ok"]  # the refused ones left no run
    with node.engine.connect() as conn:
        assert conn.execute(select(peers.c.lease_owner, peers.c.lease_until)).one() == (None, None)

    # A lease held by a live process elsewhere (another host sharing the catalog): refused until it
    # runs out. One left by a process of this host that died: taken over at once.
    soon = utcnow() + timedelta(minutes=5)
    with node.transaction() as tx:
        tx.execute(update(peers).values(lease_owner="elsewhere.example.org/123/ab", lease_until=soon))
    with pytest.raises(Conflict):
        harvest.harvest(node, "p", fast_client)
    with node.transaction() as tx:
        tx.execute(update(peers).values(lease_until=utcnow() - timedelta(seconds=1)))
    assert harvest.harvest(node, "p", fast_client).status == "ok"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with node.transaction() as tx:
        tx.execute(update(peers).values(lease_owner=f"{socket.gethostname()}/{dead.pid}/ab", lease_until=soon))
    assert harvest.harvest(node, "p", fast_client).status == "ok"
    with node.transaction() as tx:  # and one held by a live process of this host is respected
        tx.execute(update(peers).values(lease_owner=f"{socket.gethostname()}/{os.getpid()}/ab", lease_until=soon))
    with pytest.raises(Conflict):
        harvest.harvest(node, "p", fast_client)


def test_the_next_page_is_asked_for_with_a_guessed_token_and_a_wrong_guess_costs_nothing(
    node: Node, fake_peer: FakePeer
) -> None:
    """While a page is read, the next is fetched with the token guessed from its last bytes; when
    the guess is wrong (here a comment that looks like a token ends page 2), the real token wins."""
    paged_peer(fake_peer, {"down": False})
    respond = fake_peer.respond
    assert respond is not None

    def misleading(params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        status, headers, body = respond(params)
        if params.get("resumptionToken") == "t2":
            body = body.replace(b"</OAI-PMH>", b"<!-- <resumptionToken>bogus</resumptionToken> --></OAI-PMH>")
        if params.get("resumptionToken") == "bogus":
            return 200, XML, list_records_xml([], token=None).replace(b"<resumptionToken/>", b"")
        return status, headers, body

    fake_peer.respond = misleading
    harvest.add_peer(node, f"{fake_peer.url}/oai", name="p")
    run = harvest.harvest(node, "p", fast_client)
    assert (run.status, run.added, run.pages) == ("ok", 6, 3), run.error_list
    tokens = [r.get("resumptionToken") for r in fake_peer.requests if r.get("verb") == "ListRecords"]
    assert "bogus" in tokens and tokens.count("t2") == 1 and tokens.count("t3") == 1


def test_peek_token_reads_the_last_token_of_a_page() -> None:
    assert OAIClient.peek_token(list_records_xml([], token="abc")) == "abc"
    assert OAIClient.peek_token(list_records_xml([], token="a&amp;b")) == "a&b"  # unescaped as XML
    assert OAIClient.peek_token(list_records_xml([], token=None)) is None
    assert OAIClient.peek_token(b"<OAI-PMH><ListRecords/></OAI-PMH>") is None
