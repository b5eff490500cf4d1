"""Scoped API tokens: made on the account page (shown once, stored hashed), limited by scope, expiring and
revoked; tokens from before scopes keep their user's whole role; the CLI lists, creates and revokes them."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from osnode.domain.records import Role
from osnode.services import users
from osnode.services.node import Node, utcnow
from osnode.storage.catalog import tokens
from osnode.storage.catalog import users as users_table
from tests.conftest import Account, minimal_metadata
from tests.test_cli import Cli, cli, fails, ok  # noqa: F401 - cli is a fixture
from tests.web.accounts_helpers import csrf_of, local_account, sign_in

BODY = {"metadata": minimal_metadata()}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_on_page(client: TestClient, scope: str, label: str = "laptop", expires: str = "") -> str:
    response = client.post(
        "/account/tokens",
        data={"label": label, "scope": scope, "expires": expires, "csrf": csrf_of(client, "/account")},
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    found = re.search(r"(osn_[A-Za-z0-9_-]{40,})", response.text)
    assert found
    return found.group(1)


def test_a_token_made_on_the_account_page_is_shown_once_and_stored_hashed(client: TestClient, node: Node) -> None:
    local_account(node)
    sign_in(client)
    token = make_on_page(client, "deposit", label="<script>alert(1)</script>")
    page = client.get("/account")
    assert token not in page.text  # shown once
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert(1)" not in page.text
    with node.engine.connect() as conn:
        stored = conn.execute(select(tokens.c.token_hash, tokens.c.scope)).all()
    assert all(token not in row.token_hash for row in stored) and stored[0].scope == "deposit"
    fresh = TestClient(client.app)
    assert fresh.post("/api/records", json=BODY, headers=bearer(token)).status_code == 201


def test_a_read_token_cannot_deposit_and_a_deposit_token_cannot_administer(client: TestClient, node: Node) -> None:
    local_account(node, role=Role.ADMIN)
    sign_in(client)
    read = make_on_page(client, "read")
    deposit = make_on_page(client, "deposit")
    admin = make_on_page(client, "admin")
    api = TestClient(client.app)
    assert api.get("/api/records", headers=bearer(read)).status_code == 200
    refused = api.post("/api/records", json=BODY, headers=bearer(read))
    assert refused.status_code == 403 and "read scope" in refused.json()["detail"]
    assert api.post("/api/records", json=BODY, headers=bearer(deposit)).status_code == 201
    assert api.get("/admin/peers", headers=bearer(deposit)).status_code == 403
    assert api.get("/admin/peers", headers=bearer(admin)).status_code == 200


def test_a_depositor_is_not_offered_the_admin_scope(client: TestClient, node: Node) -> None:
    local_account(node)
    sign_in(client)
    assert 'value="admin"' not in client.get("/account").text
    forced = client.post("/account/tokens", data={"label": "x", "scope": "admin", "csrf": csrf_of(client, "/account")})
    assert forced.status_code == 422
    with node.engine.connect() as conn:
        assert conn.execute(select(tokens)).first() is None


def test_revoked_and_expired_tokens_stop_working(client: TestClient, node: Node) -> None:
    local_account(node)
    sign_in(client)
    token = make_on_page(client, "deposit")
    api = TestClient(client.app)
    assert api.get("/api/records", headers=bearer(token)).status_code == 200
    with node.engine.connect() as conn:
        token_id = conn.execute(select(tokens.c.id)).scalar_one()
    revoked = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf": csrf_of(client, "/account")})
    assert revoked.status_code == 200
    assert api.get("/api/records", headers=bearer(token)).status_code == 401
    later = make_on_page(client, "read", expires=(utcnow() + timedelta(days=3)).date().isoformat())
    assert api.get("/api/records", headers=bearer(later)).status_code == 200
    with node.transaction() as tx:
        tx.execute(update(tokens).where(tokens.c.revoked.is_(None)).values(expires=utcnow() - timedelta(seconds=1)))
    expired = api.get("/api/records", headers=bearer(later))
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]


def test_someone_elses_token_cannot_be_revoked(client: TestClient, node: Node, depositor: Account) -> None:
    local_account(node)
    sign_in(client)
    with node.engine.connect() as conn:
        theirs = conn.execute(select(tokens.c.id).where(tokens.c.user_id == depositor.user.id)).scalar_one()
    refused = client.post(f"/account/tokens/{theirs}/revoke", data={"csrf": csrf_of(client, "/account")})
    assert refused.status_code == 404
    assert client.get("/api/records", headers=depositor.headers).status_code == 200


def test_tokens_from_before_scopes_keep_their_users_role(client: TestClient, admin: Account) -> None:
    assert client.get("/admin/peers", headers=admin.headers).status_code == 200
    assert client.post("/api/records", json=BODY, headers=admin.headers).status_code == 201


@pytest.mark.parametrize("bad", ["2020-01-01", "tomorrow", "2026-13-45"])
def test_bad_expiry_changes_nothing(client: TestClient, node: Node, bad: str) -> None:
    local_account(node)
    sign_in(client)
    response = client.post(
        "/account/tokens", data={"label": "x", "scope": "read", "expires": bad, "csrf": csrf_of(client, "/account")}
    )
    assert response.status_code == 422
    with node.engine.connect() as conn:
        assert conn.execute(select(tokens)).first() is None


def test_cli_lists_users_and_creates_lists_and_revokes_tokens(node: Node, data_dir: Path, cli: Cli) -> None:  # noqa: F811
    user = users.create_user(node, "ana", "depositor")
    env = {"OSNODE_DATABASE_URL": node.settings.catalog_url}
    data = ["--data", str(data_dir)]
    token = ok(cli("tokens", "create", "ana", "--name", "ci", "--scope", "read", *data, env=env)).stdout.strip()
    assert users.authenticate(node, token).read_only
    listed = ok(cli("tokens", "list", "ana", "--json", *data, env=env)).stdout
    assert '"scope": "read"' in listed and token not in listed
    token_id = users.list_tokens(node, user.id)[0].id
    ok(cli("tokens", "revoke", "ana", str(token_id), *data, env=env))
    fails(cli("tokens", "revoke", "ana", str(token_id), *data, env=env), "no active token")
    fails(cli("tokens", "create", "ana", "--scope", "root", *data, env=env), "unknown scope")
    assert '"name": "ana"' in ok(cli("users", "list", "--json", *data, env=env)).stdout


def test_cli_invites_and_approves(node: Node, data_dir: Path, cli: Cli) -> None:  # noqa: F811
    from osnode.services import accounts

    users.create_user(node, "boss", "admin")
    env = {"OSNODE_DATABASE_URL": node.settings.catalog_url}
    data = ["--data", str(data_dir)]
    link = ok(cli("users", "invite", "New@Example.org", *data, env=env)).stdout.strip()
    assert "/register?invitation=" in link and link.endswith("&email=new%40example.org")
    fails(cli("users", "invite", "not-an-email", *data, env=env), "valid email")
    waiting = local_account(node, "wait@example.org")
    with node.transaction() as tx:
        tx.execute(update(users_table).where(users_table.c.id == waiting.id).values(status="pending"))
    ok(cli("users", "approve", "WAIT@example.org", *data, env=env))
    assert accounts.get(node, waiting.id).status == "active"  # type: ignore[union-attr]
