"""Benchmark: profiling a big CSV, against DuckDB's own read_csv of the same file.

    uv run python bench/tables.py --size-mb 1024

Writes a CSV of about SIZE_MB megabytes into --dir (default bench/out/; deleted afterwards unless --keep):
an integer id, a text name, a city (20 values), a float, a date and a boolean per row. Then, each in a fresh
process of its own, --runs times (the best kept; the first run also warms the page cache):

  read_csv    ``CREATE TABLE t AS SELECT * FROM read_csv(FILE)`` in DuckDB with the settings the profiler
              uses (2 threads, 1 GB memory limit, spilling to a temporary folder): DuckDB reading the file
  count       ``SELECT count(*) FROM read_csv(FILE)``: the parse alone, nothing kept (for reference)
  profile     ``explore.tables.profile_table``: types, row count, per-column nulls, min/max, approximate
              distinct counts, top values with exact counts, first rows
  validate    ``explore.tables.validate_table``: Frictionless on the bounded sample (2 MB)

The target is profile <= 2 x read_csv.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_csv(path: Path, size_mb: int) -> int:
    import duckdb

    rows = int(size_mb * 1024**2 / 51)  # about 51 bytes a row
    sql = f"""
        COPY (
            SELECT i AS id,
                   'name_' || (hash(i) % 5000000)::VARCHAR AS name,
                   ['Luanda','Jakarta','Lima','Nairobi','Dhaka','Quito','Accra','Hanoi','Lagos','Manila',
                    'Kigali','Dakar','Bogota','Lusaka','Maputo','Harare','Yangon','Suva','Apia','Male'][1 + i % 20]
                       AS city,
                   round((hash(i * 7) % 100000) / 100.0, 2) AS rain_mm,
                   DATE '2000-01-01' + (i % 9000)::INTEGER AS day,
                   i % 3 = 0 AS flagged
            FROM range({rows}) t(i)
        ) TO '{path}' (HEADER, DELIMITER ',')
    """
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute(sql)
    con.close()
    return rows


def measure(step: str, path: Path) -> dict[str, Any]:
    from osnode.explore import tables

    with tempfile.TemporaryDirectory(prefix="bench-tables-") as tmp:
        work = Path(tmp)
        source = tables.TableSource("csv", path, "utf-8")
        started = time.perf_counter()
        if step in ("read_csv", "count"):
            with tables.profiling_connection(work / "duckdb-tmp") as con:
                if step == "read_csv":
                    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{path}')")
                else:
                    con.execute(f"SELECT count(*) FROM read_csv('{path}')").fetchall()
        elif step == "profile":
            profile = tables.profile_table(source, work, "big.csv")
            assert profile["rows"] > 0
        else:
            tables.validate_table(path, "csv", "utf-8")
        return {"seconds": time.perf_counter() - started, "peak_mb": peak_mb()}


def run_step(step: str, path: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--measure", step, "--file", str(path)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=BENCH / "out")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.file)))
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    path = args.dir / f"table-{args.size_mb}mb.csv"
    t0 = time.perf_counter()
    rows = make_csv(path, args.size_mb)
    result: dict[str, Any] = {"rows": rows, "file_mb": path.stat().st_size / 1e6, "write_s": time.perf_counter() - t0}
    try:
        for step in ("count", "read_csv", "profile", "validate"):
            runs = [run_step(step, path) for _ in range(args.runs)]
            good = [r for r in runs if "seconds" in r]
            result[step] = min(good, key=lambda r: r["seconds"]) if good else runs[-1]
            result[step]["all_s"] = [r.get("seconds") for r in runs]
            print(step, json.dumps(result[step]), flush=True)
    finally:
        if not args.keep:
            path.unlink(missing_ok=True)
    (args.dir / "tables.json").write_text(json.dumps(result, indent=1))
    ratio = result["profile"]["seconds"] / result["read_csv"]["seconds"]
    print()
    print("| CSV | rows | DuckDB count(*) | DuckDB read_csv (load) | profile | ratio | profile peak RSS | validation |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {result['file_mb']:,.0f} MB | {rows:,} | {result['count']['seconds']:.1f} s "
        f"| {result['read_csv']['seconds']:.1f} s | {result['profile']['seconds']:.1f} s | {ratio:.2f} x "
        f"| {result['profile']['peak_mb']:,.0f} MB | {result['validate']['seconds']:.1f} s |"
    )


if __name__ == "__main__":
    main()
