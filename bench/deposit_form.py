"""Benchmark: the web deposit form with N published records in the catalog.

    uv run python bench/deposit_form.py 100000 --rounds 200

Builds (or reuses) the node of ``bench/search.py`` at N records (bench/out/search-N/), makes a local account,
signs it in through /login and opens one draft. Then, in process (FastAPI's TestClient: no network, so the
time is the server's), ``--rounds`` times each: the autosave round trip (POST /deposit/{id}/autosave with a
filled form of two creators) and the form render (GET /deposit/{id}); p50/p95/max in ms. Also the page
weight of the form (bytes, and gzipped as served). Results go to bench/out/deposit-form-N.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
import search as search_bench  # noqa: E402 - the sibling benchmark builds the catalog

from osnode.app import create_app  # noqa: E402
from osnode.config import load_settings  # noqa: E402
from osnode.services import accounts  # noqa: E402
from osnode.services.node import Node  # noqa: E402

HTML = {"Accept": "text/html"}
PASSWORD = "correct horse battery staple"
FORM = {
    "titles.0.title": "Soil cores from the Kalahari",
    "creators.0.name": "Silva, Ana",
    "creators.0.orcid": "0000-0002-1825-0097",
    "creators.0.affiliations.0.name": "Universidade Agostinho Neto",
    "creators.0.affiliations.0.ror": "https://ror.org/02mhbdp94",
    "creators.1.name": "Lee, Min",
    "resourceType.resourceTypeGeneral": "Dataset",
    "publicationYear": "2026",
    "rightsList.0.rightsIdentifier": "CC-BY-4.0",
    "descriptions.0.description": "Cores taken in 2025. " * 20,
    "access.level": "open",
}


def timed(call: object, rounds: int) -> dict[str, float]:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        response = call()  # type: ignore[operator]
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.text[:500]
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
        "max_ms": round(times[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", type=int)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    path = search_bench.OUT / f"search-{args.records}"
    if not path.exists():
        search_bench.build(path, args.records)
    node = Node.open(load_settings(path, base_url="http://testserver"))
    email = f"bench-{os.getpid()}@example.org"
    accounts.register(node, email, PASSWORD, "Bench Depositor", "en")
    client = TestClient(create_app(node))
    login = client.get("/login")
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', login.text).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"email": email, "password": PASSWORD, "next": "/deposit/new", "csrf": csrf})
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', client.get("/deposit/new", headers=HTML).text).group(1)  # type: ignore[union-attr]
    made = client.post("/deposit/new", data=FORM | {"csrf": csrf, "action": "save"}, follow_redirects=False)
    version_id = made.headers["location"].split("/deposit/")[1].split("?")[0]
    for _ in range(10):  # warm-up
        client.get(f"/deposit/{version_id}", headers=HTML)
    autosave = timed(
        lambda: client.post(f"/deposit/{version_id}/autosave", data=FORM, headers={"X-CSRF-Token": csrf}), args.rounds
    )
    render = timed(lambda: client.get(f"/deposit/{version_id}", headers=HTML), args.rounds)
    page = client.get(f"/deposit/{version_id}", headers=HTML).content
    result = {
        "records": args.records,
        "rounds": args.rounds,
        "autosave": autosave,
        "render": render,
        "page_bytes": len(page),
        "page_gzip_bytes": len(gzip.compress(page)),
        "machine": f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}",
        "database": "SQLite",
    }
    out = search_bench.OUT / f"deposit-form-{args.records}.json"
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    node.close()


if __name__ == "__main__":
    main()
