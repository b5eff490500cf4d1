"""Benchmark: a journal's reading pages at 100,000 published articles in 2,000 issues.

    uv run python bench/journals.py                      # 100,000 articles, 2,000 issues, TOC of 500
    uv run python bench/journals.py 20000 400 --toc 300 --requests 50

Builds a fresh node in bench/out/journals-N/ (kept for re-runs unless ``--fresh``) with one journal, its
issues and its articles written straight into the tables (the workflow would take hours at these sizes):
each article is a published record (``records``/``versions``, metadata as ``services.journals.publishing``
writes it) and its ``journal_submissions`` row in an issue. The newest issue holds ``--toc`` articles; the
others share the rest. Titles of 6-14 words and 1-6 authors from 20,000 names.

Then it asks the app in this process (``TestClient``, no network) for: the current issue's table of contents
(``/journals/j/issues/<id>``, 80 articles a page: its first and its last page), the journal's home (which
shows the start of the current issue), the archive's first page and a page in the middle
(``/journals/j/archive?page=20``). Each page is requested ``--requests`` times after 5 warm-ups; the time is
the server's, from the request to the last byte of the body; p50/p95/max are reported with the page's size.
Last, the table of contents' query alone, for all ``--toc`` articles at once.
Results go to bench/out/journals-N.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from osnode.app import create_app
from osnode.config import load_settings
from osnode.domain.access import Viewer
from osnode.domain.records import Role
from osnode.services.journals import issues, journals
from osnode.services.journals.issues import TOC_PAGE
from osnode.services.node import Node

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
SYLLABLES = "ka lo mi ne ru sa te vo zi ba de fi gu ho ja ku le ma no pe ra si tu va xe yo za an er in on".split()


def _word(rng: random.Random) -> str:
    return "".join(rng.choices(SYLLABLES, k=rng.randint(2, 4)))


def build(path: Path, n: int, issues: int, toc: int, seed: int = 11) -> None:
    node = Node.open(load_settings(path, base_url="http://bench"))
    rng = random.Random(seed)
    names = [f"{_word(rng).title()} {_word(rng).title()}" for _ in range(20_000)]
    with node.transaction() as tx:
        tx.exec_driver_sql(
            "INSERT INTO users (id, name, role, created) VALUES (1, 'bench', 'admin', ?)", (datetime.now(UTC),)
        )
    journals.create(
        node,
        Viewer(user_id=1, role=Role.ADMIN),
        "j",
        {"title": "Bench Journal", "publisher": "Bench", "issn_online": "2049-3630"},
    )
    # Articles per issue: the newest issue gets ``toc``, the others share the rest as evenly as it goes.
    rest = n - toc
    sizes = [rest // (issues - 1) + (1 if i < rest % (issues - 1) else 0) for i in range(issues - 1)] + [toc]
    start = datetime(2000, 1, 1, tzinfo=UTC)
    raw = node.engine.raw_connection()
    began = time.perf_counter()
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA synchronous=OFF")
        cur.execute("BEGIN")
        article = 0
        for number, size in enumerate(sizes, start=1):
            issue_day = start + timedelta(days=number * 3)
            volume, issue_no = 1 + (number - 1) // 6, 1 + (number - 1) % 6
            cur.execute(
                "INSERT INTO journal_issues (id, journal, volume, number, year, title, published, created)"
                " VALUES (?, 'j', ?, ?, ?, '', ?, ?)",
                (
                    number,
                    str(volume),
                    str(issue_no),
                    issue_day.year,
                    issue_day.isoformat(sep=" "),
                    issue_day.isoformat(sep=" "),
                ),
            )
            recs, vers, subs = [], [], []
            for k in range(size):
                article += 1
                rid, vid, sid = f"r{article:09d}", f"v{article:09d}", f"s{article:09d}"
                when = (issue_day + timedelta(seconds=k)).isoformat(sep=" ")
                title = " ".join(_word(rng) for _ in range(rng.randint(6, 14))).capitalize()
                creators = [{"name": c, "nameType": "Personal"} for c in rng.sample(names, rng.randint(1, 6))]
                meta = {
                    "titles": [{"title": title, "lang": "en"}],
                    "creators": creators,
                    "descriptions": [{"description": title + ".", "descriptionType": "Abstract", "lang": "en"}],
                    "resourceType": {"resourceTypeGeneral": "JournalArticle", "resourceType": "Article"},
                    "relatedItems": [
                        {
                            "relatedItemType": "Journal",
                            "relationType": "IsPublishedIn",
                            "titles": [{"title": "Bench Journal"}],
                            "volume": str(volume),
                            "issue": str(issue_no),
                            "firstPage": str(k * 10 + 1),
                            "lastPage": str(k * 10 + 9),
                        }
                    ],
                }
                text = json.dumps(meta)
                recs.append((rid, when, vid, when))
                vers.append((vid, rid, text, when, when, when))
                subs.append((sid, number, text, rid, str(k * 10 + 1), str(k * 10 + 9), when, when, when))
            cur.executemany(
                "INSERT INTO records (id, owner_id, created, latest_published_id, updated) VALUES (?, 1, ?, ?, ?)", recs
            )
            cur.executemany(
                "INSERT INTO versions (id, record_id, number, state, metadata, access_level, owner_id, created,"
                " updated, published_at) VALUES (?, ?, 1, 'published', ?, 'open', 1, ?, ?, ?)",
                vers,
            )
            cur.executemany(
                "INSERT INTO journal_submissions (id, journal, author_id, stage, round, issue_id, metadata, details,"
                " record_id, first_page, last_page, published, created, updated)"
                " VALUES (?, 'j', 1, 'published', 1, ?, ?, '{}', ?, ?, ?, ?, ?, ?)",
                subs,
            )
            if number % 200 == 0:
                print(
                    f"  {article:,} articles, {number:,} issues, {time.perf_counter() - began:.0f} s", file=sys.stderr
                )
        cur.execute("COMMIT")
        cur.execute("ANALYZE")
    finally:
        raw.close()
        node.close()


def measure(client: TestClient, path: str, requests: int) -> dict[str, float]:
    for _ in range(5):
        assert client.get(path).status_code == 200
    times, size = [], 0
    for _ in range(requests):
        began = time.perf_counter()
        response = client.get(path, headers={"Accept": "text/html", "Accept-Encoding": "identity"})
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (path, response.status_code)
        size = len(response.content)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
        "max_ms": round(times[-1], 1),
        "bytes": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("articles", type=int, nargs="?", default=100_000)
    parser.add_argument("issues", type=int, nargs="?", default=2_000)
    parser.add_argument("--toc", type=int, default=500, help="articles in the current issue")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    path = OUT / f"journals-{args.articles}"
    if args.fresh and path.exists():
        shutil.rmtree(path)
    if not path.exists():
        path.mkdir(parents=True)
        began = time.perf_counter()
        build(path, args.articles, args.issues, args.toc)
        print(f"built in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    node = Node.open(load_settings(path, base_url="http://bench"))
    try:
        with TestClient(create_app(node)) as client:
            pages = {
                "issue TOC (current issue)": f"/journals/j/issues/{args.issues}",
                "issue TOC, last page": f"/journals/j/issues/{args.issues}?page={-(-args.toc // TOC_PAGE)}",
                "journal home": "/journals/j",
                "archive page 1": "/journals/j/archive",
                "archive page 20": "/journals/j/archive?page=20",
            }
            results = {name: measure(client, p, args.requests) for name, p in pages.items()}
        # The query alone, all of the 500-article issue at once (what a page costs before it is rendered).
        issue = issues.get(node, "j", args.issues)
        times = []
        for _ in range(args.requests):
            began = time.perf_counter()
            assert len(issues.contents(node, issue, 1, args.toc).entries) == args.toc
            times.append((time.perf_counter() - began) * 1000)
        times.sort()
        results["TOC query, all at once"] = {
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
            "max_ms": round(times[-1], 1),
            "bytes": 0,
        }
    finally:
        node.close()
    report = {
        "articles": args.articles,
        "issues": args.issues,
        "toc": args.toc,
        "requests": args.requests,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load": os.getloadavg()},
        "results": results,
    }
    (OUT / f"journals-{args.articles}.json").write_text(json.dumps(report, indent=2))
    for name, r in results.items():
        times = f"p50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms  max {r['max_ms']:7.1f} ms"
        print(f"{name:28} {times}  {r['bytes']:,} B")


if __name__ == "__main__":
    main()
