"""The landing page: every element a reader needs, within the page budget, without JavaScript."""

from __future__ import annotations

import copy
import gzip
import json
import re
from typing import Any

from fastapi.testclient import TestClient
from lxml import html
from sqlalchemy import update

from osnode.services.node import Node
from osnode.storage.catalog import versions
from tests.conftest import Account, minimal_metadata
from tests.formats.conftest import RICH
from tests.web.conftest import create_draft, publish, published_record, sha256, upload

DATA = b"site,year,mm\nLuanda,2001,405\n"
CODEBOOK = b"%PDF-1.4 codebook\n"


def rich_metadata() -> dict[str, Any]:
    meta = copy.deepcopy(RICH)
    meta.pop("doi")
    return meta


def page_tree(client: TestClient, url: str, **headers: str) -> html.HtmlElement:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return html.fromstring(response.content)


def hrefs(tree: html.HtmlElement) -> set[str]:
    return {a.get("href") for a in tree.iter("a")}


def test_landing_page_shows_every_element(client: TestClient, depositor: Account) -> None:
    v1 = published_record(client, depositor, {"survey.csv": DATA, "codebook.pdf": CODEBOOK}, metadata=rich_metadata())
    base = f"http://testserver/records/{v1['id']}"
    tree = page_tree(client, f"/records/{v1['id']}")
    text = tree.text_content()
    links = hrefs(tree)

    assert tree.findtext(".//h1") == "Inquérito sobre malária em Luanda, 2024"
    assert "Malaria survey in Luanda, 2024" in text
    # Creators, their ORCID iDs and their affiliations' ROR ids, as links.
    for name in ("Ngola, João", "김, 민준", "محمد", "Consórcio de Saúde Pública de Angola"):
        assert name in text
    assert "https://orcid.org/0000-0001-5109-3700" in links
    assert "https://orcid.org/0000-0002-1694-233X" in links
    assert "https://ror.org/02s376052" in links  # the affiliation
    assert "https://ror.org/03efmqc40" in links  # the organisation's own ROR id
    assert "Universidade Agostinho Neto" in text and "Instituto Nacional de Saúde" in text
    # Descriptions, each paragraph kept.
    assert "Household survey of malaria prevalence." in text and "Two rounds." in text
    assert "Random sampling <by block> & GPS." in text
    # Files: names, sizes, full SHA-256, download links.
    rows = {
        row.findtext("td[1]//a") or row.findtext("td[1]"): row
        for row in tree.iterfind(".//section[@aria-labelledby='files']//tbody/tr")
    }
    assert set(rows) == {"survey.csv", "codebook.pdf"}
    assert rows["survey.csv"].findtext("td[2]/bdi") == f"{len(DATA)} B"
    assert rows["survey.csv"].findtext("td[3]/code") == sha256(DATA)
    assert rows["codebook.pdf"].findtext("td[3]/code") == sha256(CODEBOOK)
    assert f"{base}/files/survey.csv" in links and f"{base}/files/codebook.pdf" in links
    assert client.get(f"{base}/files/survey.csv").content == DATA
    # Licence with its SPDX page; the other rights statement with its own URL.
    licence = tree.get_element_by_id("licence")
    assert "https://spdx.org/licenses/CC-BY-4.0.html" in hrefs(licence)
    assert "https://example.org/terms" in hrefs(licence)
    # Access status, provenance, versions.
    assert tree.get_element_by_id("access").text_content().strip() == "open"
    assert "this node" in tree.get_element_by_id("provenance").text_content()
    assert f"/records/{v1['id']}" in links
    # Related identifiers resolve to links.
    assert "https://doi.org/10.1080/00031305.1973.10478966" in links
    assert "https://archive.softwareheritage.org/swh:1:dir:d198bc9d7a6bcf6db04f476d29314f157507d505" in links
    assert "https://arxiv.org/abs/2101.00001" in links
    assert "https://example.org/protocol" in links
    # The citation box: a plain-text citation and every export.
    citation = tree.get_element_by_id("citation").text_content()
    assert citation.startswith("Ngola, J., 김, 민., محمد, & Consórcio de Saúde Pública de Angola. (2026).")
    assert citation.endswith(base)
    for name in ("bibtex", "csl-json", "ris", "datacite-xml", "datacite-json", "json-ld"):
        assert f"{base}/export/{name}" in links


def test_concept_url_shows_the_latest_version(client: TestClient, depositor: Account) -> None:
    v1 = published_record(client, depositor, {"rain.csv": DATA})
    made = client.post(f"/api/records/{v1['id']}/versions", headers=depositor.headers)
    assert made.status_code == 201, made.text
    v2 = made.json()
    changed = client.put(
        f"/api/records/{v2['id']}",
        json={"metadata": minimal_metadata(titles=[{"title": "Rainfall at Luanda, 2001-2024"}])},
        headers=depositor.headers,
    )
    assert changed.status_code == 200, changed.text
    publish(client, depositor, v2["id"])
    tree = page_tree(client, f"/records/{v1['record_id']}")
    assert tree.findtext(".//h1") == "Rainfall at Luanda, 2001-2024"
    versions_list = tree.get_element_by_id("versions").getnext()
    assert [a.get("href") for a in versions_list.iter("a")] == [f"/records/{v1['id']}", f"/records/{v2['id']}"]
    assert "(latest)" in versions_list[1].text_content() and "(latest)" not in versions_list[0].text_content()
    # The old version keeps its own page.
    assert page_tree(client, f"/records/{v1['id']}").findtext(".//h1") == "Rainfall at Luanda, 2001-2020"


def test_restricted_files_are_listed_without_links(client: TestClient, depositor: Account) -> None:
    version = published_record(client, depositor, {"cohort.csv": DATA}, access={"level": "restricted"})
    file_url = f"http://testserver/records/{version['id']}/files/cohort.csv"
    anonymous = page_tree(client, f"/records/{version['id']}")
    assert "cohort.csv" in anonymous.text_content()
    # Name and size, never the checksum: it confirms guesses about the content (docs/security.md).
    assert sha256(DATA) not in anonymous.text_content()
    assert file_url not in hrefs(anonymous)
    assert "not available to you" in anonymous.get_element_by_id("access").text_content()
    assert file_url not in anonymous.findtext(".//script")
    owner = page_tree(client, f"/records/{version['id']}", **depositor.headers)
    assert file_url in hrefs(owner)
    assert sha256(DATA) in owner.text_content()


def test_harvested_record_names_its_origin(node: Node, client: TestClient, depositor: Account) -> None:
    version = published_record(client, depositor)
    with node.transaction() as conn:
        conn.execute(
            update(versions).where(versions.c.id == version["id"]).values(origin_node="https://data.example.ac.kr")
        )
    tree = page_tree(client, f"/records/{version['id']}")
    provenance = tree.get_element_by_id("provenance")
    assert "harvested from" in provenance.text_content()
    assert hrefs(provenance) == {"https://data.example.ac.kr"}


def test_json_ld_is_the_only_script(client: TestClient, depositor: Account) -> None:
    version = published_record(client, depositor, metadata=rich_metadata())
    response = client.get(f"/records/{version['id']}")
    scripts = html.fromstring(response.content).findall(".//script")
    # The JSON-LD, and the tiny inline script that shows the copy-citation button (the page works without it).
    assert [s.get("type") for s in scripts] == ["application/ld+json", None]
    assert "navigator.clipboard.writeText" in scripts[1].text and len(scripts[1].text) < 600
    assert response.text.count("<script") == 2
    doc = json.loads(scripts[0].text)
    assert doc["@type"] == "Dataset"
    assert doc["@id"] == f"http://testserver/records/{version['id']}"
    assert doc["creator"][0]["@id"] == "https://orcid.org/0000-0001-5109-3700"
    assert doc["license"][0] == "https://spdx.org/licenses/CC-BY-4.0.html"
    assert doc["distribution"][0]["contentUrl"].endswith("/files/data.csv")
    # No event handlers, no javascript: URLs, nothing loaded from elsewhere.
    assert not re.search(r"\son[a-z]+=", response.text)
    assert "javascript:" not in response.text
    tree = html.fromstring(response.content)
    assert all(src.startswith("/") and not src.startswith("//") for src in tree.xpath("//*/@src"))
    assert not tree.xpath("//link[@rel='stylesheet']")
    assert "@import" not in response.text and "url(" not in response.text


def test_page_weight_budget_and_print_stylesheet(client: TestClient, depositor: Account) -> None:
    files = {f"table-{i:02d}.csv": f"{i}\n".encode() for i in range(20)}
    version = published_record(client, depositor, files, metadata=rich_metadata())
    response = client.get(f"/records/{version['id']}")
    assert response.status_code == 200
    assert len(gzip.compress(response.content)) < 30 * 1024
    assert "@media print" in response.text


def test_withdrawn_record_keeps_a_tombstone(client: TestClient, depositor: Account, curator: Account) -> None:
    version = published_record(client, depositor)
    out = client.post(
        f"/api/records/{version['id']}/withdraw", json={"reason": "consent revoked"}, headers=curator.headers
    )
    assert out.status_code == 200, out.text
    page = client.get(f"/records/{version['id']}")
    assert page.status_code == 410
    assert "consent revoked" in page.text and "Withdrawn" in page.text
    assert {"accept", "accept-language", "cookie"} <= {v.strip().lower() for v in page.headers["vary"].split(",")}
    assert "data.csv" not in page.text


def test_draft_page_is_for_its_owner(client: TestClient, depositor: Account) -> None:
    draft = create_draft(client, depositor)
    upload(client, depositor, draft["id"], "data.csv", DATA)
    assert client.get(f"/records/{draft['id']}").status_code == 404
    tree = page_tree(client, f"/records/{draft['id']}", **depositor.headers)
    assert "draft" in tree.text_content()
