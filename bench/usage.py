"""Benchmark: usage counting (COUNTER) and the COAR Notify inbox.

    uv run python bench/usage.py --events 1000000 --records 100000 --notifications 1000

On a fresh SQLite node in a temporary folder (deleted afterwards):

  record   ``services.usage.events.record`` for EVENTS events of one day (10,000 items, 20,000 addresses; 90 %
           browsers, 5 % scripts, 5 % robots): what the web pages pay per reader, hashing and appending a line
  count    ``counting.count_closed_days``: that day's log read by DuckDB, COUNTER rules applied, added to the
           monthly aggregates (the ingest target: record + count of 1,000,000 events <= 60 s)
  report   ``reports.item_report_json`` over 12 months of a node of RECORDS records, each used every month
           (12 x RECORDS rows of 4 metrics): built from the catalog, best of 3 (target <= 2 s); then once more,
           answered from the cache kept until the next day is counted
  inbox    ``services.notify.inbox.receive`` of NOTIFICATIONS valid Announce Review notifications
           (parse with coarnotify, checks, store): notifications per second, in process (no HTTP)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from sqlalchemy import insert  # noqa: E402

from osnode.config import load_settings  # noqa: E402
from osnode.services import users  # noqa: E402
from osnode.services.node import Node, utcnow  # noqa: E402
from osnode.services.notify import inbox  # noqa: E402
from osnode.services.usage import counting, events, reports  # noqa: E402
from osnode.storage.catalog import records, versions  # noqa: E402
from osnode.storage.usage import usage_monthly  # noqa: E402

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0 Safari/537.36"
SCRIPT = "python-requests/2.{v}.0"
ROBOT = "Googlebot/2.1 (+http://www.google.com/bot.html)"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def bench_events(node: Node, n: int) -> dict[str, float]:
    rng = random.Random(1)
    day = datetime(2026, 3, 10, tzinfo=UTC).timestamp()
    agents = [CHROME.format(v=100 + i % 20) for i in range(18)] + [SCRIPT.format(v=30)] + [ROBOT]
    start = time.perf_counter()
    for i in range(n):
        events.record(
            node,
            f"r{rng.randrange(10_000):05d}",
            events.REQUEST if rng.random() < 0.2 else events.INVESTIGATION,
            f"10.{rng.randrange(80)}.{rng.randrange(250)}.{rng.randrange(250)}",
            agents[rng.randrange(len(agents))],
            moment=day + i * 86_000 / n,
        )
    recorded = time.perf_counter() - start
    events.forget(node, "2026-03-10")
    start = time.perf_counter()
    assert counting.count_closed_days(node, today="2026-03-11") == 1
    counted = time.perf_counter() - start
    return {"record_s": recorded, "count_s": counted}


def fill_records(node: Node, n: int) -> None:
    owner = users.create_user(node, "bench", "depositor")
    now = utcnow()
    meta = {"titles": [{"title": "t"}], "resourceType": {"resourceTypeGeneral": "Dataset"}, "creators": []}
    with node.transaction() as tx:
        for start in range(0, n, 5000):
            ids = [f"b{i:07d}" for i in range(start, min(n, start + 5000))]
            tx.execute(
                insert(records),
                [dict(id=i, owner_id=owner.id, created=now, latest_published_id=f"v{i}", updated=now) for i in ids],
            )
            rows = [
                dict(id=f"v{i}", record_id=i, number=1, state="published", metadata=meta | {"titles": [{"title": i}]},
                     access_level="open", owner_id=owner.id, created=now, updated=now)
                for i in ids
            ]  # fmt: skip
            tx.execute(insert(versions), rows)
    with node.transaction() as tx:
        for start in range(0, n, 2000):
            rows = [
                dict(record_id=f"b{i:07d}", month=f"2026-{m:02d}", access_method="Regular", country="", source="",
                     total_investigations=3 + (i + m) % 7, unique_investigations=2, total_requests=1 + (i + m) % 3,
                     unique_requests=1)
                for i in range(start, min(n, start + 2000))
                for m in range(1, 13)
            ]  # fmt: skip
            tx.execute(insert(usage_monthly), rows)


def bench_report(node: Node, n: int) -> dict[str, float]:
    start = time.perf_counter()
    fill_records(node, n)
    log(f"  filled {n} records x 12 months in {time.perf_counter() - start:.0f} s")
    best, cpu = float("inf"), float("inf")
    for _ in range(3):
        reports._cache.clear()  # built from the catalog each time; the cached answer is timed below
        start, start_cpu = time.perf_counter(), time.process_time()
        report = reports.item_report_json(node, "2026-01", "2026-12")
        best, cpu = min(best, time.perf_counter() - start), min(cpu, time.process_time() - start_cpu)
    assert len(json.loads(report)["Report_Items"]) >= n  # the recorded day's items too
    start = time.perf_counter()
    reports.item_report_json(node, "2026-01", "2026-12")
    cached = time.perf_counter() - start
    return {"report_s": best, "report_cpu_s": cpu, "report_cached_s": cached, "report_bytes": len(report)}


def bench_inbox(node: Node, n: int) -> dict[str, float]:
    service = "https://review-service.example.org"
    table = (("id", service), ("inbox", f"{service}/inbox"), ("label", "Reviews"))
    node.settings = dataclasses.replace(node.settings, base_url="https://node.example.org",
                                        notify_services=(("reviews", table),))  # fmt: skip
    target = "b0000000"  # a record fill_records made
    bodies = []
    for i in range(n):
        bodies.append(json.dumps({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://coar-notify.net"],
            "id": f"urn:uuid:{uuid.uuid4()}", "type": ["Announce", "coar-notify:ReviewAction"],
            "actor": {"id": service, "name": "Reviews", "type": "Service"},
            "origin": {"id": service, "inbox": f"{service}/inbox", "type": "Service"},
            "target": {"id": "https://node.example.org", "inbox": "https://node.example.org/inbox", "type": "Service"},
            "context": {"id": f"https://node.example.org/records/{target}"},
            "object": {"id": f"{service}/review/{i}", "type": ["Page", "sorg:Review"]},
        }).encode())  # fmt: skip
    start = time.perf_counter()
    for body in bodies:
        inbox.receive(node, body)
    elapsed = time.perf_counter() - start
    return {"inbox_s": elapsed, "inbox_per_s": n / elapsed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--notifications", type=int, default=1000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="osnode-usage-"))
    try:
        node = Node.open(load_settings(folder, explore_preload=False, access_log=False))
        log(f"recording {args.events} events ...")
        figures = bench_events(node, args.events)
        log(f"item report over {args.records} records ...")
        figures |= bench_report(node, args.records)
        log(f"inbox: {args.notifications} notifications ...")
        figures |= bench_inbox(node, args.notifications)
        node.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    f = figures
    ingest = f["record_s"] + f["count_s"]
    rows = [
        ("record events", f"{args.events:,}", f"{f['record_s']:.1f}", f"{args.events / f['record_s']:,.0f}/s"),
        ("count the day (DuckDB)", f"{args.events:,}", f"{f['count_s']:.1f}", f"{args.events / f['count_s']:,.0f}/s"),
        ("**ingest** (record + count)", f"{args.events:,}", f"**{ingest:.1f}**", "target <= 60 s"),
        (
            "item report, 12 months, built",
            f"{args.records:,} records",
            f"**{f['report_s']:.2f}** ({f['report_cpu_s']:.2f} CPU)",
            f"target <= 2 s; {f['report_bytes'] / 1e6:.0f} MB of JSON",
        ),
        ("item report, again (cached until the next day is counted)", "", f"{f['report_cached_s']:.3f}", ""),
        ("inbox (in process)", f"{args.notifications:,}", f"{f['inbox_s']:.1f}", f"**{f['inbox_per_s']:,.0f}/s**"),
    ]
    print("| step | size | time (s) | rate |")
    print("|---|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
