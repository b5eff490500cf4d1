"""Issue 16, atlas page: an unknown gene is said, and a subset is chosen from the categories offered."""

from __future__ import annotations

from pathlib import Path

import anndata
from fastapi.testclient import TestClient
from lxml import html
from tests.conftest import Account
from tests.explore.conftest import CELL_TYPES, publish
from tests.explore.test_web import h5ad_bytes

from osnode.services.node import Node


def test_an_unknown_gene_is_said_not_ignored(
    node: Node, client: TestClient, depositor: Account, tmp_path: Path
) -> None:
    vid = publish(node, depositor, {"cells.h5ad": h5ad_bytes(tmp_path)})
    page = client.get(f"/records/{vid}/files/cells.h5ad/explore", params={"gene": "NOSUCHGENE"})
    assert page.status_code == 200
    root = html.fromstring(page.content)
    message = root.get_element_by_id("gene-missing").text_content()
    assert "NOSUCHGENE" in message and "CD3E" in message  # names the gene and shows what names look like
    assert 'id="expression"' not in page.text
    # A near miss gets its suggestions as well as the message.
    near = html.fromstring(client.get(f"/records/{vid}/files/cells.h5ad/explore", params={"gene": "CD"}).content)
    assert "CD" in near.get_element_by_id("gene-missing").text_content()
    assert near.get_element_by_id("gene-suggestions") is not None


def test_subset_offers_the_categories_and_downloads_them(
    node: Node, client: TestClient, depositor: Account, tmp_path: Path
) -> None:
    vid = publish(node, depositor, {"cells.h5ad": h5ad_bytes(tmp_path)})
    root = html.fromstring(client.get(f"/records/{vid}/files/cells.h5ad/explore").content)
    form = root.get_element_by_id("subset")
    chooser = form.xpath(".//select[@name='value']")[0]
    assert chooser.get("multiple") is not None and root.xpath("//label[@for='subset-values']")
    offered = [o.get("value") for o in chooser.xpath("option")]
    assert sorted(offered) == sorted(CELL_TYPES)
    field = form.xpath(".//input[@name='field']")[0].get("value")
    # Submitting the form as a browser would (two options chosen) gives those cells.
    sub = client.get(form.get("action"), params={"field": field, "value": offered[:2]})
    assert sub.status_code == 200
    out = tmp_path / "sub.h5ad"
    out.write_bytes(sub.content)
    adata = anndata.read_h5ad(out)
    assert set(adata.obs[field]) == set(offered[:2])
    # Colouring by another field offers that field's categories instead.
    batch = html.fromstring(client.get(f"/records/{vid}/files/cells.h5ad/explore", params={"colour": "batch"}).content)
    assert batch.get_element_by_id("subset").xpath(".//input[@name='field']")[0].get("value") == "batch"
