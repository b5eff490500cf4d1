"""The unfiltered counts (home page totals, an empty search's facets) are kept in the catalog and follow every
change, also one made by another process, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from osnode.config import load_settings
from osnode.services import deposit, search, stats
from osnode.services import summary as summary_service
from osnode.services.node import Node
from osnode.storage.catalog import records
from osnode.storage.record_state import set_access_level
from osnode.storage.search import summary as stored
from tests.conftest import Account
from tests.services.test_search import publish


def _access(node: Node) -> dict[str, int]:
    return {v["value"]: v["count"] for v in search.query(node, "").facets["access"]}


def test_counts_follow_publication_withdrawal_and_access(node: Node, depositor: Account, admin: Account) -> None:
    assert stats.totals(node).records == 0
    first = publish(node, depositor, access="open")
    publish(node, depositor, resourceType={"resourceTypeGeneral": "Software"})
    totals = stats.totals(node)
    assert (totals.records, totals.files, totals.bytes) == (2, 1, 8)
    assert dict(totals.kinds) == {"Dataset": 1, "Software": 1}
    assert _access(node) == {"open": 1, "metadata-only": 1}
    # Kept in the catalog, tagged with the index's generation.
    with node.engine.connect() as conn:
        kept = stored.cached(conn)
        assert kept is not None and kept.total == 2 and kept.generation == stored.generation(conn)

    with node.engine.connect() as conn:
        before = stored.generation(conn)
        version_id = conn.execute(select(records.c.latest_published_id).where(records.c.id == first)).scalar_one()
    with node.transaction() as tx:  # what replication does when a mirror's files arrive
        set_access_level(tx, first, version_id, "restricted", datetime.now(UTC))
    assert _access(node) == {"restricted": 1, "metadata-only": 1}
    with node.engine.connect() as conn:
        assert stored.generation(conn) > before

    deposit.withdraw(node, first, admin.viewer, "a test")
    totals = stats.totals(node)
    assert (totals.records, totals.files, dict(totals.kinds)) == (1, 0, {"Software": 1})


def test_a_change_made_by_another_process_is_seen(node: Node, depositor: Account) -> None:
    publish(node, depositor)
    assert stats.totals(node).records == 1  # counted and remembered by this process
    other = Node.open(load_settings(node.settings.data_dir, database_url=node.settings.catalog_url))
    try:
        publish(other, depositor)
        assert stats.totals(other).records == 2
    finally:
        other.close()
    assert stats.totals(node).records == 2


def test_a_summary_of_an_older_generation_is_not_used(node: Node, depositor: Account) -> None:
    publish(node, depositor)
    with node.engine.connect() as conn:
        old = stored.count(conn)
    publish(node, depositor)
    with node.transaction() as tx:
        stored.store(tx, old)  # as if a slow reader stored what it counted before the second publication
    assert stats.totals(node).records == 2


def test_a_burst_after_a_change_recounts_once(node: Node, depositor: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    publish(node, depositor)
    calls: list[int] = []
    real = stored.count
    gate = threading.Event()

    def counting(conn):  # type: ignore[no-untyped-def]
        calls.append(1)
        gate.wait(5)  # hold the first recount until every request has asked
        return real(conn)

    monkeypatch.setattr(stored, "count", counting)
    answers: list[int] = []
    threads = [threading.Thread(target=lambda: answers.append(stats.totals(node).records)) for _ in range(8)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(30)
    assert answers == [1] * 8
    assert len(calls) == 1
    assert summary_service.current(node).total == 1
