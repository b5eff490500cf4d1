"""COUNTER counts from an event log with hand-computed expectations: double clicks, sessions, uniques, robots,
Machine access, unusual activity; no IP address kept; the R5.1 item report's structure as the Code of Practice
documents it (no JSON schema ships in a package: checked against its sample report's layout)."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
from fastapi.testclient import TestClient

from osnode.app import create_app
from osnode.services.node import Node
from osnode.services.usage import counting, events, reports
from tests.conftest import Account
from tests.notify.conftest import publish

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
GOOGLEBOT = "Googlebot/2.1 (+http://www.google.com/bot.html)"
SCRIPT = "python-requests/2.31.0"
T0 = datetime(2026, 3, 10, 9, 0, 0, tzinfo=UTC).timestamp()
V, D = events.INVESTIGATION, events.REQUEST


def _log(record_id: str) -> list[tuple]:  # type: ignore[type-arg]
    """(seconds after T0, action, address, user agent, user id). Expected counts are worked out beside each."""
    A, B, C, D_, E, F = "203.0.113.5", "198.51.100.7", "192.0.2.9", "203.0.113.80", "203.0.113.81", "192.0.2.66"
    log = [
        # A in Chrome: views at 0, 10, 25 are one chain of double clicks (1), then 70 (1): 2 investigations.
        (0, V, A, CHROME, None),
        (10, V, A, CHROME, None),
        (25, V, A, CHROME, None),
        (70, V, A, CHROME, None),
        # A downloads at 80: 1 request, which is also 1 investigation.
        (80, D, A, CHROME, None),
        # A views again in the next hour: 1 investigation in a second session (10h).
        (3605, V, A, CHROME, None),
        # B downloads twice within 30 s: 1 request (and 1 investigation).
        (100, D, B, CHROME, None),
        (110, D, B, CHROME, None),
        # The same address as A in another browser is another client: 1 investigation, 1 more session.
        (15, V, A, FIREFOX, None),
        # A signed-in reader from two addresses is one client: 200 and 210 are a double click: 1.
        (200, V, D_, CHROME, 7),
        (210, V, E, CHROME, 7),
        # A script (Machine): 2 downloads 60 s apart: 2 requests, 2 investigations, 1 session.
        (300, D, C, SCRIPT, None),
        (360, D, C, SCRIPT, None),
    ]
    log += [(400 + i, V, B, GOOGLEBOT, None) for i in range(50)]  # a robot: nothing
    log += [(500 + 31 * i, V, F, CHROME, None) for i in range(1500)]  # unusual activity (> 1000 a day): nothing
    return log


EXPECTED = {
    ("Regular", "Total_Item_Investigations"): 7,
    ("Regular", "Unique_Item_Investigations"): 5,
    ("Regular", "Total_Item_Requests"): 2,
    ("Regular", "Unique_Item_Requests"): 2,
    ("Machine", "Total_Item_Investigations"): 2,
    ("Machine", "Unique_Item_Investigations"): 1,
    ("Machine", "Total_Item_Requests"): 2,
    ("Machine", "Unique_Item_Requests"): 1,
}


def _replay(node: Node, record_id: str) -> None:
    for seconds, action, address, agent, user in _log(record_id):
        events.record(node, record_id, action, address, agent, user, "AO", moment=T0 + seconds)


def test_hand_computed_counts_match_exactly(node: Node, depositor: Account) -> None:
    record_id = publish(node, depositor.viewer)
    _replay(node, record_id)
    path = events.log_dir(node) / "2026-03-10.tsv"
    text = path.read_text()
    assert "203.0.113.5" not in text and "Googlebot" not in text  # no address kept, robots never noted
    assert counting.count_closed_days(node, today="2026-03-11") == 1
    assert not path.exists()  # the day's log is gone once counted ...
    assert counting.count_closed_days(node, today="2026-03-11") == 0  # ... and a day is counted once
    report = reports.item_report(node, "2026-03", "2026-03", record_id)
    [item] = report["Report_Items"]
    found = {}
    for attribute in item["Attribute_Performance"]:
        method = {"Regular": "Regular", "TDM": "Machine"}[attribute["Access_Method"]]
        for metric, months in attribute["Performance"].items():
            found[(method, metric)] = months["2026-03"]
    assert found == EXPECTED
    totals = reports.record_totals(node, record_id)
    assert (totals.views, totals.downloads, totals.unique_views, totals.unique_downloads) == (7, 2, 5, 2)
    assert totals.machine == 2 and totals.countries == [("AO", 7)]


def test_ten_million_events_from_one_address_do_not_inflate_counts() -> None:
    baseline = [(T0, "a", "r1", "investigation", "Regular", ""), (T0 + 100, "a", "r1", "request", "Regular", "")]
    expected = counting.count_rows(baseline)
    con = duckdb.connect()
    con.execute("CREATE TABLE events (" + ", ".join(f"{k} {t}" for k, t in counting.COLUMNS.items()) + ")")
    # One client, ten million views spread over the day, alternating items so double clicks alone would not do.
    con.execute(
        "INSERT INTO events SELECT ? + i * 0.0086, 'attacker', 'r' || (i % 2 + 1), 'investigation', 'Regular', '' "
        "FROM range(10000000) t(i)",
        [T0 - 9 * 3600],
    )
    con.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", baseline)
    assert counting.count(con, cap=1000) == expected


def test_item_report_has_the_code_of_practice_structure(node: Node, depositor: Account) -> None:
    record_id = publish(node, depositor.viewer)
    _replay(node, record_id)
    counting.count_closed_days(node, today="2026-03-11")
    with TestClient(create_app(node)) as client:
        report = client.get("/api/reports/ir", params={"begin_date": "2026-01", "end_date": "2026-12"}).json()
        bad = client.get("/api/reports/ir", params={"begin_date": "2026-13", "end_date": "2026-12"})
    assert bad.status_code == 422
    header = report["Report_Header"]
    assert {"Release", "Report_ID", "Report_Name", "Created", "Created_By", "Institution_Name"} <= set(header)
    assert (header["Release"], header["Report_ID"], header["Report_Name"]) == ("5.1", "IR", "Item Report")
    assert header["Report_Filters"]["Begin_Date"] == "2026-01-01"
    assert header["Report_Filters"]["End_Date"] == "2026-12-31"
    datetime.strptime(header["Created"], "%Y-%m-%dT%H:%M:%SZ")
    [item] = report["Report_Items"]
    assert {"Item", "Platform", "Publisher", "Item_ID", "Attribute_Performance"} <= set(item)
    assert item["Item"] == "Rainfall at Luanda, 2001-2020"
    assert item["Item_ID"]["URI"].endswith(f"/records/{record_id}")
    for attribute in item["Attribute_Performance"]:
        assert attribute["Data_Type"] == "Dataset" and attribute["Access_Method"] in ("Regular", "TDM")
        for metric, months in attribute["Performance"].items():
            assert metric in reports.METRICS
            assert all(len(m) == 7 and isinstance(n, int) and n > 0 for m, n in months.items())


def test_landing_page_notes_a_view_and_shows_counts(node: Node, depositor: Account) -> None:
    record_id = publish(node, depositor.viewer)
    with TestClient(create_app(node), headers={"User-Agent": CHROME}) as client:
        assert client.get(f"/records/{record_id}", headers={"Accept": "text/html"}).status_code == 200
        today = events.day_of(datetime.now(UTC).timestamp())
        assert record_id in (events.log_dir(node) / f"{today}.tsv").read_text()
        counting.count_closed_days(node, today="9999-12-31")
        page = client.get(f"/records/{record_id}", headers={"Accept": "text/html"}).text
    assert 'id="usage-counts"' in page and "Views: <strong><bdi>1</bdi></strong>" in page
