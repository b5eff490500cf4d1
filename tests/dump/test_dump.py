"""The bulk dump: gzip JSON Lines of the node's own records, whole or since a moment, streamed."""

from __future__ import annotations

import gzip
import json
import sys
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import event

from osnode.services import deposit, dump
from osnode.services.node import Node
from tests.conftest import Account, LiveServer
from tests.oaipmh.conftest import publish, set_datestamp, set_origin

T0 = datetime(2026, 6, 1, 8, 0, 0, tzinfo=UTC)


def read(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gzip.decompress(data).splitlines()]


@pytest.fixture
def catalog(node: Node, admin: Account) -> dict[str, Any]:
    """Four own records a day apart, one withdrawn, and one harvested from a peer."""
    made = [publish(node, admin.viewer, files={"d.csv": b"x\n1\n"}) for _ in range(3)]
    gone = publish(node, admin.viewer)
    deposit.withdraw(node, gone, admin.viewer, "duplicate")
    peer = publish(node, admin.viewer)
    set_origin(node, peer, "https://peer.example.net")
    for i, record in enumerate([*made, gone, peer]):
        set_datestamp(node, record, T0 + timedelta(days=i))
    return {"made": made, "gone": gone, "peer": peer}


def test_a_full_dump_round_trips(client: TestClient, catalog: dict[str, Any]) -> None:
    response = client.get("/api/dump.jsonl.gz")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/gzip"
    assert "content-encoding" not in response.headers  # a .gz file, not a transfer encoding
    assert 'filename="dump.jsonl.gz"' in response.headers["content-disposition"]
    lines = read(response.content)
    assert [line["id"] for line in lines] == [*catalog["made"], catalog["gone"]]  # no echo of the peer's
    oai = {line["oai_identifier"]: line["datestamp"] for line in lines}
    for line in lines[:3]:
        api = client.get(f"/api/records/{line['id']}").json()
        stamps = {k: line[k] for k in ("updated", "datestamp", "oai_identifier")}
        assert line == api | {"id": line["id"], "version_id": api["id"], **stamps}
        assert line["metadata"]["titles"][0]["title"] == "Rainfall at Luanda, 2001-2020"
        assert line["files"][0]["key"] == "d.csv"
    gone = (T0 + timedelta(days=3)).isoformat()
    assert lines[3] == {
        "id": catalog["gone"],
        "deleted": True,
        "updated": gone,
        "datestamp": gone.replace("+00:00", "Z"),
        "oai_identifier": f"oai:testserver:{catalog['gone']}",
    }
    assert lines[0]["updated"] == T0.isoformat()
    # The identifiers and datestamps are the ones OAI-PMH gives, so a harvester can use either.
    listed = etree.fromstring(
        client.get("/oai", params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}).content
    )
    headers = listed.iter("{http://www.openarchives.org/OAI/2.0/}header")
    assert {h.findtext("{*}identifier"): h.findtext("{*}datestamp") for h in headers} == oai


def test_after_goes_on_from_a_line(client: TestClient, catalog: dict[str, Any]) -> None:
    lines = read(client.get("/api/dump.jsonl.gz").content)
    for cut in range(len(lines)):
        after = f"{lines[cut]['updated']},{lines[cut]['id']}"
        rest = read(client.get("/api/dump.jsonl.gz", params={"after": after}).content)
        assert [line["id"] for line in rest] == [line["id"] for line in lines[cut + 1 :]], cut
    for bad in ("nonsense", "2026-06-01T08:00:00+00:00", ",abc", "2026-13-01,abc"):
        response = client.get("/api/dump.jsonl.gz", params={"after": bad})
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["path"] == "after"


def test_since_gives_the_delta_with_deletions(client: TestClient, node: Node, catalog: dict[str, Any]) -> None:
    since = (T0 + timedelta(days=1)).isoformat()
    lines = read(client.get("/api/dump.jsonl.gz", params={"since": since}).content)
    assert [line["id"] for line in lines] == [*catalog["made"][1:], catalog["gone"]]
    assert lines[-1]["deleted"] is True
    for text in ("2026-06-03", "2026-06-03T08:00:00Z", "2026-06-03T10:00:00+02:00"):
        lines = read(client.get("/api/dump.jsonl.gz", params={"since": text}).content)
        assert [line["id"] for line in lines] == [catalog["made"][2], catalog["gone"]], text
    assert read(client.get("/api/dump.jsonl.gz", params={"since": "2030-01-01"}).content) == []
    response = client.get("/api/dump.jsonl.gz", params={"since": "yesterday"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["path"] == "since"


def test_a_later_withdrawal_shows_up_in_the_next_delta(client: TestClient, node: Node, admin: Account) -> None:
    first = publish(node, admin.viewer)
    lines = read(client.get("/api/dump.jsonl.gz").content)
    assert [line.get("deleted") for line in lines] == [None]
    next_since = lines[-1]["updated"]
    deposit.withdraw(node, first, admin.viewer, "retracted")
    delta = read(client.get("/api/dump.jsonl.gz", params={"since": next_since}).content)
    assert [{k: v for k, v in line.items() if k in ("id", "deleted")} for line in delta] == [
        {"id": first, "deleted": True}
    ]


def test_the_dump_is_read_batch_by_batch(node: Node, admin: Account) -> None:
    """Streaming: the first bytes come after one query, not after reading the whole catalog."""
    for _ in range(7):
        publish(node, admin.viewer)
    queries: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        queries.append(statement)

    event.listen(node.engine, "before_cursor_execute", count)
    try:
        lines = dump.lines(node, batch=2)
        first = next(lines)
        early = len(queries)
        rest = list(lines)
    finally:
        event.remove(node.engine, "before_cursor_execute", count)
    assert json.loads(first)["id"]
    assert len(rest) == 6
    assert early <= 5, queries[:early]  # one page (its items, files, communities and journal placements)
    assert len(queries) >= 4 * early  # four pages of two, read as they are needed
    chunks = list(dump.gzip_stream(iter([b"x" * 1000] * 50), flush_bytes=10_000))
    assert len(chunks) > 1 and zlib.decompress(b"".join(chunks), 16 + zlib.MAX_WBITS) == b"x" * 50_000


def test_streamed_over_http_by_a_live_server(live_server: LiveServer, catalog: dict[str, Any]) -> None:
    with httpx.stream("GET", f"{live_server.url}/api/dump.jsonl.gz") as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers
        assert response.headers.get("transfer-encoding") == "chunked"
        data = response.read()
    assert [line["id"] for line in read(data)] == [*catalog["made"], catalog["gone"]]


def test_the_cli(tmp_path: Path, node: Node, catalog: dict[str, Any], data_dir: Path, database_url: str) -> None:
    from tests.test_cli import fails, ok, run_cli

    target = tmp_path / "all.jsonl.gz"
    result = ok(run_cli("dump", "--out", target, "--data", data_dir, database_url=database_url))
    assert "wrote 4 records" in result.stdout
    assert [line["id"] for line in read(target.read_bytes())] == [*catalog["made"], catalog["gone"]]
    delta = tmp_path / "delta.jsonl.gz"
    ok(run_cli("dump", "--out", delta, "--since", "2026-06-03", "--data", data_dir, database_url=database_url))
    assert [line["id"] for line in read(delta.read_bytes())] == [catalog["made"][2], catalog["gone"]]
    fails(run_cli("dump", "--out", delta, "--since", "soon", "--data", data_dir, database_url=database_url), "since")
    fails(run_cli("dump", "--out", tmp_path / "no" / "x.gz", "--data", data_dir, database_url=database_url), "folder")
    assert not list(tmp_path.glob(".*.partial"))
    assert sys.executable  # the CLI ran as its own process
