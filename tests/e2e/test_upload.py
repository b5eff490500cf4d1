"""The upload page in a real Chromium, signed in (the session, not a typed API token, authenticates): the inline
script sends the file as a tus upload in 1 MiB pieces, resumes after a dropped piece, and reloads to show the
stored file; without JavaScript the plain form does the same."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route

from osnode.domain.records import Role
from osnode.services import users
from osnode.services.node import Node
from tests.conftest import Account, LiveServer, minimal_metadata
from tests.web.accounts_helpers import PASSWORD, local_account

SIZE = 2 * 1024 * 1024 + 12345  # three PATCH pieces


@pytest.fixture
def depositor(node: Node) -> Account:
    """A local account (it signs in on the page) with an API token for the checks made from here."""
    account = local_account(node)
    user = users.User(account.id, account.name, Role.DEPOSITOR)
    return Account(user, users.create_token(node, user, "e2e", "deposit"))


@pytest.fixture
def draft_id(live_server: LiveServer, depositor: Account) -> str:
    response = httpx.post(
        f"{live_server.url}/api/records", json={"metadata": minimal_metadata()}, headers=depositor.headers, timeout=30
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "measurements.bin"
    path.write_bytes(os.urandom(SIZE))
    return path


def stored_files(live_server: LiveServer, depositor: Account, draft_id: str) -> dict[str, str]:
    response = httpx.get(f"{live_server.url}/api/records/{draft_id}/files", headers=depositor.headers, timeout=30)
    return {f["key"]: f["checksum"] for f in response.json()["items"]}


def sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", "ana@example.org")
    page.fill("#password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/account")


def upload_through_page(page: Page, url: str, path: Path) -> None:
    page.goto(url)
    page.set_input_files("#file", str(path))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#upload-done", timeout=60_000)


def test_script_uploads_with_tus_and_shows_the_file(
    page: Page, live_server: LiveServer, depositor: Account, draft_id: str, data_file: Path
) -> None:
    sign_in(page, live_server.url)
    methods: list[str] = []
    page.on("request", lambda r: methods.append(r.method) if "/api/uploads/" in r.url else None)
    upload_through_page(page, f"{live_server.url}/records/{draft_id}/upload", data_file)
    digest = hashlib.sha256(data_file.read_bytes()).hexdigest()
    assert digest in page.inner_text("#upload-done")
    assert data_file.name in page.inner_text("#upload-done")
    assert stored_files(live_server, depositor, draft_id) == {data_file.name: f"sha256:{digest}"}
    assert methods.count("PATCH") == 3  # 1 MiB pieces, no plain form post
    assert page.locator("#token").count() == 0  # nothing asks for an API token any more


def test_script_resumes_after_a_dropped_piece(
    page: Page, live_server: LiveServer, depositor: Account, draft_id: str, data_file: Path
) -> None:
    seen = {"patch": 0, "head": 0}

    def drop_first_patch(route: Route) -> None:
        method = route.request.method
        if method == "PATCH":
            seen["patch"] += 1
            if seen["patch"] == 1:
                route.abort("connectionreset")
                return
        if method == "HEAD":
            seen["head"] += 1
        route.continue_()

    sign_in(page, live_server.url)
    page.route("**/api/uploads/*", drop_first_patch)
    upload_through_page(page, f"{live_server.url}/records/{draft_id}/upload", data_file)
    digest = hashlib.sha256(data_file.read_bytes()).hexdigest()
    assert stored_files(live_server, depositor, draft_id) == {data_file.name: f"sha256:{digest}"}
    assert digest in page.inner_text("#upload-done")
    assert seen["patch"] == 4 and seen["head"] >= 1  # the dropped piece was asked about, then sent again


def test_plain_form_without_javascript(
    browser: Browser, live_server: LiveServer, depositor: Account, draft_id: str, data_file: Path
) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, live_server.url)
        upload_through_page(page, f"{live_server.url}/records/{draft_id}/upload", data_file)
        digest = hashlib.sha256(data_file.read_bytes()).hexdigest()
        assert digest in page.inner_text("#upload-done")
        assert stored_files(live_server, depositor, draft_id) == {data_file.name: f"sha256:{digest}"}
    finally:
        context.close()
