"""Benchmark: node-to-node harvesting, one ``osnode serve`` harvested by a second node's harvester.

    uv run python bench/harvest.py --records 20000
    uv run python bench/harvest.py --records 20000 --format oai_dc --page-size 500
    uv run python bench/harvest.py --records 1000000 --peer-data bench/out/oai-1000000-sqlite --max-seconds 300
    uv run python bench/harvest.py --peer-data bench/out/oai-1000000-sqlite --no-dump   # OAI-PMH pages only

Fills a peer node in bench/out/harvest-peer-N/ (kept for re-runs unless ``--fresh``) by inserting
published records straight into the catalog (what publication writes, with DataCite metadata of a
few shapes, checked by ``parse_metadata``), serves it with ``osnode serve`` and times a fresh second
node harvesting all of it with ``services.harvest`` and the OAI-PMH client: the full harvest (a list of
5,000 records or more is read from the peer's bulk dump, unless ``--no-dump``; records are checked in a
worker process either way), then an incremental re-harvest with nothing new over OAI-PMH (skipped after
a time-limited run). The harvester's CPU includes its worker process. Reports
records/s, time per page (first, middle, last ten), peak RSS of harvester and server, the run's counts
and errors, and the load average (the machine is shared). ``--peer-data`` serves a node filled
elsewhere (bench/oai.py fills a million records) instead of filling one here. Results go to bench/out/harvest-N.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from osnode.config import load_settings
from osnode.domain.metadata import parse_metadata
from osnode.services import harvest
from osnode.services.harvest import HarvestError, OAIClient, pipeline
from osnode.services.node import Node
from osnode.storage.catalog import records, users, versions

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
WORDS = "rain soil tide coral maize cassava malaria river basin survey census genome cell atlas drought".split()


def shape(i: int) -> dict[str, Any]:
    words = [WORDS[(i * 7 + k) % len(WORDS)] for k in range(3 + i % 5)]
    meta: dict[str, Any] = {
        "titles": [{"title": " ".join(words).capitalize() + f" {i}"}],
        "creators": [{"familyName": f"Author{(i + k) % 97}", "givenName": "A."} for k in range(1 + i % 4)],
        "publisher": "Bench Node",
        "publicationYear": 2000 + i % 26,
        "resourceType": {"resourceTypeGeneral": ["Dataset", "Software", "JournalArticle"][i % 3]},
        "subjects": [{"subject": w} for w in words[:2]],
        "descriptions": [{"description": " ".join(words * (1 + i % 20))}],
        "rightsList": [{"rightsIdentifier": "CC-BY-4.0"}],
    }
    if i % 3 == 0:
        meta["doi"] = f"10.5555/bench.{i}"
    return parse_metadata(meta).to_json()


def fill(folder: Path, n: int) -> None:
    node = Node.open(load_settings(folder))
    try:
        with node.transaction() as tx:
            if tx.execute(records.select().limit(1)).first():
                return
            owner = tx.execute(users.insert().values(name="bench", role="admin", created=datetime.now(UTC)))
            owner_id = owner.inserted_primary_key[0]
            start = datetime(2026, 1, 1, tzinfo=UTC)
            for begin in range(0, n, 1000):
                batch = range(begin, min(n, begin + 1000))
                moments = {i: start + timedelta(seconds=i) for i in batch}
                tx.execute(
                    records.insert(),
                    [
                        {
                            "id": f"r{i:09d}",
                            "owner_id": owner_id,
                            "created": moments[i],
                            "updated": moments[i],
                            "latest_published_id": f"v{i:09d}",
                        }
                        for i in batch
                    ],
                )
                tx.execute(
                    versions.insert(),
                    [
                        {
                            "id": f"v{i:09d}",
                            "record_id": f"r{i:09d}",
                            "number": 1,
                            "state": "published",
                            "metadata": shape(i),
                            "access_level": "metadata-only",
                            "owner_id": owner_id,
                            "created": moments[i],
                            "updated": moments[i],
                            "published_at": moments[i],
                        }
                        for i in batch
                    ],
                )
    finally:
        node.close()


def serve(folder: Path, page_size: int, port: int = 8766) -> subprocess.Popen[bytes]:
    env = os.environ | {"OSNODE_OAI_PAGE_SIZE": str(page_size)}
    process = subprocess.Popen(
        [sys.executable, "-m", "osnode", "serve", "--data", str(folder), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("osnode serve did not start")


class TimedClient(OAIClient):
    """The harvester's client, stopping the harvest (as a peer failure would) past a time limit."""

    deadline = float("inf")

    def fetch_records(self, *args: Any, **kwargs: Any) -> Any:
        if time.perf_counter() > self.deadline:
            raise HarvestError("bench time limit reached")
        return super().fetch_records(*args, **kwargs)

    def open_dump(self, after: str | None = None) -> Any:
        dump = super().open_dump(after)
        if dump is not None:
            batches, deadline = dump.batches, self.deadline

            def timed(lines: int) -> Any:
                for batch in batches(lines):
                    if time.perf_counter() > deadline:
                        raise HarvestError("bench time limit reached")
                    yield batch

            dump.batches = timed  # type: ignore[method-assign]
        return dump


def peak_mb(pid: int | None = None) -> float:
    """Peak resident memory (VmHWM) of a process, in MB."""
    for line in Path(f"/proc/{pid or 'self'}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def cpu_s(pid: int | None = None) -> float:
    """User + system CPU seconds a process has used so far."""
    if pid is None:
        # This process and its ended children: the harvest's worker process is one.
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ms(part: list[float]) -> float:
    return round(statistics.mean(part) * 1000, 1) if part else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--format", default=None, help="oai_datacite (default: the harvester's choice) or oai_dc")
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--peer-data", type=Path, default=None, help="serve this filled node (e.g. bench/oai.py's)")
    parser.add_argument("--max-seconds", type=float, default=0, help="stop the harvest after this long (0: never)")
    parser.add_argument("--no-dump", action="store_true", help="page through OAI-PMH even where the peer has a dump")
    args = parser.parse_args()
    peer_dir = args.peer_data or OUT / f"harvest-peer-{args.records}"
    target = OUT / f"harvest-node-{args.records}"
    if args.fresh and args.peer_data is None:
        shutil.rmtree(peer_dir, ignore_errors=True)
    began = time.perf_counter()
    if args.peer_data is None:
        fill(peer_dir, args.records)
    filled = time.perf_counter() - began
    shutil.rmtree(target, ignore_errors=True)
    server = serve(peer_dir, args.page_size)
    node = Node.open(load_settings(target, base_url="https://harvester.example.org"))
    pages: list[float] = []
    stores: list[float] = []
    last = [0.0]
    store_page = pipeline.store_page

    def timed_store(*args: Any) -> None:
        # Diagnostic: the harvester's own share of a page (the rest is waiting for the peer).
        began = time.perf_counter()
        store_page(*args)
        stores.append(time.perf_counter() - began)

    pipeline.store_page = timed_store

    def tick(_run: harvest.RunInfo) -> None:
        now = time.perf_counter()
        pages.append(now - last[0])
        last[0] = now

    try:
        harvest.add_peer(node, "http://127.0.0.1:8766/oai", name="peer", metadata_prefix=args.format)
        cpu_before, server_before = cpu_s(), cpu_s(server.pid)
        began = last[0] = time.perf_counter()
        TimedClient.deadline = began + args.max_seconds if args.max_seconds else float("inf")
        full = harvest.harvest(node, "peer", TimedClient, progress=tick, use_dump=not args.no_dump)
        full_s = time.perf_counter() - began
        harvester_cpu, server_cpu = cpu_s() - cpu_before, cpu_s(server.pid) - server_before
        again, again_s = None, 0.0
        if full.status == "ok":  # after a time-limited run, the rest would be harvested now: skip it
            began = time.perf_counter()
            again = harvest.harvest(node, "peer", TimedClient)
            again_s = time.perf_counter() - began
        server_mb = peak_mb(server.pid)
    finally:
        node.close()
        server.terminate()
        server.wait()
    stored = full.added + full.updated + full.unchanged
    mid = len(pages) // 2
    result = {
        "records": args.records,
        "page_size": args.page_size,
        "format": full.metadata_prefix,
        "via": "OAI-PMH" if args.no_dump or not any("bulk dump" in e["message"] for e in full.error_list) else "dump",
        "fill_s": round(filled, 1),
        "harvest_s": round(full_s, 1),
        "stored": stored,
        "records_per_s": round(stored / full_s),
        "pages": full.pages,
        "page_ms_first10": ms(pages[:10]),
        "page_ms_middle10": ms(pages[max(0, mid - 5) : mid + 5]),
        "page_ms_last10": ms(pages[-10:]),
        "store_ms_first10": ms(stores[:10]),
        "store_ms_middle10": ms(stores[max(0, mid - 5) : mid + 5]),
        "store_ms_last10": ms(stores[-10:]),
        "status": full.status,
        "message": full.message,
        "added": full.added,
        "errors": full.errors,
        "reharvest_s": round(again_s, 2),
        "reharvest_added": again.added if again else None,
        "harvester_cpu_s": round(harvester_cpu, 1),
        "server_cpu_s": round(server_cpu, 1),
        "records_per_harvester_cpu_s": round(stored / harvester_cpu) if harvester_cpu else None,
        "harvester_peak_rss_mb": peak_mb(),
        "server_peak_rss_mb": server_mb,
        "load_average": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }
    OUT.mkdir(exist_ok=True)
    (OUT / f"harvest-{args.records}.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
