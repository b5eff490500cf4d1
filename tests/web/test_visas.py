"""Grants that travel: the origin signs a grant as a GA4GH visa (ES256, JWKS at /.well-known/jwks.json); a
replica that holds the bytes honours it after checking issuer, signature, expiry, record and revocation."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import update

from osnode.app import create_app
from osnode.config import load_settings
from osnode.services import deposit, users, visas
from osnode.services.node import Node, utcnow
from osnode.storage.catalog import versions
from osnode.storage.peers import peers, record_sources
from tests.web import test_managed_access as managed
from tests.web.test_managed_access import DATA, Setup, _approved

setup = managed.setup  # the origin node's record, committee and accounts (a fixture)


@pytest.fixture
def replica(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client: TestClient, setup: Setup
) -> Iterator[dict[str, Any]]:  # noqa: F811
    """A second node (SQLite) that harvested the origin's managed record and holds its bytes."""
    folder = tmp_path / "replica"
    folder.mkdir()
    other = Node.open(load_settings(folder, base_url="http://replica.test"))
    # The origin's JWKS, fetched from its real route (through the ASGI app rather than a socket).
    monkeypatch.setattr(visas, "fetch_jwks", lambda base: client.get("/.well-known/jwks.json").json())
    visas._JWKS_CACHE.clear()
    keeper = users.create_user(other, "keeper", "depositor")
    viewer = users.viewer_for(keeper)
    draft = deposit.create_draft(
        other,
        viewer,
        {
            "titles": [{"title": "copy"}],
            "creators": [{"name": "X"}],
            "resourceType": {"resourceTypeGeneral": "Dataset"},
        },
        {"level": "restricted"},
    )
    deposit.attach_blob(other, draft.id, "cells.csv", other.blobs.put_stream([DATA]), viewer)
    copy = deposit.publish(other, draft.id, viewer)
    with other.transaction() as tx:
        peer_id = tx.execute(
            peers.insert().values(name="origin", base_url="http://testserver/oai", created=utcnow())
        ).inserted_primary_key[0]
        tx.execute(update(versions).where(versions.c.id == copy.id).values(origin_node="http://testserver"))
        tx.execute(
            record_sources.insert().values(
                peer_id=peer_id,
                oai_identifier="oai:testserver:1",
                record_id=copy.record_id,
                datestamp="2026-01-01",
                deleted=False,
                url=f"http://testserver/records/{setup.record['record_id']}",
                harvested=utcnow(),
            )
        )
    with TestClient(create_app(other)) as replica_client:
        yield {"node": other, "client": replica_client, "record_id": copy.record_id}
    other.close()


def _get(replica: dict[str, Any], visa: str | None) -> int:
    headers = {visas.HEADER: visa} if visa else {}
    response = replica["client"].get(f"/api/records/{replica['record_id']}/files/cells.csv", headers=headers)
    assert (DATA in response.content) is (response.status_code == 200)
    return response.status_code


def test_a_visa_opens_the_replica_until_revoked(client: TestClient, setup: Setup, replica: dict[str, Any]) -> None:
    approved = _approved(client, setup)
    gid = approved["grant"]["id"]
    # Only the grant's holder gets its visa.
    assert client.get(f"/api/grants/{gid}/visa", headers=setup.other.headers).status_code == 404
    visa = client.get(f"/api/grants/{gid}/visa", headers=setup.requester.headers).json()["visa"]
    assert (
        jwt.decode(visa, visas._key(client.app.state.node)).claims["ga4gh_visa_v1"]["type"] == "ControlledAccessGrants"
    )
    assert _get(replica, None) == 403
    assert _get(replica, visa) == 200
    # Revoked at the origin, harvested by the replica like a deletion: refused from then on.
    client.post(f"/api/grants/{gid}/revoke", json={"reason": "consent withdrawn"}, headers=setup.chair.headers)
    feed = client.get("/api/grants/revocations").json()
    assert [r["grant_id"] for r in feed] == [gid]
    assert visas.harvest_revocations(replica["node"], fetch=lambda base: feed) == 1
    assert _get(replica, visa) == 403


def _signed(key: ECKey, **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": "http://testserver",
        "sub": "1",
        "iat": now,
        "exp": now + 600,
        "jti": "1",
        "ga4gh_visa_v1": {
            "type": "ControlledAccessGrants",
            "asserted": now,
            "by": "dac",
            "value": "http://testserver/records/RECORD",
            "source": "http://testserver",
        },
    }
    claims |= changes
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)


def test_forged_expired_foreign_or_misaimed_visas_are_refused(
    client: TestClient, setup: Setup, replica: dict[str, Any]
) -> None:
    origin_key = visas._key(client.app.state.node)
    record_url = f"http://testserver/records/{setup.record['record_id']}"
    visa = {"type": "ControlledAccessGrants", "asserted": 0, "by": "dac", "value": record_url, "source": "x"}
    assert _get(replica, _signed(origin_key, ga4gh_visa_v1=visa)) == 200  # the control: a good one opens
    forger = ECKey.generate_key("P-256", private=True, parameters={"kid": origin_key.kid})
    assert _get(replica, _signed(forger, ga4gh_visa_v1=visa)) == 403
    assert _get(replica, _signed(origin_key, ga4gh_visa_v1=visa, exp=int(time.time()) - 10)) == 403
    assert _get(replica, _signed(origin_key, ga4gh_visa_v1=visa | {"value": "http://testserver/records/other"})) == 403
    assert _get(replica, _signed(origin_key, ga4gh_visa_v1=visa, iss="http://elsewhere")) == 403
    assert _get(replica, "not.a.jwt") == 403
    assert _get(replica, _signed(origin_key, ga4gh_visa_v1=visa | {"type": "AffiliationAndRole"})) == 403


def test_jwks_is_public(client: TestClient, node: Node, setup: Setup) -> None:
    keys = client.get("/.well-known/jwks.json")
    assert keys.status_code == 200 and keys.json()["keys"][0]["kty"] == "EC"
    assert "d" not in keys.json()["keys"][0]  # never the private half
    assert (node.settings.data_dir / "keys" / "visa.jwk").stat().st_mode & 0o077 == 0
