"""A reader explores the demo node's (synthetic) cell atlas in a real browser and changes the colouring."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import Demo, watch


def atlas_record(demo: Demo) -> tuple[str, str]:
    """The demo record holding an .h5ad file: (version id, file name)."""
    for record in demo.records:
        files = httpx.get(f"{demo.url}/api/records/{record['id']}/files", timeout=30).json()["items"]
        keys = [f["key"] for f in files]
        atlas = next((k for k in keys if k.endswith(".h5ad")), None)
        if atlas:
            return record["id"], atlas
    raise AssertionError("the demo node has no cell atlas")


def plot_is_drawn(page: Page) -> str:
    plot = page.locator("img#plot")
    expect(plot).to_have_count(1)
    page.wait_for_function(
        "() => { const i = document.querySelector('img#plot'); return i.complete && i.naturalWidth > 0; }"
    )
    assert plot.evaluate("i => i.naturalWidth") == 512
    return plot.get_attribute("src") or ""


def test_atlas_page_from_landing_page_and_recolour(context: BrowserContext, page: Page, demo: Demo) -> None:
    traffic = watch(context)
    version_id, key = atlas_record(demo)
    page.goto(f"{demo.url}/records/{version_id}")
    preview = page.locator("section:has(h2#preview)")
    expect(preview).to_contain_text("Cell atlas: 5,000 cells, 200 genes")
    with page.expect_navigation():
        preview.get_by_role("link", name="Explore the atlas").click()
    assert urlsplit(page.url).path == f"/records/{version_id}/files/{key}/explore"
    expect(page.locator("#atlas-facts")).to_contain_text("5,000 cells")
    first_src = plot_is_drawn(page)
    expect(page.locator("#legend")).to_contain_text("CD4 T cell")  # coloured by cell type at first

    # Changing the colouring redraws the plot (the page's small script submits the form on change).
    with page.expect_navigation():
        page.select_option("select#colour", "donor")
    assert parse_qs(urlsplit(page.url).query)["colour"] == ["donor"]
    second_src = plot_is_drawn(page)
    assert second_src != first_src and "colour=donor" in second_src
    expect(page.locator("#legend")).to_contain_text("donor 3")
    expect(page.locator("#legend")).not_to_contain_text("CD4 T cell")

    # Colour by a gene: the plot changes and the expression per category appears.
    page.fill("input#gene", "LYZ")
    with page.expect_navigation():
        page.get_by_role("button", name="Update").click()
    assert "gene=LYZ" in plot_is_drawn(page)
    expect(page.locator("table#expression")).to_contain_text("donor 1")  # grouped by the chosen field
    assert traffic.external == []


def test_atlas_colouring_without_javascript(browser, demo: Demo) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        version_id, key = atlas_record(demo)
        page.goto(f"{demo.url}/records/{version_id}/files/{key}/explore")
        page.select_option("select#colour", "cluster")
        page.select_option("select#filter_field", "cell_type")
        with page.expect_navigation():
            page.get_by_role("button", name="Update").click()
        query = parse_qs(urlsplit(page.url).query)
        assert query["colour"] == ["cluster"] and query["filter_field"] == ["cell_type"]
        page.check("input[name=filter][value='B cell']")
        with page.expect_navigation():
            page.get_by_role("button", name="Update").click()
        assert parse_qs(urlsplit(page.url).query)["filter"] == ["B cell"]
        src = page.locator("img#plot").get_attribute("src") or ""
        assert "filter=B+cell" in src and "colour=cluster" in src
        image = httpx.get(demo.url + src, timeout=60)
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    finally:
        context.close()
