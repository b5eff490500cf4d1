"""Benchmark: replicating a peer's files between two local nodes, against plain curl of the same files.

    uv run python bench/replicate.py --files 10000 --size 5G [--per-record 10] [--workers 4]

In one run:

  origin      a fresh node (embedded SQLite) with FILES open files of SIZE/FILES bytes each (distinct
              contents), PER-RECORD files to a published record, served by ``osnode serve`` on loopback
  harvest     a second node (SQLite, in this process) harvests the origin over OAI-PMH
  replicate   ``services.replication.replicate`` with the ``open`` policy: one JSON API call per
              record, every blob fetched with ``fetch_blob`` (verified SHA-256, fsync, rename),
              WORKERS records at a time, files registered one transaction per record
  shared      the same into a third node, with ``fetch_blob``'s per-call ``httpx.Client`` swapped (in
              this script only) for one kept per thread: what reusing a client would give
  curl        ``curl --parallel --parallel-max WORKERS`` of the same blobs (``/api/blobs/{sha256}``)
              into a folder: bytes only, no hashing, no fsync, no catalog
  no-op       the same replication again: nothing to move
  1% missing  MISSING percent of the replica's blobs deleted, replication again: it must move only
              those (checked: blobs fetched and bytes fetched equal what was deleted)

MB = 10^6 bytes. The page cache is not dropped (no root). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from unittest import mock

import httpx

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))

from osnode.config import load_settings  # noqa: E402
from osnode.services import deposit, harvest, replication, users  # noqa: E402
from osnode.services.harvest import OAIClient  # noqa: E402
from osnode.services.node import Node  # noqa: E402

UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}
META = {
    "titles": [{"title": "bench"}],
    "creators": [{"name": "Bench"}],
    "resourceType": {"resourceTypeGeneral": "Dataset"},
}


def parse_size(text: str) -> int:
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = text[-1] if text and text[-1] in UNITS else ""
    return int(float(text[: len(text) - len(unit)]) * UNITS[unit])


def env(**extra: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("OSNODE_")} | extra


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_origin(folder: Path, files: int, size: int, per_record: int) -> list[tuple[str, int]]:
    """FILES distinct files of SIZE bytes: a random pool, each file a different slice with its index."""
    node = Node.open(load_settings(folder, base_url="http://origin.bench"))
    viewer = users.viewer_for(users.create_user(node, "bench", "admin"))
    pool = random.randbytes(max(size, 1) + 4 * 1024 * 1024)
    blobs: list[tuple[str, int]] = []
    draft = None
    for i in range(files):
        if i % per_record == 0:
            if draft is not None:
                deposit.publish(node, draft.id, viewer)
            draft = deposit.create_draft(node, viewer, META, {"level": "open"})
        start = (i * 7919) % (len(pool) - size)
        data = i.to_bytes(8, "big") + pool[start : start + max(size - 8, 0)]
        entry = deposit.add_file(node, draft.id, f"file-{i:06d}.bin", [data], viewer)
        blobs.append((entry.sha256, entry.size))
    if draft is not None:
        deposit.publish(node, draft.id, viewer)
    node.close()
    return blobs


def serve(folder: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "osnode", "serve", "--data", str(folder), "--port", str(port)],
        env=env(OSNODE_BASE_URL="http://origin.bench"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("the origin did not start")


def reused_clients() -> type:
    """A stand-in for ``httpx.Client`` that hands each thread one client, kept open between calls."""
    real, local = httpx.Client, threading.local()

    class Reused:
        def __init__(self, *args: object, **kwargs: object) -> None:
            if not hasattr(local, "client"):
                local.client = real(*args, **kwargs)
            self.client = local.client

        def __enter__(self) -> httpx.Client:
            return self.client

        def __exit__(self, *_exc: object) -> None:
            return None

    return Reused


def curl_all(url: str, blobs: list[tuple[str, int]], folder: Path, workers: int) -> float:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder.parent / "curl.cfg"
    with config.open("w") as handle:
        for sha256, _size in blobs:
            handle.write(f'url = "{url}/api/blobs/{sha256}"\noutput = "{folder / sha256}"\n')
    started = time.perf_counter()
    subprocess.run(
        [
            "curl",
            "--silent",
            "--no-progress-meter",
            "--show-error",
            "--fail",
            "--parallel",
            "--parallel-max",
            str(workers),
            "-K",
            str(config),
        ],
        check=True,
    )
    took = time.perf_counter() - started
    got = sum((folder / sha).stat().st_size for sha, _ in blobs)
    assert got == sum(size for _, size in blobs), "curl fetched fewer bytes than the blobs hold"
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--size", default="20M", help="total bytes of all files (e.g. 5G)")
    parser.add_argument("--per-record", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--missing", type=float, default=1.0, help="percent of blobs deleted before the re-run")
    parser.add_argument("--keep", action="store_true", help="keep the nodes' folders")
    args = parser.parse_args()
    total = parse_size(args.size)
    each = max(total // args.files, 9)
    work = Path(
        tempfile.mkdtemp(prefix="osnode-bench-replicate-", dir=BENCH / "out" if (BENCH / "out").is_dir() else None)
    )
    origin_dir, replica_dir, shared_dir = work / "origin", work / "replica", work / "shared"
    for folder in (origin_dir, replica_dir, shared_dir):
        folder.mkdir()
    process = None
    try:
        started = time.perf_counter()
        blobs = build_origin(origin_dir, args.files, each, args.per_record)
        build_s = time.perf_counter() - started
        nbytes = sum(size for _, size in blobs)
        port = free_port()
        process = serve(origin_dir, port)
        url = f"http://127.0.0.1:{port}"

        replica = Node.open(load_settings(replica_dir, base_url="http://replica.bench"))
        started = time.perf_counter()
        harvest.add_peer(replica, f"{url}/oai", name="origin")
        run = harvest.harvest(replica, "origin", OAIClient)
        harvest_s = time.perf_counter() - started
        assert run.status == "ok", (run.message, run.error_list[:3])

        replication.set_policy(replica, "origin", "open")
        started = time.perf_counter()
        first = replication.replicate(replica, "origin", workers=args.workers)
        replicate_s = time.perf_counter() - started
        assert first.failed == 0 and first.blobs_fetched == len(blobs), first.as_json()

        shared = Node.open(load_settings(shared_dir, base_url="http://shared.bench"))
        harvest.add_peer(shared, f"{url}/oai", name="origin")
        harvest.harvest(shared, "origin", OAIClient)
        replication.set_policy(shared, "origin", "open")
        started = time.perf_counter()
        with mock.patch.object(httpx, "Client", reused_clients()):
            reused = replication.replicate(shared, "origin", workers=args.workers)
        shared_s = time.perf_counter() - started
        assert reused.failed == 0 and reused.blobs_fetched == len(blobs), reused.as_json()
        shared.close()

        curl_s = curl_all(url, blobs, work / "curl" / "blobs", args.workers)

        started = time.perf_counter()
        noop = replication.replicate(replica, "origin", workers=args.workers)
        noop_s = time.perf_counter() - started
        assert noop.blobs_fetched == 0, noop.as_json()

        lost = random.Random(7).sample(blobs, max(1, round(len(blobs) * args.missing / 100)))
        for sha256, _size in lost:
            replica.blobs.path(sha256).unlink()
        started = time.perf_counter()
        again = replication.replicate(replica, "origin", workers=args.workers)
        again_s = time.perf_counter() - started
        lost_bytes = sum(size for _, size in lost)
        assert (again.blobs_fetched, again.bytes_fetched, again.failed) == (len(lost), lost_bytes, 0), again.as_json()
        replica.close()
    finally:
        if process is not None:
            process.terminate()
            process.wait(30)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    mb = nbytes / 1e6
    print(
        f"\n{len(blobs):,} files, {mb:,.0f} MB ({each:,} B each), {len(blobs) // args.per_record:,} records, "
        f"{args.workers} parallel transfers; origin built in {build_s:.1f} s, harvested in {harvest_s:.1f} s\n"
    )
    print("| step | files moved | MB moved | time | MB/s | files/s |")
    print("|---|---:|---:|---:|---:|---:|")
    rows = [
        ("replicate (verify, fsync, catalog)", first.blobs_fetched, first.bytes_fetched, replicate_s),
        ("replicate, one HTTP client per thread", reused.blobs_fetched, reused.bytes_fetched, shared_s),
        ("curl --parallel, same blobs", len(blobs), nbytes, curl_s),
        ("re-run, nothing missing", noop.blobs_fetched, noop.bytes_fetched, noop_s),
        (f"re-run, {args.missing:g}% of blobs missing", again.blobs_fetched, again.bytes_fetched, again_s),
    ]
    for name, moved, moved_bytes, took in rows:
        print(
            f"| {name} | {moved:,} | {moved_bytes / 1e6:,.1f} | {took:.2f} s | {moved_bytes / 1e6 / took:,.1f} | "
            f"{moved / took:,.0f} |"
        )
    print(
        f"\nreplicate / curl: {replicate_s / curl_s:.2f}x (one client per thread: {shared_s / curl_s:.2f}x); "
        f"the re-run moved exactly the {len(lost)} missing blob(s)."
    )


if __name__ == "__main__":
    main()
