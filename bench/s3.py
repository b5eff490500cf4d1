"""Benchmark: deposit one big file into S3 through the node, against boto3 uploading it straight.

    uv run python bench/s3.py --size 256M

Starts a SeaweedFS S3 server (``weed mini``, as the tests do) on loopback, makes a random file in
bench/out/ and times, in the same run, against the same server:

  boto3        ``client.upload_file`` of the file straight to the bucket (boto3's defaults: 8 MiB
               parts, up to 10 threads): what a client with S3 credentials gets
  node         a streamed PUT of the file to a live ``osnode serve`` (fresh node on the same server,
               ``blob_store = s3://...``) with its SHA-256 declared (Content-Digest, as a client
               that knows the hash sends it): hashed on the way, parts go straight to the hash key, completed once
               verified
  node-nodigest  the same PUT without a declared digest: parts go to tmp/, are completed, then copied
               server-side to the hash key (the copy is the price of not knowing the name first)

Each variant runs ``--runs`` times and the best time is kept. The ratio printed is boto3's time over
the node's (1.0 = as fast as boto3 straight to the store; the target is >= 0.7). MB = 10^6 bytes.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))  # the tests' SeaweedFS launcher, so both start it alike

from deposit import (  # noqa: E402
    CHUNK,
    OUT,
    _cpu_seconds,
    _free_port,
    clean_env,
    machine,
    make_input,
    parse_size,
    vm_status,
)
from tests.blob_stores import BUCKET, SeaweedS3, start_seaweed  # noqa: E402


def run_boto3(server: SeaweedS3, source: Path, sha256: str) -> dict[str, Any]:
    client = server.client()
    key = f"bench/boto3-{time.time_ns()}"
    start = time.perf_counter()
    client.upload_file(str(source), BUCKET, key)
    seconds = time.perf_counter() - start
    client.delete_object(Bucket=BUCKET, Key=key)
    return {"seconds": seconds}


def _wait_up(url: str, process: subprocess.Popen[bytes], log: Path, patience: float = 300) -> None:
    # Longer than bench/deposit.py's minute: the shared machine can take that long to import the server.
    import httpx

    deadline = time.monotonic() + patience
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"osnode serve did not come up: {log.read_text()[-3000:]}")


def run_node(server: SeaweedS3, source: Path, sha256: str, declare: bool) -> dict[str, Any]:
    import httpx

    work = Path(tempfile.mkdtemp(dir=OUT))
    data = work / "node"
    prefix = f"bench-{time.time_ns()}"
    env = clean_env() | {f"OSNODE_{k.upper()}": str(v) for k, v in server.settings(prefix).items()}
    env["OSNODE_EXPLORE_PRELOAD"] = "false"  # a faster start; nothing is explored here
    init = subprocess.run(
        [sys.executable, "-m", "osnode", "init", "--data", str(data)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    token = init.stdout.split("token:")[1].split()[0]
    headers = {"Authorization": f"Bearer {token}"}
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "osnode", "serve", "--data", str(data), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(work / "serve.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(url, process, work / "serve.log")
        draft = httpx.post(f"{url}/api/records", json={"metadata": {}}, headers=headers).json()

        def chunks():  # type: ignore[no-untyped-def]
            with source.open("rb") as handle:
                while block := handle.read(CHUNK):
                    yield block

        upload_headers = headers | {"Content-Length": str(source.stat().st_size)}
        if declare:
            upload_headers["Content-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(sha256)).decode()}:"
        server_cpu = _cpu_seconds(process.pid)
        start = time.perf_counter()
        response = httpx.put(
            f"{url}/api/records/{draft['id']}/files/{source.name}",
            content=chunks(),
            headers=upload_headers,
            timeout=900,
        )
        seconds = time.perf_counter() - start
        server_cpu = _cpu_seconds(process.pid) - server_cpu
        response.raise_for_status()
        assert response.json()["checksum"] == f"sha256:{sha256}", response.text
        peak = vm_status(process.pid, "VmHWM")
    finally:
        process.terminate()
        process.wait(30)
        shutil.rmtree(work, ignore_errors=True)
    return {"seconds": seconds, "peak_rss": peak, "server_cpu_s": server_cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="256M", help="file size, e.g. 256M, 1G (default 256M)")
    parser.add_argument("--runs", type=int, default=2, help="runs per variant; the best is kept (default 2)")
    parser.add_argument("--only", action="append", help="run only these variants (boto3 always runs)")
    args = parser.parse_args()
    size = parse_size(args.size)
    OUT.mkdir(exist_ok=True)
    source, sha256 = make_input(size)
    folder = Path(tempfile.mkdtemp(dir=OUT, prefix="seaweedfs-"))
    server = start_seaweed(folder)
    variants = {
        "boto3": lambda: run_boto3(server, source, sha256),
        "node": lambda: run_node(server, source, sha256, declare=True),
        "node-nodigest": lambda: run_node(server, source, sha256, declare=False),
    }
    if args.only:
        variants = {k: v for k, v in variants.items() if k == "boto3" or k in args.only}
    results: dict[str, dict[str, Any]] = {}
    try:
        for name, run in variants.items():
            for _ in range(args.runs):
                result = run()
                if name not in results or result["seconds"] < results[name]["seconds"]:
                    results[name] = result
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
        source.unlink(missing_ok=True)
    base = results["boto3"]["seconds"]
    print(f"{args.size} file ({size:,} bytes), best of {args.runs}; machine: {json.dumps(machine())}\n")
    print("| variant | seconds | MB/s | vs boto3 | server CPU s | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        cpu = f"{r['server_cpu_s']:.1f}" if "server_cpu_s" in r else "-"
        rss = f"{r['peak_rss'] / 1e6:.0f}" if "peak_rss" in r else "-"
        rate, ratio = size / r["seconds"] / 1e6, base / r["seconds"]
        print(f"| {name} | {r['seconds']:.2f} | {rate:.0f} | {ratio:.2f}x | {cpu} | {rss} |")
    (OUT / f"s3-{args.size}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
