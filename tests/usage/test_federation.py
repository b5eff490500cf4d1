"""Federated usage between two live nodes: B harvests A's record, B's readers use the copy, A reads B's usage
feed and shows the network's total by country on the record's page; reading twice counts nothing twice; a
hostile feed changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from osnode.config import load_settings
from osnode.domain.records import Role
from osnode.services import harvest, users
from osnode.services.usage import counting, events, federation, reports
from osnode.storage.peers import record_sources
from tests.conftest import serve_in_thread
from tests.harvest.conftest import fast_client, harvester_url  # noqa: F401 - a second catalog, same backend
from tests.notify.conftest import publish

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"


@pytest.fixture
def two_nodes(data_dir: Path, database_url: str, harvester_url: str, tmp_path: Path) -> Iterator[tuple]:  # noqa: F811
    b_dir = tmp_path / "b"
    b_dir.mkdir()
    a = serve_in_thread(load_settings(data_dir, database_url=database_url, explore_preload=False))
    b = serve_in_thread(load_settings(b_dir, database_url=harvester_url, explore_preload=False))
    yield a, b
    a.stop()
    b.stop()


def _use(node, record_id: str, address: str, country: str, when: float) -> None:  # type: ignore[no-untyped-def]
    events.record(node, record_id, events.INVESTIGATION, address, CHROME, None, country, moment=when)


def test_the_origin_shows_network_usage_by_country(two_nodes: tuple) -> None:  # type: ignore[type-arg]
    a, b = two_nodes
    ana = users.viewer_for(users.create_user(a.node, "ana", Role.DEPOSITOR.value))
    record_id = publish(a.node, ana)
    harvest.add_peer(b.node, f"{a.url}/oai", name="a", connect=fast_client)
    assert harvest.harvest(b.node, "a", fast_client).added == 1
    with b.node.engine.connect() as conn:
        copy_id = conn.execute(select(record_sources.c.record_id)).scalar_one()
    harvest.add_peer(a.node, f"{b.url}/oai", name="b", connect=fast_client)

    now = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0).timestamp() - 86400
    _use(a.node, record_id, "203.0.113.1", "AO", now)  # one view at the origin
    for i in range(3):  # three readers of B's copy, in Brazil and Korea
        _use(b.node, copy_id, f"198.51.100.{i}", "BR" if i < 2 else "KR", now + i)
    counting.count_closed_days(a.node, today="9999-12-31")
    counting.count_closed_days(b.node, today="9999-12-31")

    feed = httpx.get(f"{b.url}{federation.FEED_PATH}", timeout=30).json()
    assert {row["country"] for row in feed["aggregates"]} == {"BR", "KR"}
    assert "198.51.100" not in str(feed)  # counts, never a log
    assert federation.collect(a.node) == 2
    assert federation.collect(a.node) == 2  # read again: replaced, not added
    totals = reports.record_totals(a.node, record_id)
    assert (totals.views, totals.network_views) == (1, 4)
    assert dict(totals.countries) == {"AO": 1, "BR": 2, "KR": 1}
    page = httpx.get(f"{a.url}/records/{record_id}", headers={"Accept": "text/html"}, timeout=30).text
    assert "Across the network" in page and "BR: <bdi>2</bdi>" in page
    # The origin's own COUNTER report keeps to its own readers.
    month = datetime.fromtimestamp(now, UTC).strftime("%Y-%m")
    report = reports.item_report(a.node, month, month, record_id)
    regular = report["Report_Items"][0]["Attribute_Performance"][0]["Performance"]
    assert regular["Total_Item_Investigations"] == {month: 1}


def test_a_hostile_feed_changes_nothing(two_nodes: tuple) -> None:  # type: ignore[type-arg]
    a, _b = two_nodes
    own = f"oai:{'127.0.0.1'}:"
    for body in (
        {"aggregates": [{"month": "2026-13", "access_method": "Regular"}]},
        {"aggregates": [{"month": "2026-01", "access_method": "Regular", "country": "<x>"}]},
        {"aggregates": "nope"},
        {"aggregates": [{"month": "2026-01", "access_method": "Regular", "country": "",
                         "total_investigations": -5, "unique_investigations": 0, "total_requests": 0,
                         "unique_requests": 0}]},
    ):  # fmt: skip
        with pytest.raises(ValueError):
            federation._checked(a.node, body, own)
