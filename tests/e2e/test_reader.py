"""A reader's visit in a real browser: search, filter, open a record, read it in Arabic, download, cite.

The same walk again with JavaScript off: every step there is plain links and a GET form.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import Demo, sha256_file, watch

ARABIC = re.compile(r"[\u0600-\u06ff]")


def search_from_home(page: Page, demo: Demo, words: str) -> None:
    page.goto(demo.url + "/")
    box = page.locator("main input[name=q]")
    expect(box, "the home page has a search box").to_have_count(1)
    box.fill(words)
    with page.expect_navigation():
        box.press("Enter")
    assert urlsplit(page.url).path == "/search"
    assert parse_qs(urlsplit(page.url).query)["q"] == [words]


def filter_by_kind(page: Page, kind: str) -> None:
    facet = page.locator(f'aside.facets a[href*="kind={kind}"]')
    expect(facet).to_have_count(1)
    with page.expect_navigation():
        facet.click()
    assert parse_qs(urlsplit(page.url).query)["kind"] == [kind]
    expect(page.locator("aside.facets a[aria-current]")).to_have_count(1)  # the chosen filter is marked


def hit_links(page: Page) -> list[str]:
    return page.locator("ol.hits h3 a").evaluate_all("links => links.map(a => a.getAttribute('href'))")


def find_and_open_dataset(page: Page, demo: Demo) -> None:
    search_from_home(page, demo, "Anscombe")
    everything = hit_links(page)
    assert len(everything) == 3, everything  # the dataset, the article about it and the software
    dataset = f"/records/{demo.record('Dataset')['record_id']}"
    filter_by_kind(page, "Dataset")
    assert hit_links(page) == [dataset]
    with page.expect_navigation():
        page.locator("ol.hits h3 a").click()
    assert urlsplit(page.url).path == dataset
    expect(page.locator("h1")).to_have_text("Anscombe's quartet")


def test_reader_searches_filters_opens_switches_to_arabic_downloads_and_cites(
    context: BrowserContext, page: Page, demo: Demo
) -> None:
    traffic = watch(context)
    find_and_open_dataset(page, demo)
    record_path = urlsplit(page.url).path
    assert page.locator("html").get_attribute("dir") in (None, "ltr")

    # Arabic, from the visible language switch: the same record, right to left, in Arabic.
    switch = page.locator("a[hreflang=ar]")
    expect(switch, "the page has a link to its Arabic version").to_have_count(1)
    with page.expect_navigation():
        switch.click()
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    assert urlsplit(page.url).path == record_path
    expect(page.locator("h1")).to_have_text("Anscombe's quartet")  # metadata stays as deposited
    files_heading = page.locator("#files").inner_text()
    assert ARABIC.search(files_heading), f"the files heading is not in Arabic: {files_heading!r}"
    direction = page.evaluate("getComputedStyle(document.body).direction")
    assert direction == "rtl"

    # Download each file from the table; the bytes are the ones whose SHA-256 the page shows.
    rows = page.locator("section[aria-labelledby=files] tbody tr")
    keys = []
    for index in range(rows.count()):
        row = rows.nth(index)
        link = row.locator("a[download]")
        shown = row.locator("code").inner_text().strip()
        with page.expect_download() as info:
            link.click()
        download = info.value
        assert download.failure() is None
        assert download.suggested_filename == link.inner_text().strip()
        assert sha256_file(Path(download.path())) == shown
        keys.append(download.suggested_filename)
    assert sorted(keys) == ["README.txt", "anscombe.csv"]

    # Copy the citation with the page's button and read the clipboard back.
    citation = " ".join(page.locator("#citation").inner_text().split())
    assert "Anscombe" in citation
    button = page.locator("#copy-citation")
    expect(button, "the citation box has a copy button").to_be_visible()
    button.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert " ".join(copied.split()) == citation

    assert traffic.external == []
    assert all(url.startswith(demo.url) for url in traffic.urls), traffic.urls


def test_without_javascript_search_filter_and_record_still_work(browser: Browser, demo: Demo) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        traffic = watch(context)
        page = context.new_page()
        find_and_open_dataset(page, demo)
        expect(page.locator("#citation")).to_contain_text("Anscombe")
        row = page.locator("section[aria-labelledby=files] tbody tr", has_text="anscombe.csv")
        with page.expect_download() as info:
            row.locator("a[download]").click()
        assert sha256_file(Path(info.value.path())) == row.locator("code").inner_text().strip()
        assert traffic.external == []
    finally:
        context.close()
