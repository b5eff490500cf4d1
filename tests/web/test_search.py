"""Search over HTTP: the JSON API, the no-JavaScript search page, Atom feeds, sitemap and robots.txt."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient
from lxml import etree, html

from tests.conftest import Account, minimal_metadata
from tests.web.conftest import published_record

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def some_records(client: TestClient, account: Account) -> list[dict]:
    specs = [
        ("Rainfall at Luanda", "Dataset", 2021, "Climate", "Gauge readings at the airport."),
        ("Rainfall in Jakarta", "Dataset", 2022, "Climate", "Monsoon rainfall & flooding <b>data</b>."),
        ("Coral reef survey", "Dataset", 2022, "Ecology", "Reef transects."),
        ("Rainfall model code", "Software", 2023, "Climate", "Code to fit rainfall models."),
    ]
    return [
        published_record(
            client,
            account,
            metadata=minimal_metadata(
                titles=[{"title": title}],
                resourceType={"resourceTypeGeneral": kind},
                publicationYear=year,
                subjects=[{"subject": subject}],
                descriptions=[{"description": description}],
            ),
        )
        for title, kind, year, subject, description in specs
    ]


def test_api_search_with_facets_filters_and_paging(client: TestClient, depositor: Account) -> None:
    some_records(client, depositor)
    response = client.get("/api/search", params={"q": "rainfall", "subject": "Climate"})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3 and body["messages"] == []
    assert body["items"][0]["title"].startswith("Rainfall")
    assert {v["value"]: v["count"] for v in body["facets"]["kind"]} == {"Dataset": 2, "Software": 1}
    # The snippet is the description's matching passage; where only the title matches (Luanda), the
    # description itself, never the title again.
    snippets = {item["title"]: item["snippet"] for item in body["items"]}
    assert "<mark>" in snippets["Rainfall in Jakarta"] and "<mark>" in snippets["Rainfall model code"]
    assert snippets["Rainfall at Luanda"] == "Gauge readings at the airport."
    filtered = client.get("/api/search?q=rainfall&kind=Software&kind=Dataset&year=2022&sort=title").json()
    assert [i["title"] for i in filtered["items"]] == ["Rainfall in Jakarta"]
    paged = client.get("/api/search?q=rainfall&size=2&sort=title").json()
    assert [i["title"] for i in paged["items"]] == ["Rainfall at Luanda", "Rainfall in Jakarta"]
    assert paged["pages"] == 2
    nxt = client.get(paged["links"]["next"]).json()
    assert [i["title"] for i in nxt["items"]] == ["Rainfall model code"] and nxt["links"]["next"] is None
    record = client.get(body["items"][0]["url"])
    assert record.status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        'q="unbalanced',
        "q=*",
        "q=NEAR(rain%20luanda)%20OR%20AND",
        "q=rain&page=99999999999999999999",
        "q=rain&page=-3&size=0",
        "q=rain&page=abc&size=abc",
        "q=rain&colour=blue",
        "year=twenty&sort=sideways",
        "q=%00%FF",
    ],
)
def test_malformed_searches_get_a_normal_answer_with_a_message(
    client: TestClient, depositor: Account, query: str
) -> None:
    some_records(client, depositor)
    api = client.get(f"/api/search?{query}")
    assert api.status_code == 200, api.text
    body = api.json()
    assert isinstance(body["items"], list)
    page = client.get(f"/search?{query}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    if query not in ("q=NEAR(rain%20luanda)%20OR%20AND",):
        assert body["messages"], body
        assert 'class="msg"' in page.text
    feed = client.get(f"/search.atom?{query}")
    assert feed.status_code == 200
    etree.fromstring(feed.content)


def test_search_page_works_without_javascript(client: TestClient, depositor: Account) -> None:
    some_records(client, depositor)
    page = client.get("/search?q=rainfall")
    assert page.status_code == 200
    doc = html.fromstring(page.text)
    assert not doc.xpath("//script")
    form = doc.xpath("//form[@role='search']")[0]
    assert form.get("method") == "get" and form.get("action") == "/search"
    assert [h.text_content() for h in doc.xpath("//ol[@class='hits']//h3")][0].startswith("Rainfall")
    assert doc.xpath("//ol[@class='hits']//mark")
    assert "<b>data</b>" not in page.text  # metadata is escaped, only <mark> is markup
    # Facet links carry counts and lead to the filtered search.
    kind_links = {a.text_content(): a.get("href") for a in doc.xpath("//aside//a")}
    assert "Software" in kind_links
    software = kind_links["Software"]
    assert dict(parse_qsl(urlsplit(software).query)) == {"q": "rainfall", "sort": "relevance", "kind": "Software"}
    assert "(1)" in doc.xpath("//aside//a[text()='Software']/following-sibling::span")[0].text_content()
    filtered = html.fromstring(client.get(software).text)
    assert [h.text_content() for h in filtered.xpath("//ol[@class='hits']//h3")] == ["Rainfall model code"]
    # The chosen filter can be removed again.
    removal = filtered.xpath("//a[@title='Remove this filter']")[0].get("href")
    assert len(html.fromstring(client.get(removal).text).xpath("//ol[@class='hits']/li")) == 3
    # The page links its own feed.
    assert doc.xpath("//link[@rel='alternate' and @type='application/atom+xml']")


def test_search_page_paginates_with_links(client: TestClient, depositor: Account) -> None:
    some_records(client, depositor)
    doc = html.fromstring(client.get("/search?q=rainfall&size=2&sort=title").text)
    nxt = doc.xpath("//a[@rel='next']")[0].get("href")
    second = html.fromstring(client.get(nxt).text)
    assert [h.text_content() for h in second.xpath("//ol[@class='hits']//h3")] == ["Rainfall model code"]
    assert second.xpath("//a[@rel='prev']") and not second.xpath("//a[@rel='next']")


def _check_atom(content: bytes) -> etree._Element:
    feed = etree.fromstring(content)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{required}") is not None, required
    assert feed.find(f"{ATOM}link[@rel='self']") is not None
    has_feed_author = feed.find(f"{ATOM}author/{ATOM}name") is not None
    datetime.fromisoformat(feed.findtext(f"{ATOM}updated").replace("Z", "+00:00"))
    for entry in feed.findall(f"{ATOM}entry"):
        for required in ("id", "title", "updated"):
            assert entry.findtext(f"{ATOM}{required}"), required
        datetime.fromisoformat(entry.findtext(f"{ATOM}updated").replace("Z", "+00:00"))
        assert has_feed_author or entry.find(f"{ATOM}author/{ATOM}name") is not None
        assert entry.find(f"{ATOM}link[@rel='alternate']") is not None
    return feed


def test_node_feed_lists_new_records_newest_first(client: TestClient, depositor: Account, admin: Account) -> None:
    made = some_records(client, depositor)
    response = client.get("/feed.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = _check_atom(response.content)
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [m["metadata"]["titles"][0]["title"] for m in made][::-1]
    assert entries[0].findtext(f"{ATOM}id") == f"http://testserver/records/{made[-1]['record_id']}"
    assert entries[0].findtext(f"{ATOM}author/{ATOM}name") == "Silva, Ana"
    # Withdrawn records drop out of the feed.
    client.post(f"/api/records/{made[-1]['record_id']}/withdraw", json={"reason": "duplicate"}, headers=admin.headers)
    again = _check_atom(client.get("/feed.atom").content)
    assert len(again.findall(f"{ATOM}entry")) == 3


def test_empty_node_feed_is_still_valid(client: TestClient) -> None:
    feed = _check_atom(client.get("/feed.atom").content)
    assert feed.findall(f"{ATOM}entry") == []


def test_search_feed_follows_any_search(client: TestClient, depositor: Account) -> None:
    some_records(client, depositor)
    feed = _check_atom(client.get("/search.atom?q=rainfall&kind=Dataset").content)
    assert [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")] == [
        "Rainfall in Jakarta",
        "Rainfall at Luanda",
    ]
    assert "rainfall" in feed.findtext(f"{ATOM}title")
    assert feed.find(f"{ATOM}link[@rel='self']").get("href").startswith("http://testserver/search.atom?q=rainfall")


def test_sitemap_lists_every_published_landing_page(client: TestClient, depositor: Account, admin: Account) -> None:
    made = some_records(client, depositor)
    client.post("/api/records", json={"metadata": minimal_metadata()}, headers=depositor.headers)  # a draft
    client.post(f"/api/records/{made[0]['record_id']}/withdraw", json={"reason": "duplicate"}, headers=admin.headers)
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    doc = etree.fromstring(response.content)
    assert doc.tag == f"{SITEMAP}urlset"
    locs = [u.findtext(f"{SITEMAP}loc") for u in doc.findall(f"{SITEMAP}url")]
    assert sorted(locs) == sorted(f"http://testserver/records/{m['record_id']}" for m in made[1:])
    for url in doc.findall(f"{SITEMAP}url"):
        datetime.fromisoformat(url.findtext(f"{SITEMAP}lastmod").replace("Z", "+00:00"))
        assert client.get(url.findtext(f"{SITEMAP}loc")).status_code == 200


def test_robots_points_at_the_sitemap(client: TestClient) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert "Sitemap: http://testserver/sitemap.xml" in lines
    assert "User-agent: *" in lines
    assert "Disallow: /records" not in response.text
