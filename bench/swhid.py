"""Benchmark: SWHID computation and archiving, against git and Software Heritage's own ``swh identify``.

    uv run python bench/swhid.py --files 30000 --megabytes 1536 --commits 3000
    uv run python bench/swhid.py --files 2000 --megabytes 50 --commits 300      # a quick run

Generates, under --dir (default bench/out/swhid, deleted afterwards unless --keep):

  tree   FILES files (random bytes, sizes spread around the mean so they total MEGABYTES) in nested folders,
         with some executables and symlinks. On this same tree, page cache warmed first, each timed
         --repeats times (best kept):
           ours   ``osnode.software.disk.scan_tree``: SWHIDs of every content and directory
           git    ``git hash-object --stdin-paths`` on the list of files (contents only, no trees)
           swh    ``swh identify --no-filename TREE`` (swh.model.from_disk), and its SWHID must equal ours
  repo   a git repository with COMMITS commits (3 files changed each, 400 files in 20 folders, a tag every 100
         commits, a side branch merged every 250), made with ``git fast-import``. Timed:
           ours-hash   re-hash every object of the history from ``git cat-file --batch`` (what archiving checks)
           git-fsck    ``git fsck --full --no-dangling``: git re-hashing its own history
           swh-snp     ``swh identify --type snapshot REPO``, whose SWHID must equal the snapshot ours archived
           archive     ``archive_path`` of the whole history into a fresh node (SQLite, blobs fsynced)
           re-archive  one new commit, archived again: only the new objects may be read and stored
Prints a Markdown table on stdout, progress on stderr.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.org",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.org",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def best(runs: int, step: Callable[[], object]) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - start)
    return min(times), result


def make_tree(root: Path, files: int, megabytes: int, seed: int = 7) -> list[Path]:
    rng = random.Random(seed)
    mean = megabytes * 1024 * 1024 // files
    paths = []
    for i in range(files):
        folder = root / f"d{i % 40:02d}" / f"s{(i // 40) % 25:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"f{i:06d}.dat"
        size = max(0, int(rng.expovariate(1 / mean))) if mean else 0
        path.write_bytes(rng.randbytes(size))
        if i % 50 == 0:
            path.chmod(0o755)
        paths.append(path)
    for i in range(0, files, 500):
        os.symlink(paths[i].name, paths[i].parent / f"link{i}")
    return paths


def warm(paths: list[Path]) -> None:
    for path in paths:
        with path.open("rb") as handle:
            while handle.read(1 << 20):
                pass


def bench_tree(args: argparse.Namespace, work: Path) -> list[tuple[str, str, str]]:
    from osnode.software.disk import scan_tree

    root = work / "tree"
    log(f"generating {args.files} files, {args.megabytes} MB ...")
    paths = make_tree(root, args.files, args.megabytes)
    total = sum(p.stat().st_size for p in paths)
    warm(paths)
    listing = "\n".join(str(p) for p in paths).encode() + b"\n"

    def git_hash() -> bytes:
        return subprocess.run(
            ["git", "hash-object", "--stdin-paths"], input=listing, capture_output=True, check=True
        ).stdout

    def swh() -> str:
        done = subprocess.run(
            [sys.executable, "-m", "swh.model.cli", "--no-filename", str(root)], capture_output=True, check=True
        )
        return done.stdout.decode().strip()

    log("git hash-object ...")
    t_git, _ = best(args.repeats, git_hash)
    log("ours ...")
    t_ours, scanned = best(args.repeats, lambda: scan_tree(root))
    log("swh identify ...")
    t_swh, swh_id = best(1, swh)
    ours_id = f"swh:1:dir:{scanned.root}"  # type: ignore[attr-defined]
    assert swh_id == ours_id, (swh_id, ours_id)
    mb = total / 1024 / 1024
    return [
        ("tree: files / size", f"{args.files:,} files + {len(paths) // 500} symlinks", f"{mb:,.0f} MB"),
        ("ours: scan_tree (all SWHIDs)", f"{t_ours:.2f} s", f"{mb / t_ours:,.0f} MB/s · {t_ours / t_git:.2f}x git"),
        ("git hash-object --stdin-paths", f"{t_git:.2f} s", f"{mb / t_git:,.0f} MB/s"),
        ("swh identify", f"{t_swh:.2f} s", f"{mb / t_swh:,.0f} MB/s · ours {t_swh / t_ours:.1f}x faster"),
        ("same root SWHID as swh identify", ours_id[:22] + "…", "yes"),
    ]


def fast_import_stream(commits: int, seed: int = 11) -> bytes:
    rng = random.Random(seed)
    names = [f"pkg{d:02d}/mod{f:02d}.py" for d in range(20) for f in range(20)]
    out: list[bytes] = []
    mark = 0

    def blob(data: bytes) -> int:
        nonlocal mark
        mark += 1
        out.append(b"blob\nmark :%d\ndata %d\n%s\n" % (mark, len(data), data))
        return mark

    def text(i: int) -> bytes:
        return "".join(f"# revision {i} line {j} {rng.random()}\n" for j in range(rng.randint(5, 60))).encode()

    heads: dict[str, int] = {}
    for i in range(commits):
        branch = "side" if i % 250 in range(200, 210) else "main"
        changed = [(name, blob(text(i))) for name in (names if i == 0 else rng.sample(names, 3))]
        mark += 1
        stamp = 1_600_000_000 + i * 600
        message = f"commit {i}\n".encode()
        out.append(b"commit refs/heads/%s\nmark :%d\n" % (branch.encode(), mark))
        out.append(b"committer Bench <bench@example.org> %d +0000\ndata %d\n%s" % (stamp, len(message), message))
        if branch == "side" and "side" not in heads:
            out.append(b"from :%d\n" % heads["main"])
        if branch == "main" and i % 250 == 210 and "side" in heads:
            out.append(b"from :%d\nmerge :%d\n" % (heads["main"], heads["side"]))
        for name, blob_mark in changed:
            out.append(b"M 100644 :%d %s\n" % (blob_mark, name.encode()))
        out.append(b"\n")
        heads[branch] = mark
        if i % 100 == 99:
            tag = f"v{i // 100}".encode()
            out.append(
                b"tag %s\nfrom :%d\ntagger Bench <bench@example.org> %d +0000\ndata 4\nrel\n\n" % (tag, mark, stamp)
            )
    return b"".join(out)


def bench_repo(args: argparse.Namespace, work: Path) -> list[tuple[str, str, str]]:
    from osnode.config import load_settings
    from osnode.services import archive
    from osnode.services.node import Node
    from osnode.software.gitrepo import GitRepo
    from osnode.software.swhid import TYPE_OF_GIT, object_id

    repo = work / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True, env=GIT_ENV)
    log(f"generating a history of {args.commits} commits ...")
    subprocess.run(
        ["git", "-C", str(repo), "fast-import", "--quiet"],
        input=fast_import_stream(args.commits),
        check=True,
        env=GIT_ENV,
    )
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "-f", "main"], check=True, env=GIT_ENV)
    git = GitRepo(repo)
    tips = [r.target for r in git.refs()]
    ids = [oid for oid, _ in git.reachable(tips)]

    def ours_hash() -> int:
        bad = 0
        for oid, kind, _size, chunks in git.objects(ids):
            bad += object_id(TYPE_OF_GIT[kind], b"".join(chunks)) != oid
        return bad

    log("re-hashing the history (ours, git fsck) ...")
    t_ours, bad = best(args.repeats, ours_hash)
    assert bad == 0
    t_fsck, _ = best(
        args.repeats,
        lambda: subprocess.run(
            ["git", "-C", str(repo), "fsck", "--full", "--no-dangling"], capture_output=True, check=True
        ),
    )
    log("swh identify --type snapshot ...")
    t_swh, swh_snp = best(
        1,
        lambda: (
            subprocess.run(
                [sys.executable, "-m", "swh.model.cli", "--type", "snapshot", "--no-filename", str(repo)],
                capture_output=True,
                check=True,
            )
            .stdout.decode()
            .strip()
        ),
    )
    node = Node.open(load_settings(work / "node", base_url="http://bench"))
    try:
        log("archiving the whole history ...")
        start = time.perf_counter()
        first = archive.archive_path(node, repo)
        t_archive = time.perf_counter() - start
        assert first.swhid == swh_snp, (first.swhid, swh_snp)
        (repo / "pkg00" / "mod00.py").write_text("# one more change\n")
        subprocess.run(["git", "-C", str(repo), "commit", "-q", "-am", "one more"], check=True, env=GIT_ENV)
        log("re-archiving after one new commit ...")
        start = time.perf_counter()
        second = archive.archive_path(node, repo)
        t_again = time.perf_counter() - start
    finally:
        node.close()
    counts = ", ".join(f"{v} {k}" for k, v in sorted(second.new_by_type.items()))
    return [
        ("repo: commits / objects", f"{args.commits:,} commits", f"{len(ids):,} objects"),
        ("ours: re-hash every object", f"{t_ours:.2f} s", f"{t_ours / t_fsck:.2f}x git fsck"),
        ("git fsck --full", f"{t_fsck:.2f} s", ""),
        ("swh identify --type snapshot", f"{t_swh:.2f} s", "same snapshot SWHID as ours: yes"),
        ("archive whole history (fresh node)", f"{t_archive:.2f} s", f"{first.new_objects:,} objects stored"),
        ("re-archive after 1 new commit", f"{t_again:.2f} s", f"read {second.seen_objects}, stored {counts}"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=30_000)
    parser.add_argument("--megabytes", type=int, default=1536)
    parser.add_argument("--commits", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=BENCH / "out" / "swhid")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--skip-tree", action="store_true")
    parser.add_argument("--skip-repo", action="store_true")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=args.dir))
    rows: list[tuple[str, str, str]] = []
    try:
        if not args.skip_tree:
            rows += bench_tree(args, work)
        if not args.skip_repo:
            rows += bench_repo(args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("| step | time | notes |\n|---|---:|---|")
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
