"""The node's face: errors for people and for programs, the About and Communities pages, favicons, link
previews, the operator's colours (checked for contrast) and the API docs served from the node itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import html

from osnode.app import create_app
from osnode.config import ConfigError, contrast_ratio, load_settings
from osnode.services.node import Node
from osnode.web import theme
from tests.conftest import Account
from tests.web.conftest import PROBLEM, assert_problem, published_record

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def page(response) -> html.HtmlElement:  # type: ignore[no-untyped-def]
    assert response.headers["content-type"].startswith("text/html"), response.text[:200]
    return html.fromstring(response.content)


# -- errors: a page for people, problem+json for programs ----------------------------------------


def _error_routes(client: TestClient, depositor: Account) -> dict[int, tuple[str, str, dict[str, str]]]:
    gone = published_record(client, depositor)
    response = client.post(
        f"/api/records/{gone['record_id']}/withdraw", json={"reason": "duplicate"}, headers=depositor.headers
    )
    assert response.status_code == 200, response.text
    return {
        404: ("GET", "/communities/nope", {}),
        401: ("GET", "/admin/peers", {"Authorization": "Bearer osn_not-a-token"}),  # no session: sign-in page
        403: ("GET", "/admin/peers", depositor.headers),
        405: ("POST", "/about", {}),
        410: ("GET", f"/records/{gone['record_id']}/export/bibtex", {}),
        400: ("GET", "/admin/peers", {"Authorization": "Basic abc"}),
    }


def test_browsers_get_a_translated_page_with_a_way_on(client: TestClient, depositor: Account) -> None:
    for status, (method, path, headers) in _error_routes(client, depositor).items():
        response = client.request(method, path, headers=BROWSER | headers)
        expected = 401 if status == 400 else status  # a malformed Authorization header is a 401 too
        assert response.status_code == expected, (path, response.text[:300])
        doc = page(response)
        assert doc.xpath("//h1"), path
        assert doc.xpath("//main//a[@href='/']") and doc.xpath("//main//a[@href='/search']"), path
        assert "Vary" in response.headers and "Accept" in response.headers["Vary"]
    assert page(client.get("/records/doesnotexist", headers=BROWSER)).xpath("//main//a[@href='/']")
    french = client.get("/records/doesnotexist", headers=BROWSER | {"Accept-Language": "fr"})
    assert french.status_code == 404
    assert page(french).xpath("string(//h1)") == "Page introuvable"
    arabic = client.get("/records/doesnotexist", headers=BROWSER | {"Accept-Language": "ar"})
    assert page(arabic).get("dir") == "rtl"
    assert page(arabic).xpath("string(//h1)") != "Page not found"


@pytest.mark.parametrize("accept", ["*/*", "application/json", PROBLEM, None, "text/html;q=0.5, application/json"])
def test_programs_keep_problem_json(client: TestClient, depositor: Account, accept: str | None) -> None:
    headers = {"Accept": accept} if accept else {}
    for status, (method, path, extra) in _error_routes(client, depositor).items():
        response = client.request(method, path, headers=headers | extra)
        assert_problem(response, 401 if status == 400 else status)


def test_api_paths_answer_json_even_to_a_browser(client: TestClient) -> None:
    assert_problem(client.get("/api/records/doesnotexist", headers=BROWSER), 404)
    assert_problem(client.get("/api/communities/nope", headers=BROWSER), 404)


def test_a_validation_error_is_a_page_for_a_browser(client: TestClient) -> None:
    response = client.get("/sitemap-x.xml", headers=BROWSER)
    assert response.status_code in (404, 422)
    page(response)
    assert_problem(client.get("/sitemap-x.xml"), response.status_code)


# -- communities, about, footer ------------------------------------------------------------------


def test_communities_pages_and_the_landing_page_show_membership(
    client: TestClient, depositor: Account, curator: Account
) -> None:
    body = {"slug": "hydrology", "title": "Hydrology in Angola", "description": "Rain and rivers."}
    assert client.post("/api/communities", json=body, headers=curator.headers).status_code == 201
    record = published_record(client, depositor)
    other = published_record(client, depositor)
    included = client.put(f"/api/communities/hydrology/records/{record['record_id']}", headers=curator.headers)
    assert included.status_code == 200, included.text

    listing = page(client.get("/communities"))
    assert listing.xpath("//a[@href='/communities/hydrology']/text()") == ["Hydrology in Angola"]
    assert "curator" in listing.text_content()
    community = page(client.get("/communities/hydrology"))
    links = community.xpath("//main//a/@href")
    assert f"/records/{record['record_id']}" in links and f"/records/{other['record_id']}" not in links
    assert community.xpath("//meta[@property='og:description']/@content") == ["Rain and rivers."]
    landing = page(client.get(f"/records/{record['record_id']}"))
    assert landing.xpath("//dd[@id='communities']/a/@href") == ["/communities/hydrology"]
    assert not page(client.get(f"/records/{other['record_id']}")).xpath("//dd[@id='communities']")
    for slug in ("nope", "UPPER", "a%00b"):
        assert client.get(f"/communities/{slug}", headers=BROWSER).status_code == 404


def test_about_page_footer_and_link_previews(tmp_path: Path, database_url: str, depositor_factory=None) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(
        tmp_path,
        database_url=database_url if not database_url.startswith("sqlite") else None,
        node_name="Luanda Data",
        admin_email="data@uan.example",
        node_description="Research data of the university.",
        accent_color="#7A1F5C",
    )
    node = Node.open(settings)
    try:
        with TestClient(create_app(node)) as client:
            about = page(client.get("/about"))
            assert about.xpath("string(//h1)") == "About Luanda Data"
            assert "Research data of the university." in about.text_content()
            assert about.xpath("//main//a[@href='mailto:data@uan.example']")
            footer = about.xpath("//footer")[0].text_content()
            assert "CC0" in footer and "Powered by Open Science Node" in footer
            home = page(client.get("/"))
            assert home.xpath("//meta[@property='og:site_name']/@content") == ["Luanda Data"]
            assert "--a:#7a1f5c" in home.xpath("string(//style)")
            svg = client.get("/favicon.svg")
            assert svg.headers["content-type"].startswith("image/svg+xml") and "#7a1f5c" in svg.text
            ico = client.get("/favicon.ico")
            assert ico.headers["content-type"] == "image/x-icon" and ico.content[:4] == b"\x00\x00\x01\x00"
    finally:
        node.close()


def test_landing_page_has_badges_link_preview_and_preview_links(client: TestClient, depositor: Account) -> None:
    record = published_record(client, depositor)
    doc = page(client.get(f"/records/{record['record_id']}"))
    badges = [b.text_content() for b in doc.xpath("//ul[@class='badges']/li")]
    assert "CC-BY-4.0" in badges and any(b.startswith("Version") for b in badges), badges
    assert doc.xpath("//meta[@property='og:title']/@content") == ["Rainfall at Luanda, 2001-2020"]
    assert doc.xpath("//meta[@name='twitter:card']/@content") == ["summary"]
    assert doc.xpath(f"//a[@href='/records/{record['id']}/files/data.csv/explore']")
    assert doc.xpath("//section[@aria-labelledby='metrics']")
    assert doc.xpath("//div[@class='scroll']/table")


# -- the operator's colours ----------------------------------------------------------------------


def test_palette_meets_wcag_aa_with_the_default_accent() -> None:
    colours = theme.PALETTE | {"accent": load_settings(Path("/nonexistent")).accent_color}
    for text, background in theme.TEXT_PAIRS:
        ratio = contrast_ratio(colours[text], colours[background])
        assert ratio >= 4.5, f"{text} on {background}: {ratio:.2f}"


@pytest.mark.parametrize("bad", ["red", "#fff", "#ffcc00", "#12345", "#0b5394; background:url(x)", ""])
def test_an_accent_that_is_not_a_dark_enough_hex_colour_is_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError, match="accent_color"):
        load_settings(tmp_path, accent_color=bad)


@pytest.mark.parametrize("bad", ["https://cdn.example/logo.png", "//cdn.example/x.svg", "/\\\\evil", '/a"onerror=x'])
def test_a_logo_from_elsewhere_is_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError, match="logo_url"):
        load_settings(tmp_path, logo_url=bad)


# -- API docs from the node ----------------------------------------------------------------------


def test_api_docs_load_nothing_from_elsewhere(client: TestClient) -> None:
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    sources = html.fromstring(docs.content).xpath("//script/@src | //link/@href")
    assert sources and all(s.startswith("/") for s in sources), sources
    assert "validatorUrl" in docs.text
    for src in sources:
        asset = client.get(src)
        assert asset.status_code == 200 and len(asset.content) > 100, src


def test_the_way_back_is_the_referring_page_on_this_node_only(client: TestClient) -> None:
    ours = page(client.get("/communities/nope", headers=BROWSER | {"Referer": "http://testserver/search?q=x"}))
    assert ours.xpath("//main//a[@href='/search?q=x']")
    theirs = page(client.get("/communities/nope", headers=BROWSER | {"Referer": "https://evil.example/x"}))
    assert (
        not theirs.xpath("//main//a[contains(@href, 'evil')]") and "javascript:" not in html.tostring(theirs).decode()
    )


def test_arabic_landing_page_keeps_numbers_dates_and_identifiers_left_to_right(
    client: TestClient, depositor: Account
) -> None:
    record = published_record(client, depositor)
    doc = page(client.get(f"/records/{record['record_id']}", headers={"Accept-Language": "ar"}))
    assert doc.get("dir") == "rtl"
    sizes = doc.xpath("//section[@aria-labelledby='files']//td/bdi/text()")
    assert len(sizes) == 1 and any(c.isdigit() for c in sizes[0]), sizes
    published = doc.xpath("//dl[@class='facts']/dd[1]/bdi/text()")
    assert len(published) == 1 and any(c.isdigit() for c in published[0]), published
    assert doc.xpath("//dd/a[@dir='ltr' and starts-with(@href, 'http://testserver/')]")  # the identifier
    style = doc.xpath("string(//style)")
    assert "td{unicode-bidi:plaintext}" in style and "direction:ltr;unicode-bidi:isolate" in style
