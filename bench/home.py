"""Benchmark: the home page of a live ``osnode serve`` at N records, one request at a time and many at once.

    uv run python bench/home.py 20000
    uv run python bench/home.py 100000 --concurrency 32 --requests 640

Builds (or reuses) the node of bench/search.py at N records (rows written straight into the catalog and the
index), starts ``osnode serve`` on it (one process, embedded defaults) and asks for ``/``:

- sequential: ``--sequential`` requests one after another, after 5 warm-up requests; the server's CPU time
  per request (user + system of the whole process, from /proc) and the median wall time;
- concurrent: ``--requests`` requests from ``--concurrency`` connections at once; p50/p99 latency, requests per
  second, and the server's peak RSS (``VmHWM``) over the whole run.

Then one record's access is changed from another process (``storage.record_state``), and the page is asked
again: the bench checks the unfiltered access counts followed (cached figures must follow a change made by
another process) and reports the first home request's time after it. Results go to bench/out/home-N.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
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
import search as search_bench  # noqa: E402 - the sibling benchmark builds the catalog

OUT = search_bench.OUT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _vm(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _wait(url: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if server.poll() is not None:
            raise SystemExit("osnode serve stopped before it answered")
        try:
            if httpx.get(url + "/", timeout=30).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("osnode serve did not answer")


async def _concurrent(url: str, concurrency: int, total: int) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    failures = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failures
        while not queue.empty():
            queue.get_nowait()
            began = time.perf_counter()
            try:
                response = await client.get(url + "/")
            except httpx.HTTPError:  # a connection the server closed (keep-alive ran out under load)
                failures += 1
                continue
            latencies.append(time.perf_counter() - began)
            failures += response.status_code != 200

    began = time.perf_counter()
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return latencies, time.perf_counter() - began, failures


def _set_access(path: Path, level: str) -> None:
    """A change from another process: one record's access level, through ``storage.record_state`` (as a
    curator's edit or a replication run does)."""
    code = (
        "import sys\n"
        "from osnode.config import load_settings\n"
        "from osnode.services.node import Node, utcnow\n"
        "from osnode.storage.record_state import set_access_level\n"
        "node = Node.open(load_settings(sys.argv[1], base_url='http://bench'))\n"
        "with node.transaction() as tx:\n"
        "    set_access_level(tx, 'r000000000', 'v000000000', sys.argv[2], utcnow())\n"
        "node.close()\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path), level], check=True)


def _access_counts(url: str) -> dict[str, int]:
    body = httpx.get(url + "/api/search", params={"size": 1}, timeout=120).json()
    return {f["value"]: f["count"] for f in body["facets"]["access"]}


def measure(path: Path, sequential: int, concurrency: int, requests: int) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSNODE_")}
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "osnode", "serve", "--data", str(path), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, server)
        with httpx.Client(timeout=120) as client:
            for _ in range(5):
                client.get(url + "/").raise_for_status()
            cpu = _cpu_seconds(server.pid)
            walls = []
            for _ in range(sequential):
                began = time.perf_counter()
                page = client.get(url + "/")
                walls.append(time.perf_counter() - began)
                page.raise_for_status()
            cpu_per_request = (_cpu_seconds(server.pid) - cpu) / sequential
            size = len(page.content)
        rss_idle = _vm(server.pid, "VmRSS")
        latencies, seconds, failures = asyncio.run(_concurrent(url, concurrency, requests))
        peak = _vm(server.pid, "VmHWM")
        before = _access_counts(url)
        _set_access(path, "restricted")
        began = time.perf_counter()
        httpx.get(url + "/", timeout=120).raise_for_status()
        after_ms = (time.perf_counter() - began) * 1000
        after = _access_counts(url)
        moved = after.get("restricted", 0) == before.get("restricted", 0) + 1
    finally:
        server.terminate()
        server.wait(30)
        _set_access(path, "open")
    latencies.sort()
    return {
        "sequential_requests": sequential,
        "server_cpu_ms_per_request": round(cpu_per_request * 1000, 1),
        "wall_p50_ms": round(statistics.median(walls) * 1000, 1),
        "page_bytes": size,
        "concurrency": concurrency,
        "requests": requests,
        "failures": failures,
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000, 1),
        "requests_per_s": round(requests / seconds, 1),
        "rss_idle_mb": round(rss_idle / 1e6),
        "rss_peak_mb": round(peak / 1e6),
        "after_change_ms": round(after_ms, 1),
        "counts_followed_change": moved,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("records", type=int, help="how many records (e.g. 20000, 100000)")
    parser.add_argument("--sequential", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--requests", type=int, default=320)
    parser.add_argument("--label", default="", help="a name for this run in the output (e.g. before, after)")
    args = parser.parse_args()
    path = OUT / f"search-{args.records}"
    if not (path / "catalog.sqlite").exists():
        path.mkdir(parents=True, exist_ok=True)
        search_bench.build(path, args.records)
    figures = measure(path, args.sequential, args.concurrency, args.requests)
    figures |= {
        "label": args.label,
        "records": args.records,
        "machine": f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}",
        "date": datetime.now(UTC).date().isoformat(),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    suffix = f"-{args.label}" if args.label else ""
    (OUT / f"home-{args.records}{suffix}.json").write_text(json.dumps(figures, indent=1))
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
