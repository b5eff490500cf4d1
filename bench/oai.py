"""Benchmark: OAI-PMH at a million records, over HTTP, against a real ``osnode serve``.

    uv run python bench/oai.py --records 1000000
    uv run python bench/oai.py --records 100000 --formats oai_dc --page-size 500
    uv run python bench/oai.py --records 1000000 --database-url postgresql://postgres@127.0.0.1/oaibench

Fills a node in bench/out/oai-N/ (kept for re-runs unless ``--fresh``) by inserting rows straight
into the catalog tables (publishing a million records through the API would take hours; the rows
are what publication writes). Metadata is realistic and of varying size: 1-12 creators (some with
ORCIDs and affiliations), titles of 4-20 words, abstracts of 0-400 words, 0-6 subjects, dates,
related identifiers, funding, a DOI on a third, licences; files on 60% of records (1-4 each), a mix
of access levels, 1% withdrawn (deleted headers). Every distinct metadata shape is checked with the
domain's ``parse_metadata`` and stored as publication stores it (``Metadata.to_json``).

Then starts ``osnode serve`` (uvicorn, one process) on the node and harvests it with a plain HTTP
client (httpx, keep-alive, gzip accepted as harvesters do), following resumption tokens to the end
and parsing every page with lxml: a full ListRecords in each format asked (``--formats``) and a
full ListIdentifiers. Reported per harvest: records, errors (non-200, OAI errors, a list that ends
short or repeats), records/s overall, the time per page for the first, middle and last 20 pages
(flat = keyset pagination works), and the server's peak memory (VmHWM). ``--dump`` also times
``GET /api/dump.jsonl.gz``. ``--node-to-node`` times a second node harvesting this one with the
harvester (``services.harvest``), when that module exists.

The machine is shared: the load average is printed with the figures. Results go to
bench/out/oai-N.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from lxml import etree

from osnode.config import load_settings
from osnode.domain.metadata import parse_metadata
from osnode.services.node import Node
from osnode.storage.catalog import blobs, files, records, users, versions

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
BASE_URL = "https://bench.example.org"
OAI = "{http://www.openarchives.org/OAI/2.0/}"
SYLLABLES = "ka lo mi ne ru sa te vo zi ba de fi gu ho ja ku le ma no pe qui ra si tu va xe yo za an er in on".split()
KINDS = [("Dataset", 55), ("Text", 10), ("JournalArticle", 10), ("Software", 10), ("Image", 5), ("Collection", 3)]
LICENCES = ["CC-BY-4.0", "CC0-1.0", "MIT", "Apache-2.0", "CC-BY-SA-4.0"]
ACCESS = [("open", 80), ("metadata-only", 8), ("embargoed", 7), ("restricted", 5)]
MIMETYPES = ["text/csv", "application/zip", "application/pdf", "image/png", "application/x-hdf5", "text/plain"]
# Valid ORCID iDs (checksums right), so the shapes pass the domain's checks.
ORCIDS = ["0000-0002-1825-0097", "0000-0001-5109-3700", "0000-0002-1694-233X", "0000-0003-1419-2405"]
RORS = ["https://ror.org/02mhbdp94", "https://ror.org/05gq02987", "https://ror.org/01an7q238"]
SHAPES = 2_000


def vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    words: dict[str, None] = {}
    while len(words) < size:
        words["".join(rng.choices(SYLLABLES, k=rng.randint(2, 4)))] = None
    return list(words)


def weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([p[0] for p in pairs], [p[1] for p in pairs])[0]


def shape(rng: random.Random, vocab: list[str], i: int) -> dict[str, Any]:
    """One realistic metadata record, before the per-record title."""
    words = lambda k: " ".join(rng.choices(vocab, k=k))  # noqa: E731
    creators = []
    for c in range(rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 8, 12])):
        creator: dict[str, Any] = {"familyName": words(1).title(), "givenName": words(1).title()}
        if c == 0 and rng.random() < 0.5:
            creator["orcid"] = rng.choice(ORCIDS)
        if rng.random() < 0.4:
            creator["affiliations"] = [{"name": f"University of {words(1).title()}", "ror": rng.choice(RORS)}]
        creators.append(creator)
    meta: dict[str, Any] = {
        "titles": [{"title": "Placeholder", "lang": "en"}],
        "creators": creators,
        "publisher": {"name": "Bench Node"},
        "publicationYear": rng.randint(1995, 2026),
        "resourceType": {"resourceTypeGeneral": weighted(rng, KINDS)},
        "rightsList": [{"rightsIdentifier": rng.choice(LICENCES)}],
        "language": rng.choice(["en", "en", "pt", "fr", "id"]),
        "subjects": [{"subject": words(rng.randint(1, 3)).title()} for _ in range(rng.randint(0, 6))],
    }
    abstract = rng.choice([0, 30, 80, 150, 150, 250, 400])
    if abstract:
        meta["descriptions"] = [{"description": words(abstract).capitalize() + ".", "descriptionType": "Abstract"}]
    if rng.random() < 0.3:
        meta["titles"].append({"title": words(rng.randint(3, 8)).capitalize(), "titleType": "Subtitle"})
    if rng.random() < 0.33:
        meta["doi"] = f"10.5555/bench.{i}"
    if rng.random() < 0.5:
        meta["dates"] = [
            {"date": f"{rng.randint(2000, 2025)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}", "dateType": "Collected"}
        ]
    if rng.random() < 0.3:
        meta["relatedIdentifiers"] = [
            {"relatedIdentifier": f"10.5555/rel.{i}.{k}", "relatedIdentifierType": "DOI", "relationType": "Cites"}
            for k in range(rng.randint(1, 5))
        ]
    if rng.random() < 0.2:
        meta["fundingReferences"] = [{"funderName": f"{words(2).title()} Foundation", "awardNumber": f"A-{i}"}]
    if rng.random() < 0.2:
        meta["contributors"] = [
            {"familyName": words(1).title(), "givenName": words(1).title(), "contributorType": "DataCurator"}
        ]
    return parse_metadata(meta).to_json()


@dataclass
class Filled:
    records: int
    withdrawn: int
    harvested: int
    seconds: float
    db_mb: int


def fill(node: Node, n: int, *, harvested: float = 0.0, seed: int = 7) -> Filled:
    """``n`` records written straight into the catalog, in batches, one transaction each."""
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    shapes = [shape(rng, vocab, i) for i in range(SHAPES)]
    start = datetime(2020, 1, 1, tzinfo=UTC)
    began = time.perf_counter()
    withdrawn_count = harvested_count = 0
    sqlite = node.engine.dialect.name == "sqlite"
    with node.engine.begin() as conn:
        conn.execute(users.insert().values(id=9_999_999, name="bench", role="depositor", created=start))
        shas = [f"{k:064x}" for k in range(1, 2_001)]
        conn.execute(blobs.insert(), [{"sha256": s, "size": 1000 + k, "created": start} for k, s in enumerate(shas)])
    batch = 10_000
    for first in range(0, n, batch):
        rec_rows, ver_rows, file_rows = [], [], []
        for i in range(first, min(n, first + batch)):
            record_id, version_id = f"{i // 100000:05d}-{i % 100000:05d}", f"v{i:09d}"
            meta = dict(shapes[i % SHAPES])
            title = " ".join(rng.choices(vocab, k=rng.randint(4, 20))).capitalize()
            meta["titles"] = [{**meta["titles"][0], "title": title}, *meta["titles"][1:]]
            if "doi" in meta:
                meta["doi"] = f"10.5555/bench.{i}"
            # Several records per second: datestamps tie, and the (datestamp, id) key must hold.
            moment = start + timedelta(seconds=i // 3)
            withdrawn = rng.random() < 0.01
            withdrawn_count += withdrawn
            origin = None
            if rng.random() < harvested:
                origin, harvested_count = "https://peer.example.net", harvested_count + 1
            access = weighted(rng, ACCESS)
            rec_rows.append(
                {
                    "id": record_id,
                    "owner_id": 9_999_999,
                    "created": moment,
                    "latest_published_id": None if withdrawn else version_id,
                    "updated": moment,
                }
            )
            ver_rows.append(
                {
                    "id": version_id,
                    "record_id": record_id,
                    "number": 1,
                    "state": "withdrawn" if withdrawn else "published",
                    "metadata": meta,
                    "access_level": access,
                    "embargo_until": (moment + timedelta(days=3650)).date() if access == "embargoed" else None,
                    "owner_id": 9_999_999,
                    "created": moment,
                    "updated": moment,
                    "published_at": moment,
                    "withdrawn_at": moment if withdrawn else None,
                    "withdrawal_reason": "duplicate" if withdrawn else None,
                    "origin_node": origin,
                }
            )
            if access != "metadata-only" and rng.random() < 0.6:
                for k in range(rng.randint(1, 4)):
                    file_rows.append(
                        {
                            "version_id": version_id,
                            "key": f"part-{k}.{rng.choice(['csv', 'zip', 'pdf', 'png'])}",
                            "sha256": rng.choice(shas),
                            "size": rng.randint(1_000, 10**9),
                            "mimetype": rng.choice(MIMETYPES),
                            "created": moment,
                        }
                    )
        with node.engine.begin() as conn:
            conn.execute(records.insert(), rec_rows)
            conn.execute(versions.insert(), ver_rows)
            if file_rows:
                conn.execute(files.insert(), file_rows)
        done = min(n, first + batch)
        if (first // batch) % 10 == 0 or done == n:
            print(f"  filled {done:,} records, {time.perf_counter() - began:.0f} s", file=sys.stderr)
    with node.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    seconds = time.perf_counter() - began
    db = sum(f.stat().st_size for f in node.settings.data_dir.glob("catalog.sqlite*")) if sqlite else 0
    return Filled(n, withdrawn_count, harvested_count, round(seconds, 1), round(db / 1e6))


# -- the server ----------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    peak_kb: int = 0

    def memory_kb(self) -> tuple[int, int]:
        """(current RSS, peak RSS) of the server process, from /proc."""
        values = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(value.split()[0])
        return values.get("VmRSS", 0), values.get("VmHWM", 0)

    def cpu_seconds(self) -> float:
        """User + system CPU time the server has used: on a shared machine, what the work cost."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def serve(data: Path, database_url: str, page_size: int | None, port: int = 8765) -> Server:
    env = os.environ | {"OSNODE_BASE_URL": BASE_URL}
    if database_url:
        env["OSNODE_DATABASE_URL"] = database_url
    if page_size:
        env["OSNODE_OAI_PAGE_SIZE"] = str(page_size)
    process = subprocess.Popen(
        [sys.executable, "-m", "osnode", "serve", "--data", str(data), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server exited")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return Server(process, url)
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


# -- the harvest ---------------------------------------------------------------------------------


@dataclass
class Harvest:
    verb: str
    prefix: str
    items: int = 0
    deleted: int = 0
    pages: int = 0
    errors: list[str] = field(default_factory=list)
    page_seconds: list[float] = field(default_factory=list)
    seconds: float = 0.0
    bytes: int = 0
    complete_list_size: int | None = None

    def summary(self, server_peak_mb: float) -> dict[str, Any]:
        def ms(part: list[float]) -> float:
            return round(statistics.mean(part) * 1000, 1) if part else 0.0

        p = self.page_seconds
        mid = len(p) // 2
        return {
            "verb": self.verb,
            "prefix": self.prefix,
            "items": self.items,
            "deleted": self.deleted,
            "pages": self.pages,
            "errors": len(self.errors),
            "first_errors": self.errors[:5],
            "seconds": round(self.seconds, 1),
            "items_per_s": round(self.items / self.seconds) if self.seconds else 0,
            "mb_on_the_wire": round(self.bytes / 1e6),
            "page_ms_first20": ms(p[:20]),
            "page_ms_middle20": ms(p[max(0, mid - 10) : mid + 10]),
            "page_ms_last20": ms(p[-20:]),
            "page_ms_p95": round(sorted(p)[int(len(p) * 0.95)] * 1000, 1) if p else 0.0,
            "server_peak_rss_mb": server_peak_mb,
        }


def harvest(url: str, verb: str, prefix: str, expected: int) -> Harvest:
    """A full list request, token after token, as a harvester does it."""
    result = Harvest(verb, prefix)
    seen_last: str | None = None
    params: dict[str, str] = {"verb": verb, "metadataPrefix": prefix}
    began = time.perf_counter()
    with httpx.Client(timeout=120, headers={"Accept-Encoding": "gzip"}) as client:
        while True:
            t0 = time.perf_counter()
            response = client.get(f"{url}/oai", params=params)
            if response.status_code != 200:
                result.errors.append(f"HTTP {response.status_code} on page {result.pages + 1}")
                break
            root = etree.fromstring(response.content)
            result.page_seconds.append(time.perf_counter() - t0)
            result.bytes += int(response.headers.get("content-length") or len(response.content))
            result.pages += 1
            error = root.find(f"{OAI}error")
            if error is not None:
                result.errors.append(f"{error.get('code')}: {error.text}")
                break
            listing = root.find(f"{OAI}{verb}")
            headers = listing.iter(f"{OAI}header")
            for header in headers:
                result.items += 1
                if header.get("status") == "deleted":
                    result.deleted += 1
                seen_last = header.findtext(f"{OAI}identifier")
            token = listing.find(f"{OAI}resumptionToken")
            if token is not None and result.complete_list_size is None:
                result.complete_list_size = int(token.get("completeListSize", "0"))
            if token is None or not token.text:
                break
            params = {"verb": verb, "resumptionToken": token.text}
    result.seconds = time.perf_counter() - began
    if result.items != expected:
        result.errors.append(f"harvested {result.items} items, expected {expected} (last {seen_last})")
    return result


def dump(url: str) -> dict[str, Any]:
    """``GET /api/dump.jsonl.gz`` read to the end, every line parsed."""
    began = time.perf_counter()
    lines = deleted = size = 0
    with httpx.Client(timeout=600) as client, client.stream("GET", f"{url}/api/dump.jsonl.gz") as response:
        if response.status_code != 200:
            return {"error": f"HTTP {response.status_code}"}
        decompressor = gzip.GzipFile(fileobj=_Stream(response.iter_raw()))
        for line in decompressor:
            item = json.loads(line)
            lines += 1
            deleted += bool(item.get("deleted"))
        size = response.num_bytes_downloaded
    seconds = time.perf_counter() - began
    return {
        "lines": lines,
        "deleted": deleted,
        "mb_gzip": round(size / 1e6),
        "seconds": round(seconds, 1),
        "lines_per_s": round(lines / seconds),
    }


class _Stream:
    """A file-like view of an iterator of byte chunks, for GzipFile."""

    def __init__(self, chunks: Any) -> None:
        self.chunks, self.buffer = chunks, b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self.buffer) < size:
            try:
                self.buffer += next(self.chunks)
            except StopIteration:
                break
        if size < 0:
            size = len(self.buffer)
        out, self.buffer = self.buffer[:size], self.buffer[size:]
        return out


def node_to_node(url: str, folder: Path, expected: int) -> dict[str, Any]:
    """A second node harvests this one with the harvester (``services.harvest``), if it exists yet."""
    try:
        from osnode.services import harvest as harvesting  # the harvester helper's module
        from osnode.services.harvest import OAIClient
    except ImportError:
        return {"skipped": "osnode.services.harvest does not exist yet"}
    target = folder.parent / f"{folder.name}-harvester"
    shutil.rmtree(target, ignore_errors=True)
    node = Node.open(load_settings(target, base_url="https://harvester.example.org"))
    try:
        harvesting.add_peer(node, f"{url}/oai", name="bench", metadata_prefix="oai_datacite")
        began = time.perf_counter()
        run = harvesting.harvest(node, "bench", OAIClient)
        seconds = time.perf_counter() - began
    finally:
        node.close()
    report = {k: v for k, v in vars(run).items() if isinstance(v, int | str | float | None)}
    return {"seconds": round(seconds, 1), "per_s": round(expected / seconds), "run": report, "expected": expected}


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--harvested", type=float, default=0.0, help="share of records marked as harvested")
    parser.add_argument("--page-size", type=int, default=None, help="OSNODE_OAI_PAGE_SIZE (default: the node's)")
    parser.add_argument("--formats", default="oai_dc,oai_datacite", help="ListRecords formats, comma-separated")
    parser.add_argument("--no-identifiers", action="store_true", help="skip the ListIdentifiers harvest")
    parser.add_argument("--dump", action="store_true", help="also time GET /api/dump.jsonl.gz")
    parser.add_argument("--node-to-node", action="store_true", help="also time the harvester, node to node")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (an empty database) instead of SQLite")
    parser.add_argument("--fresh", action="store_true", help="refill even if bench/out/oai-N exists")
    args = parser.parse_args()
    backend = "pg" if args.database_url else "sqlite"
    folder = OUT / f"oai-{args.records}-{backend}"
    if args.fresh and folder.exists():
        shutil.rmtree(folder)
    figures: dict[str, Any] = {"records": args.records, "backend": backend}
    marker = folder / "filled.json"
    if not marker.exists():
        folder.mkdir(parents=True, exist_ok=True)
        node = Node.open(load_settings(folder, base_url=BASE_URL, database_url=args.database_url or None))
        try:
            filled = fill(node, args.records, harvested=args.harvested)
        finally:
            node.close()
        marker.write_text(json.dumps(filled.__dict__))
    filled_info = json.loads(marker.read_text())
    figures["fill"] = filled_info
    expected_all = filled_info["records"] - filled_info["harvested"]
    expected_live = expected_all  # deleted headers are items too
    print(f"node: {filled_info}; load average {load_average()}", file=sys.stderr)
    server = serve(folder, args.database_url, args.page_size)
    runs = []
    try:
        jobs = [("ListRecords", p) for p in args.formats.split(",") if p]
        if not args.no_identifiers:
            jobs.append(("ListIdentifiers", "oai_dc"))
        for verb, prefix in jobs:
            load, cpu = load_average(), server.cpu_seconds()
            done = harvest(server.url, verb, prefix, expected_live)
            summary = done.summary(round(server.memory_kb()[1] / 1024))
            summary["server_cpu_s"] = round(server.cpu_seconds() - cpu, 1)
            summary["items_per_server_cpu_s"] = round(done.items / max(summary["server_cpu_s"], 0.1))
            summary["load_average"] = load + " -> " + load_average()
            runs.append(summary)
            print(json.dumps(summary), file=sys.stderr)
        if args.dump:
            cpu = server.cpu_seconds()
            figures["dump"] = dump(server.url) | {"load_average": load_average()}
            figures["dump"]["server_cpu_s"] = round(server.cpu_seconds() - cpu, 1)
            print(json.dumps(figures["dump"]), file=sys.stderr)
        if args.node_to_node:
            figures["node_to_node"] = node_to_node(server.url, folder, expected_all)
            print(json.dumps(figures["node_to_node"]), file=sys.stderr)
    finally:
        figures["server_peak_rss_mb"] = round(server.memory_kb()[1] / 1024)
        server.stop()
    figures |= {
        "harvests": runs,
        "machine": f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    OUT.mkdir(exist_ok=True)
    (OUT / f"oai-{args.records}-{backend}.json").write_text(json.dumps(figures, indent=2))
    print(
        "| verb | prefix | items | errors | s | items/s | items/server-CPU-s | page ms first/mid/last 20 "
        "| RSS MB | load |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---|---:|---|")
    for r in runs:
        print(
            f"| {r['verb']} | {r['prefix']} | {r['items']:,} | {r['errors']} | {r['seconds']} | {r['items_per_s']:,} "
            f"| {r['items_per_server_cpu_s']:,} "
            f"| {r['page_ms_first20']} / {r['page_ms_middle20']} / {r['page_ms_last20']} "
            f"| {r['server_peak_rss_mb']} | {r['load_average']} |"
        )


if __name__ == "__main__":
    main()
