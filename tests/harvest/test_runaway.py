"""A harvest that would never end is stopped: a peer (a real local HTTP server) that repeats its
resumptionToken, sends pages that bring nothing new, or pages on forever with new tokens makes the
run stop under its limits, recorded as failed with the reason - never left "running" - and a set
listing for replication is bounded the same way. One answer trickled byte by byte is bounded too."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import pytest
from sqlalchemy import select

from osnode.config import ConfigError, load_settings
from osnode.services import harvest, replication
from osnode.services.harvest import HarvestError, OAIClient, RetryPolicy
from osnode.services.node import Node
from osnode.storage.peers import harvest_runs
from tests.harvest.conftest import FakePeer, dc_record, fast_client, formats_xml, identify_xml, list_records_xml

XML = {"Content-Type": "text/xml; charset=utf-8"}
D = "2026-11-19T08:00:00Z"


@pytest.fixture
def limits() -> dict[str, int]:
    return {"harvest_max_requests": 1000, "harvest_max_seconds": 120, "harvest_idle_pages": 5}


@pytest.fixture
def bounded(harvester_dir: Path, harvester_url: str, limits: dict[str, int]) -> Iterator[Node]:
    """A harvesting node with small limits, so each test ends in seconds."""
    opened = Node.open(
        load_settings(harvester_dir, database_url=harvester_url, base_url="https://harvester.example.org", **limits)
    )
    yield opened
    opened.close()


def _script(peer: FakePeer, page: object) -> None:
    """Identify and formats as usual; every ListRecords answered by ``page(token)``."""

    def respond(params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        verb = params.get("verb")
        if verb == "Identify":
            return 200, XML, identify_xml()
        if verb == "ListMetadataFormats":
            return 200, XML, formats_xml("oai_dc")
        return 200, XML, page(params.get("resumptionToken"))  # type: ignore[operator]

    peer.respond = respond


def _list_requests(peer: FakePeer) -> int:
    return sum(1 for r in peer.requests if r.get("verb") == "ListRecords")


def _runs(node: Node) -> list[tuple[str, str | None]]:
    with node.engine.connect() as conn:
        return [(r.status, r.message) for r in conn.execute(select(harvest_runs).order_by(harvest_runs.c.id))]


def _harvest(node: Node, peer: FakePeer) -> harvest.RunInfo:
    harvest.add_peer(node, f"{peer.url}/oai", name="loop")
    return harvest.harvest(node, "loop", fast_client)


def test_a_peer_that_repeats_its_resumption_token_is_stopped(bounded: Node, fake_peer: FakePeer) -> None:
    numbers = count()
    # Every page brings a new record, so only the repeated token shows the loop.
    _script(fake_peer, lambda token: list_records_xml([dc_record(f"oai:p:{next(numbers)}", D, "Again")], "same"))
    run = _harvest(bounded, fake_peer)
    assert run.status == "failed" and "resumptionToken 'same' a second time" in (run.message or "")
    assert _list_requests(fake_peer) <= 3
    assert run.added >= 1  # what came before the loop is kept
    assert _runs(bounded) == [("failed", run.message)]
    # The next run resumes with the saved token, sees the loop at once, and stops again.
    before = _list_requests(fake_peer)
    again = harvest.harvest(bounded, "loop", fast_client)
    assert again.status == "failed" and "a second time" in (again.message or "")
    assert _list_requests(fake_peer) - before <= 2
    assert [status for status, _ in _runs(bounded)] == ["failed", "failed"]


def test_pages_that_bring_nothing_new_are_stopped(bounded: Node, fake_peer: FakePeer) -> None:
    tokens = count()
    # New tokens each time, but always the same record: the list does not move on.
    _script(fake_peer, lambda token: list_records_xml([dc_record("oai:p:1", D, "Same")], f"t{next(tokens)}"))
    run = _harvest(bounded, fake_peer)
    assert run.status == "failed" and "brought no record not seen before" in (run.message or "")
    assert _list_requests(fake_peer) <= 5 + 2  # the idle limit, the first page and one fetched ahead
    assert _runs(bounded) == [("failed", run.message)]


def test_empty_pages_with_new_tokens_are_stopped(bounded: Node, fake_peer: FakePeer) -> None:
    tokens = count()
    _script(fake_peer, lambda token: list_records_xml([], f"t{next(tokens)}"))
    run = _harvest(bounded, fake_peer)
    assert run.status == "failed" and "harvest_idle_pages" in (run.message or "")
    assert _list_requests(fake_peer) <= 5 + 2


@pytest.mark.parametrize("limits", [{"harvest_max_requests": 12}])
def test_a_list_that_never_ends_stops_at_the_request_limit(bounded: Node, fake_peer: FakePeer) -> None:
    numbers = count()

    def endless(token: str | None) -> bytes:
        n = next(numbers)
        return list_records_xml([dc_record(f"oai:p:{n}", D, f"Record {n}")], f"t{n}")

    _script(fake_peer, endless)
    run = _harvest(bounded, fake_peer)
    assert run.status == "failed" and "harvest_max_requests" in (run.message or "")
    assert _list_requests(fake_peer) <= 12
    assert run.added >= 5
    assert _runs(bounded) == [("failed", run.message)]


@pytest.mark.parametrize("limits", [{"harvest_max_seconds": 2}])
def test_a_list_that_never_ends_stops_at_the_time_limit(bounded: Node, fake_peer: FakePeer) -> None:
    numbers = count()

    def slow_endless(token: str | None) -> bytes:
        time.sleep(0.2)
        n = next(numbers)
        return list_records_xml([dc_record(f"oai:p:{n}", D, f"Record {n}")], f"t{n}")

    _script(fake_peer, slow_endless)
    started = time.monotonic()
    run = _harvest(bounded, fake_peer)
    assert run.status == "failed" and "harvest_max_seconds" in (run.message or "")
    assert time.monotonic() - started < 30
    assert _list_requests(fake_peer) <= 2 / 0.2 + 3
    assert _runs(bounded) == [("failed", run.message)]


def test_an_empty_incremental_harvest_is_not_idle(bounded: Node, fake_peer: FakePeer) -> None:
    """The idle bound counts only pages that say the list goes on: an empty last page is fine."""
    _script(fake_peer, lambda token: list_records_xml([], None))
    assert _harvest(bounded, fake_peer).status == "ok"


def test_a_replication_set_listing_that_loops_is_stopped(bounded: Node, fake_peer: FakePeer) -> None:
    numbers = count()
    _script(fake_peer, lambda token: list_records_xml([dc_record(f"oai:p:{next(numbers)}", D, "Again")], "same"))
    harvest.add_peer(bounded, f"{fake_peer.url}/oai", name="loop")
    replication.set_policy(bounded, "loop", "sets", ["software"])
    report = replication.replicate(bounded, "loop", connect=fast_client)
    assert "could not list the chosen sets" in (report.message or "")
    assert "a second time" in (report.message or "")
    assert _list_requests(fake_peer) <= 3


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_limits_must_be_positive_whole_numbers(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="harvest_idle_pages"):
        load_settings(tmp_path, harvest_idle_pages=value)


@pytest.fixture
def trickling_peer() -> Iterator[str]:
    """A real HTTP server that sends its answer's headers, then one byte every 0.1 s, for ever."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 100000000\r\n\r\n<")
                while not stop.is_set():
                    try:
                        conn.sendall(b" ")
                    except OSError:
                        break
                    time.sleep(0.1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/oai"
    stop.set()
    thread.join()
    server.close()


def test_a_peer_that_trickles_its_answer_is_given_up_on(trickling_peer: str) -> None:
    # Each byte arrives well within the read timeout; only the bound on a whole answer stops it.
    client = OAIClient(trickling_peer, retry=RetryPolicy(attempts=3, backoff=0.05), timeout=5, max_seconds=1)
    started = time.monotonic()
    with client, pytest.raises(HarvestError, match="more than 1 s to send one answer"):
        client.identify()
    assert time.monotonic() - started < 10
