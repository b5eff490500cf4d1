"""Benchmark: landing, search and OAI-PMH requests/s at 1 and 2 web processes on PostgreSQL.

    uv run python bench/webscale.py --records 5000 --seconds 15 --concurrency 8 --workers 1 2

Fills a fresh PostgreSQL database (made on the server of ``--database-url`` and dropped at the end) with
``--records`` records the way bench/oai.py does (rows as publication writes them), then for each worker
count starts ``osnode serve --workers N`` (access log off) and runs a bounded load loop: ``--concurrency``
client threads, each with its own keep-alive httpx client, asking one URL for ``--seconds`` seconds:
a landing page (HTML, records picked at random), a search page (``/search?q=`` a word of the vocabulary,
HTML) and an OAI-PMH GetRecord (oai_dc). Reported per URL: requests/s, p50 and p99 latency, errors.

The load generator is Python on the same two cores as the server (no wrk here), so the figures are
lower bounds of what the server does alone; p50 also shows the 40-48 ms Nagle/delayed-ACK stall if a
response ever waits for it. The machine is shared: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from oai import fill, vocabulary  # noqa: E402 - bench/oai.py's catalog filler

from osnode.config import load_settings  # noqa: E402
from osnode.services.node import Node  # noqa: E402


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(folder: str, url: str, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = os.environ | {"OSNODE_DATABASE_URL": url, "OSNODE_ACCESS_LOG": "false", "OSNODE_EXPLORE_PRELOAD": "false"}
    command = [
        sys.executable,
        "-m",
        "osnode",
        "serve",
        "--data",
        folder,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                # Every worker process up: a few rounds of requests on fresh connections.
                for _ in range(10 * workers):
                    httpx.get(f"{base}/healthz", timeout=10)
                return process, base
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("osnode serve did not come up")


def load(urls: list[str], seconds: float, concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client(seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        mine, bad = [], 0
        with httpx.Client(timeout=60, headers={"accept": "text/html"}) as http:
            while time.perf_counter() < stop_at:
                began = time.perf_counter()
                try:
                    ok = http.get(rng.choice(urls)).status_code == 200
                except httpx.HTTPError:
                    ok = False
                mine.append(time.perf_counter() - began)
                bad += not ok
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "requests": len(latencies),
        "rps": round(len(latencies) / wall, 1),
        "p50_ms": round(cuts[49] * 1000, 1),
        "p99_ms": round(cuts[98] * 1000, 1),
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    print(f"{platform.node()} nproc={os.cpu_count()} load average {os.getloadavg()}", flush=True)
    name = f"osnode_webbench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = args.database_url.rsplit("/", 1)[0] + f"/{name}"
    folder = tempfile.mkdtemp(prefix="webbench-")
    results: list[dict[str, Any]] = []
    try:
        node = Node.open(load_settings(folder, database_url=url))
        fill(node, args.records)
        node.close()
        rng = random.Random(3)
        ids = [rng.randrange(args.records) for _ in range(200)]
        words = vocabulary(random.Random(7))[50:250]
        for workers in args.workers:
            process, base = serve(folder, url, workers)
            try:
                listed = httpx.get(f"{base}/oai?verb=ListIdentifiers&metadataPrefix=oai_dc", timeout=60).text
                oai_ids = [s.split("</identifier>")[0] for s in listed.split("<identifier>")[1:]][:200]
                targets = {
                    "landing": [f"{base}/records/{i // 100000:05d}-{i % 100000:05d}" for i in ids],
                    "search": [f"{base}/search?q={w}" for w in words],
                    "oai GetRecord": [
                        f"{base}/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier={o}" for o in oai_ids
                    ],
                }
                for what, urls in targets.items():
                    for u in urls[:3]:
                        httpx.get(u, timeout=60, headers={"accept": "text/html"}).raise_for_status()
                    figures = {"workers": workers, "what": what} | load(urls, args.seconds, args.concurrency)
                    results.append(figures)
                    print(json.dumps(figures), flush=True)
            finally:
                process.terminate()
                process.wait(30)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "webscale.json").write_text(json.dumps(results, indent=2))
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
