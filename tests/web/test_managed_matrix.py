"""Every route that serves a managed record's bytes, or anything derived from them, x the requester's grant
state (none, pending, approved, expired, revoked) x who asks (anonymous, requester, other user, committee
member, owner, admin). The expected answer is written out: the bytes go to the owner and the administrators,
and to the requester while an approved grant holds; never to a committee member for being one."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from osnode.explore.synthetic import write_synthetic_atlas
from osnode.services import packages
from osnode.services.node import Node
from osnode.storage.governance import audit_log, grants
from tests.conftest import Account
from tests.web.conftest import published_record, sha256
from tests.web.test_managed_access import GOOD, _with_email

TABLE = b"cell,type\nAAAC,T cell\nAAAG,B cell\n"
STATES = ["none", "pending", "approved", "expired", "revoked"]
VIEWERS = ["anonymous", "requester", "other", "member", "owner", "admin"]


def readers(state: str) -> set[str]:
    return {"owner", "admin"} | ({"requester"} if state == "approved" else set())


def _routes(version_id: str, record_id: str, atlas_sha: str) -> dict[str, tuple[str, str, dict[str, str]]]:
    """route name -> (method, path, extra headers); each answers 200 with bytes (or what derives from them)."""
    files = f"/api/records/{record_id}/files"
    return {
        "download": ("GET", f"{files}/cells.csv", {}),
        "download-version": ("GET", f"/api/records/{version_id}/files/cells.csv", {}),
        "range": ("GET", f"{files}/cells.csv", {"Range": "bytes=0-3"}),
        "page-download": ("GET", f"/records/{version_id}/files/cells.csv", {}),
        "blob": ("GET", f"/api/blobs/{sha256(TABLE)}", {}),
        "atlas-blob": ("GET", f"/api/blobs/{atlas_sha}", {}),
        "profile": ("GET", f"{files}/cells.csv/profile", {}),
        "tables": ("GET", f"/api/records/{record_id}/tables", {}),
        "query": ("GET", f"/api/records/{record_id}/query?sql=select%20count(*)%20as%20n%20from%20cells", {}),
        "atlas": ("GET", f"{files}/atlas.h5ad/atlas", {}),
        "atlas-genes": ("GET", f"{files}/atlas.h5ad/atlas/genes?q=CD", {}),
    }


@pytest.fixture
def world(node: Node, client: TestClient, depositor: Account, admin: Account, tmp_path: Path) -> dict[str, Any]:
    atlas = write_synthetic_atlas(tmp_path / "atlas.h5ad", 60, 20).read_bytes()
    terms = {"permission": "GRU", "modifiers": ["NPU"]}
    record = published_record(
        client, depositor, {"cells.csv": TABLE, "atlas.h5ad": atlas}, access={"level": "restricted", "data_use": terms}
    )
    people = {name: _with_email(node, name) for name in ("requester", "other", "member")}
    assert client.post(
        "/api/committees", json={"slug": "dac", "name": "DAC", "quorum": 1}, headers=admin.headers
    ).is_success
    client.post("/api/committees/dac/members", json={"member": str(people["member"].user.id)}, headers=admin.headers)
    client.post("/api/committees/dac/records", json={"record_id": record["record_id"]}, headers=depositor.headers)
    headers = {"anonymous": {}, "owner": depositor.headers, "admin": admin.headers}
    headers |= {name: account.headers for name, account in people.items()}
    return {"record": record, "headers": headers, "people": people, "atlas_sha": sha256(atlas)}


def _into_state(node: Node, client: TestClient, world: dict[str, Any], state: str) -> None:
    if state == "none":
        return
    rid, people = world["record"]["record_id"], world["people"]
    asked = client.post(f"/api/records/{rid}/access-requests", json=GOOD, headers=people["requester"].headers)
    assert asked.status_code == 201, asked.text
    if state == "pending":
        return
    voted = client.post(
        f"/api/access-requests/{asked.json()['id']}/votes",
        json={"approve": True, "days": 10},
        headers=people["member"].headers,
    )
    assert voted.json()["state"] == "approved", voted.text
    with node.transaction() as tx:
        if state == "expired":
            tx.execute(update(grants).values(expires=node.today() - timedelta(days=1)))
        if state == "revoked":
            tx.execute(update(grants).values(revoked_at=grants.c.issued))


@pytest.mark.parametrize("state", STATES)
def test_every_route_x_viewer(node: Node, client: TestClient, world: dict[str, Any], state: str) -> None:
    _into_state(node, client, world, state)
    record = world["record"]
    routes = _routes(record["id"], record["record_id"], world["atlas_sha"])
    wrong = []
    for viewer in VIEWERS:
        for name, (method, path, extra) in routes.items():
            response = client.request(method, path, headers=world["headers"][viewer] | extra)
            allowed = viewer in readers(state)
            if allowed != (response.status_code in (200, 206)):
                wrong.append(f"{name} as {viewer}: {response.status_code}")
            if not allowed:
                assert TABLE not in response.content and b"T cell" not in response.content, (name, viewer)
                assert response.status_code in (401, 403, 404), (name, viewer, response.status_code)
    assert not wrong, f"grant {state}: " + "; ".join(wrong)
    # Metadata exports name the files only to their readers; content addresses likewise.
    for viewer in VIEWERS:
        exported = client.get(f"/records/{record['id']}/export/json-ld", headers=world["headers"][viewer])
        assert exported.status_code == 200
        assert ("cells.csv" in exported.text) is (viewer in readers(state)), viewer
    # Every use of managed data by the requester under the grant is in the audit log, with the grant.
    if state == "approved":
        with node.engine.connect() as conn:
            uses = conn.execute(
                select(audit_log.c.action, audit_log.c.grant_id).where(
                    audit_log.c.action.in_(["download", "query", "explore"]), audit_log.c.grant_id.is_not(None)
                )
            ).all()
        assert {u.action for u in uses} == {"download", "query", "explore"}


def test_bags_never_carry_managed_bytes(node: Node, client: TestClient, world: dict[str, Any], tmp_path: Path) -> None:
    _into_state(node, client, world, "approved")
    out = tmp_path / "bag"
    summary = packages.export(node, out)
    assert not [p for p in out.rglob("*") if p.is_file() and p.read_bytes() == TABLE]
    assert summary.withheld_files == 2
