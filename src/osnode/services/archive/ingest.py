"""Archiving software: git repositories (all refs or chosen ones), git bundles, source archives and trees.

Every content, directory, commit, tag and the snapshot become objects of the node's archive, named by SWHIDs
identical to Software Heritage's (and git's). Only objects the archive lacks are read and stored: ids are
checked in batches first, and for a git origin archived before, history already archived is not even walked.
File bytes go to the blob store (SHA-256, shared with every deposit) before the one transaction that records
the objects, so a crash leaves at worst unreferenced blobs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Connection, select

from ...domain.errors import InvalidInput
from ...software.archives import Limits, Unpacked, is_archive
from ...software.disk import FileRef, ScannedTree, scan_tree
from ...software.gitrepo import BundleCheckout, GitRepo, is_bundle
from ...software.swhid import BRANCH_TYPE_OF, SWHID, TYPE_OF_GIT, snapshot_id
from ...storage.blobs import StoredBlob
from ...storage.software import existing, swh_origins, swh_revisions, swh_snapshot_branches, swh_visits
from ..node import Node
from .graph_rows import (
    Batch,
    add_content,
    add_directory,
    add_git_object,
    add_snapshot,
    count_by_type,
    new_visit,
    write_batch,
)


@dataclass
class ArchiveResult:
    swhid: str  # the snapshot's (git sources) or the root directory's (archives and trees)
    origin: str
    visit: int
    visit_type: str
    root_directory: str
    head_revision: str | None = None
    new_objects: int = 0
    seen_objects: int = 0
    new_by_type: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        qualified = SWHID("dir", self.root_directory).with_qualifiers(origin=self.origin, visit=self._visit_swhid())
        body: dict[str, Any] = {
            "swhid": self.swhid,
            "origin": self.origin,
            "visit": self.visit,
            "visit_type": self.visit_type,
            "root_directory": f"swh:1:dir:{self.root_directory}",
            "head_revision": f"swh:1:rev:{self.head_revision}" if self.head_revision else None,
            "new_objects": self.new_objects,
            "seen_objects": self.seen_objects,
            "new_by_type": self.new_by_type,
        }
        if self.head_revision:
            qualified = qualified.with_qualifiers(anchor=f"swh:1:rev:{self.head_revision}")
        body["cite"] = str(qualified)
        return body

    def _visit_swhid(self) -> str | None:
        return self.swhid if self.swhid.startswith("swh:1:snp:") else None


def _store_chunks(node: Node, chunks: Iterable[bytes], size: int, expected: str) -> StoredBlob:
    """Stream bytes into the blob store, checking their sha1_git on the way."""
    sha1 = hashlib.sha1(b"blob %d\0" % size)
    writer = node.blobs.writer()
    try:
        for chunk in chunks:
            sha1.update(chunk)
            writer.write(chunk)
    except BaseException:
        writer.abort()
        raise
    if sha1.hexdigest() != expected:
        writer.abort()
        raise InvalidInput(f"content {expected} changed while it was archived (its bytes hash to {sha1.hexdigest()})")
    return writer.commit()


def _file_chunks(ref: FileRef) -> Iterator[bytes]:
    if ref.link is not None:
        yield ref.link
        return
    with open(ref.path, "rb") as handle:
        yield from iter(lambda: handle.read(1024 * 1024), b"")


class ContentWriters:
    """Stores contents on a few threads: each blob is fsynced (twice), and overlapping those waits is what makes
    archiving thousands of small files fast. Small contents are handed over in memory; big ones stream inline."""

    SMALL = 1024 * 1024
    THREADS = 8

    def __init__(self, node: Node, batch: Batch) -> None:
        self.node, self.batch = node, batch
        self.pool = ThreadPoolExecutor(self.THREADS, thread_name_prefix="osnode-archive")
        self.pending: list[tuple[str, Future[StoredBlob]]] = []

    def __enter__(self) -> ContentWriters:
        return self

    def store(self, oid: str, size: int, chunks: Iterator[bytes]) -> None:
        if size <= self.SMALL:
            data = b"".join(chunks)
            self._submit(oid, lambda: _store_chunks(self.node, [data], size, oid))
        else:
            add_content(self.batch, oid, _store_chunks(self.node, chunks, size, oid))

    def store_file(self, oid: str, ref: FileRef) -> None:
        self._submit(oid, lambda: _store_chunks(self.node, _file_chunks(ref), ref.size, oid))

    def _submit(self, oid: str, job: Callable[[], StoredBlob]) -> None:
        self.pending.append((oid, self.pool.submit(job)))
        if len(self.pending) >= 4 * self.THREADS:  # bound the bytes held in memory
            self._drain(self.pending.pop(0))

    def _drain(self, item: tuple[str, Future[StoredBlob]]) -> None:
        oid, future = item
        add_content(self.batch, oid, future.result())

    def __exit__(self, exc_type: object, *rest: object) -> None:
        try:
            if exc_type is None:
                while self.pending:
                    self._drain(self.pending.pop(0))
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)


# -- git -----------------------------------------------------------------------------------------


def _branches(repo: GitRepo, wanted: list[str] | None) -> tuple[dict[bytes, tuple[str, bytes] | None], str | None]:
    """The snapshot's branches (as Software Heritage's git loader makes them) and the head revision."""
    refs = repo.refs(wanted)
    if not refs:
        raise InvalidInput(f"{repo.path} has no branches or tags: nothing to archive")
    branches: dict[bytes, tuple[str, bytes] | None] = {
        r.name: (BRANCH_TYPE_OF[TYPE_OF_GIT[r.kind]], bytes.fromhex(r.target)) for r in refs
    }
    head_ref, head_commit = repo.head()
    head: str | None = None
    if head_ref is not None and head_ref in branches:
        branches[b"HEAD"] = ("alias", head_ref)
        head = repo.peel(head_ref.decode())
    elif head_ref is None and head_commit and not wanted:
        branches[b"HEAD"] = ("revision", bytes.fromhex(head_commit))
        head = head_commit
    if head is None:
        head = next((c for c in (repo.peel(r.target) for r in refs) if c), None)
    return branches, head


def _known_revisions(conn: Connection, origin: str) -> list[str]:
    """Revisions and releases an earlier visit of this origin archived: everything behind them is archived too."""
    visit = conn.execute(
        select(swh_visits.c.swhid)
        .join(swh_origins, swh_origins.c.id == swh_visits.c.origin_id)
        .where(swh_origins.c.url == origin)
        .order_by(swh_visits.c.visit.desc())
        .limit(1)
    ).first()
    if visit is None or not visit.swhid.startswith("swh:1:snp:"):
        return []
    rows = conn.execute(
        select(swh_snapshot_branches.c.target).where(
            swh_snapshot_branches.c.snapshot == visit.swhid[10:],
            swh_snapshot_branches.c.target_type.in_(("revision", "release")),
        )
    ).scalars()
    known = [bytes(t).hex() for t in rows if t]
    return sorted(existing(conn, known))


def _archive_git(node: Node, repo: GitRepo, wanted: list[str] | None, origin: str, visit_type: str) -> ArchiveResult:
    branches, head = _branches(repo, wanted)
    tips = sorted({b[1].hex() for b in branches.values() if b and b[0] != "alias"})
    with node.engine.connect() as conn:
        known = _known_revisions(conn, origin)
        listed = list(repo.reachable(tips, known))
        present = existing(conn, (oid for oid, _ in listed))
    missing = [oid for oid, _ in listed if oid not in present]
    batch = Batch()
    with ContentWriters(node, batch) as writers:
        for oid, kind, size, chunks in repo.objects(missing):
            if kind == "blob":
                writers.store(oid, size, chunks)
            else:
                add_git_object(batch, oid, kind, b"".join(chunks))
    snapshot = snapshot_id(branches)
    with node.engine.connect() as conn:
        if snapshot not in existing(conn, [snapshot]):
            add_snapshot(batch, branches)
    root = _revision_directory(node, batch, head) if head else None
    if root is None:
        raise InvalidInput("no branch of the repository points at a commit: nothing to cite")
    with node.transaction() as tx:
        write_batch(tx, batch)
        visit = new_visit(tx, origin, visit_type, f"swh:1:snp:{snapshot}")
    return ArchiveResult(
        f"swh:1:snp:{snapshot}",
        origin,
        visit,
        visit_type,
        root,
        head,
        len(batch.objects),
        len(listed),
        count_by_type(batch),
    )


def _revision_directory(node: Node, batch: Batch, revision: str) -> str | None:
    fresh = next((r["directory"] for r in batch.revisions if r["sha1_git"] == revision), None)
    if fresh:
        return fresh
    with node.engine.connect() as conn:
        return conn.execute(select(swh_revisions.c.directory).where(swh_revisions.c.sha1_git == revision)).scalar()


# -- trees and archive files ---------------------------------------------------------------------


def archive_tree(node: Node, tree: ScannedTree, origin: str, visit_type: str) -> ArchiveResult:
    with node.engine.connect() as conn:
        present = existing(conn, list(tree.contents) + list(tree.directories))
    batch = Batch()
    with ContentWriters(node, batch) as writers:
        for oid, ref in tree.contents.items():
            if oid not in present:
                writers.store_file(oid, ref)
    for oid, entries in tree.directories.items():
        if oid not in present:
            add_directory(batch, oid, entries)
    swhid = f"swh:1:dir:{tree.root}"
    with node.transaction() as tx:
        write_batch(tx, batch)
        visit = new_visit(tx, origin, visit_type, swhid)
    seen = len(tree.contents) + len(tree.directories)
    return ArchiveResult(
        swhid, origin, visit, visit_type, tree.root, None, len(batch.objects), seen, count_by_type(batch)
    )


def _git_dir(path: Path) -> bool:
    return (path / ".git").exists() or ((path / "HEAD").is_file() and (path / "objects").is_dir())


def _default_origin(path: Path, repo: GitRepo | None) -> str:
    """The repository's own remote when it has one (what Software Heritage would visit), else the folder."""
    remote = repo.remote_url() if repo is not None else None
    if remote and "://" in remote and urlsplit(remote).hostname:
        # Never publish credentials a clone URL may carry (https://user:token@host/...).
        parts = urlsplit(remote)
        remote = urlunsplit(parts._replace(netloc=f"{parts.hostname}{f':{parts.port}' if parts.port else ''}"))
    return remote or path.resolve().as_uri()


def archive_path(
    node: Node, path: Path, refs: list[str] | None = None, origin: str | None = None, limits: Limits | None = None
) -> ArchiveResult:
    """Archive what ``path`` holds: a git repository, a git bundle, a source archive or a plain directory."""
    if not path.exists():
        raise InvalidInput(f"{path} does not exist")
    if path.is_dir() and _git_dir(path):
        repo = GitRepo(path)
        return _archive_git(node, repo, refs, origin or _default_origin(path, repo), "git")
    if refs:
        raise InvalidInput("--ref applies to git repositories and bundles only")
    if is_bundle(path):
        with BundleCheckout(path) as repo:
            return _archive_git(node, repo, None, origin or path.resolve().as_uri(), "git-bundle")
    if path.is_dir():
        return archive_tree(node, scan_tree(path), origin or path.resolve().as_uri(), "directory")
    if is_archive(path):
        with Unpacked(path, limits) as unpacked:
            tree = scan_tree(unpacked.root)
            return archive_tree(node, tree, origin or path.resolve().as_uri(), "tar")
    raise InvalidInput(f"{path} is neither a git repository or bundle, nor a tar or zip archive, nor a directory")
