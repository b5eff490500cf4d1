"""The web deposit in a real Chromium: sign in, fill the form with two creators (ORCID, ROR), upload two files by
tus (the 50 MB one cut mid-way and resumed), close the tab, come back to the draft intact, publish. The same
journey without JavaScript, and once in Arabic on a 390 px phone."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route

from tests.conftest import LiveServer
from tests.web.accounts_helpers import PASSWORD, local_account

ORCID = "0000-0002-1825-0097"
ROR = "https://ror.org/02mhbdp94"
BIG = 50 * 1024 * 1024


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    small, big = tmp_path / "readme.txt", tmp_path / "cores.bin"
    small.write_text("soil cores\n")
    with big.open("wb") as out:
        for _ in range(50):
            out.write(os.urandom(1024 * 1024))
    return [small, big]


def sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/login?next=/deposit/new")
    page.fill("#email", "ana@example.org")
    page.fill("#password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/deposit/new")


def field(page: Page, name: str) -> str:
    return f"[name='{name}']"


def fill_form(page: Page) -> str:
    """Title first (the first save makes the draft), then two creators; returns the draft's id."""
    page.fill(field(page, "titles.0.title"), "Soil cores from the Kalahari")
    page.click("button[value=save]")
    page.wait_for_url("**/deposit/*?done=saved")
    version_id = page.url.split("/deposit/")[1].split("?")[0]
    page.fill(field(page, "creators.0.name"), "Silva, Ana")
    page.fill(field(page, "creators.0.orcid"), ORCID)
    page.fill(field(page, "creators.0.affiliations.0.name"), "Universidade Agostinho Neto")
    page.fill(field(page, "creators.0.affiliations.0.ror"), ROR)
    page.click("button[value='add:creators']")
    page.fill(field(page, "creators.1.name"), "Lee, Min")
    page.select_option(field(page, "resourceType.resourceTypeGeneral"), "Dataset")
    page.fill(field(page, "publicationYear"), "2026")
    page.select_option(field(page, "rightsList.0.rightsIdentifier"), "CC-BY-4.0")
    page.click("button[value=save]")
    page.wait_for_url("**/deposit/*?done=saved")
    return version_id


def stored(server: LiveServer, node_files: list[Path], version_id: str, page: Page) -> None:
    page.goto(f"{server.url}/deposit/{version_id}")
    for path in node_files:
        assert path.name in page.inner_text("#files")


def check_published(server: LiveServer, version_id: str, big: Path) -> None:
    record = httpx.get(f"{server.url}/api/records/{version_id}", timeout=30).json()
    assert record["state"] == "published"
    creators = record["metadata"]["creators"]
    assert [c["name"] for c in creators] == ["Silva, Ana", "Lee, Min"]
    assert creators[0]["orcid"] == ORCID and creators[0]["affiliations"][0]["ror"] == ROR
    listed = httpx.get(f"{server.url}/api/records/{version_id}/files", timeout=30).json()["items"]
    digest = hashlib.sha256(big.read_bytes()).hexdigest()
    assert {f["key"]: f["checksum"] for f in listed}[big.name] == f"sha256:{digest}"


def test_deposit_with_javascript_resumes_a_cut_upload_and_survives_a_closed_tab(
    context: BrowserContext, live_server: LiveServer, node: object, files: list[Path]
) -> None:
    local_account(node)  # type: ignore[arg-type]
    page = context.new_page()
    sign_in(page, live_server.url)
    version_id = fill_form(page)
    # Autosave: typed, never submitted, then the tab is closed.
    page.fill(field(page, "descriptions.0.description"), "Cores taken in 2025.")
    page.wait_for_function("document.getElementById('autosaved').textContent === '✓'", timeout=30_000)
    cut = {"patch": 0}

    def cut_once(route: Route) -> None:
        if route.request.method == "PATCH":
            cut["patch"] += 1
            if cut["patch"] == 10:
                route.abort("connectionreset")
                return
        route.continue_()

    page.route("**/api/uploads/*", cut_once)
    page.set_input_files("#files-input", [str(p) for p in files])
    page.click("#files-form button")
    page.wait_for_url("**/deposit/*?done=files*", timeout=300_000)
    assert cut["patch"] > 51  # 1 + 50 pieces, and the cut one sent again
    page.close()
    again = context.new_page()
    again.goto(f"{live_server.url}/deposit/{version_id}")
    assert again.input_value(field(again, "descriptions.0.description")) == "Cores taken in 2025."
    assert again.input_value(field(again, "creators.1.name")) == "Lee, Min"
    stored(live_server, files, version_id, again)
    again.click("button[value=publish]")
    again.wait_for_url(f"**/records/{version_id}")
    check_published(live_server, version_id, files[1])


def test_deposit_without_javascript(browser: Browser, live_server: LiveServer, node: object, files: list[Path]) -> None:
    local_account(node)  # type: ignore[arg-type]
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, live_server.url)
        version_id = fill_form(page)
        page.set_input_files("#files-input", [str(p) for p in files])
        page.click("#files-form button")
        page.wait_for_url("**/deposit/*?done=files*", timeout=300_000)
        stored(live_server, files, version_id, page)
        page.click("button[value=publish]")
        page.wait_for_url(f"**/records/{version_id}")
        check_published(live_server, version_id, files[1])
    finally:
        context.close()


def test_deposit_in_arabic_on_a_phone(browser: Browser, live_server: LiveServer, node: object) -> None:
    local_account(node)  # type: ignore[arg-type]
    context = browser.new_context(locale="ar", viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        sign_in(page, live_server.url)
        assert page.get_attribute("html", "dir") == "rtl"
        version_id = fill_form(page)
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        assert page.get_attribute(field(page, "creators.0.orcid"), "dir") == "ltr"
        page.goto(f"{live_server.url}/my")
        assert version_id in page.content()
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    finally:
        context.close()
