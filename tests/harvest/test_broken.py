"""A deliberately broken OAI-PMH server: the harvest survives every defect real repositories show,
reports each refused record, stores every good one, and never expands an entity or fetches a URL
while parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from sqlalchemy import select

from osnode.domain.metadata import Metadata
from osnode.services import harvest, search
from osnode.services.harvest import parse_document, read_page, retry_after
from osnode.services.node import Node
from osnode.storage.catalog import versions
from osnode.storage.peers import peers, record_sources
from tests.harvest.conftest import (
    OAI_HEAD,
    FakePeer,
    dc_record,
    fast_client,
    formats_xml,
    identify_xml,
    list_records_xml,
)

XML_OK = {"Content-Type": "text/xml; charset=utf-8"}
D = "2026-11-19T08:00:00Z"


def _stored(node: Node) -> dict[str, Metadata]:
    """Harvested records by original identifier, published ones only."""
    query = select(record_sources.c.oai_identifier, versions.c.metadata, versions.c.state).join(
        versions, versions.c.record_id == record_sources.c.record_id
    )
    with node.engine.connect() as conn:
        rows = conn.execute(query).all()
    return {r.oai_identifier: Metadata.model_validate(r.metadata) for r in rows if r.state == "published"}


def broken_script(peer: FakePeer) -> None:
    calls: dict[str, int] = {}

    def respond(params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        verb = params.get("verb", "")
        key = params.get("resumptionToken") or verb
        calls[key] = calls.get(key, 0) + 1
        if verb == "Identify":
            if calls[key] == 1:  # throttled, with Retry-After as an HTTP date
                when = format_datetime(datetime.now(UTC) + timedelta(seconds=1), usegmt=True)
                return 429, {"Retry-After": when}, b"slow down"
            return 200, XML_OK, identify_xml()
        if verb == "ListMetadataFormats":
            return 200, XML_OK, formats_xml("oai_dc", "marc21")
        if key == "ListRecords":
            if calls[key] == 1:  # overloaded, with Retry-After in seconds
                return 503, {"Retry-After": "1"}, b"busy"
            return (
                200,
                XML_OK,
                list_records_xml(
                    [
                        dc_record("oai:p:1", D, "Control\x0bcharacters", extra="<dc:creator>Ana</dc:creator>"),
                        dc_record("oai:p:2", "2026-11-18T08:00:00Z", "Twice, older"),
                        dc_record("oai:p:2", D, "Twice, newer"),
                        dc_record("oai:p:3", "2026-13-45T99:00:00Z", "Bad datestamp"),
                        dc_record("oai:p:4", D, "Only a title"),
                        dc_record("oai:p:notitle", D, "", extra="<dc:creator>Nobody</dc:creator>"),
                    ],
                    token="p2",
                ),
            )
        if key == "p2":  # declared UTF-8, sent in Latin-1
            page = list_records_xml(
                [dc_record("oai:p:5", D, "Caf\u00e9", extra="<dc:creator>M\u00fcller</dc:creator>")], "p3"
            )
            return 200, XML_OK, page.decode("utf-8").encode("latin-1")
        if key == "p3":  # an entity nobody defined
            return (
                200,
                XML_OK,
                list_records_xml(
                    [dc_record("oai:p:6", D, "Caf&eacute; au lait"), dc_record("oai:p:7", D, "Good after bad")], "p4"
                ),
            )
        if key == "p4":  # a billion laughs and an external entity, then a good record; empty token ends
            prolog = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE OAI-PMH [\n'
                '<!ENTITY lol "lol">\n'
                + "".join(
                    f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10)
                )
                + f'<!ENTITY xxe SYSTEM "{peer.url}/evil">\n<!ENTITY file SYSTEM "file:///etc/passwd">\n]>'
            )
            return (
                200,
                XML_OK,
                list_records_xml(
                    [
                        dc_record("oai:p:8", D, "Bomb &lol9;"),
                        dc_record("oai:p:9", D, "External &xxe; &file;"),
                        dc_record("oai:p:10", D, "Last good one"),
                    ],
                    prolog=prolog,
                ),
            )
        return 500, {}, b"unexpected"

    peer.respond = respond


def test_a_broken_peer_gives_a_clear_report_and_every_good_record(node: Node, fake_peer: FakePeer) -> None:
    broken_script(fake_peer)
    harvest.add_peer(node, f"{fake_peer.url}/oai", name="broken", connect=fast_client)
    run = harvest.harvest(node, "broken", fast_client)

    assert run.status == "partial", run
    assert run.pages == 4
    refused = {e["identifier"] for e in run.error_list if e["error"]}
    assert refused == {"oai:p:3", "oai:p:notitle", "oai:p:6", "oai:p:8", "oai:p:9"}
    assert run.errors == 5
    messages = " | ".join(str(e["message"]) for e in run.error_list)
    assert "bad datestamp" in messages and "no title" in messages and "entity" in messages
    assert "declared encoding" in messages and "characters XML forbids" in messages

    stored = _stored(node)
    assert set(stored) == {"oai:p:1", "oai:p:2", "oai:p:4", "oai:p:5", "oai:p:7", "oai:p:10"}
    assert run.added == 6
    assert stored["oai:p:1"].main_title() == "Controlcharacters"
    assert stored["oai:p:2"].main_title() == "Twice, newer"  # the page's duplicate: newest kept
    assert stored["oai:p:5"].creators[0].name == "M\u00fcller"  # wrong declared encoding repaired
    minimal = stored["oai:p:4"]  # missing optional fields: filled as DataCite recommends
    assert minimal.creators[0].name == "(:unav)" and minimal.publisher is not None
    assert minimal.publisher.name == "Broken Repository" and minimal.kind == "Other"
    assert minimal.publicationYear == 2026

    # Nothing was expanded or fetched: no laughs, no file, no request for the external entity.
    assert "/evil" not in fake_peer.paths
    assert not any("lol" in m.main_title() or "root:" in m.main_title() for m in stored.values())
    # The throttling answers were waited out and retried, not counted as failures.
    assert [r.get("verb") for r in fake_peer.requests[:2]] == ["Identify", "Identify"]
    assert sum(1 for r in fake_peer.requests if r == {"verb": "ListRecords", "metadataPrefix": "oai_dc"}) == 2

    assert search.query(node, "", {"origin": [fake_peer.url]}).total == 6  # origin: the site, less /oai
    with node.engine.connect() as conn:
        assert conn.execute(select(peers.c.resumption_token, peers.c.next_from)).one() == (None, "2026-11-20T10:00:00Z")


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 21, 3, 0, 0, tzinfo=UTC)
    assert retry_after("120", now) == 120
    assert retry_after("Sat, 21 Nov 2026 03:00:30 GMT", now) == 30
    assert retry_after("Sat, 21 Nov 2026 02:00:00 GMT", now) == 0  # a date in the past: go now
    assert retry_after("soon", now) is None and retry_after(None, now) is None


def test_an_xml_bomb_is_never_expanded() -> None:
    laughs = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 30))
    document = (
        f'<!DOCTYPE OAI-PMH [<!ENTITY l0 "lol">{laughs}]>'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2026-01-01T00:00:00Z</responseDate>'
        "<ListRecords>" + dc_record("oai:x:1", D, "&l29;") + "</ListRecords></OAI-PMH>"
    ).encode()
    page = read_page(parse_document(document))  # 10**29 laughs would never finish: this returns at once
    assert page.records == []
    assert [p.identifier for p in page.problems if p.identifier] == ["oai:x:1"]
    assert "DTD" in page.problems[0].message


def test_an_empty_resumption_token_ends_the_list_and_no_records_match_is_empty(node: Node, fake_peer: FakePeer) -> None:
    def respond(params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if params["verb"] == "Identify":
            return 200, XML_OK, identify_xml()
        if params["verb"] == "ListMetadataFormats":
            return 200, XML_OK, formats_xml("oai_dc")
        if "from" in params:
            body = f'{OAI_HEAD}<error code="noRecordsMatch"/></OAI-PMH>'.encode()
            return 200, XML_OK, body
        return 200, XML_OK, list_records_xml([dc_record("oai:p:1", D, "One")], token="   ")

    fake_peer.respond = respond
    harvest.add_peer(node, f"{fake_peer.url}/oai", name="p", connect=fast_client)
    first = harvest.harvest(node, "p", fast_client)
    assert (first.status, first.added, first.pages) == ("ok", 1, 1)
    second = harvest.harvest(node, "p", fast_client)
    assert (second.status, second.added, second.from_datestamp) == ("ok", 0, "2026-11-20T10:00:00Z")
    assert fake_peer.requests[-1]["from"] == "2026-11-20T10:00:00Z"


def test_a_peer_that_stays_down_fails_the_run_with_a_message(node: Node, fake_peer: FakePeer) -> None:
    fake_peer.respond = lambda _params: (503, {"Retry-After": "0"}, b"down")
    harvest.add_peer(node, f"{fake_peer.url}/oai", name="down")
    run = harvest.harvest(node, "down", fast_client)
    assert run.status == "failed" and "503" in (run.message or "")
    assert harvest.list_peers(node)[0].last_run.status == "failed"  # type: ignore[union-attr]


def test_an_endless_response_is_cut_off(node: Node, fake_peer: FakePeer) -> None:
    from osnode.services.harvest import OAIClient, RetryPolicy

    fake_peer.respond = lambda _params: (200, XML_OK, b"<OAI-PMH>" + b" " * 100_000)
    harvest.add_peer(node, f"{fake_peer.url}/oai", name="big")
    run = harvest.harvest(node, "big", lambda url: OAIClient(url, retry=RetryPolicy(attempts=1), max_bytes=10_000))
    assert run.status == "failed" and "larger than 10000 bytes" in (run.message or "")
