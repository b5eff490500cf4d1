"""The explore API and pages on a real node (SQLite and PostgreSQL): profiles, queries, atlases, access."""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import anndata
import httpx
import pyarrow.parquet as pq
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from tests.conftest import Account, LiveServer, free_port, minimal_metadata
from tests.explore.conftest import CELL_TYPES, publish, table_bytes, write_current, write_legacy

from osnode.services import deposit, explore
from osnode.services.node import Node
from osnode.storage import catalog
from osnode.storage.profiles import data_profiles

PROBLEM = "application/problem+json"

# Blob-related: every test here runs on the local folder and on S3.
pytestmark = pytest.mark.usefixtures("blob_store")


def h5ad_bytes(tmp_path: Path, legacy: bool = False) -> bytes:
    path = tmp_path / ("legacy.h5ad" if legacy else "atlas.h5ad")
    return (write_legacy(path) if legacy else write_current(path)).read_bytes()


@pytest.mark.parametrize("fmt", ["csv", "tsv", "parquet", "jsonl", "xlsx"])
def test_profile_api_each_format(node: Node, client: TestClient, depositor: Account, fmt: str) -> None:
    vid = publish(node, depositor, {f"rain.{fmt}": table_bytes(fmt)})
    response = client.get(f"/api/records/{vid}/files/rain.{fmt}/profile")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rows"] == 6 and [c["name"] for c in body["columns"]] == ["id", "city", "rain_mm"]
    assert body["validation"]["valid"] is True
    page = client.get(f"/records/{vid}/files/rain.{fmt}/explore")
    assert page.status_code == 200 and "Jakarta" in page.text and 'id="validation"' in page.text
    with node.engine.connect() as conn:
        rows = conn.execute(select(data_profiles.c.format, data_profiles.c.status)).all()
    assert [(r.format, r.status) for r in rows] == [(fmt, "ok")]


def test_landing_page_preview_within_budget(node: Node, client: TestClient, depositor: Account, tmp_path: Path) -> None:
    wide = "\n".join(",".join(f"c{i}_{r}" * 3 for i in range(40)) for r in range(30)).encode()
    vid = publish(node, depositor, {"wide.csv": wide, "cells.h5ad": h5ad_bytes(tmp_path), "notes.txt": b"not a table"})
    page = client.get(f"/records/{vid}")
    assert page.status_code == 200
    assert 'id="preview"' in page.text
    assert "Cell atlas: <bdi>300</bdi> cells, <bdi>5</bdi> genes" in page.text
    assert f"/records/{vid}/files/cells.h5ad/explore" in page.text
    assert "c0_1c0_1c0_1" in page.text  # first rows of the table
    assert "c39_0" not in page.text  # only the first columns are previewed
    assert len(gzip.compress(page.content)) < 30 * 1024
    thumb = client.get(f"/api/records/{vid}/files/cells.h5ad/atlas/plot.png?size=160")
    assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.content)).size == (160, 160)


def test_query_api_and_page(node: Node, client: TestClient, depositor: Account) -> None:
    vid = publish(node, depositor, {"rain.csv": table_bytes("csv"), "rain.parquet": table_bytes("parquet")})
    sql = "SELECT city, count(*) AS n FROM rain WHERE city IS NOT NULL GROUP BY city ORDER BY n DESC, city"
    got = client.get(f"/api/records/{vid}/query", params={"sql": sql})
    assert got.status_code == 200, got.text
    assert got.json()["rows"] == [["Luanda", 3], ["Jakarta", 1], ["Lima", 1]]
    posted = client.post(f"/api/records/{vid}/query", json={"sql": "SELECT count(*) AS n FROM rain_2"})
    assert posted.json()["rows"] == [[6]]
    csv = client.get(f"/api/records/{vid}/query", params={"sql": sql, "format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv") and csv.text.splitlines()[1] == '"Luanda",3'
    parquet = client.post(f"/api/records/{vid}/query", json={"sql": sql, "format": "parquet"})
    assert pq.read_table(io.BytesIO(parquet.content)).column("n").to_pylist() == [3, 1, 1]
    assert client.get(f"/api/records/{vid}/tables").json()["tables"] == [
        {"view": "rain", "file": "rain.csv"},
        {"view": "rain_2", "file": "rain.parquet"},
    ]
    page = client.get(f"/records/{vid}/query", params={"sql": sql})
    assert page.status_code == 200 and 'id="results"' in page.text and "<td>Jakarta</td>" in page.text
    assert "format=csv" in page.text
    assert len(gzip.compress(page.content)) < 30 * 1024


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM '/etc/passwd'",
        "ATTACH '/tmp/x.duckdb'",
        "INSTALL httpfs",
        "COPY rain TO '/tmp/stolen.csv'",
        "SET threads = 16",
        "SELECT * FROM read_csv_auto('https://example.org/data.csv')",
    ],
)
def test_query_refusals_are_problems(node: Node, client: TestClient, depositor: Account, sql: str) -> None:
    vid = publish(node, depositor, {"rain.csv": table_bytes("csv")})
    response = client.get(f"/api/records/{vid}/query", params={"sql": sql})
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    assert "root:" not in response.text
    page = client.get(f"/records/{vid}/query", params={"sql": sql})
    assert page.status_code == 422 and 'id="query-error"' in page.text


def test_atlas_api(node: Node, client: TestClient, depositor: Account, tmp_path: Path) -> None:
    vid = publish(node, depositor, {"cells.h5ad": h5ad_bytes(tmp_path), "old.h5ad": h5ad_bytes(tmp_path, True)})
    for key in ("cells.h5ad", "old.h5ad"):
        base = f"/api/records/{vid}/files/{key}/atlas"
        summary = client.get(base).json()
        assert summary["n_obs"] == 300 and summary["embeddings"][0]["name"] == "X_umap"
        png = client.get(f"{base}/plot.png", params={"colour": "cell_type"})
        assert png.status_code == 200 and png.headers["content-type"] == "image/png" and len(png.content) < 150_000
        filtered = client.get(f"{base}/plot.png", params={"filter_field": "cell_type", "filter": "B cell"})
        assert filtered.headers["x-cells-drawn"] == "100"
        by_gene = client.get(f"{base}/plot.png", params={"gene": "LYZ"})
        assert by_gene.status_code == 200 and by_gene.content != png.content
        assert client.get(f"{base}/genes", params={"q": "ms"}).json()["genes"] == ["MS4A1"]
        expr = client.get(f"{base}/expression", params={"field": "cell_type", "gene": ["CD3E", "LYZ"]}).json()
        cd3e = {r["category"]: r for r in expr["genes"][0]["by_category"]}
        assert cd3e["T cell"]["fraction_expressing"] == 1.0 and cd3e["B cell"]["fraction_expressing"] == 0.0
        sub = client.get(f"{base}/subset.h5ad", params={"field": "cell_type", "value": ["T cell", "Monocyte"]})
        assert sub.status_code == 200 and "attachment" in sub.headers["content-disposition"]
        out = tmp_path / f"sub-{key}"
        out.write_bytes(sub.content)
        adata = anndata.read_h5ad(out)
        assert adata.n_obs == 200 and set(adata.obs["cell_type"]) == {"T cell", "Monocyte"}
    assert list((node.settings.data_dir / "explore").glob("*.h5ad")) == []  # subset temp files are removed


def test_atlas_page_changes_colouring(node: Node, client: TestClient, depositor: Account, tmp_path: Path) -> None:
    vid = publish(node, depositor, {"cells.h5ad": h5ad_bytes(tmp_path)})
    page = client.get(f"/records/{vid}/files/cells.h5ad/explore")
    assert page.status_code == 200
    assert "<bdi>300</bdi> cells, <bdi>5</bdi> genes" in page.text and 'id="legend"' in page.text
    assert all(c in page.text for c in CELL_TYPES)
    batch = client.get(f"/records/{vid}/files/cells.h5ad/explore", params={"colour": "batch"})
    assert "colour=batch" in batch.text and "b1" in batch.text and "<option selected>batch</option>" in batch.text
    gene = client.get(f"/records/{vid}/files/cells.h5ad/explore", params={"gene": "LYZ"})
    assert 'id="expression"' in gene.text and "gene=LYZ" in gene.text
    unknown = client.get(f"/records/{vid}/files/cells.h5ad/explore", params={"gene": "CD"})
    assert 'id="gene-suggestions"' in unknown.text and "CD3E" in unknown.text
    filtered = client.get(
        f"/records/{vid}/files/cells.h5ad/explore", params={"filter_field": "cell_type", "filter": "B cell"}
    )
    assert 'value="B cell" checked' in filtered.text
    for response in (page, batch, gene, filtered):
        assert len(gzip.compress(response.content)) < 30 * 1024


def test_bad_files_give_clear_4xx(node: Node, client: TestClient, depositor: Account, tmp_path: Path) -> None:
    good = h5ad_bytes(tmp_path)
    vid = publish(
        node,
        depositor,
        {
            "broken.h5ad": good[: len(good) // 3],
            "image.csv": b"\x89PNG\r\n\x1a\n" + bytes(500),
            "long.csv": b"a,b\n1," + b"x" * 3_000_000 + b"\n",
            "notes.txt": b"plain text",
            "table.csv": table_bytes("csv"),
        },
    )
    cases = [
        (f"/api/records/{vid}/files/broken.h5ad/atlas", 422, "HDF5"),
        (f"/api/records/{vid}/files/broken.h5ad/atlas/plot.png", 422, "HDF5"),
        (f"/api/records/{vid}/files/image.csv/profile", 422, "binary"),
        (f"/api/records/{vid}/files/long.csv/profile", 422, "cannot be read as CSV"),
        (f"/api/records/{vid}/files/notes.txt/profile", 422, "is not a table"),
        (f"/api/records/{vid}/files/table.csv/atlas", 422, "is not a cell atlas"),
        (f"/api/records/{vid}/files/missing.csv/profile", 404, "no file named"),
        (f"/api/records/{vid}/files/broken.h5ad/atlas/genes?q=x", 422, "HDF5"),
    ]
    for url, status, words in cases:
        response = client.get(url)
        assert response.status_code == status, (url, response.text)
        assert response.headers["content-type"] == PROBLEM and words in response.json()["detail"]
    again = client.get(f"/api/records/{vid}/files/image.csv/profile")  # the error is cached, same answer
    assert again.status_code == 422
    page = client.get(f"/records/{vid}/files/broken.h5ad/explore")
    assert page.status_code == 422 and 'id="explore-error"' in page.text and "HDF5" in page.text
    landing = client.get(f"/records/{vid}")
    assert landing.status_code == 200 and "No preview" in landing.text
    # Broken files get no view; the good table can still be queried.
    assert client.get(f"/api/records/{vid}/query", params={"sql": 'SELECT count(*) FROM "table"'}).json()["rows"] == [
        [6]
    ]
    bad_params = client.get(f"/api/records/{vid}/files/table.csv/profile/../../x")
    assert bad_params.status_code < 500


def test_access_is_enforced(
    node: Node, client: TestClient, depositor: Account, other_depositor: Account, admin: Account, tmp_path: Path
) -> None:
    files = {"cells.h5ad": h5ad_bytes(tmp_path), "rain.csv": table_bytes("csv")}
    restricted = publish(node, depositor, files, access={"level": "restricted"})
    embargoed = publish(node, depositor, files, access={"level": "embargoed", "embargo_until": "2999-01-01"})
    urls = [
        "/api/records/{v}/files/rain.csv/profile",
        "/api/records/{v}/query?sql=SELECT%201",
        "/api/records/{v}/files/cells.h5ad/atlas",
        "/api/records/{v}/files/cells.h5ad/atlas/plot.png",
        "/api/records/{v}/files/cells.h5ad/atlas/expression?field=cell_type&gene=LYZ",
        "/api/records/{v}/files/cells.h5ad/atlas/subset.h5ad?field=cell_type&value=T%20cell",
    ]
    for vid in (restricted, embargoed):
        for url in urls:
            for who in ({}, other_depositor.headers):
                response = client.get(url.format(v=vid), headers=who)
                assert response.status_code == 403, (url, response.text)
            for who in (depositor.headers, admin.headers):
                assert client.get(url.format(v=vid), headers=who).status_code == 200, url
        landing = client.get(f"/records/{vid}")
        assert 'id="preview"' not in landing.text  # nothing of the data leaks through the preview
        assert client.get(f"/records/{vid}/files/rain.csv/explore").status_code == 403
    # A draft is invisible to others, explorable by its owner.
    draft = deposit.create_draft(node, depositor.viewer, minimal_metadata())
    deposit.add_file(node, draft.id, "rain.csv", [table_bytes("csv")], depositor.viewer)
    assert client.get(f"/api/records/{draft.id}/files/rain.csv/profile").status_code in (403, 404)
    assert client.get(f"/api/records/{draft.id}/files/rain.csv/profile", headers=depositor.headers).status_code == 200


def test_background_job_profiles_published_files(node: Node, depositor: Account, tmp_path: Path) -> None:
    vid = publish(node, depositor, {"cells.h5ad": h5ad_bytes(tmp_path), "rain.tsv": table_bytes("tsv")})
    assert explore.profile_pending(node) == 2
    assert explore.profile_pending(node) == 0  # nothing left to do
    with node.engine.connect() as conn:
        formats = sorted(conn.execute(select(data_profiles.c.format)).scalars())
    assert formats == ["h5ad", "tsv"]
    assert any(job.name == "explore-profiles" for job in explore.JOBS)
    assert vid


def test_migration_builds_the_declared_table(node: Node) -> None:
    with node.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        diffs = compare_metadata(context, catalog.metadata)
    assert [d for d in diffs if "data_profiles" in repr(d)] == []


@pytest.fixture
def patient_server(node: Node, data_dir: Path, database_url: str) -> Iterator[LiveServer]:
    """``osnode serve`` on this test's node, given the time a busy 2-core machine needs to import the app."""
    port = free_port()
    env = os.environ | {"OSNODE_DATABASE_URL": database_url}
    command = [sys.executable, "-m", "osnode", "serve", "--data", str(data_dir), "--port", str(port)]
    server = LiveServer(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL), f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and server.process.poll() is None:
        try:
            if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield server
    server.stop()


def test_node_answers_while_a_query_runs(patient_server: LiveServer, node: Node, depositor: Account) -> None:
    live_server = patient_server
    vid = publish(node, depositor, {"rain.csv": table_bytes("csv")})
    slow_sql = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"
    outcome: dict[str, httpx.Response] = {}

    def slow() -> None:
        outcome["slow"] = httpx.get(f"{live_server.url}/api/records/{vid}/query", params={"sql": slow_sql}, timeout=60)

    worker = threading.Thread(target=slow)
    worker.start()
    answers = [httpx.get(f"{live_server.url}/api/records/{vid}/files/rain.csv/profile", timeout=30)]
    answers.append(httpx.get(f"{live_server.url}/healthz", timeout=30))
    still_running = worker.is_alive()
    worker.join(60)
    assert [a.status_code for a in answers] == [200, 200]
    assert still_running  # the other requests were answered while the query was still running
    assert outcome["slow"].status_code == 422 and "stopped" in outcome["slow"].json()["detail"]


def test_query_reads_a_latin1_table_with_its_encoding(node: Node, client: TestClient, depositor: Account) -> None:
    vid = publish(node, depositor, {"places.csv": "name,city\nJosé,São Paulo\nAna,Luanda\n".encode("latin-1")})
    assert client.get(f"/api/records/{vid}/files/places.csv/profile").json()["encoding"] == "latin-1"
    got = client.get(f"/api/records/{vid}/query", params={"sql": "SELECT city FROM places WHERE name = 'José'"})
    assert got.json()["rows"] == [["São Paulo"]]
