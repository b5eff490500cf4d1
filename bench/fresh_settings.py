"""What taking up other workers' settings costs a request: ``services.site.refresh`` when nothing changed (one
read of the ``site-stamp`` row by its key), and GET /healthz in process with the check on every request and
without it (the app asks once a second, ``web/fresh_settings.INTERVAL``).

Usage: ``uv run python bench/fresh_settings.py [--runs 2000] [--database-url postgresql+psycopg://...]``
(default: a fresh SQLite node in a temporary folder). Prints p50 and p95 in microseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable

from fastapi.testclient import TestClient

from osnode.app import create_app
from osnode.config import load_settings
from osnode.services import site
from osnode.services.node import Node
from osnode.web import fresh_settings


def _timed(func: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        out.append((time.perf_counter() - start) * 1e6)
    return out


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        overrides = {"database_url": args.database_url} if args.database_url else {}
        node = Node.open(load_settings(folder, access_log=False, **overrides))
        try:
            refresh = _timed(lambda: site.refresh(node), args.runs)
            fresh_settings.INTERVAL = 0  # every request asks, the worst case
            with TestClient(create_app(node)) as client:
                checked = _timed(lambda: client.get("/healthz"), args.runs)
                real = site.refresh
                site.refresh = lambda _node: False  # type: ignore[assignment]
                try:
                    unchecked = _timed(lambda: client.get("/healthz"), args.runs)
                finally:
                    site.refresh = real  # type: ignore[assignment]
        finally:
            node.close()
    backend = "postgresql" if args.database_url else "sqlite"
    print(f"{backend}; {args.runs} runs; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.1f}")
    for name, values in (("refresh (no change)", refresh), ("GET /healthz, checked", checked),
                         ("GET /healthz, no check", unchecked)):  # fmt: skip
        print(f"{name:<24} p50 {_p(values, 50):8.0f} us   p95 {_p(values, 95):8.0f} us")


if __name__ == "__main__":
    main()
