"""Run every benchmark with its default settings, one after the other.

    uv run python bench/run.py            # all of them
    uv run python bench/run.py deposit    # only those named

Each benchmark is a script in bench/ that prints a Markdown table on stdout (progress on stderr)
and saves its figures under bench/out/ (gitignored). Copy the tables you want to keep, with the
machine and the date, into bench/RESULTS.md. Timings never go into the test suite.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent

# name -> the script's arguments (its defaults unless given here)
BENCHMARKS: dict[str, list[str]] = {
    "deposit": ["deposit.py"],
    "search": ["search.py"],
    "oai": ["oai.py"],
    "harvest": ["harvest.py"],
    "swhid": ["swhid.py"],
    "atlas": ["atlas.py"],
    "tables": ["tables.py"],
    "transfer": ["transfer.py"],
    "replicate": ["replicate.py"],
    "usage": ["usage.py"],
}


def main() -> int:
    wanted = sys.argv[1:] or list(BENCHMARKS)
    unknown = [name for name in wanted if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    failed = []
    for name in wanted:
        script, *args = BENCHMARKS[name]
        print(f"## {name}", flush=True)
        start = time.monotonic()
        done = subprocess.run([sys.executable, str(BENCH / script), *args])
        print(f"({name}: {time.monotonic() - start:.0f} s, exit {done.returncode})\n", flush=True)
        if done.returncode:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
