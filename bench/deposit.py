"""Benchmark: deposit one big file, against the floor of hashing it and writing it once.

    uv run python bench/deposit.py --size 2G

Makes a random file in bench/out/ (once per run), then times, in the same run:

  baseline    ``sha256sum FILE`` then ``cp FILE DEST``: read + hash, read + write once, no fsync
  baseline+fsync  the same, then ``sync DEST`` (the durability osnode pays for, for reference)
  floor       one pass in plain Python: read 1 MB, hashlib.sha256 update, write, fsync (what the
              local path cannot beat; osnode's own overhead is local vs floor)
  local       osnode's local deposit path (``services.deposit.add_file``: BlobStore streaming writer,
              fsync, verify, rename, catalog row) in a fresh node, in a process of its own
  http        a PUT of the file to a live ``osnode serve`` (fresh node) with httpx streaming

Each variant runs ``--runs`` times (default 2) on a fresh destination and the best time is kept:
the page cache cannot be dropped without root, so the first run also warms it for the others.
Peak RSS is the osnode process's high-water mark (``ru_maxrss`` / ``VmHWM``), whole process.
MB = 10^6 bytes. Results are printed as a Markdown table and saved to bench/out/deposit-SIZE.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
CHUNK = 1024 * 1024
UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def parse_size(text: str) -> int:
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = text[-1] if text and text[-1] in UNITS else ""
    return int(float(text[: len(text) - len(unit)]) * UNITS[unit])


def clean_env() -> dict[str, str]:
    """The environment for osnode processes: embedded defaults, nothing from the caller's node."""
    return {k: v for k, v in os.environ.items() if not k.startswith("OSNODE_")}


def vm_status(pid: int | str, field: str) -> int:
    """A ``VmRSS``/``VmHWM`` line of /proc/PID/status, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def make_input(size: int) -> tuple[Path, str]:
    """A file of random bytes and its SHA-256."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"random-{size}.bin"
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=OUT, delete=False) as handle:
        left = size
        while left:
            block = os.urandom(min(8 * CHUNK, left))
            digest.update(block)
            handle.write(block)
            left -= len(block)
    os.replace(handle.name, path)
    return path, digest.hexdigest()


# -- the variants: each returns {"seconds": ..., maybe "peak_rss": ...} ---------------------------


def run_baseline(source: Path, work: Path, sha256: str, fsync: bool = False) -> dict[str, Any]:
    dest = work / "copy.bin"
    start = time.perf_counter()
    hashed = subprocess.run(["sha256sum", str(source)], check=True, capture_output=True, text=True)
    subprocess.run(["cp", str(source), str(dest)], check=True)
    if fsync:
        subprocess.run(["sync", str(dest)], check=True)
    seconds = time.perf_counter() - start
    assert hashed.stdout.split()[0] == sha256
    dest.unlink()
    return {"seconds": seconds}


def run_floor(source: Path, work: Path, sha256: str) -> dict[str, Any]:
    dest = work / "floor.bin"
    start = time.perf_counter()
    digest = hashlib.sha256()
    with source.open("rb") as reader, dest.open("wb", buffering=0) as writer:
        while block := reader.read(CHUNK):
            digest.update(block)
            writer.write(block)
        os.fsync(writer.fileno())
    seconds = time.perf_counter() - start
    assert digest.hexdigest() == sha256
    dest.unlink()
    return {"seconds": seconds}


def run_local(source: Path, work: Path, sha256: str) -> dict[str, Any]:
    data = work / "local-node"
    done = subprocess.run(
        [sys.executable, __file__, "--worker-local", str(source), str(data)],
        check=True,
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    result = json.loads(done.stdout)
    assert result["sha256"] == sha256, result
    shutil.rmtree(data)
    return result


def worker_local(source: Path, data: Path) -> None:
    """Runs in its own process so that its peak RSS is osnode's alone."""
    from osnode.config import load_settings
    from osnode.services import deposit, users
    from osnode.services.node import Node

    node = Node.open(load_settings(data))
    admin = users.create_user(node, "bench", "admin")
    viewer = users.viewer_for(admin)
    draft = deposit.create_draft(node, viewer, {"titles": [{"title": "benchmark"}]})
    rss_before = vm_status("self", "VmRSS")
    start = time.perf_counter()
    with source.open("rb") as handle:
        entry = deposit.add_file(node, draft.id, source.name, iter(lambda: handle.read(CHUNK), b""), viewer)
    seconds = time.perf_counter() - start
    node.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "sha256": entry.sha256, "peak_rss": peak, "rss_before": rss_before}))


def run_http(source: Path, work: Path, sha256: str) -> dict[str, Any]:
    import httpx

    data = work / "http-node"
    env = clean_env()
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
    server = subprocess.Popen(
        [sys.executable, "-m", "osnode", "serve", "--data", str(data), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server)
        draft = httpx.post(f"{url}/api/records", json={"metadata": {}}, headers=headers).json()
        rss_before = vm_status(server.pid, "VmRSS")

        def chunks():  # type: ignore[no-untyped-def]
            with source.open("rb") as handle:
                while block := handle.read(CHUNK):
                    yield block

        upload_headers = headers | {"Content-Length": str(source.stat().st_size)}
        server_cpu = _cpu_seconds(server.pid)
        client_cpu = time.process_time()
        start = time.perf_counter()
        response = httpx.put(
            f"{url}/api/records/{draft['id']}/files/{source.name}",
            content=chunks(),
            headers=upload_headers,
            timeout=600,
        )
        seconds = time.perf_counter() - start
        client_cpu = time.process_time() - client_cpu
        server_cpu = _cpu_seconds(server.pid) - server_cpu
        response.raise_for_status()
        assert response.json()["checksum"] == f"sha256:{sha256}", response.text
        peak = vm_status(server.pid, "VmHWM")
    finally:
        server.terminate()
        server.wait(30)
    shutil.rmtree(data)
    return {
        "seconds": seconds,
        "peak_rss": peak,
        "rss_before": rss_before,
        "server_cpu_s": server_cpu,
        "client_cpu_s": client_cpu,
    }


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("osnode serve exited")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("osnode serve did not start")


VARIANTS = {
    "baseline": run_baseline,
    "baseline+fsync": lambda s, w, h: run_baseline(s, w, h, fsync=True),
    "floor": run_floor,
    "local": run_local,
    "http": run_http,
}


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "unknown")
    mount = subprocess.run(["findmnt", "-no", "SOURCE,FSTYPE", "-T", str(OUT)], capture_output=True, text=True)
    return {
        "cpus": str(os.cpu_count()),
        "cpu": model,
        "disk": mount.stdout.strip() or "unknown",
        "python": sys.version.split()[0],
        "date": time.strftime("%Y-%m-%d"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="2G", help="file size, e.g. 512M, 2G (default 2G)")
    parser.add_argument("--runs", type=int, default=2, help="runs per variant; the best is kept (default 2)")
    parser.add_argument("--only", action="append", choices=list(VARIANTS), help="run only these variants")
    parser.add_argument("--keep", action="store_true", help="keep the random input file in bench/out/")
    parser.add_argument("--worker-local", nargs=2, metavar=("FILE", "DATA"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_local:
        worker_local(Path(args.worker_local[0]), Path(args.worker_local[1]))
        return

    size = parse_size(args.size)
    free = shutil.disk_usage(OUT.parent).free
    if free < 3.5 * size:
        sys.exit(f"need about {3.5 * size / 1e9:.1f} GB free next to bench/out, have {free / 1e9:.1f} GB")
    print(f"making {size / 1e6:.0f} MB of random data ...", file=sys.stderr, flush=True)
    source, sha256 = make_input(size)
    chosen = args.only or list(VARIANTS)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in chosen}
    try:
        with tempfile.TemporaryDirectory(dir=OUT, prefix="work-") as tmp:
            for attempt in range(args.runs):
                for name in chosen:  # interleaved, so a slow moment does not hit one variant only
                    result = VARIANTS[name](source, Path(tmp), sha256)
                    result["mb_s"] = size / 1e6 / result["seconds"]
                    runs[name].append(result)
                    print(f"run {attempt + 1} {name:<15} {result['mb_s']:8.1f} MB/s", file=sys.stderr, flush=True)
    finally:
        if not args.keep:
            source.unlink(missing_ok=True)

    best = {name: max(results, key=lambda r: r["mb_s"]) for name, results in runs.items()}
    report = {"size": size, "runs": args.runs, "machine": machine(), "best": best, "all": runs}
    base = best.get("baseline")
    lines = [
        f"deposit of {size / 1e6:.0f} MB, best of {args.runs} runs each",
        "",
        "| variant | MB/s | vs baseline | peak RSS (MB) | RSS before upload (MB) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, result in best.items():
        ratio = f"{result['mb_s'] / base['mb_s']:.2f}x" if base else "-"
        peak = f"{result['peak_rss'] / 1e6:.0f}" if "peak_rss" in result else "-"
        before = f"{result['rss_before'] / 1e6:.0f}" if "rss_before" in result else "-"
        lines.append(f"| {name} | {result['mb_s']:.1f} | {ratio} | {peak} | {before} |")
    if "http" in best:
        http = best["http"]
        lines.append("")
        lines.append(
            f"http: server CPU {http['server_cpu_s']:.1f} s, client CPU {http['client_cpu_s']:.1f} s "
            f"in {http['seconds']:.1f} s wall ({os.cpu_count()} CPUs)"
        )
    print("\n".join(lines))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"deposit-{args.size}.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
