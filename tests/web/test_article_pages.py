"""An article's landing page and exports: Google Scholar tags, schema.org's issue/volume/periodical, JATS and DOAJ
exports, and the errors for a record they do not describe."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import html

from tests.article_schemas import assert_jats
from tests.conftest import Account
from tests.formats.conftest import ARTICLE
from tests.formats.test_manuscripts import make_pdf
from tests.web.conftest import assert_problem, published_record

GALLEY_HTML = b"<!DOCTYPE html><html><body><main><h2>Methods</h2><p>We asked.</p></main></body></html>"


def article(**changes: Any) -> dict[str, Any]:
    meta = copy.deepcopy(ARTICLE)
    del meta["doi"]
    meta["titles"][0]["title"] = 'Malaria "in" <Luanda> & more'
    meta.update(changes)
    return meta


@pytest.fixture
def published(client: TestClient, depositor: Account, tmp_path: Path) -> dict[str, Any]:
    pdf = make_pdf(tmp_path / "article.pdf").read_bytes()
    files = {"article.pdf": pdf, "article.html": GALLEY_HTML}
    return published_record(client, depositor, files, metadata=article())


def test_the_landing_page_carries_google_scholar_tags(client: TestClient, published: dict[str, Any]) -> None:
    page = client.get(f"/records/{published['id']}")
    assert page.status_code == 200
    assert len(page.content) <= 30_000
    head = html.fromstring(page.content).find("head")
    tags: dict[str, list[str]] = {}
    for meta in head.iterfind("meta[@name]"):
        tags.setdefault(meta.get("name"), []).append(meta.get("content"))
    landing = f"http://testserver/records/{published['id']}"
    assert tags["citation_title"] == ['Malaria "in" <Luanda> & more']  # escaped in the page, read back whole
    assert tags["citation_author"] == ["Ngola, João", "김, 민준", "Angola Malaria Consortium"]
    assert tags["citation_author_institution"][0] == "Universidade Agostinho Neto"
    assert tags["citation_journal_title"] == ["Revista Angolana de Saúde Pública"]
    assert tags["citation_issn"] == ["2049-3630"]
    assert (tags["citation_volume"], tags["citation_issue"]) == (["12"], ["3"])
    assert (tags["citation_firstpage"], tags["citation_lastpage"]) == (["101"], ["118"])
    assert tags["citation_publication_date"][0].startswith("2026/")
    assert tags["citation_pdf_url"] == [f"{landing}/files/article.pdf"]
    assert tags["citation_fulltext_html_url"] == [f"{landing}/files/article.html"]
    assert tags["citation_abstract_html_url"] == [landing]
    json_ld = json.loads(head.find("script[@type='application/ld+json']").text)
    assert json_ld["@type"] == "ScholarlyArticle"
    assert json_ld["isPartOf"]["isPartOf"]["isPartOf"]["issn"] == "2049-3630"
    # The PDF galley is served and is the file it claims to be.
    assert client.get(f"/records/{published['id']}/files/article.pdf").content.startswith(b"%PDF-")


def test_a_dataset_page_has_no_scholar_tags(client: TestClient, depositor: Account) -> None:
    record = published_record(client, depositor)
    page = client.get(f"/records/{record['id']}")
    assert "citation_title" not in page.text and "citation_journal_title" not in page.text


def test_jats_and_doaj_exports(client: TestClient, published: dict[str, Any]) -> None:
    page = client.get(f"/records/{published['id']}")
    assert f"/records/{published['id']}/export/jats" in page.text  # offered on an article's page
    response = client.get(f"/records/{published['id']}/export/jats")
    assert response.status_code == 200 and response.headers["content-type"] == "application/jats+xml"
    root = assert_jats(response.content)
    assert [s.get("content-type") for s in root.iterfind("front/article-meta/self-uri")] == ["pdf", "html"]
    doaj = client.get(f"/records/{published['id']}/export/doaj").json()["bibjson"]
    assert {"type": "eissn", "id": "2049-3630"} in doaj["identifier"]
    assert doaj["link"][0]["content_type"] == "PDF"


def test_exports_a_record_cannot_have_are_refused(client: TestClient, depositor: Account) -> None:
    dataset = published_record(client, depositor)
    assert f"/records/{dataset['id']}/export/jats" not in client.get(f"/records/{dataset['id']}").text
    assert_problem(client.get(f"/records/{dataset['id']}/export/jats"), 404)
    no_issn = article()
    del no_issn["relatedItems"][0]["relatedItemIdentifier"]
    incomplete = published_record(client, depositor, metadata=no_issn)
    body = assert_problem(client.get(f"/records/{incomplete['id']}/export/jats"), 422)
    assert "ISSN" in body["detail"]
    browser = client.get(f"/records/{incomplete['id']}/export/doaj", headers={"Accept": "text/html"})
    assert browser.status_code == 422 and browser.headers["content-type"].startswith("text/html")
    assert "ISSN" in browser.text
