"""The whole catalogue as DCAT-AP pages: every page conforms to the official shapes, the pages
chain with hydra:next, and files the reader may not download are never in them."""

from __future__ import annotations

from fastapi.testclient import TestClient
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCAT, RDF

from tests.conftest import Account
from tests.formats.conftest import conforms, dcat_shapes
from tests.web.conftest import assert_problem, published_record

HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SYNTAXES = {
    "ttl": ("text/turtle", "turtle"),
    "rdf": ("application/rdf+xml", "xml"),
    "jsonld": ("application/ld+json", "json-ld"),
}


def get_page(client: TestClient, url: str, syntax: str) -> Graph:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == SYNTAXES[syntax][0]
    graph = Graph().parse(data=response.content, format=SYNTAXES[syntax][1])
    conforms(dcat_shapes(), graph)
    return graph


def test_catalog_pages_chain_and_conform(client: TestClient, depositor: Account) -> None:
    published = [published_record(client, depositor) for _ in range(3)]
    for syntax in SYNTAXES:
        seen: list[URIRef] = []
        url: str | None = f"/api/catalog.{syntax}?size=2"
        pages = 0
        while url:
            graph = get_page(client, url, syntax)
            pages += 1
            [catalog] = graph.subjects(RDF.type, DCAT.Catalog)
            seen += list(graph.objects(catalog, DCAT.dataset))
            [view] = graph.objects(catalog, HYDRA.view)
            following = graph.value(view, HYDRA.next)
            url = str(following) if following else None
        assert pages == 2
        expected = {URIRef(f"http://testserver/records/{v['id']}#dataset") for v in published}
        assert len(seen) == 3 and set(seen) == expected


def test_catalog_hides_files_the_reader_may_not_download(client: TestClient, depositor: Account) -> None:
    version = published_record(client, depositor, {"cohort.csv": b"id\n1\n"}, access={"level": "restricted"})
    file_url = URIRef(f"http://testserver/records/{version['id']}/files/cohort.csv")
    anonymous = get_page(client, "/api/catalog.ttl", "ttl")
    assert file_url not in set(anonymous.objects(None, DCAT.downloadURL))
    owner = Graph().parse(data=client.get("/api/catalog.ttl", headers=depositor.headers).content, format="turtle")
    assert file_url in set(owner.objects(None, DCAT.downloadURL))


def test_catalog_bad_requests_are_problems(client: TestClient) -> None:
    assert "ttl" in assert_problem(client.get("/api/catalog.xlsx"), 404)["detail"]
    assert "cursor" in assert_problem(client.get("/api/catalog.ttl?cursor=garbage"), 422)["detail"]
    assert_problem(client.get("/api/catalog.ttl?size=0"), 422)
