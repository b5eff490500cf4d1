"""Managed access over the API: DUO terms on a restricted record, a committee, a request with its pre-check,
votes and quorum, the grant and what it opens, expiry and revocation, emails at each step, the audit log."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from osnode.services import audit, governance, users
from osnode.services.node import Node
from osnode.storage.accounts import outbox
from osnode.storage.catalog import users as users_table
from osnode.storage.governance import audit_log, grants
from tests.conftest import Account
from tests.web.conftest import assert_problem, published_record, sha256

DATA = b"cell,type\nAAAC,T cell\nAAAG,B cell\n"
TERMS = {
    "permission": "DS",
    "disease": "cancer",
    "modifiers": ["GS", "NPU", "PUB"],
    "countries": ["FR", "DE"],
    "jurisdiction": "FR",
    "consent_basis": "broad consent for cancer research",
}
GOOD = {
    "purpose_code": "DS",
    "disease": "cancer",
    "purpose": "Tumour micro-environment atlas",
    "project": "TME",
    "institution": "Institut Curie",
    "institution_ror": "https://ror.org/04t0gwh46",
    "country": "FR",
    "not_for_profit": True,
    "agreement_accepted": True,
}


def _with_email(node: Node, name: str, role: str = "depositor", language: str = "en") -> Account:
    user = users.create_user(node, name, role)
    with node.transaction() as tx:
        tx.execute(
            update(users_table)
            .where(users_table.c.id == user.id)
            .values(email=f"{name}@example.org", language=language)
        )
    return Account(user, users.create_token(node, user))


@dataclass
class Setup:
    record: dict[str, Any]
    owner: Account
    requester: Account
    other: Account
    chair: Account
    member: Account
    admin: Account


@pytest.fixture
def setup(node: Node, client: TestClient, depositor: Account, admin: Account) -> Setup:
    record = published_record(client, depositor, {"cells.csv": DATA}, access={"level": "restricted", "data_use": TERMS})
    chair, member = _with_email(node, "chair"), _with_email(node, "member", language="fr")
    requester, other = _with_email(node, "requester"), _with_email(node, "other")
    made = client.post(
        "/api/committees",
        json={"slug": "hca-dac", "name": "HCA DAC", "quorum": 2, "agreement": "Use only as approved."},
        headers=admin.headers,
    )
    assert made.status_code == 201, made.text
    for account, chair_flag in ((chair, True), (member, False)):
        added = client.post(
            "/api/committees/hca-dac/members",
            json={"member": str(account.user.id), "chair": chair_flag},
            headers=admin.headers,
        )
        assert added.status_code == 200, added.text
    governed = client.post(
        "/api/committees/hca-dac/records", json={"record_id": record["record_id"]}, headers=depositor.headers
    )
    assert governed.status_code == 200, governed.text
    return Setup(record, depositor, requester, other, chair, member, admin)


def _file(client: TestClient, s: Setup, headers: dict[str, str]) -> int:
    response = client.get(f"/api/records/{s.record['record_id']}/files/cells.csv", headers=headers)
    assert (DATA in response.content) is (response.status_code == 200)
    return response.status_code


def _approved(client: TestClient, s: Setup, days: int = 30) -> dict[str, Any]:
    asked = client.post(f"/api/records/{s.record['record_id']}/access-requests", json=GOOD, headers=s.requester.headers)
    assert asked.status_code == 201, asked.text
    rid = asked.json()["id"]
    for voter in (s.chair, s.member):
        voted = client.post(
            f"/api/access-requests/{rid}/votes", json={"approve": True, "days": days}, headers=voter.headers
        )
        assert voted.status_code == 200, voted.text
    return voted.json()


def test_terms_are_stored_and_exported(client: TestClient, setup: Setup) -> None:
    rid = setup.record["record_id"]
    shown = client.get(f"/api/records/{rid}").json()
    assert shown["access"]["data_use"]["permission"] == "DS"
    assert shown["access"]["data_use"]["countries"] == ["FR", "DE"]
    datacite = client.get(f"/records/{setup.record['id']}/export/datacite-json").json()
    duo_rights = [r for r in datacite["rightsList"] if r.get("rightsIdentifierScheme") == "Data Use Ontology"]
    assert {r["rightsIdentifier"] for r in duo_rights} == {"DUO:0000007", "DUO:0000022", "DUO:0000045", "DUO:0000019"}
    assert any(s.get("valueUri") == "http://purl.obolibrary.org/obo/DUO_0000007" for s in datacite["subjects"])
    schema = client.get(f"/records/{setup.record['id']}/export/json-ld").json()
    assert "DUO_0000022" in schema["conditionsOfAccess"]
    assert schema["usageInfo"].endswith("/policy.jsonld")
    policy = client.get(f"/records/{setup.record['id']}/policy.jsonld")
    assert policy.status_code == 200 and policy.headers["content-type"].startswith("application/ld+json")
    body = policy.json()
    assert body["@context"] == "http://www.w3.org/ns/odrl.jsonld" and body["uid"] == schema["usageInfo"]
    constraints = body["permission"][0]["constraint"]
    assert {"leftOperand": "spatial", "operator": "isAnyOf", "rightOperand": ["FR", "DE"]} in constraints


def test_terms_need_a_restricted_version(client: TestClient, depositor: Account) -> None:
    body = {"metadata": {"titles": [{"title": "x"}]}, "access": {"level": "open", "data_use": {"permission": "GRU"}}}
    problem = assert_problem(client.post("/api/records", json=body, headers=depositor.headers), 422)
    assert "access.data_use" in str(problem)


def test_the_whole_flow(node: Node, client: TestClient, setup: Setup) -> None:
    s = setup
    rid = s.record["record_id"]
    assert _file(client, s, s.requester.headers) == 403
    # The pre-check flags a purpose that does not match the terms.
    wrong = GOOD | {"purpose_code": "HMB", "country": "US", "not_for_profit": False}
    asked = client.post(f"/api/records/{rid}/access-requests", json=wrong, headers=s.requester.headers)
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert request["requester"]["name"] == "requester"
    assert {m["code"] for m in request["precheck"]["mismatches"]} == {"DS", "GS", "NPU"}
    assert request["precheck"]["conditions"] == ["PUB"]
    req = request["id"]
    # A second open request for the same record is refused.
    assert_problem(client.post(f"/api/records/{rid}/access-requests", json=GOOD, headers=s.requester.headers), 409)
    # Only members vote; a member asks for more information; the requester fixes the purpose.
    assert_problem(
        client.post(f"/api/access-requests/{req}/votes", json={"approve": True}, headers=s.other.headers), 404
    )
    asked_info = client.post(
        f"/api/access-requests/{req}/decision",
        json={"decision": "info", "reason": "Which disease?"},
        headers=s.member.headers,
    )
    assert asked_info.json()["state"] == "info-requested"
    fixed = client.put(f"/api/access-requests/{req}", json=GOOD, headers=s.requester.headers)
    assert fixed.status_code == 200 and fixed.json()["precheck"]["ok"] and fixed.json()["state"] == "pending"
    # One vote is no quorum; a decision without quorum is refused; a second vote by the same member too.
    first = client.post(
        f"/api/access-requests/{req}/votes", json={"approve": True, "days": 30}, headers=s.chair.headers
    )
    assert first.json()["state"] == "pending"
    assert (
        "no quorum"
        in assert_problem(
            client.post(f"/api/access-requests/{req}/decision", json={"decision": "approve"}, headers=s.chair.headers),
            409,
        )["detail"]
    )
    assert_problem(
        client.post(f"/api/access-requests/{req}/votes", json={"approve": True}, headers=s.chair.headers), 409
    )
    approved = client.post(
        f"/api/access-requests/{req}/votes", json={"approve": True, "days": 30}, headers=s.member.headers
    ).json()
    assert approved["state"] == "approved"
    assert approved["grant"]["expires"] == (node.today() + timedelta(days=30)).isoformat()
    # The grant opens the files to the requester only.
    assert _file(client, s, s.requester.headers) == 200
    assert _file(client, s, s.other.headers) == 403
    assert _file(client, s, s.member.headers) == 403  # the committee decides; it does not get the data
    assert client.get(f"/api/blobs/{sha256(DATA)}", headers=s.requester.headers).status_code == 200
    queried = client.post(
        f"/api/records/{rid}/query", json={"sql": "select count(*) as n from cells"}, headers=s.requester.headers
    )
    assert queried.status_code == 200, queried.text
    # Emails went to the committee on each request and to the requester on each decision.
    with node.engine.connect() as conn:
        sent = conn.execute(select(outbox.c.recipient, outbox.c.subject, outbox.c.language)).all()
    assert {r.recipient for r in sent} == {"chair@example.org", "member@example.org", "requester@example.org"}
    assert any(r.language == "fr" for r in sent)
    # The audit log holds every step and every use, and verifies.
    with node.engine.connect() as conn:
        actions = [e.action for e in audit.entries(conn, [rid])]
    for step in ("request", "info-requested", "request-changed", "vote", "approved", "download", "query"):
        assert step in actions, step
    assert audit.verify(node).ok
    # Past the expiry, every route refuses again.
    with node.transaction() as tx:
        tx.execute(update(grants).values(expires=node.today() - timedelta(days=1)))
    assert _file(client, s, s.requester.headers) == 403
    assert "expired" in client.get(f"/api/records/{rid}/files/cells.csv", headers=s.requester.headers).json()["detail"]
    assert governance.expire_grants(node) == 1


def test_revocation_closes_at_once(client: TestClient, setup: Setup) -> None:
    approved = _approved(client, setup)
    gid = approved["grant"]["id"]
    assert _file(client, setup, setup.requester.headers) == 200
    assert_problem(client.post(f"/api/grants/{gid}/revoke", json={"reason": "x"}, headers=setup.requester.headers), 403)
    revoked = client.post(
        f"/api/grants/{gid}/revoke", json={"reason": "consent withdrawn"}, headers=setup.chair.headers
    )
    assert revoked.status_code == 200 and revoked.json()["grant"]["revoked"]
    assert _file(client, setup, setup.requester.headers) == 403
    assert_problem(client.post(f"/api/grants/{gid}/revoke", json={"reason": "again"}, headers=setup.chair.headers), 409)


def test_rejection_needs_reasons_and_a_quorum(client: TestClient, setup: Setup) -> None:
    rid = setup.record["record_id"]
    req = client.post(f"/api/records/{rid}/access-requests", json=GOOD, headers=setup.requester.headers).json()["id"]
    url = f"/api/access-requests/{req}/votes"
    assert_problem(client.post(url, json={"approve": False}, headers=setup.chair.headers), 422)
    client.post(url, json={"approve": False, "reason": "no ethics"}, headers=setup.chair.headers)
    done = client.post(url, json={"approve": False, "reason": "scope"}, headers=setup.member.headers).json()
    assert done["state"] == "rejected" and "no ethics" in done["decision_reason"]
    assert _file(client, setup, setup.requester.headers) == 403
    assert_problem(client.post(url, json={"approve": True}, headers=setup.admin.headers), 403)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (GOOD | {"agreement_accepted": False}, 422),
        (GOOD | {"country": "XX"}, 422),
        (GOOD | {"purpose_code": "FUN"}, 422),
        (GOOD | {"institution_ror": "not-a-ror"}, 422),
        (GOOD | {"ethics_document": {"name": "a.pdf", "content_base64": base64.b64encode(b"MZ...").decode()}}, 422),
        (["not", "an", "object"], 422),
    ],
)
def test_bad_requests_change_nothing(node: Node, client: TestClient, setup: Setup, body: Any, status: int) -> None:
    got = client.post(
        f"/api/records/{setup.record['record_id']}/access-requests", json=body, headers=setup.requester.headers
    )
    assert_problem(got, status)
    assert client.get("/api/access-requests", headers=setup.requester.headers).json()["requests"] == []


def test_requests_for_open_unknown_or_anonymous(client: TestClient, setup: Setup, depositor: Account) -> None:
    open_record = published_record(client, depositor)
    assert_problem(
        client.post(
            f"/api/records/{open_record['record_id']}/access-requests", json=GOOD, headers=setup.requester.headers
        ),
        409,
    )
    assert_problem(client.post("/api/records/nope/access-requests", json=GOOD, headers=setup.requester.headers), 404)
    assert_problem(client.post(f"/api/records/{setup.record['record_id']}/access-requests", json=GOOD), 401)


def test_committee_audit_export_and_tamper(node: Node, client: TestClient, setup: Setup) -> None:
    _approved(client, setup)
    as_csv = client.get("/api/committees/hca-dac/audit?format=csv", headers=setup.member.headers)
    assert as_csv.status_code == 200 and as_csv.text.startswith("seq,at,actor_id,action")
    assert "approved" in as_csv.text
    as_json = client.get("/api/committees/hca-dac/audit", headers=setup.chair.headers).json()
    assert as_json and all(e["record_id"] == setup.record["record_id"] for e in as_json)
    assert client.get("/api/committees/hca-dac/audit", headers=setup.other.headers).status_code == 403
    assert audit.verify(node).ok
    with node.transaction() as tx:
        tx.execute(update(audit_log).where(audit_log.c.action == "approved").values(detail='{"expires":"2099-01-01"}'))
    result = audit.verify(node)
    assert not result.ok and "altered" in result.problem


def test_cli_verifies_the_chain(node: Node, client: TestClient, setup: Setup, database_url: str) -> None:
    from tests.test_cli import fails, run_cli

    _approved(client, setup)
    data = node.settings.data_dir
    done = run_cli("audit", "verify", "--data", data, database_url=database_url)
    assert done.code == 0 and "audit log intact" in done.stdout, done.stderr
    with node.transaction() as tx:
        tx.execute(update(audit_log).where(audit_log.c.seq == 2).values(actor_id=999))
    fails(run_cli("audit", "verify", "--data", data, database_url=database_url), "entry 2", "altered")
    with node.transaction() as tx:
        tx.execute(audit_log.delete().where(audit_log.c.seq == 3))
    assert not audit.verify(node).ok


def test_replication_moves_metadata_only_and_says_why(client: TestClient, setup: Setup) -> None:
    """A replica reads the origin's JSON API: a GS-restricted record gives it no file to fetch, with the
    cross-border reason for a replica outside the list; inside the list, still none (grant holders only)."""
    from osnode.services.replication.fetching import remote_files

    identifier = f"oai:testserver:{setup.record['record_id']}"
    files, why = remote_files(client, "http://testserver", identifier, "US")
    assert files is None and "GS-restricted data never leaves FR, DE" in str(why)
    files, why = remote_files(client, "http://testserver", identifier, "FR")
    assert files is None and "grant holders only" in str(why)
    files, why = remote_files(client, "http://testserver", identifier, "")
    assert files is None and "declared its jurisdiction" in str(why)


def test_peers_declare_their_jurisdiction(node: Node) -> None:
    from osnode.services.harvest import peers as harvesting
    from osnode.storage.peers import peers

    harvesting.add_peer(node, "https://replica.example.org/oai", jurisdiction="de")
    with node.engine.connect() as conn:
        assert conn.execute(select(peers.c.jurisdiction)).scalar() == "DE"
    with pytest.raises(Exception, match="ISO 3166"):
        harvesting.add_peer(node, "https://other.example.org/oai", jurisdiction="Germany")


def test_verify_detects_reordered_and_removed_entries(node: Node, client: TestClient, setup: Setup) -> None:
    _approved(client, setup)
    assert audit.verify(node).ok
    with node.transaction() as tx:  # swap entries 3 and 4, each keeping its own content and hashes
        tx.execute(update(audit_log).where(audit_log.c.seq == 3).values(seq=-3))
        tx.execute(update(audit_log).where(audit_log.c.seq == 4).values(seq=3))
        tx.execute(update(audit_log).where(audit_log.c.seq == -3).values(seq=4))
    reordered = audit.verify(node)
    assert not reordered.ok and reordered.first_bad == 3 and "does not link" in reordered.problem
    with node.transaction() as tx:
        tx.execute(update(audit_log).where(audit_log.c.seq == 3).values(seq=-3))
        tx.execute(update(audit_log).where(audit_log.c.seq == 4).values(seq=3))
        tx.execute(update(audit_log).where(audit_log.c.seq == -3).values(seq=4))
    assert audit.verify(node).ok  # put back, it verifies again
    with node.transaction() as tx:
        tx.execute(audit_log.delete().where(audit_log.c.seq == 5))
    removed = audit.verify(node)
    assert not removed.ok and removed.first_bad == 5 and "missing" in removed.problem
