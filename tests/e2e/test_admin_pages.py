"""The admin pages in Chromium, without JavaScript: an admin signs in with a local account, renames the node,
uploads a logo and adds a peer, and the next pages show it at once (no restart); every admin page fits a
390 px phone within the page budget, in English and in Arabic."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, expect
from sqlalchemy import update

from osnode.config import load_settings
from osnode.services import accounts
from osnode.services.node import Node
from osnode.storage.catalog import users
from tests.conftest import LiveServer, start_server
from tests.e2e.conftest import PAGE_BUDGET

PASSWORD = "correct horse battery staple"
PAGES = ["/admin", "/admin/users", "/admin/settings", "/admin/peers", "/admin/fixity", "/admin/jobs", "/admin/outbox"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("admin") / "node"
    url = f"sqlite:///{(folder / 'catalog.sqlite').resolve()}"
    folder.mkdir(parents=True)
    node = Node.open(load_settings(folder, database_url=url))
    made = accounts.register(node, "root@example.org", PASSWORD, "Root", "en")
    with node.transaction() as tx:
        tx.execute(update(users).where(users.c.id == made.account.id).values(role="admin"))
    node.close()
    live = start_server(folder, url)
    try:
        yield live
    finally:
        live.stop()


def _logo(tmp_path: Path, colour: str) -> Path:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(out, "PNG")
    path = tmp_path / f"logo-{colour}.png"
    path.write_bytes(out.getvalue())
    return path


@pytest.mark.parametrize(("language", "colour"), [("en", "red"), ("ar", "blue")])
def test_an_admin_renames_the_node_uploads_a_logo_and_adds_a_peer(
    browser: Browser, server: LiveServer, tmp_path: Path, language: str, colour: str
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 800},
        java_script_enabled=False,
        extra_http_headers={"Accept-Language": language},
    )
    try:
        page = context.new_page()
        page.goto(server.url + "/admin/settings")  # no session: sent to sign in, then back
        page.fill("#email", "root@example.org")
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url("**/admin/settings")
        name = f"Luanda Data {language}"
        page.fill("#node_name", name)
        page.click("form[action='/admin/settings'] button[type=submit]")
        expect(page.locator("header")).to_contain_text(name)
        page.set_input_files("#logo", str(_logo(tmp_path, colour)))
        page.click("form[action='/admin/settings/logo'] button[type=submit]")
        page.wait_for_url("**/admin/settings?done=logo")
        page.goto(server.url + "/")
        expect(page.locator("header")).to_contain_text(name)
        logo = page.locator("header img").first.get_attribute("src") or ""
        assert logo.startswith("/site/logo-") and logo.endswith(".png")
        assert page.request.get(server.url + logo).status == 200
        page.goto(server.url + "/admin/peers")
        page.fill("#url", f"https://peer-{language}.example.org/oai")
        page.fill("#name", f"peer-{language}")
        page.click("form[action='/admin/peers'] button[type=submit]")
        expect(page.locator(f"#peer-peer-{language}")).to_be_visible()
        for path in PAGES:
            response = page.goto(server.url + path)
            assert response is not None and response.status == 200, path
            assert len(response.body()) <= PAGE_BUDGET, path
            assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
            expect(page.locator("header")).to_contain_text(name)
    finally:
        context.close()
