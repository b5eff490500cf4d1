"""Content negotiation on the record URL and the explicit export routes."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF
from signposting import find_signposting_http_link

from osnode.web.negotiation import choose, parse_accept
from tests.conftest import Account, minimal_metadata
from tests.formats.conftest import parse_xml
from tests.schemas import load_schema
from tests.web.conftest import assert_problem, published_record


def vary(response) -> set[str]:  # type: ignore[no-untyped-def]
    """The Vary tokens, lower-cased (pages add Accept-Language and Cookie, compression Accept-Encoding)."""
    return {v.strip().lower() for v in response.headers.get("vary", "").split(",") if v.strip()}


DATACITE_XML = "application/vnd.datacite.datacite+xml"
DATACITE_JSON = "application/vnd.datacite.datacite+json"
JSON_LD = "application/ld+json"
BIBTEX = "application/x-bibtex"
CSL_JSON = "application/vnd.citationstyles.csl+json"
RIS = "application/x-research-info-systems"
TURTLE = "text/turtle"
RDF_XML = "application/rdf+xml"
NEGOTIABLE = [DATACITE_XML, DATACITE_JSON, JSON_LD, BIBTEX, CSL_JSON, RIS, TURTLE, RDF_XML]
EXPORTS = {
    "datacite-xml": DATACITE_XML,
    "datacite-json": DATACITE_JSON,
    "json-ld": JSON_LD,
    "bibtex": BIBTEX,
    "csl-json": CSL_JSON,
    "ris": RIS,
    "oai_dc": "application/xml",
    "dcat-ttl": TURTLE,
    "dcat-rdf": RDF_XML,
    "dcat-jsonld": JSON_LD,
}
DCAT_SYNTAX = {TURTLE: "turtle", "dcat-ttl": "turtle", RDF_XML: "xml", "dcat-rdf": "xml", "dcat-jsonld": "json-ld"}


def media_type(response) -> str:  # type: ignore[no-untyped-def]
    return response.headers["content-type"].split(";")[0].strip()


def check_body(kind: str, body: bytes, landing: str) -> None:
    """The body is a well-formed document of the format, about this record."""
    if kind in (DATACITE_XML, "datacite-xml"):
        root = parse_xml(body)
        schema = load_schema("datacite/kernel-4.7/metadata.xsd")
        assert schema.validate(root), schema.error_log
        assert "Rainfall at Luanda" in etree.tostring(root, encoding="unicode")
    elif kind in (DATACITE_JSON, "datacite-json"):
        doc = json.loads(body)
        assert doc["titles"][0]["title"] == "Rainfall at Luanda, 2001-2020"
        assert doc["creators"][0]["nameIdentifiers"][0]["nameIdentifier"].endswith("0000-0002-1825-0097")
    elif kind in (JSON_LD, "json-ld"):
        doc = json.loads(body)
        assert doc["@context"] == "https://schema.org" and doc["@type"] == "Dataset" and doc["url"] == landing
    elif kind in (BIBTEX, "bibtex"):
        text = body.decode()
        assert text.startswith("@dataset{") and "title     = {Rainfall at Luanda, 2001-2020}" in text
    elif kind in (CSL_JSON, "csl-json"):
        doc = json.loads(body)
        item = doc[0] if isinstance(doc, list) else doc
        assert item["type"] == "dataset" and item["author"][0]["family"] == "Silva"
    elif kind in (RIS, "ris"):
        text = body.decode()
        assert text.startswith("TY  - DATA\r\n") and "TI  - Rainfall at Luanda, 2001-2020" in text
    elif kind == "oai_dc":
        root = parse_xml(body)
        schema = load_schema("oai-pmh/oai_dc.xsd")
        assert schema.validate(root), schema.error_log
    elif kind in DCAT_SYNTAX:
        graph = Graph().parse(data=body, format=DCAT_SYNTAX[kind])
        dataset = URIRef(f"{landing}#dataset")
        assert (dataset, RDF.type, DCAT.Dataset) in graph
        assert "Rainfall at Luanda, 2001-2020" in {str(t) for t in graph.objects(dataset, DCTERMS.title)}
    else:  # pragma: no cover - a test table error
        raise AssertionError(kind)


@pytest.mark.parametrize("accept", NEGOTIABLE)
def test_record_url_negotiates_each_type(client: TestClient, depositor: Account, accept: str) -> None:
    version = published_record(client, depositor)
    landing = f"http://testserver/records/{version['id']}"
    for url in (f"/records/{version['id']}", f"/records/{version['record_id']}"):
        response = client.get(url, headers={"Accept": accept})
        assert response.status_code == 200, response.text
        assert media_type(response) == accept
        assert "accept" in vary(response) and "accept-language" not in vary(response)
        assert response.headers["content-location"].startswith(f"{landing}/export/")
        check_body(accept, response.content, landing)
        # The explicit export it names serves the same bytes.
        assert client.get(response.headers["content-location"]).content == response.content


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "text/html"),
        ("*/*", "text/html"),
        ("text/*", "text/html"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
        (f"{BIBTEX};q=0.5, {JSON_LD}", JSON_LD),
        (f"text/html;q=0.1, {BIBTEX}", BIBTEX),
        (f"{RIS}, text/html;q=0.9", RIS),
        (f"*/*;q=0.1, {CSL_JSON};q=0.2", CSL_JSON),
        ("text/html;q=0, */*;q=0.5", DATACITE_XML),  # everything but HTML: the first other offer
        (f"{DATACITE_JSON};q=1.0, application/*;q=0.3", DATACITE_JSON),
        ("APPLICATION/X-BIBTEX", BIBTEX),
    ],
)
def test_q_values_decide(client: TestClient, depositor: Account, accept: str | None, expected: str) -> None:
    version = published_record(client, depositor)
    headers = {"Accept": accept} if accept is not None else {}
    response = client.get(f"/records/{version['id']}", headers=headers)
    assert response.status_code == 200, response.text
    assert media_type(response) == expected
    assert "accept" in vary(response)
    # Only the page is in the reader's language, so only the page varies by it.
    assert ("accept-language" in vary(response)) is (expected == "text/html")


@pytest.mark.parametrize("accept", ["application/json", "image/png", "text/html;q=0", f"{BIBTEX};q=0, text/plain"])
def test_unacceptable_types_get_406_with_the_list(client: TestClient, depositor: Account, accept: str) -> None:
    version = published_record(client, depositor)
    response = client.get(f"/records/{version['id']}", headers={"Accept": accept})
    body = assert_problem(response, 406)
    assert body["supported"] == ["text/html", *NEGOTIABLE]
    for supported in body["supported"]:
        assert supported in body["detail"]
    assert "accept" in vary(response)


def test_withdrawn_record_in_another_format_is_410(client: TestClient, depositor: Account, curator: Account) -> None:
    version = published_record(client, depositor)
    client.post(f"/api/records/{version['id']}/withdraw", json={"reason": "duplicate"}, headers=curator.headers)
    body = assert_problem(client.get(f"/records/{version['id']}", headers={"Accept": BIBTEX}), 410)
    assert body["tombstone"]["reason"] == "duplicate"
    assert_problem(client.get(f"/records/{version['id']}/export/bibtex"), 410)


@pytest.mark.parametrize(("name", "expected"), EXPORTS.items())
def test_export_routes(client: TestClient, depositor: Account, name: str, expected: str) -> None:
    version = published_record(client, depositor)
    landing = f"http://testserver/records/{version['id']}"
    response = client.get(f"/records/{version['record_id']}/export/{name}")
    assert response.status_code == 200, response.text
    assert media_type(response) == expected
    assert version["id"] in response.headers["content-disposition"]
    check_body(name, response.content, landing)


def test_unknown_export_and_record_are_404(client: TestClient, depositor: Account) -> None:
    version = published_record(client, depositor)
    body = assert_problem(client.get(f"/records/{version['id']}/export/marc21"), 404)
    assert "datacite-xml" in body["detail"]
    assert_problem(client.get("/records/nope0-nope0/export/bibtex"), 404)
    assert_problem(client.get("/records/nope0-nope0", headers={"Accept": BIBTEX}), 404)


def test_exports_hide_files_the_reader_may_not_download(client: TestClient, depositor: Account) -> None:
    version = published_record(client, depositor, {"cohort.csv": b"id\n1\n"}, access={"level": "restricted"})
    file_url = f"http://testserver/records/{version['id']}/files/cohort.csv"
    for name in EXPORTS:
        assert file_url not in client.get(f"/records/{version['id']}/export/{name}").text, name
    owner = client.get(f"/records/{version['id']}/export/json-ld", headers=depositor.headers)
    assert owner.json()["distribution"][0]["contentUrl"] == file_url


def test_parse_accept_drops_malformed_ranges() -> None:
    assert parse_accept("text/html;q=2, foo, */html, application/x-bibtex;q=0.4") == [("application", "x-bibtex", 0.4)]
    assert choose("garbage", ["text/html", BIBTEX]) == "text/html"
    assert choose("", ["text/html", BIBTEX]) == "text/html"
    assert choose("text/html;q=0", ["text/html"]) is None


AWKWARD_TITLES = [
    "</script><script>alert(1)</script>",
    "tab\tvertical\x0btab and bell\x07",
    "right-to-left \u202eoverride",
    "emoji 🌧️ and 漢字",
    "x" * 5000,
]


@pytest.mark.parametrize("title", AWKWARD_TITLES)
def test_awkward_metadata_never_breaks_a_format(client: TestClient, depositor: Account, title: str) -> None:
    meta = minimal_metadata(
        titles=[{"title": title}],
        rightsList=[{"rights": "Terms", "rightsUri": 'https://example.org/términos/漢字?a="b"&c=<d>'}],
    )
    version = published_record(client, depositor, {"file name, with ü (1).csv": b"a\n"}, metadata=meta)
    page = client.get(f"/records/{version['id']}")
    assert page.status_code == 200
    # The JSON-LD and the copy-citation button's script; a title that broke out would add a third.
    assert page.text.count("<script") == 2
    link = page.headers["link"]
    assert link.isascii() and "<d>" not in link
    assert 'rel="license"' in link and "%E6%BC%A2%E5%AD%97" in link
    [item] = find_signposting_http_link(page.headers.get_list("link"), str(page.url)).items
    assert client.get(item.target).content == b"a\n"
    for name in EXPORTS:
        response = client.get(f"/records/{version['id']}/export/{name}")
        assert response.status_code == 200, (name, response.text)
    root = parse_xml(client.get(f"/records/{version['id']}/export/datacite-xml").content)
    schema = load_schema("datacite/kernel-4.7/metadata.xsd")
    assert schema.validate(root), schema.error_log
    for accept in ("application/linkset", "application/linkset+json"):
        assert client.get(f"/records/{version['id']}/linkset", headers={"Accept": accept}).status_code == 200
