"""Small files that cost a lot: profiles, previews and atlas reading are bounded and run outside the web process.

Every test goes through the real routes on a real node (SQLite and PostgreSQL); the limits are the node's own
settings, lowered per test where the default would make the test slow. No test asserts a timing: only that the
costly file is refused with a sentence naming the limit, and that the node keeps serving.
"""

from __future__ import annotations

import io
import multiprocessing
import random
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.conftest import Account
from tests.explore.conftest import publish, table_bytes, write_current

from osnode.config import ConfigError, load_settings
from osnode.explore.limits import CHUNK, check_workbook
from osnode.services import explore_worker
from osnode.services.node import Node
from osnode.storage.profiles import data_profiles

PROBLEM = "application/problem+json"


@pytest.fixture
def limits() -> dict[str, Any]:
    """The explore settings of the node; a test changes them with ``@pytest.mark.parametrize("limits", ...)``."""
    return {}


@pytest.fixture
def node(data_dir: Path, database_url: str, limits: dict[str, Any]) -> Iterator[Node]:
    opened = Node.open(load_settings(data_dir, database_url=database_url, base_url="http://testserver", **limits))
    yield opened
    opened.close()


def workbook(rows: int, cols: int, padding: int = 0, varied: bool = False) -> bytes:
    """A real .xlsx (made by openpyxl) whose sheet is replaced by ``rows`` x ``cols`` numeric cells written as
    XML, plus ``padding`` bytes of blank space: deflate packs the repetition into a few kilobytes."""
    template = io.BytesIO()
    book = openpyxl.Workbook()
    book.active["A1"] = 1
    book.save(template)
    row = "<row>" + '<c t="n"><v>1</v></c>' * cols + "</row>"
    if varied:  # numbers that do not repeat, so the package stays under the guard's expansion ratio
        numbers = random.Random(7)
        body = "".join(
            "<row>" + "".join(f'<c t="n"><v>{numbers.randrange(10**9)}</v></c>' for _ in range(cols)) + "</row>"
            for _ in range(rows)
        )
    else:
        body = row * rows
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        + body
        + " " * padding
        + "</sheetData></worksheet>"
    ).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, sheet if info.filename == "xl/worksheets/sheet1.xml" else src.read(info))
    return out.getvalue()


def many_rows(fmt: str, rows: int) -> bytes:
    frame = pd.DataFrame({"n": range(rows), "kind": ["same"] * rows})
    if fmt == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    if fmt == "jsonl":
        return frame.to_json(orient="records", lines=True).encode()
    return frame.to_csv(index=False, sep="\t" if fmt == "tsv" else ",").encode()


def refused(client: TestClient, vid: str, key: str, status: int = 422) -> str:
    """The refusal of a profile, checked on the API (problem+json) and the page (HTML); returns the sentence."""
    api = client.get(f"/api/records/{vid}/files/{key}/profile")
    assert api.status_code == status, api.text
    assert api.headers["content-type"].startswith(PROBLEM)
    detail = api.json()["detail"]
    page = client.get(f"/records/{vid}/files/{key}/explore")
    assert page.status_code == status and page.headers["content-type"].startswith("text/html")
    assert detail.split(",")[0].replace("'", "&#39;") in page.text
    return detail


def test_workbook_of_two_million_cells_refused_by_counting(node: Node, client: TestClient, depositor: Account) -> None:
    data = workbook(20_000, 100)  # 2,000,000 cells; the default bound is 1,000,000
    assert len(data) < 200_000
    vid = publish(node, depositor, {"big.xlsx": data})
    detail = refused(client, vid, "big.xlsx")
    assert "more than 1,000,000 cells" in detail and "explore_max_cells" in detail
    with node.engine.connect() as conn:
        rows = conn.execute(select(data_profiles.c.status, data_profiles.c.error)).all()
    assert [r.status for r in rows] == ["error"] and "cells" in rows[0].error  # cached: the next view is cheap
    assert client.get(f"/records/{vid}").status_code == 200  # the landing page shows the refusal, not a 5xx
    assert client.get(f"/api/records/{vid}/tables").status_code == 200


def test_cells_are_counted_exactly_across_chunks(tmp_path: Path) -> None:
    path = tmp_path / "w.xlsx"
    path.write_bytes(workbook(30_000, 10))  # about 6 MB of sheet XML: cells are cut between 1 MB chunks
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size > 5 * CHUNK
    assert check_workbook(path, explore_worker.limits_of(load_settings(tmp_path)), "w") == 300_000


@pytest.mark.parametrize("limits", [{"explore_max_unpacked_mb": 1}])
def test_workbook_that_unpacks_past_the_bound_refused(node: Node, client: TestClient, depositor: Account) -> None:
    data = workbook(10, 3, padding=20 * 1024 * 1024)  # 30 cells and 20 MB of blank space, in ~20 KB
    assert len(data) < 100_000
    vid = publish(node, depositor, {"padded.xlsx": data})
    detail = refused(client, vid, "padded.xlsx")
    assert "unpacks to more than 1 MB" in detail and "explore_max_unpacked_mb" in detail


@pytest.mark.parametrize("limits", [{"explore_max_rows": 1000}])
@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "parquet"])
def test_table_of_too_many_rows_refused(node: Node, client: TestClient, depositor: Account, fmt: str) -> None:
    vid = publish(node, depositor, {f"long.{fmt}": many_rows(fmt, 5000), f"short.{fmt}": many_rows(fmt, 1000)})
    detail = refused(client, vid, f"long.{fmt}")
    assert "more than 1,000 rows" in detail and "explore_max_rows" in detail
    short = client.get(f"/api/records/{vid}/files/short.{fmt}/profile")  # at the bound: still profiled
    assert short.status_code == 200 and short.json()["rows"] == 1000


@pytest.mark.parametrize("limits", [{"explore_max_cells": 10_000_000, "explore_cpu_seconds": 1}])
def test_job_past_its_cpu_time_is_killed(node: Node, client: TestClient, depositor: Account) -> None:
    # Under the cell bound, so pandas really reads the two million cells: many seconds of CPU, killed at one.
    big = workbook(20_000, 25, varied=True)  # half a million cells: seconds of CPU for openpyxl
    vid = publish(node, depositor, {"big.xlsx": big, "rain.csv": table_bytes("csv")})
    detail = refused(client, vid, "big.xlsx")
    assert "more than 1 seconds of processor time" in detail and "explore_cpu_seconds" in detail
    assert client.get(f"/api/records/{vid}/files/rain.csv/profile").json()["rows"] == 6  # the node still serves
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("limits", [{"explore_memory_mb": 1024}])
def test_job_past_its_memory_is_stopped(node: Node) -> None:
    with pytest.raises(explore_worker.OverLimit, match="more than 1024 MB of memory.*explore_memory_mb"):
        explore_worker.run(node, bytearray, 4 * 2**30)
    assert explore_worker.run(node, sum, [1, 2, 3]) == 6  # the next job runs as usual


@pytest.mark.parametrize("limits", [{"explore_seconds": 1}])
def test_job_past_its_time_is_killed(node: Node) -> None:
    # Sleeping uses no CPU: only the wall-clock bound stops it.
    with pytest.raises(explore_worker.OverLimit, match="longer than 1 seconds.*explore_seconds"):
        explore_worker.run(node, time.sleep, 120)
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("limits", [{"explore_workers": 1}])
def test_saturated_workers_answer_503_with_retry_after(node: Node, client: TestClient, depositor: Account) -> None:
    vid = publish(node, depositor, {"rain.csv": table_bytes("csv")})
    busy = threading.Thread(target=explore_worker.run, args=(node, time.sleep, 5))
    busy.start()
    try:
        while not multiprocessing.active_children():  # the one slot is held from before the job starts
            time.sleep(0.05)
        api = client.get(f"/api/records/{vid}/files/rain.csv/profile")
        assert api.status_code == 503 and api.headers["content-type"].startswith(PROBLEM)
        assert api.headers["retry-after"] == "5" and "explore_workers" in api.json()["detail"]
        page = client.get(f"/records/{vid}/files/rain.csv/explore")
        assert page.status_code == 503 and page.headers["retry-after"] == "5"
    finally:
        busy.join()
    # Being busy is not the file's fault: nothing was cached, and the next view profiles it.
    assert client.get(f"/api/records/{vid}/files/rain.csv/profile").json()["rows"] == 6


@pytest.mark.parametrize("limits", [{"explore_max_atlas_cells": 100}])
def test_atlas_of_too_many_cells_refused(node: Node, client: TestClient, depositor: Account, tmp_path: Path) -> None:
    vid = publish(node, depositor, {"cells.h5ad": write_current(tmp_path / "a.h5ad").read_bytes()})
    base = f"/api/records/{vid}/files/cells.h5ad/atlas"
    for url in (base, f"{base}/plot.png", f"{base}/genes?q=CD", f"{base}/expression?field=cell_type&gene=CD3E"):
        response = client.get(url)
        assert response.status_code == 422 and response.headers["content-type"].startswith(PROBLEM), url
        assert "300 cells, more than the 100" in response.json()["detail"]
    page = client.get(f"/records/{vid}/files/cells.h5ad/explore")
    assert page.status_code == 422 and "explore_max_atlas_cells" in page.text


def test_atlas_routes_work_through_the_workers(
    node: Node, client: TestClient, depositor: Account, tmp_path: Path
) -> None:
    vid = publish(node, depositor, {"cells.h5ad": write_current(tmp_path / "a.h5ad").read_bytes()})
    base = f"/api/records/{vid}/files/cells.h5ad/atlas"
    assert client.get(f"{base}/plot.png?colour=cell_type").headers["content-type"] == "image/png"
    assert "CD3E" in client.get(f"{base}/genes?q=CD").json()["genes"]
    assert client.get(f"{base}/expression?field=cell_type&gene=CD3E").status_code == 200
    subset = client.get(f"{base}/subset.h5ad?field=cell_type&value=T%20cell")
    assert subset.status_code == 200 and subset.content[:4] == b"\x89HDF"


@pytest.mark.parametrize(
    "setting, value", [("explore_workers", "0"), ("explore_memory_mb", "lots"), ("explore_max_rows", "-1")]
)
def test_bad_limits_are_refused_with_one_line(tmp_path: Path, setting: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"^{setting} must be a whole number"):
        load_settings(tmp_path, **{setting: value})


def test_explore_preload_is_a_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(tmp_path).explore_preload is True
    (tmp_path / "osnode.toml").write_text("explore_preload = false\n")
    assert load_settings(tmp_path).explore_preload is False
    monkeypatch.setenv("OSNODE_EXPLORE_PRELOAD", "yes")
    assert load_settings(tmp_path).explore_preload is True
    with pytest.raises(ConfigError, match="^explore_preload must be true or false"):
        load_settings(tmp_path, explore_preload="sometimes")
