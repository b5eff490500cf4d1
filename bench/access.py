"""Benchmark: the cost of managed access.

    uv run python bench/access.py --mb 200 --repeats 5 --entries 1000000

1. Download throughput of the same file served open and served under managed access with a grant (the grant
   lookup and the audit entry each download writes), from a live ``osnode serve`` (SQLite, fresh node in
   --dir), streamed by httpx; the runs alternate open/managed and the best and median of each are reported.
   Target: managed >= 0.95x open.
2. ``services.audit.verify`` over a chain of --entries rows (written first, in bulk, with their real hashes).
   Target: <= 10 s for 1,000,000 entries.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _setup(data: Path, size: int) -> tuple[str, str, str]:
    """A fresh node with two published records holding the same bytes: one open, one managed with a grant
    for the reader. Returns (open record, managed record, reader's token)."""
    from osnode.config import load_settings
    from osnode.services import deposit, governance, users
    from osnode.services.node import Node

    node = Node.open(load_settings(data))
    try:
        owner = users.create_user(node, "owner", "depositor")
        reader = users.create_user(node, "reader", "depositor")
        admin = users.create_user(node, "admin", "admin")
        chunk = os.urandom(1 << 20)
        blob = node.blobs.put_stream(chunk for _ in range(size // len(chunk)))
        meta = {
            "titles": [{"title": "bench"}],
            "creators": [{"name": "Bench"}],
            "resourceType": {"resourceTypeGeneral": "Dataset"},
        }
        ids = []
        for access in ({"level": "open"}, {"level": "restricted", "data_use": {"permission": "GRU"}}):
            draft = deposit.create_draft(node, users.viewer_for(owner), meta, access)
            deposit.attach_blob(node, draft.id, "data.bin", blob, users.viewer_for(owner))
            ids.append(deposit.publish(node, draft.id, users.viewer_for(owner)).record_id)
        adm = users.viewer_for(admin)
        governance.create_committee(node, adm, "dac", "DAC", 1)
        governance.set_member(node, adm, "dac", str(admin.id))
        governance.govern(node, adm, "dac", ids[1])
        form = {
            "purpose_code": "GRU",
            "purpose": "bench",
            "project": "bench",
            "institution": "bench",
            "country": "FR",
            "agreement_accepted": True,
        }
        request, _ = governance.submit(node, users.viewer_for(reader), ids[1], form)
        governance.vote(node, adm, request.id, True, "", 30)
        return ids[0], ids[1], users.create_token(node, reader)
    finally:
        node.close()


def _download(url: str, token: str) -> float:
    started = time.perf_counter()
    total = 0
    with httpx.stream("GET", url, headers={"Authorization": f"Bearer {token}"}, timeout=600) as response:
        response.raise_for_status()
        for piece in response.iter_bytes(1 << 20):
            total += len(piece)
    return total / (time.perf_counter() - started) / 1e6


def bench_downloads(data: Path, mb: int, repeats: int) -> dict[str, list[float]]:
    open_id, managed_id, token = _setup(data, mb * (1 << 20))
    port = _free_port()
    env = os.environ | {"OSNODE_EXPLORE_PRELOAD": "false"}
    server = subprocess.Popen(
        [sys.executable, "-m", "osnode", "serve", "--data", str(data), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/api/records", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        runs: dict[str, list[float]] = {"open": [], "managed": []}
        _download(f"{base}/api/records/{open_id}/files/data.bin", token)  # warm the page cache
        for _ in range(repeats):
            runs["open"].append(_download(f"{base}/api/records/{open_id}/files/data.bin", token))
            runs["managed"].append(_download(f"{base}/api/records/{managed_id}/files/data.bin", token))
        return runs
    finally:
        server.terminate()
        server.wait()


def bench_audit(data: Path, entries: int) -> tuple[float, float]:
    """Write ``entries`` chained rows in bulk, then time ``audit.verify``: (seconds to write, to verify)."""
    from osnode.config import load_settings
    from osnode.services import audit
    from osnode.services.node import Node
    from osnode.storage.governance import audit_log

    node = Node.open(load_settings(data))
    try:
        started = time.perf_counter()
        prev, batch = audit.GENESIS, []
        at = "2026-12-06T00:00:00.000000+00:00"
        with node.transaction() as tx:
            tx.execute(audit_log.delete())
            for seq in range(1, entries + 1):
                detail = f'{{"file":"data.bin","version":"v{seq % 97}"}}'
                digest = audit.entry_hash(seq, at, 2, "download", "rec", 1, detail, prev)
                batch.append(
                    {
                        "seq": seq,
                        "at": at,
                        "actor_id": 2,
                        "action": "download",
                        "record_id": "rec",
                        "grant_id": 1,
                        "detail": detail,
                        "prev_hash": prev,
                        "hash": digest,
                    }
                )
                prev = digest
                if len(batch) == 20000:
                    tx.execute(audit_log.insert(), batch)
                    batch = []
            if batch:
                tx.execute(audit_log.insert(), batch)
        written = time.perf_counter() - started
        started, cpu = time.perf_counter(), time.process_time()
        result = audit.verify(node)
        verified = time.perf_counter() - started
        print(f"audit verify: {verified:.2f} s wall, {time.process_time() - cpu:.2f} s CPU of this process")
        assert result.ok and result.entries == entries, result
        return written, verified
    finally:
        node.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=200, help="size of the downloaded file, MiB")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--entries", type=int, default=1_000_000, help="audit log entries to verify")
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    root = Path(args.dir or tempfile.mkdtemp(prefix="access-", dir=BENCH / "out" if (BENCH / "out").is_dir() else None))
    try:
        if args.mb:
            runs = bench_downloads(root / "downloads", args.mb, args.repeats)
            o, m = runs["open"], runs["managed"]
            print(f"download {args.mb} MiB, MB/s over {args.repeats} alternating runs")
            print(f"  open     best {max(o):8.1f}  median {statistics.median(o):8.1f}  runs {[round(x) for x in o]}")
            print(f"  managed  best {max(m):8.1f}  median {statistics.median(m):8.1f}  runs {[round(x) for x in m]}")
            print(
                f"  ratio managed/open: best {max(m) / max(o):.3f}x, "
                f"median {statistics.median(m) / statistics.median(o):.3f}x"
            )
        if args.entries:
            written, verified = bench_audit(root / "audit", args.entries)
            print(
                f"audit: {args.entries:,} entries written in {written:.1f} s, verified in {verified:.2f} s "
                f"({args.entries / verified:,.0f} entries/s)"
            )
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
