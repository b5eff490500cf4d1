"""The sign-in pages in Chromium: sign in through the plain form (no JavaScript needed), then every account
page fits a 390 px phone in English and Arabic, stays within the page budget, and is reachable by keyboard."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from osnode.config import load_settings
from osnode.services import accounts
from osnode.services.node import Node
from tests.conftest import LiveServer, start_server
from tests.e2e.conftest import PAGE_BUDGET

PASSWORD = "correct horse battery staple"
PAGES = ["/login", "/register", "/forgot", "/reset?token=x", "/account"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("accounts") / "node"
    url = f"sqlite:///{(folder / 'catalog.sqlite').resolve()}"
    folder.mkdir(parents=True)
    node = Node.open(load_settings(folder, database_url=url))
    accounts.register(node, "ana@example.org", PASSWORD, "Ana Silva — <i>Luanda</i>", "ar")
    node.close()
    live = start_server(folder, url)
    try:
        yield live
    finally:
        live.stop()


@pytest.mark.parametrize("language", ["en", "ar"])
def test_sign_in_without_javascript_and_every_page_fits_a_phone(
    browser: Browser, server: LiveServer, language: str
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 800},
        java_script_enabled=False,
        extra_http_headers={"Accept-Language": language},
    )
    try:
        page = context.new_page()
        page.goto(server.url + "/login?next=/account")
        page.fill("#email", "ana@example.org")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_be_visible()
        assert page.url.endswith("/account"), page.content()[:3000]
        header = page.locator("header nav").first
        expect(header).to_contain_text("Ana Silva — <i>Luanda</i>")  # shown as text, never as markup
        for path in PAGES:
            response = page.goto(server.url + path)
            assert response is not None and response.status == 200, path
            assert len(response.body()) <= PAGE_BUDGET, path
            assert page.locator("html").get_attribute("lang") == language
            assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
            assert page.locator("form[method=post] input[name=csrf]").count() >= 1 or path == "/reset?token=x"
    finally:
        context.close()


def test_the_login_form_works_by_keyboard(browser: Browser, server: LiveServer) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server.url + "/login")
        page.locator("#email").focus()
        page.keyboard.type("ana@example.org")
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url("**/account")
        expect(page.locator("h1")).to_be_visible()
    finally:
        context.close()
