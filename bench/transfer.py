"""Benchmark: tus upload throughput against a plain PUT and curl, and fixity speed against sha256sum.

    uv run python bench/transfer.py 64M 512M [--runs 2]

For each size, a random file in bench/out/, a fresh node (``osnode init`` + ``osnode serve``, embedded
SQLite) and, in the same run:

  put        ``NodeClient.upload_put``: one streamed PUT (httpx), the pre-tus path
  curl       ``curl -T FILE`` PUT to the same route (a client that is not ours)
  tus        ``NodeClient.upload``: tus creation + one PATCH; includes the client's up-front SHA-256
             pass over the file (sent in Upload-Metadata for the end-to-end check)
  fixity     ``services.fixity.run`` over the node's blobs (re-hash from disk) vs ``sha256sum`` of the
             same blob files

Best of ``--runs``; the page cache is not dropped (no root), so reads are mostly from memory for
both sides of each comparison. MB = 10^6 bytes. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))

from osnode.client import NodeClient  # noqa: E402
from osnode.config import load_settings  # noqa: E402
from osnode.services import fixity  # noqa: E402
from osnode.services.node import Node  # noqa: E402

OUT = BENCH / "out"
UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}
META = {"titles": [{"title": "bench"}], "creators": [{"name": "Bench"}]}


def parse_size(text: str) -> int:
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = text[-1] if text and text[-1] in UNITS else ""
    return int(float(text[: len(text) - len(unit)]) * UNITS[unit])


def random_file(size: int) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"transfer-{size}.bin"
    if not path.exists() or path.stat().st_size != size:
        with path.open("wb") as handle:
            left = size
            while left:
                n = min(left, 1024 * 1024)
                handle.write(os.urandom(n))
                left -= n
    return path


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("OSNODE_")}


def start_node(folder: Path, port: int) -> tuple[subprocess.Popen[bytes], str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "osnode", "init", "--data", str(folder)], capture_output=True, text=True, env=env()
    )
    token = re.search(r"osn_[A-Za-z0-9_-]{20,}", done.stdout + done.stderr)
    assert token, done.stdout + done.stderr
    process = subprocess.Popen(
        [sys.executable, "-m", "osnode", "serve", "--data", str(folder), "--port", str(port)],
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url, token.group(0)
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def best(runs: int, action) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_size(size: int, runs: int, port: int) -> dict[str, float]:
    source = random_file(size)
    folder = Path(tempfile.mkdtemp(prefix="osnode-bench-transfer-"))
    process, url, token = start_node(folder, port)
    try:
        client = NodeClient(url, token, timeout=600)
        draft = client.create_draft(META)["id"]
        results = {
            "put": best(runs, lambda: client.upload_put(draft, source)),
            "tus": best(runs, lambda: client.upload(draft, source)),
        }
        curl = [
            "curl", "-sS", "-f", "-o", "/dev/null", "-T", str(source),
            "-H", f"Authorization: Bearer {token}", "-H", "Content-Type: application/octet-stream",
            f"{url}/api/records/{draft}/files/curl.bin",
        ]  # fmt: skip
        results["curl"] = best(runs, lambda: subprocess.run(curl, check=True))
        client.close()
        node = Node.open(load_settings(folder))
        try:
            blobs = [node.blobs.path(sha) for sha in node.blobs.stored()]
            total = sum(p.stat().st_size for p in blobs)
            results["fixity"] = best(runs, lambda: fixity.run(node, max_bytes=None, max_count=None)) * size / total
            results["sha256sum"] = (
                best(runs, lambda: subprocess.run(["sha256sum", *map(str, blobs)], check=True, capture_output=True))
                * size
                / total
            )
        finally:
            node.close()
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(folder, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="+", help="file sizes, e.g. 64M 1G")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--port", type=int, default=8931)
    args = parser.parse_args()
    print("| size | PUT (httpx) | curl PUT | tus (NodeClient) | fixity re-hash | sha256sum |")
    print("|---:|---:|---:|---:|---:|---:|")
    for text in args.sizes:
        size = parse_size(text)
        r = bench_size(size, args.runs, args.port)
        mb = size / 1e6
        cells = [f"{mb / r[k]:.0f} MB/s" for k in ("put", "curl", "tus", "fixity", "sha256sum")]
        print(f"| {text} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
