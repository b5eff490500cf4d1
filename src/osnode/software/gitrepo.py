"""Reading a git repository with the ``git`` command, streaming: refs, reachable objects, raw object bodies.

git already names every object by its sha1_git, which for contents, directories, commits and tags *is* the
SWHID; we still re-hash every body we store, so a damaged repository cannot smuggle a wrong id in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..domain.errors import InvalidInput

CHUNK = 1024 * 1024


class GitError(InvalidInput):
    pass


def _git_env() -> dict[str, str]:
    # No user or system config (aliases, hooks, replace refs, grafts) may change what we read.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_NO_REPLACE_OBJECTS="1", LC_ALL="C")
    return env


@dataclass(frozen=True)
class Ref:
    name: bytes
    target: str  # hex id the ref points at (a commit, or a tag object)
    kind: str  # git type of the target: commit, tag, tree, blob


class GitRepo:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            found = self._run("rev-parse", "--git-dir").strip()
        except GitError:
            raise GitError(f"{path} is not a git repository") from None
        self.git_dir = (path / os.fsdecode(found)).resolve()

    def _run(self, *args: str, input_: bytes | None = None) -> bytes:
        done = subprocess.run(
            ["git", "-C", str(self.path), *args], input=input_, capture_output=True, env=_git_env(), check=False
        )
        if done.returncode != 0:
            message = done.stderr.decode(errors="replace").strip().splitlines()
            raise GitError(f"git {args[0]} failed: {message[-1] if message else done.returncode}")
        return done.stdout

    def refs(self, wanted: list[str] | None = None) -> list[Ref]:
        """Branches, tags and other refs (not remote-tracking ones or the stash), or only ``wanted``."""
        out = self._run("for-each-ref", "--format=%(objectname) %(objecttype) %(refname)")
        refs = []
        for line in out.splitlines():
            target, kind, name = line.split(b" ", 2)
            if name.startswith(b"refs/remotes/") or name == b"refs/stash":
                continue
            refs.append(Ref(name, target.decode(), kind.decode()))
        if not wanted:
            return refs
        chosen = []
        for want in wanted:
            full = [
                r
                for r in refs
                if r.name in (want.encode(), b"refs/heads/" + want.encode(), b"refs/tags/" + want.encode())
            ]
            if not full:
                raise GitError(f"the repository has no ref named '{want}'")
            chosen.append(full[0])
        return chosen

    def remote_url(self) -> str | None:
        done = subprocess.run(
            ["git", "-C", str(self.path), "config", "--get", "remote.origin.url"], capture_output=True, env=_git_env()
        )
        return done.stdout.decode(errors="replace").strip() or None if done.returncode == 0 else None

    def head(self) -> tuple[bytes | None, str | None]:
        """(symbolic target, e.g. b"refs/heads/main", or None if detached; commit id or None if unborn)."""
        symbolic = subprocess.run(
            ["git", "-C", str(self.path), "symbolic-ref", "-q", "HEAD"], capture_output=True, env=_git_env()
        )
        target = symbolic.stdout.strip() or None if symbolic.returncode == 0 else None
        resolved = subprocess.run(
            ["git", "-C", str(self.path), "rev-parse", "-q", "--verify", "HEAD^{commit}"],
            capture_output=True,
            env=_git_env(),
        )
        commit = resolved.stdout.strip().decode() if resolved.returncode == 0 else None
        return target, commit

    def peel(self, target: str) -> str | None:
        """The commit a ref (maybe through tags) points at, or None."""
        done = subprocess.run(
            ["git", "-C", str(self.path), "rev-parse", "-q", "--verify", f"{target}^{{commit}}"],
            capture_output=True,
            env=_git_env(),
        )
        return done.stdout.strip().decode() if done.returncode == 0 else None

    def reachable(self, tips: Iterable[str], exclude: Iterable[str] = ()) -> Iterator[tuple[str, str]]:
        """(id, git type) of every object reachable from ``tips`` (not from ``exclude``), streamed."""
        listing = subprocess.Popen(
            ["git", "-C", str(self.path), "rev-list", "--objects", "--no-object-names", "--stdin"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_git_env(),
        )
        check = subprocess.Popen(
            ["git", "-C", str(self.path), "cat-file", "--batch-check=%(objectname) %(objecttype)"],
            stdin=listing.stdout,
            stdout=subprocess.PIPE,
            env=_git_env(),
        )
        assert listing.stdin is not None and listing.stdout is not None and check.stdout is not None
        listing.stdout.close()
        lines = [t.encode() for t in tips] + [b"^" + t.encode() for t in exclude]
        listing.stdin.write(b"\n".join(lines) + b"\n")
        listing.stdin.close()
        for line in check.stdout:
            oid, kind = line.split()[:2]
            yield oid.decode(), kind.decode()
        if listing.wait() != 0 or check.wait() != 0:
            raise GitError("git could not list the repository's objects (is it complete?)")

    def objects(self, ids: list[str]) -> Iterator[tuple[str, str, int, Iterator[bytes]]]:
        """(id, git type, size, body chunks) of each id, in order; consume the chunks before the next item."""
        proc = subprocess.Popen(
            ["git", "-C", str(self.path), "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=_git_env(),
        )
        assert proc.stdin is not None and proc.stdout is not None
        stdin = proc.stdin
        # Feed ids from a thread: writing them all first could fill the pipe while git waits for us to read.
        feeder = threading.Thread(target=_feed, args=(stdin, ids), daemon=True)
        feeder.start()
        try:
            for _ in ids:
                header = proc.stdout.readline().split()
                if len(header) != 3:
                    raise GitError(f"git cannot read object {header[0].decode() if header else '?'}")
                oid, kind, size = header[0].decode(), header[1].decode(), int(header[2])
                chunks = _body(proc.stdout, size)
                yield oid, kind, size, chunks
                for _rest in chunks:  # drain what the caller left
                    pass
                proc.stdout.read(1)  # the newline after each body
        finally:
            feeder.join()
            proc.stdout.close()
            proc.wait()


def _feed(stdin: IO[bytes], ids: list[str]) -> None:
    try:
        for start in range(0, len(ids), 1000):
            stdin.write("".join(i + "\n" for i in ids[start : start + 1000]).encode())
        stdin.close()
    except BrokenPipeError:
        pass


def _body(stream: IO[bytes], size: int) -> Iterator[bytes]:
    left = size
    while left:
        chunk = stream.read(min(CHUNK, left))
        if not chunk:
            raise GitError("git stopped in the middle of an object")
        left -= len(chunk)
        yield chunk


def read_all(chunks: Iterator[bytes]) -> bytes:
    return b"".join(chunks)


def is_bundle(path: Path) -> bool:
    if not path.is_file():
        return False
    with path.open("rb") as handle:
        return handle.read(20).startswith((b"# v2 git bundle", b"# v3 git bundle"))


class BundleCheckout:
    """A git bundle cloned into a temporary bare repository (deleted on exit)."""

    def __init__(self, bundle: Path) -> None:
        self.bundle = bundle
        self.tmp = Path(tempfile.mkdtemp(prefix="osnode-bundle-"))

    def __enter__(self) -> GitRepo:
        target = self.tmp / "repo.git"
        done = subprocess.run(
            ["git", "clone", "--quiet", "--mirror", str(self.bundle.resolve()), str(target)],
            capture_output=True,
            env=_git_env(),
        )
        if done.returncode != 0:
            shutil.rmtree(self.tmp, ignore_errors=True)
            reason = done.stderr.decode(errors="replace").strip().splitlines()
            raise GitError(f"{self.bundle.name} is not a usable git bundle: {reason[-1] if reason else ''}")
        return GitRepo(target)

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
