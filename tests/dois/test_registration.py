"""DOIs offline-first against a local DataCite REST API that checks requests as DataCite documents them:
reserved at publication (shown pending), registered by the job when the registry is up, each exactly once
through lost answers, 5xx and 429; a 422 leaves the DOI failed with the registry's reasons for admins, and no
retry loop; new versions and withdrawals update the registry, the URL kept for the tombstone."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator
from datetime import UTC, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from osnode.app import create_app
from osnode.domain.records import Role
from osnode.services import deposit
from osnode.services.dois import registration
from osnode.services.node import Node, utcnow
from osnode.storage.dois import dois
from tests.conftest import Account, free_port, minimal_metadata
from tests.dois.datacite_server import Registry, Server
from tests.web.accounts_helpers import local_account, sign_in

PREFIX = "10.5555"
USER, PASSWORD = "OSN.TEST", "secret"
JSON_API = {"Content-Type": "application/vnd.api+json"}


@pytest.fixture
def registry() -> Iterator[Server]:
    server = Server(Registry(USER, PASSWORD, (PREFIX,)), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def doi_node(node: Node, registry: Server) -> Node:
    node.settings = dataclasses.replace(
        node.settings,
        base_url="http://repository.example.org",
        datacite_url=registry.url,
        datacite_prefix=PREFIX,
        datacite_user=USER,
        datacite_password=PASSWORD,
    )
    return node


def _publish(node: Node, account: Account, title: str = "Rainfall") -> str:
    draft = deposit.create_draft(
        node, account.viewer, minimal_metadata(titles=[{"title": title}]), {"level": "metadata-only"}
    )
    deposit.publish(node, draft.id, account.viewer)
    return draft.record_id


def _due_now(node: Node) -> None:
    with node.transaction() as tx:
        tx.execute(update(dois).values(next_try=utcnow() - timedelta(seconds=1)))


def _drain(node: Node, rounds: int = 30) -> None:
    for _ in range(rounds):
        _due_now(node)
        registration.register_due(node)
        if all(not d.pending for d in registration.listing(node)):
            return


def test_the_local_registry_checks_what_datacite_checks(registry: Server) -> None:
    auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    good = {"Authorization": auth} | JSON_API
    with httpx.Client(base_url=registry.url) as http:
        draft = {"data": {"type": "dois", "attributes": {"doi": f"{PREFIX}/x1"}}}
        assert http.post("/dois", json=draft, headers=JSON_API).json()["errors"][0]["title"] == "Bad credentials."
        assert http.post("/dois", json=draft, headers={"Authorization": auth}).status_code == 415
        assert http.post("/dois", json={"doi": "x"}, headers=good).status_code == 400
        assert http.post("/dois", json=draft, headers=good).status_code == 201
        taken = http.post("/dois", json=draft, headers=good)
        assert taken.status_code == 422 and "already been taken" in taken.json()["errors"][0]["title"]
        other = {"data": {"type": "dois", "attributes": {"doi": "10.9999/x1"}}}
        assert http.post("/dois", json=other, headers=good).status_code == 422
        bare = {"data": {"type": "dois", "attributes": {"event": "publish"}}}
        refused = http.put(f"/dois/{PREFIX}/x1", json=bare, headers=good)
        assert refused.status_code == 422
        assert {e["source"] for e in refused.json()["errors"]} == {
            "url", "creators", "titles", "publisher", "publicationYear", "types"
        }  # fmt: skip
        assert http.put(f"/dois/{PREFIX}/nope", json=bare, headers=good).status_code == 404


def test_offline_node_publishes_100_then_registers_exactly_100(
    doi_node: Node, registry: Server, depositor: Account
) -> None:
    registry.stop()  # the link is down
    ids = [_publish(doi_node, depositor, f"Record {i}") for i in range(100)]
    reserved = registration.listing(doi_node)
    assert len(reserved) == 100 and {d.state for d in reserved} == {"pending"}
    assert registration.register_due(doi_node) == 0
    assert {d.attempts for d in registration.listing(doi_node)} == {1}
    assert all("cannot reach" in d.last_error for d in registration.listing(doi_node))
    assert registration.register_due(doi_node) == 0  # the backoff holds them: nothing is tried at once

    registry.start()  # the link is back, a bad one: failures, a throttle and answers lost on the way back
    registry.registry.fail = [500, "lose", 429, 503, "lose", 502, "lose"]
    _drain(doi_node)

    reg = registry.registry
    assert len(reg.dois) == 100
    assert set(reg.creations.values()) == {1}  # none created twice
    assert {d["state"] for d in reg.dois.values()} == {"findable"}
    rows = {d.record_id: d for d in registration.listing(doi_node)}
    assert {rows[i].state for i in ids} == {"findable"}
    assert reg.dois[registration.doi_for(doi_node, ids[0])]["attributes"]["url"] == doi_node.record_url(ids[0])
    before = reg.requests
    _due_now(doi_node)
    assert registration.register_due(doi_node) == 0 and reg.requests == before  # nothing left to send


def test_a_refusal_is_final_and_shown_to_admins(doi_node: Node, registry: Server) -> None:
    admin = local_account(doi_node, "admin@example.org", Role.ADMIN)
    ana = local_account(doi_node, "ana@example.org", Role.DEPOSITOR)
    draft = deposit.create_draft(doi_node, _viewer(ana), minimal_metadata(), {"level": "metadata-only"})
    deposit.publish(doi_node, draft.id, _viewer(ana))
    registry.registry.fail = [(422, [{"source": "titles", "title": "Can't be blank", "uid": "x"}])]
    _drain(doi_node, rounds=3)
    [row] = registration.listing(doi_node)
    assert row.state == "failed" and "titles: Can't be blank" in row.last_error
    before = registry.registry.requests
    _due_now(doi_node)
    registration.register_due(doi_node)
    assert registry.registry.requests == before  # no retry loop
    with TestClient(create_app(doi_node)) as browser:
        anonymous = browser.get(f"/records/{draft.record_id}", headers={"Accept": "text/html"}).text
        assert row.doi in anonymous and "Can't be blank" not in anonymous
        sign_in(browser, "admin@example.org")
        page = browser.get(f"/records/{draft.record_id}", headers={"Accept": "text/html"}).text
        assert "Can&#39;t be blank" in page and f'action="/records/{draft.record_id}/doi/retry"' in page
    registration.retry(doi_node, _viewer(admin), draft.record_id)
    _drain(doi_node)
    assert registration.listing(doi_node)[0].state == "findable"


def _viewer(account):  # type: ignore[no-untyped-def]
    from osnode.domain.access import Viewer

    return Viewer(user_id=account.id, role=account.role)


def test_new_versions_and_withdrawal_update_the_registry(doi_node: Node, registry: Server, depositor: Account) -> None:
    record_id = _publish(doi_node, depositor)
    _drain(doi_node)
    doi = registration.doi_for(doi_node, record_id)
    assert registry.registry.dois[doi]["state"] == "findable"
    second = deposit.new_version(doi_node, record_id, depositor.viewer)
    deposit.update_draft(doi_node, second.id, depositor.viewer, minimal_metadata(titles=[{"title": "Rainfall, v2"}]))
    deposit.publish(doi_node, second.id, depositor.viewer)
    assert registration.of_record(doi_node, record_id).pending is False  # same state; the metadata is behind
    _drain(doi_node)
    assert registry.registry.dois[doi]["attributes"]["titles"][0]["title"] == "Rainfall, v2"
    deposit.withdraw(doi_node, record_id, depositor.viewer, "duplicate of another record")
    _drain(doi_node)
    assert registry.registry.dois[doi]["state"] == "registered"  # hidden, still resolving
    assert registry.registry.dois[doi]["attributes"]["url"] == doi_node.record_url(record_id)
    assert registry.registry.creations[doi] == 1


def test_bad_credentials_are_retried_with_the_reason_kept(doi_node: Node, registry: Server, depositor: Account) -> None:
    doi_node.settings = dataclasses.replace(doi_node.settings, datacite_password="wrong")
    _publish(doi_node, depositor)
    registration.register_due(doi_node)
    [row] = registration.listing(doi_node)
    next_try = row.next_try if row.next_try.tzinfo else row.next_try.replace(tzinfo=UTC)  # SQLite drops the zone
    assert row.state == "pending" and "credentials" in row.last_error and next_try > utcnow()
