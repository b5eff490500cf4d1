"""Benchmark: search latency on the embedded default (SQLite FTS5) at N records.

    uv run python bench/search.py 100000
    uv run python bench/search.py 1000000 --queries 300

Builds a fresh node in bench/out/search-N/ (kept for re-runs unless ``--fresh``), inserting rows
straight into the catalog and the index tables (the API would take hours at these sizes; the
FTS5 triggers of migration 0002 index the text exactly as publication does). Text is synthetic:
a 20,000-word vocabulary drawn with a Zipf law (like real text, a few words are very common),
titles of 5-12 words, descriptions of 30-80, 1-3 subjects from 300, 1-4 creators from 50,000
names; kind, year, licence, access, language and origin are drawn with skewed weights.

Each query is two words of middling frequency (vocabulary ranks 30-3,000) and half of them also
filter on a facet (kind or year). A query is what the web answers: ``services.search.query``,
page 1 of 20, relevance order, snippets, the total and counts for all seven facets. Queries run
one after another after 20 warm-up queries; p50/p95/max are reported, with the median number of
matches. Results go to bench/out/search-N.json.
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

from osnode.config import load_settings
from osnode.services import search
from osnode.services.node import Node

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
KINDS = [("Dataset", 50), ("Text", 20), ("Software", 10), ("Image", 5), ("Collection", 3), ("Other", 2)]
LICENCES = [("CC-BY-4.0", 60), ("CC0-1.0", 20), ("MIT", 8), ("Apache-2.0", 5), ("CC-BY-SA-4.0", 5), ("GPL-3.0", 2)]
ACCESS = [("open", 80), ("metadata-only", 8), ("embargoed", 7), ("restricted", 5)]
LANGUAGES = [("en", 60), ("pt", 10), ("fr", 8), ("es", 8), ("ar", 5), ("zh", 5), ("ko", 4)]
ORIGINS = [("local", 70), ("node-luanda", 10), ("node-jakarta", 10), ("node-seoul", 10)]
SYLLABLES = "ka lo mi ne ru sa te vo zi ba de fi gu ho ja ku le ma no pe qui ra si tu va xe yo za an er in on".split()


def vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    words: dict[str, None] = {}
    while len(words) < size:
        words["".join(rng.choices(SYLLABLES, k=rng.randint(2, 4)))] = None
    return list(words)


def weighted(rng: random.Random, pairs: list[tuple[str, int]], k: int) -> list[str]:
    return rng.choices([p[0] for p in pairs], [p[1] for p in pairs], k=k)


def build(path: Path, n: int, seed: int = 7) -> None:
    """A node with ``n`` published records, written straight into its tables."""
    node = Node.open(load_settings(path, base_url="http://bench"))
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    zipf = [1 / (rank + 1) for rank in range(len(vocab))]
    subjects = [" ".join(rng.choices(vocab[:2000], k=rng.randint(1, 2))).title() for _ in range(300)]
    names = [f"{rng.choice(vocab).title()}, {rng.choice(vocab).title()}" for _ in range(50_000)]
    start = datetime(2015, 1, 1, tzinfo=UTC)
    batch = 5_000
    began = time.perf_counter()
    raw = node.engine.raw_connection()
    try:
        conn = raw.cursor()
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        now = datetime.now(UTC).isoformat(sep=" ")
        conn.execute("INSERT INTO users (id, name, role, created) VALUES (1, 'bench', 'depositor', ?)", (now,))
        for first in range(0, n, batch):
            count = min(batch, n - first)
            pool = rng.choices(vocab, zipf, k=count * 100)
            rec_rows, ver_rows, doc_rows, facet_rows = [], [], [], []
            for j in range(count):
                i = first + j
                record_id, version_id = f"r{i:09d}", f"v{i:09d}"
                words = pool[j * 100 : (j + 1) * 100]
                title = " ".join(words[: rng.randint(5, 12)]).capitalize()
                description = " ".join(words[12 : 12 + rng.randint(30, 80)]).capitalize() + "."
                subs = list(dict.fromkeys(rng.choices(subjects, k=rng.randint(1, 3))))
                creators = list(dict.fromkeys(rng.choices(names, k=rng.randint(1, 4))))
                kind = weighted(rng, KINDS, 1)[0]
                year = rng.randint(1990, 2026)
                licence = weighted(rng, LICENCES, 1)[0]
                access = weighted(rng, ACCESS, 1)[0]
                language = weighted(rng, LANGUAGES, 1)[0]
                origin = weighted(rng, ORIGINS, 1)[0]
                published = (start + timedelta(minutes=i)).isoformat(sep=" ")
                meta = {"titles": [{"title": title}], "creators": [{"name": c} for c in creators]}
                rec_rows.append((record_id, published, version_id, published))
                ver_rows.append((version_id, record_id, json.dumps(meta), access, published, published, published))
                doc_rows.append(
                    (
                        i + 1,
                        record_id,
                        version_id,
                        title,
                        " ".join(title.lower().split())[:200],
                        "\n".join(creators),
                        title,
                        "\n".join(subs),
                        description,
                        year,
                        kind,
                        access,
                        published,
                    )
                )
                values = {("kind", kind), ("year", str(year)), ("licence", licence), ("access", access)}
                values |= {("language", language), ("origin", origin)}
                facet_rows += [(i + 1, f, v, None) for f, v in values]
                # Subjects as the index stores them: case-folded key, written form as the label.
                facet_rows += [(i + 1, "subject", s.casefold(), s) for s in {s.casefold(): s for s in subs}.values()]
            conn.executemany(
                "INSERT INTO records (id, owner_id, created, latest_published_id, updated) VALUES (?, 1, ?, ?, ?)",
                rec_rows,
            )
            conn.executemany(
                "INSERT INTO versions (id, record_id, number, state, metadata, access_level, owner_id, created,"
                " updated, published_at) VALUES (?, ?, 1, 'published', ?, ?, 1, ?, ?, ?)",
                ver_rows,
            )
            conn.executemany(
                "INSERT INTO search_docs (id, record_id, version_id, title, title_sort, creators, titles, subjects,"
                " descriptions, year, kind, access, published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                doc_rows,
            )
            conn.executemany("INSERT INTO search_facets (doc_id, facet, value, label) VALUES (?, ?, ?, ?)", facet_rows)
            if (first // batch) % 20 == 0:
                print(f"  {first + count:,} records, {time.perf_counter() - began:.0f} s", file=sys.stderr)
        conn.execute("COMMIT")
        conn.execute("INSERT INTO search_fts(search_fts) VALUES('optimize')")
        conn.execute("ANALYZE")
    finally:
        raw.close()
    node.close()
    print(f"built {n:,} records in {time.perf_counter() - began:.0f} s", file=sys.stderr)


def measure(path: Path, queries: int, seed: int = 11) -> dict[str, object]:
    node = Node.open(load_settings(path, base_url="http://bench"))
    rng = random.Random(seed)
    vocab = vocabulary(random.Random(7))
    middling = vocab[30:3000]
    plans = []
    for q in range(queries + 20):
        text = " ".join(rng.sample(middling, 2))
        filters: dict[str, list[str]] = {}
        if q % 2:
            filters = {"kind": ["Dataset"]} if q % 4 == 1 else {"year": [str(rng.randint(1990, 2026))]}
        plans.append((text, filters))
    timings, totals = [], []
    for q, (text, filters) in enumerate(plans):
        began = time.perf_counter()
        result = search.query(node, text, filters)
        elapsed = (time.perf_counter() - began) * 1000
        if q >= 20:
            timings.append(elapsed)
            totals.append(result.total)
    node.close()
    timings.sort()
    return {
        "queries": queries,
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
        "max_ms": round(timings[-1], 1),
        "median_matches": statistics.median(totals),
        "max_matches": max(totals),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("records", type=int, help="how many records (e.g. 100000, 1000000)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--fresh", action="store_true", help="rebuild even if bench/out/search-N exists")
    args = parser.parse_args()
    path = OUT / f"search-{args.records}"
    if args.fresh and path.exists():
        shutil.rmtree(path)
    build_seconds = None
    if not (path / "catalog.sqlite").exists():
        path.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        build(path, args.records)
        build_seconds = round(time.perf_counter() - began)
    figures = measure(path, args.queries)
    figures |= {
        "records": args.records,
        "build_s": build_seconds,
        "db_mb": round(sum(f.stat().st_size for f in path.glob("catalog.sqlite*")) / 1e6),
        "machine": f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}",
        "date": datetime.now(UTC).date().isoformat(),
    }
    (OUT / f"search-{args.records}.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
