"""Light and accessible pages, measured in a real browser: bytes on the wire, no third-party requests,
a 2G link, keyboard use, alt text, WCAG AA contrast and a print stylesheet."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import PAGE_BUDGET, Demo, watch

PAGES = {
    "home": lambda demo: demo.url + "/",
    "search": lambda demo: demo.url + "/search?q=Anscombe+quartet",
    "search-filtered": lambda demo: demo.url + "/search?q=statistics&kind=Dataset&sort=newest",
    "dataset": lambda demo: demo.landing("Dataset"),
    "article": lambda demo: demo.landing("JournalArticle"),
    "software": lambda demo: demo.landing("Software"),
}
# 400 kbit/s each way, 400 ms latency: a poor 2G link. CDP takes throughput in bytes per second.
SLOW_LINK = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8}
MAIN_CONTENT = ["h1", "section[aria-labelledby=files] table"]
LOAD_LIMIT_MS = 5000


# -- bytes on the wire ---------------------------------------------------------------------------


def transferred(context: BrowserContext, url: str) -> tuple[dict[str, int], str | None]:
    """Bytes each request of one page load took on the wire (headers included, as received),
    and the document's Content-Encoding."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    urls: dict[str, str] = {}
    sizes: dict[str, int] = {}
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    page.wait_for_load_state("networkidle")
    encoding = response.header_value("content-encoding")
    page.close()
    return {urls[rid]: size for rid, size in sizes.items() if rid in urls}, encoding


def is_users_file(url: str) -> bool:
    return "/files/" in url


@pytest.mark.parametrize("name", PAGES)
def test_page_weight_and_no_third_party_requests(browser: Browser, demo: Demo, name: str) -> None:
    context = browser.new_context()
    try:
        traffic = watch(context)
        url = PAGES[name](demo)
        sizes, encoding = transferred(context, url)
        assert url in sizes, sizes
        assert encoding == "gzip", f"{url} was sent uncompressed"
        total = sum(size for request, size in sizes.items() if not is_users_file(request))
        assert total <= PAGE_BUDGET, f"{name}: {total} bytes transferred (budget {PAGE_BUDGET}): {sizes}"
        assert traffic.external == [], f"{name} asked other hosts for {traffic.external}"
        # Nothing in the page points the browser elsewhere for fonts, styles, scripts or frames either.
        page = context.new_page()
        page.goto(url)
        outside = page.evaluate(
            """() => [...document.querySelectorAll(
                   'script[src], link[rel~=stylesheet], link[rel~=preload], link[rel~=icon], link[rel~=manifest],'
                   + ' img, iframe, video, audio, source, object, embed, image, use')]
                 .map(e => e.src || e.href?.baseVal || e.href || e.data || '')
                 .filter(u => u && !u.startsWith(location.origin))"""
        )
        assert outside == []
        css = page.evaluate("[...document.querySelectorAll('style')].map(s => s.textContent).join('\\n')")
        assert "@import" not in css and "@font-face" not in css and "url(http" not in css
    finally:
        context.close()


# -- a 2G link -----------------------------------------------------------------------------------


def test_landing_page_renders_within_5_seconds_at_400_kbps(context: BrowserContext, demo: Demo) -> None:
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", SLOW_LINK)
    started = time.monotonic()
    page.goto(demo.landing("Dataset"), wait_until="commit", timeout=LOAD_LIMIT_MS)
    for selector in MAIN_CONTENT:
        left_ms = LOAD_LIMIT_MS - (time.monotonic() - started) * 1000
        page.wait_for_selector(selector, state="visible", timeout=max(left_ms, 1))
    expect(page.locator("h1")).to_have_text("Anscombe's quartet")
    # The emulation really applied: Chromium holds each response back by the emulated latency.
    navigation = page.evaluate("performance.getEntriesByType('navigation')[0].toJSON()")
    assert navigation["responseEnd"] - navigation["requestStart"] >= SLOW_LINK["latency"] * 0.9, navigation


# -- accessibility -------------------------------------------------------------------------------

FOCUSED = """() => {
  const e = document.activeElement, s = getComputedStyle(e);
  return {tag: e.tagName.toLowerCase(), name: e.getAttribute('name'), hreflang: e.getAttribute('hreflang'),
          href: e.getAttribute('href'), visible: e.matches(':focus-visible'),
          ring: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none'};
}"""


def tab_through(page: Page, limit: int = 80) -> list[dict[str, Any]]:
    """Everything Tab reaches, in order, until focus comes round again."""
    reached: list[dict[str, Any]] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused["tag"] == "body" or (reached and focused == reached[0]):
            break
        reached.append(focused)
    return reached


def test_keyboard_reaches_search_language_switch_and_links(page: Page, demo: Demo) -> None:
    page.goto(demo.url + "/")
    reached = tab_through(page)
    assert any(f["tag"] == "input" and f["name"] == "q" for f in reached), reached
    assert any(f["tag"] == "a" and f["hreflang"] == "ar" for f in reached), reached
    assert any(f["tag"] == "a" and (f["href"] or "").startswith("/records/") for f in reached), reached
    unmarked = [f for f in reached if not (f["visible"] and f["ring"])]
    assert unmarked == [], f"focus is not visible on {unmarked}"
    # The language switch works from the keyboard alone.
    page.locator("a[hreflang=ar]").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    # And so does the search form.
    page.locator("main input[name=q]").focus()
    page.keyboard.type("Anscombe")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("ol.hits h3 a")).to_have_count(3)


UNLABELLED = """() => [...document.querySelectorAll('img, input, select, textarea, button, area, svg')]
  .filter(e => {
    const t = e.tagName.toLowerCase();
    if (t === 'img' || t === 'area') return !e.hasAttribute('alt');
    if (t === 'svg') return !(e.getAttribute('aria-label') || e.querySelector('title')
                              || e.getAttribute('aria-hidden') === 'true');
    if (t === 'input' && ['hidden', 'submit', 'reset', 'button'].includes(e.type)) return false;
    if (t === 'input' && e.type === 'image') return !e.alt;
    if (t === 'button') return !(e.textContent.trim() || e.getAttribute('aria-label'));
    return !(e.labels?.length || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby'));
  })
  .map(e => e.outerHTML.slice(0, 120))"""


@pytest.mark.parametrize("name", PAGES)
def test_semantic_structure_alt_text_and_labels(page: Page, demo: Demo, name: str) -> None:
    page.goto(PAGES[name](demo))
    assert page.evaluate(UNLABELLED) == []
    assert page.locator("html").get_attribute("lang")
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("main")).to_have_count(1)


CONTRAST = """() => {
  const parse = c => {
    const m = c.match(/^rgba?\\(([^)]+)\\)$/);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, base) => [0, 1, 2].map(i => top[i] * top[3] + base[i] * (1 - top[3]));
  const background = el => {
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
      const bg = parse(getComputedStyle(n).backgroundColor);
      if (bg && bg[3] > 0) { layers.push(bg); if (bg[3] >= 1) break; }
    }
    return layers.reverse().reduce((base, layer) => over(layer, base), [255, 255, 255]);
  };
  const luminance = rgb => {
    const [r, g, b] = rgb.map(v => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const seen = new Set(), failures = [], checked = {text: 0, link: 0};
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || seen.has(el)) continue;
    seen.add(el);
    const s = getComputedStyle(el);
    if (!el.getClientRects().length || s.visibility !== 'visible' || el.closest('script,style,noscript,template'))
      continue;
    const fg = parse(s.color);
    const bg = background(el);
    if (!fg) { failures.push({text: el.textContent.trim().slice(0, 40), color: s.color, why: 'unparsed'}); continue; }
    const [l1, l2] = [luminance(over(fg, bg)), luminance(bg)].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    checked[el.closest('a') ? 'link' : 'text'] += 1;
    if (ratio < needed)
      failures.push({text: el.textContent.trim().slice(0, 40), color: s.color, background: bg, ratio, needed});
  }
  return {checked, failures};
}"""


@pytest.mark.parametrize("name", ["home", "search", "dataset", "dataset-ar"])
def test_text_and_links_meet_wcag_aa_contrast(page: Page, demo: Demo, name: str) -> None:
    if name == "dataset-ar":
        page.goto(demo.landing("Dataset"))
        with page.expect_navigation():
            page.locator("a[hreflang=ar]").click()
    else:
        page.goto(PAGES[name](demo))
    result = page.evaluate(CONTRAST)
    assert result["checked"]["text"] > 5 and result["checked"]["link"] > 5, result["checked"]
    assert result["failures"] == []


def test_print_stylesheet_hides_navigation(page: Page, demo: Demo) -> None:
    page.goto(demo.landing("Dataset"))
    expect(page.locator("nav").first).to_be_visible()
    page.emulate_media(media="print")
    navs = page.locator("nav")
    assert navs.count() > 0
    for index in range(navs.count()):
        expect(navs.nth(index)).to_be_hidden()
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("#citation")).to_be_visible()
    page.emulate_media(media="screen")
    expect(page.locator("nav").first).to_be_visible()


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("name", PAGES)
def test_fits_a_390_px_phone_without_sideways_scrolling(browser: Browser, demo: Demo, name: str, language: str) -> None:
    # Wide tables scroll inside their own box; the page itself must not (a long URL in the facts once did).
    phone = {"width": 390, "height": 800}
    context = browser.new_context(viewport=phone, extra_http_headers={"Accept-Language": language})
    try:
        page = context.new_page()
        page.goto(PAGES[name](demo))
        assert page.locator("html").get_attribute("lang") == language
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
