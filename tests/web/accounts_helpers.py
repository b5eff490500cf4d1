"""Helpers for the account tests: make a local account, read a form's CSRF token, sign in through the pages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import update

from osnode.domain.records import Role
from osnode.services import accounts
from osnode.services.node import Node
from osnode.storage.catalog import users

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


def local_account(
    node: Node, email: str = "ana@example.org", role: Role = Role.DEPOSITOR, password: str = PASSWORD
) -> accounts.Account:
    done = accounts.register(node, email, password, "Ana Silva", "en")
    with node.transaction() as tx:
        tx.execute(update(users).where(users.c.id == done.account.id).values(role=role.value))
    account = accounts.get(node, done.account.id)
    assert account is not None
    return account


def csrf_of(client: TestClient, path: str = "/login") -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    found = _CSRF.search(response.text)
    assert found, f"no CSRF field on {path}"
    return found.group(1)


def sign_in(client: TestClient, email: str = "ana@example.org", password: str = PASSWORD, next_: str = "/account"):  # type: ignore[no-untyped-def]
    token = csrf_of(client)
    return client.post(
        "/login",
        data={"email": email, "password": password, "next": next_, "csrf": token},
        follow_redirects=False,
    )
