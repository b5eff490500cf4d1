"""Benchmark: SQL over one published CSV through the node, side by side with Datasette over the same CSV.

    uv run python bench/explore.py --size-mb 50
    uv run python bench/explore.py --size-mb 200 --runs 5

Writes a CSV of about SIZE_MB megabytes (bench/tables.py's generator: id, name, city, rain_mm, day, flagged),
then, in one run:

- node: a fresh node in bench/out/explore-N/ with the CSV published as one record's file; its derived Parquet
  copy built as the profile job builds it after publication (timed: ``copy_s``); ``osnode serve`` started and
  every query asked of ``GET /api/records/{id}/query`` (the row limit and time limit of the node's query fence
  apply);
- datasette: the same CSV imported into SQLite with ``sqlite-utils insert --csv`` (types detected) (timed:
  ``import_s``) and ``datasette serve`` started on it (SQL time limit raised to 60 s, 1,000 rows returned, as
  the node returns); every query asked of ``GET /data.json?sql=...``.

Each query runs ``--runs`` times after one warm-up; the median wall time is reported, and each server's peak
RSS (``VmHWM``) after all its queries. With ``--before`` the node queries the CSV itself (no derived copy), as
it did before copies existed. Results go to bench/out/explore-N.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tables as tables_bench  # noqa: E402 - the sibling benchmark writes the CSV

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
QUERIES = {
    "filter_count": "SELECT count(*) AS n FROM rain WHERE city = 'Lima' AND rain_mm > 500",
    "group_by": "SELECT city, count(*) AS n, avg(rain_mm) AS mean_mm, max(day) AS last FROM rain GROUP BY city "
    "ORDER BY city",
    "top_n": "SELECT id, name, city, rain_mm FROM rain ORDER BY rain_mm DESC, id LIMIT 20",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _vm(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _wait(url: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if server.poll() is not None:
            raise SystemExit(f"the server for {url} stopped before it answered")
        try:
            httpx.get(url, timeout=10)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("OSNODE_")}


def publish_csv(data: Path, csv: Path, derive: bool) -> tuple[str, float | None]:
    """A node holding the CSV as a published record's file; its derived copy built as the job builds it."""
    from osnode.config import load_settings
    from osnode.services import deposit, explore, users
    from osnode.services.node import Node

    node = Node.open(load_settings(data, base_url="http://bench"))
    try:
        owner = users.create_user(node, "bench", "depositor")
        viewer = users.viewer_for(owner)
        meta = {
            "titles": [{"title": "Rain"}],
            "creators": [{"name": "Bench"}],
            "resourceType": {"resourceTypeGeneral": "Dataset"},
            "rightsList": [{"rightsIdentifier": "CC-BY-4.0"}],
        }
        draft = deposit.create_draft(node, viewer, meta, {"level": "open"})
        with csv.open("rb") as handle:
            deposit.add_file(node, draft.id, "rain.csv", iter(lambda: handle.read(1 << 20), b""), viewer)
        version = deposit.publish(node, draft.id, viewer)
        copy_s = None
        if derive:
            began = time.perf_counter()
            explore.profile_pending(node)  # the job: profile, and the Parquet copy written from the same load
            copy_s = time.perf_counter() - began
        return version.id, copy_s
    finally:
        node.close()


def _time_queries(ask: Any, runs: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name, sql in QUERIES.items():
        first = ask(sql)  # warm-up (and the answer, to compare)
        walls = []
        for _ in range(runs):
            began = time.perf_counter()
            ask(sql)
            walls.append(time.perf_counter() - began)
        figures[name] = {"median_ms": round(statistics.median(walls) * 1000, 1), "rows": first}
    return figures


def run_node(data: Path, version_id: str, runs: int) -> dict[str, Any]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "osnode", "serve", "--data", str(data), "--port", str(port)],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url + "/", server)
        idle = _vm(server.pid, "VmRSS")
        with httpx.Client(timeout=300) as client:

            def ask(sql: str) -> Any:
                got = client.get(f"{url}/api/records/{version_id}/query", params={"sql": sql})
                got.raise_for_status()
                return got.json()["rows"]

            figures = _time_queries(ask, runs)
        figures["rss_idle_mb"] = round(idle / 1e6)
        figures["rss_peak_mb"] = round(_vm(server.pid, "VmHWM") / 1e6)
    finally:
        server.terminate()
        server.wait(30)
    return figures


def run_datasette(db: Path, runs: int) -> dict[str, Any]:
    port = _free_port()
    command = [sys.executable, "-m", "datasette", "serve", "-i", str(db), "--port", str(port)]
    command += ["--setting", "sql_time_limit_ms", "60000", "--setting", "max_returned_rows", "1000"]
    server = subprocess.Popen(command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url + "/", server)
        idle = _vm(server.pid, "VmRSS")
        with httpx.Client(timeout=300) as client:

            def ask(sql: str) -> Any:
                got = client.get(f"{url}/{db.stem}.json", params={"sql": sql, "_shape": "arrays"})
                got.raise_for_status()
                return got.json()["rows"]

            figures = _time_queries(ask, runs)
        figures["rss_idle_mb"] = round(idle / 1e6)
        figures["rss_peak_mb"] = round(_vm(server.pid, "VmHWM") / 1e6)
    finally:
        server.terminate()
        server.wait(30)
    return figures


def import_sqlite(csv: Path, db: Path) -> float:
    db.unlink(missing_ok=True)
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "sqlite_utils", "insert", str(db), "rain", str(csv), "--csv"],  # types detected
        check=True,
        env=_env(),
    )
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before", action="store_true", help="query the CSV itself (no derived copy)")
    args = parser.parse_args()
    work = OUT / f"explore-{args.size_mb}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    csv = work / "rain.csv"
    rows = tables_bench.make_csv(csv, args.size_mb)
    version_id, copy_s = publish_csv(work / "node", csv, derive=not args.before)
    node = run_node(work / "node", version_id, args.runs)
    print("node:", json.dumps({k: v for k, v in node.items() if k not in QUERIES}), file=sys.stderr)
    db = work / "data.db"
    import_s = import_sqlite(csv, db)
    datasette = run_datasette(db, args.runs)
    result: dict[str, Any] = {
        "label": "before (the CSV itself)" if args.before else "derived Parquet copy",
        "rows": rows,
        "csv_mb": round(csv.stat().st_size / 1e6),
        "copy_s": round(copy_s, 1) if copy_s is not None else None,
        "sqlite_import_s": round(import_s, 1),
        "queries": {},
        "node_rss_idle_mb": node["rss_idle_mb"],
        "node_rss_peak_mb": node["rss_peak_mb"],
        "datasette_rss_idle_mb": datasette["rss_idle_mb"],
        "datasette_rss_peak_mb": datasette["rss_peak_mb"],
        "machine": f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}",
        "date": datetime.now(UTC).date().isoformat(),
    }
    for name in QUERIES:
        ours, theirs = node[name], datasette[name]
        result["queries"][name] = {
            "node_ms": ours["median_ms"],
            "datasette_ms": theirs["median_ms"],
            "ratio": round(ours["median_ms"] / theirs["median_ms"], 2),
            "same_row_count": len(ours["rows"]) == len(theirs["rows"]),
        }
    suffix = "-before" if args.before else ""
    (OUT / f"explore-{args.size_mb}{suffix}.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    print()
    print("| query | node | Datasette | node / Datasette |")
    print("|---|---:|---:|---:|")
    for name, q in result["queries"].items():
        print(f"| {name} | {q['node_ms']:.0f} ms | {q['datasette_ms']:.0f} ms | {q['ratio']:.2f} x |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
