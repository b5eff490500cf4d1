"""Issue 16, reader's side: forgiving search on the page, origin markers, and every citation style copyable."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from lxml import html

from osnode.services.harvest import peers as harvest_peers
from osnode.services.node import Node
from osnode.storage import search as index
from osnode.storage.catalog import versions
from tests.conftest import Account, minimal_metadata
from tests.web.conftest import published_record

PEER = "https://data.example.org/oai"


def harvested(client: TestClient, node: Node, account: Account, **meta: Any) -> dict[str, Any]:
    """A published record turned into what the harvester leaves: its version names the peer it came from."""
    version = published_record(client, account, metadata=minimal_metadata(**meta))
    if not any(p.name == "example-data" for p in harvest_peers.list_peers(node)):
        harvest_peers.add_peer(node, PEER, name="example-data")
    with node.transaction() as tx:
        origin = harvest_peers.origin_of(PEER)
        tx.execute(versions.update().where(versions.c.id == version["id"]).values(origin_node=origin))
        index.index_record(tx, version["record_id"])
    return version


def test_search_page_finds_a_prefix_and_names_the_origin(client: TestClient, node: Node, depositor: Account) -> None:
    published_record(client, depositor, metadata=minimal_metadata(titles=[{"title": "Rainfall in Huambo"}]))
    harvested(client, node, depositor, titles=[{"title": "Rainfall in Huambo"}])
    page = html.fromstring(client.get("/search?q=rainfal").content)
    hits = page.xpath("//ol[@class='hits']/li")
    assert len(hits) == 2
    assert [h.text_content().count("from example-data") for h in hits].count(1) == 1
    facet_links = [a.text_content() for a in page.xpath("//aside[@class='facets']//a")]
    assert "example-data" in facet_links and not any("https://" in t for t in facet_links)
    home = client.get("/").text
    assert home.count("from example-data") == 1


def test_a_typo_is_corrected_in_the_readers_language(client: TestClient, depositor: Account) -> None:
    published_record(client, depositor, metadata=minimal_metadata(titles=[{"title": "Rainfall in Huambo"}]))
    page = html.fromstring(client.get("/search?q=rainfll&lang=fr").content)
    assert len(page.xpath("//ol[@class='hits']/li//a")) == 1
    message = page.xpath("//p[@class='msg']")[0].text_content()
    assert "rainfall" in message and "Nothing matched" not in message


def test_every_citation_style_is_on_the_page_in_a_readonly_box(client: TestClient, depositor: Account) -> None:
    version = published_record(client, depositor, metadata=minimal_metadata(titles=[{"title": "Rainfall in Huambo"}]))
    page = html.fromstring(client.get(f"/records/{version['id']}").content)
    boxes = {t.get("id"): t for t in page.xpath("//*[@id='cite-styles']//textarea")}
    assert set(boxes) == {"cite-apa", "cite-bibtex", "cite-ris", "cite-csl-json"}
    assert all(t.get("readonly") is not None for t in boxes.values())
    assert boxes["cite-bibtex"].text_content().startswith("@")
    assert "TY  - " in boxes["cite-ris"].text_content()
    # Each box has a label and its own copy button (shown by the script only).
    for box_id in boxes:
        assert page.xpath(f"//label[@for='{box_id}']")
        [button] = page.xpath(f"//button[@data-copy='{box_id}']")
        assert button.get("hidden") is not None


def test_a_harvested_copy_is_cited_at_its_origin(client: TestClient, node: Node, depositor: Account) -> None:
    original = "https://data.example.org/records/abc123"
    meta = {
        "titles": [{"title": "Rainfall in Huambo"}],
        "alternateIdentifiers": [{"alternateIdentifier": original, "alternateIdentifierType": "URL"}],
    }
    copy = harvested(client, node, depositor, **meta)
    page = html.fromstring(client.get(f"/records/{copy['id']}").content)
    assert page.get_element_by_id("citation").text_content().strip().endswith(original)
    for box in page.xpath("//*[@id='cite-styles']//textarea"):
        assert original in box.text_content() and f"/records/{copy['id']}" not in box.text_content()
    # With a DOI the DOI wins; a local record still cites its own page.
    with_doi = harvested(client, node, depositor, doi="10.1234/huambo", titles=[{"title": "Dry season"}])
    text = html.fromstring(client.get(f"/records/{with_doi['id']}").content).get_element_by_id("citation")
    assert text.text_content().strip().endswith("https://doi.org/10.1234/huambo")
    local = published_record(client, depositor, metadata=minimal_metadata(titles=[{"title": "Local"}]))
    own = html.fromstring(client.get(f"/records/{local['id']}").content).get_element_by_id("citation")
    assert local["id"] in own.text_content()
