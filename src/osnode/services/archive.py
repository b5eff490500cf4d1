"""Archiving software: git repositories (all refs or chosen ones), git bundles, source archives and trees.

Every content, directory, commit, tag and the snapshot become objects of the node's archive, named by SWHIDs
identical to Software Heritage's (and git's). Only objects the archive lacks are read and stored: ids are
checked in batches first, and for a git origin archived before, history already archived is not even walked.
File bytes go to the blob store (SHA-256, shared with every deposit) before the one transaction that records
the objects, so a crash leaves at worst unreferenced blobs.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..domain.access import Viewer, can_see, files_refusal
from ..domain.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from ..domain.records import Version
from ..software import swhdeposit
from ..software.archives import Limits, Unpacked, is_archive
from ..software.codemeta import prefill
from ..software.disk import FileRef, ScannedTree, scan_tree
from ..software.gitrepo import BundleCheckout, GitRepo, is_bundle
from ..software.swhid import (
    BRANCH_TYPE_OF,
    PERM_DIR,
    PERM_EXEC,
    PERM_LINK,
    SWH_TYPE_OF_BRANCH,
    SWHID,
    TYPE_OF_GIT,
    Entry,
    object_id,
    parse_commit,
    parse_person,
    parse_swhid,
    parse_tree,
    snapshot_id,
)
from ..storage import catalog
from ..storage.blobs import StoredBlob
from ..storage.software import (
    existing,
    insert_ignoring_duplicates,
    swh_contents,
    swh_deposits,
    swh_directory_entries,
    swh_objects,
    swh_origins,
    swh_releases,
    swh_revision_parents,
    swh_revisions,
    swh_snapshot_branches,
    swh_visits,
)
from . import deposit, package_paths, records
from .node import Node, utcnow

TARBALL_MTIME = 1_700_000_000  # a fixed time for every member of a downloaded tarball (reproducible)


@dataclass
class Batch:
    """The rows one archive run adds, inserted in one transaction."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    contents: list[dict[str, Any]] = field(default_factory=list)
    blobs: list[StoredBlob] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    revisions: list[dict[str, Any]] = field(default_factory=list)
    parents: list[dict[str, Any]] = field(default_factory=list)
    releases: list[dict[str, Any]] = field(default_factory=list)
    branches: list[dict[str, Any]] = field(default_factory=list)

    def add(self, oid: str, kind: str) -> None:
        self.objects.append({"sha1_git": oid, "type": kind})


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


# -- storing contents ----------------------------------------------------------------------------


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


def _content_row(batch: Batch, oid: str, blob: StoredBlob) -> None:
    batch.add(oid, "cnt")
    batch.blobs.append(blob)
    batch.contents.append({"sha1_git": oid, "sha256": blob.sha256, "length": blob.size})


def _directory_rows(batch: Batch, oid: str, entries: list[Entry]) -> None:
    batch.add(oid, "dir")
    batch.entries += [{"directory": oid, "name": e.name, "perms": e.perms, "target": e.target} for e in entries]


def _text(raw: bytes) -> str:
    # For display and search only; the raw bytes stay authoritative.
    return raw.decode("utf-8", "replace").replace("\x00", "\ufffd")


def _revision_rows(batch: Batch, oid: str, raw: bytes) -> None:
    commit = parse_commit(raw)
    tree = commit.get(b"tree")
    if tree is None:
        raise InvalidInput(f"commit {oid} has no tree")
    author, date, offset = parse_person(commit.get(b"author") or b"")
    batch.add(oid, "rev")
    batch.revisions.append(
        {
            "sha1_git": oid,
            "directory": tree.decode(),
            "author": _text(author),
            "date": date,
            "date_offset": _text(offset)[:16],
            "message": _text(commit.message),
            "raw": raw,
        }
    )
    for rank, parent in enumerate(commit.all(b"parent")):
        batch.parents.append({"revision": oid, "rank": rank, "parent": parent.decode()})


def _release_rows(batch: Batch, oid: str, raw: bytes) -> None:
    tag = parse_commit(raw)
    target, kind = tag.get(b"object"), tag.get(b"type")
    if target is None or kind is None or kind.decode() not in TYPE_OF_GIT:
        raise InvalidInput(f"tag {oid} has no usable target")
    batch.add(oid, "rel")
    batch.releases.append(
        {
            "sha1_git": oid,
            "name": _text(tag.get(b"tag") or b""),
            "target": target.decode(),
            "target_type": TYPE_OF_GIT[kind.decode()],
            "message": _text(tag.message),
            "raw": raw,
        }
    )


def _snapshot_rows(batch: Batch, branches: dict[bytes, tuple[str, bytes] | None]) -> str:
    oid = snapshot_id(branches)
    batch.add(oid, "snp")
    for name, target in branches.items():
        batch.branches.append(
            {
                "snapshot": oid,
                "name": name,
                "target_type": target[0] if target else "dangling",
                "target": target[1] if target else None,
            }
        )
    return oid


def _write(tx: Connection, batch: Batch) -> None:
    now = utcnow()
    blob_rows = {b.sha256: {"sha256": b.sha256, "size": b.size, "created": now} for b in batch.blobs}
    insert_ignoring_duplicates(tx, catalog.blobs, list(blob_rows.values()))
    insert_ignoring_duplicates(tx, swh_contents, batch.contents)
    insert_ignoring_duplicates(tx, swh_directory_entries, batch.entries)
    insert_ignoring_duplicates(tx, swh_revisions, batch.revisions)
    insert_ignoring_duplicates(tx, swh_revision_parents, batch.parents)
    insert_ignoring_duplicates(tx, swh_releases, batch.releases)
    insert_ignoring_duplicates(tx, swh_snapshot_branches, batch.branches)
    # Objects last: an id listed here is complete, which is what the "already archived?" check relies on.
    insert_ignoring_duplicates(tx, swh_objects, batch.objects)


def _new_visit(tx: Connection, origin: str, visit_type: str, swhid: str) -> int:
    # Insert-or-keep the origin, then lock its row: two archives of one origin get visits n and n+1.
    insert = pg_insert if tx.dialect.name == "postgresql" else sqlite_insert
    tx.execute(insert(swh_origins).values(url=origin).on_conflict_do_nothing(index_elements=["url"]))
    origin_id = tx.execute(select(swh_origins.c.id).where(swh_origins.c.url == origin).with_for_update()).scalar_one()
    last = tx.execute(select(func.max(swh_visits.c.visit)).where(swh_visits.c.origin_id == origin_id)).scalar()
    visit = (last or 0) + 1
    tx.execute(
        swh_visits.insert().values(origin_id=origin_id, visit=visit, date=utcnow(), type=visit_type, swhid=swhid)
    )
    return visit


def _count(batch: Batch) -> dict[str, int]:
    counts: dict[str, int] = {}
    for obj in batch.objects:
        counts[obj["type"]] = counts.get(obj["type"], 0) + 1
    return counts


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
            _content_row(self.batch, oid, _store_chunks(self.node, chunks, size, oid))

    def store_file(self, oid: str, ref: FileRef) -> None:
        self._submit(oid, lambda: _store_chunks(self.node, _file_chunks(ref), ref.size, oid))

    def _submit(self, oid: str, job: Callable[[], StoredBlob]) -> None:
        self.pending.append((oid, self.pool.submit(job)))
        if len(self.pending) >= 4 * self.THREADS:  # bound the bytes held in memory
            self._drain(self.pending.pop(0))

    def _drain(self, item: tuple[str, Future[StoredBlob]]) -> None:
        oid, future = item
        _content_row(self.batch, oid, future.result())

    def __exit__(self, exc_type: object, *rest: object) -> None:
        try:
            if exc_type is None:
                while self.pending:
                    self._drain(self.pending.pop(0))
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)


def _git_object_rows(batch: Batch, oid: str, kind: str, raw: bytes) -> None:
    swh_kind = TYPE_OF_GIT.get(kind)
    if swh_kind is None or object_id(swh_kind, raw) != oid:
        raise InvalidInput(f"git object {oid} is damaged: its body does not hash to its id")
    if kind == "tree":
        _directory_rows(batch, oid, parse_tree(raw))
    elif kind == "commit":
        _revision_rows(batch, oid, raw)
    else:
        _release_rows(batch, oid, raw)


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
                _git_object_rows(batch, oid, kind, b"".join(chunks))
    snapshot = snapshot_id(branches)
    with node.engine.connect() as conn:
        if snapshot not in existing(conn, [snapshot]):
            _snapshot_rows(batch, branches)
    root = _revision_directory(node, batch, head) if head else None
    if root is None:
        raise InvalidInput("no branch of the repository points at a commit: nothing to cite")
    with node.transaction() as tx:
        _write(tx, batch)
        visit = _new_visit(tx, origin, visit_type, f"swh:1:snp:{snapshot}")
    return ArchiveResult(
        f"swh:1:snp:{snapshot}", origin, visit, visit_type, root, head, len(batch.objects), len(listed), _count(batch)
    )


def _revision_directory(node: Node, batch: Batch, revision: str) -> str | None:
    fresh = next((r["directory"] for r in batch.revisions if r["sha1_git"] == revision), None)
    if fresh:
        return fresh
    with node.engine.connect() as conn:
        return conn.execute(select(swh_revisions.c.directory).where(swh_revisions.c.sha1_git == revision)).scalar()


# -- trees and archive files ---------------------------------------------------------------------


def _archive_tree(node: Node, tree: ScannedTree, origin: str, visit_type: str) -> ArchiveResult:
    with node.engine.connect() as conn:
        present = existing(conn, list(tree.contents) + list(tree.directories))
    batch = Batch()
    with ContentWriters(node, batch) as writers:
        for oid, ref in tree.contents.items():
            if oid not in present:
                writers.store_file(oid, ref)
    for oid, entries in tree.directories.items():
        if oid not in present:
            _directory_rows(batch, oid, entries)
    swhid = f"swh:1:dir:{tree.root}"
    with node.transaction() as tx:
        _write(tx, batch)
        visit = _new_visit(tx, origin, visit_type, swhid)
    seen = len(tree.contents) + len(tree.directories)
    return ArchiveResult(swhid, origin, visit, visit_type, tree.root, None, len(batch.objects), seen, _count(batch))


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
        return _archive_tree(node, scan_tree(path), origin or path.resolve().as_uri(), "directory")
    if is_archive(path):
        with Unpacked(path, limits) as unpacked:
            tree = scan_tree(unpacked.root)
            return _archive_tree(node, tree, origin or path.resolve().as_uri(), "tar")
    raise InvalidInput(f"{path} is neither a git repository or bundle, nor a tar or zip archive, nor a directory")


# -- reading the archive -------------------------------------------------------------------------


def object_type(conn: Connection, oid: str) -> str | None:
    return conn.execute(select(swh_objects.c.type).where(swh_objects.c.sha1_git == oid)).scalar()


def directory_entries(conn: Connection, oid: str) -> list[Entry]:
    rows = conn.execute(select(swh_directory_entries).where(swh_directory_entries.c.directory == oid)).all()
    return sorted((Entry(bytes(r.name), r.perms, r.target) for r in rows), key=Entry.sort_key)


def lookup_path(conn: Connection, directory: str, path: bytes) -> Entry | None:
    """The entry at ``path`` (``a/b/c``) under ``directory``; None if there is none."""
    entry = Entry(b"", PERM_DIR, directory)
    for part in [p for p in path.split(b"/") if p]:
        if entry.perms != PERM_DIR:
            return None
        row = conn.execute(
            select(swh_directory_entries).where(
                swh_directory_entries.c.directory == entry.target, swh_directory_entries.c.name == part
            )
        ).first()
        if row is None:
            return None
        entry = Entry(bytes(row.name), row.perms, row.target)
    return entry


def content_row(conn: Connection, oid: str) -> Any:
    return conn.execute(select(swh_contents).where(swh_contents.c.sha1_git == oid)).first()


def read_content(node: Node, oid: str, limit: int | None = None) -> bytes:
    with node.engine.connect() as conn:
        row = content_row(conn, oid)
    if row is None:
        raise NotFound(f"the archive holds no content swh:1:cnt:{oid}")
    with node.blobs.open(row.sha256) as handle:
        return handle.read(limit) if limit is not None else handle.read()


def revision(conn: Connection, oid: str) -> Any:
    return conn.execute(select(swh_revisions).where(swh_revisions.c.sha1_git == oid)).first()


def parents(conn: Connection, oid: str) -> list[str]:
    rows = conn.execute(
        select(swh_revision_parents.c.parent)
        .where(swh_revision_parents.c.revision == oid)
        .order_by(swh_revision_parents.c.rank)
    )
    return list(rows.scalars())


def log(conn: Connection, head: str, limit: int = 50) -> list[Any]:
    """Revisions reachable from ``head``, newest first (by committer order of discovery and date)."""
    seen, frontier, found = {head}, [head], []
    while frontier and len(found) < limit:
        rows = [r for r in (revision(conn, oid) for oid in frontier) if r is not None]
        rows.sort(key=lambda r: r.date or 0, reverse=True)
        best = rows[0] if rows else None
        if best is None:
            break
        found.append(best)
        frontier.remove(best.sha1_git)
        for parent in parents(conn, best.sha1_git):
            if parent not in seen:
                seen.add(parent)
                frontier.append(parent)
    return found


def release(conn: Connection, oid: str) -> Any:
    return conn.execute(select(swh_releases).where(swh_releases.c.sha1_git == oid)).first()


def snapshot_branches(conn: Connection, oid: str) -> list[Any]:
    rows = conn.execute(select(swh_snapshot_branches).where(swh_snapshot_branches.c.snapshot == oid)).all()
    return sorted(rows, key=lambda r: bytes(r.name))


def branch_revision(conn: Connection, snapshot: str, name: bytes) -> str | None:
    """The revision a branch resolves to, following aliases and releases."""
    for _ in range(10):
        row = conn.execute(
            select(swh_snapshot_branches).where(
                swh_snapshot_branches.c.snapshot == snapshot, swh_snapshot_branches.c.name == name
            )
        ).first()
        if row is None or row.target is None:
            return None
        if row.target_type == "alias":
            name = bytes(row.target)
            continue
        oid = bytes(row.target).hex()
        kind = row.target_type
        while kind == "release":
            found = release(conn, oid)
            if found is None:
                return None
            oid, kind = found.target, BRANCH_TYPE_OF.get(found.target_type, "")
        return oid if kind == "revision" else None
    return None


def write_tarball(node: Node, directory: str, prefix: str, out: BinaryIO) -> None:
    """A reproducible tar.gz of an archived directory: sorted members, fixed times, owners and modes."""
    with (
        gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
        node.engine.connect() as conn,
    ):
        _add_tree(node, conn, tar, directory, prefix)


def tarball(node: Node, directory: str, prefix: str) -> bytes:
    buffer = io.BytesIO()
    write_tarball(node, directory, prefix, buffer)
    return buffer.getvalue()


def tarball_file(node: Node, directory: str, prefix: str) -> BinaryIO:
    """The tarball in a temporary file (trees can be big), positioned at its start; the caller closes it."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, who closes it
    write_tarball(node, directory, prefix, spool)
    spool.seek(0)
    return spool


def file_chunks(handle: BinaryIO) -> Iterator[bytes]:
    yield from iter(lambda: handle.read(1024 * 1024), b"")


def _tarinfo(name: str, kind: bytes, mode: int, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size, info.mtime = kind, mode, size, TARBALL_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _add_tree(node: Node, conn: Connection, tar: tarfile.TarFile, directory: str, prefix: str) -> None:
    tar.addfile(_tarinfo(prefix + "/", tarfile.DIRTYPE, 0o755))
    for entry in sorted(directory_entries(conn, directory), key=lambda e: e.name):
        name = f"{prefix}/{entry.name.decode('utf-8', 'surrogateescape')}"
        if entry.perms == PERM_DIR:
            _add_tree(node, conn, tar, entry.target, name)
        elif entry.kind == "cnt":
            row = content_row(conn, entry.target)
            if row is None:
                continue
            if entry.perms == PERM_LINK:
                info = _tarinfo(name, tarfile.SYMTYPE, 0o777)
                info.linkname = node.blobs.path(row.sha256).read_bytes().decode("utf-8", "surrogateescape")
                tar.addfile(info)
            else:
                mode = 0o755 if entry.perms == PERM_EXEC else 0o644
                with node.blobs.open(row.sha256) as handle:
                    tar.addfile(_tarinfo(name, tarfile.REGTYPE, mode, row.length), handle)


def prefill_from_archive(node: Node, directory: str) -> dict[str, Any]:
    found: dict[str, bytes | None] = {"codemeta.json": None, "CITATION.cff": None}
    with node.engine.connect() as conn:
        for name in found:
            entry = lookup_path(conn, directory, name.encode())
            if entry is not None and entry.kind == "cnt" and entry.perms != PERM_LINK:
                row = content_row(conn, entry.target)
                if row is not None and row.length <= 1024 * 1024:
                    found[name] = node.blobs.path(row.sha256).read_bytes()
    return prefill(found["codemeta.json"], found["CITATION.cff"])


# -- software records ----------------------------------------------------------------------------


def _merge_metadata(node: Node, result: ArchiveResult, given: dict[str, Any] | None) -> dict[str, Any]:
    meta = prefill_from_archive(node, result.root_directory)
    meta.update(given or {})
    meta["resourceType"] = {"resourceTypeGeneral": "Software"} | (meta.get("resourceType") or {})
    if not meta.get("titles"):
        meta["titles"] = [{"title": Path(result.origin.rstrip("/")).name or "software"}]
    related = [r for r in meta.get("relatedIdentifiers", []) if r.get("relatedIdentifierType") != "SWHID"]
    related.append(
        {"relatedIdentifier": result.swhid, "relatedIdentifierType": "SWHID", "relationType": "IsIdenticalTo"}
    )
    meta["relatedIdentifiers"] = related
    return meta


def software_tarball_name(meta: dict[str, Any], result: ArchiveResult) -> str:
    title = (meta.get("titles") or [{"title": "software"}])[0]["title"]
    stem = "".join(c if c.isalnum() or c in "-_." else "-" for c in title.split(":")[0].strip())[:80] or "software"
    return f"{stem}-{result.root_directory[:12]}.tar.gz"


def archive_software(
    node: Node,
    viewer: Viewer,
    path: Path,
    refs: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    access: Any = None,
    origin: str | None = None,
    publish: bool = False,
    limits: Limits | None = None,
) -> tuple[Version, ArchiveResult]:
    """Archive ``path`` and make a Software record whose version points at what was archived."""
    if viewer.user_id is None:
        raise Unauthorized("archiving software needs an API token")
    result = archive_path(node, path, refs, origin, limits)
    return attach_archive(node, viewer, result, metadata, access, publish)


def attach_archive(
    node: Node,
    viewer: Viewer,
    result: ArchiveResult,
    metadata: dict[str, Any] | None = None,
    access: Any = None,
    publish: bool = False,
) -> tuple[Version, ArchiveResult]:
    meta = _merge_metadata(node, result, metadata)
    draft = deposit.create_draft(node, viewer, meta, access)
    try:
        name = software_tarball_name(meta, result)
        with tarball_file(node, result.root_directory, name.removesuffix(".tar.gz")) as data:
            deposit.add_file(node, draft.id, name, file_chunks(data), viewer, "application/gzip")
        with node.transaction() as tx:
            tx.execute(
                swh_deposits.insert().values(
                    version_id=draft.id,
                    swhid=result.swhid,
                    origin=result.origin,
                    visit=result.visit,
                    head_revision=result.head_revision,
                    root_directory=result.root_directory,
                )
            )
        version = deposit.publish(node, draft.id, viewer) if publish else records.get_version(node, draft.id, viewer)
    except BaseException:
        deposit.delete_draft(node, draft.id, viewer)
        raise
    return version, result


@dataclass(frozen=True)
class DepositLink:
    swhid: str
    origin: str
    visit: int
    head_revision: str | None
    root_directory: str
    visit_swhid: str | None


def deposit_link(conn: Connection, version_id: str) -> DepositLink | None:
    row = conn.execute(select(swh_deposits).where(swh_deposits.c.version_id == version_id)).first()
    if row is None:
        return None
    visit = row.swhid if row.swhid.startswith("swh:1:snp:") else None
    return DepositLink(row.swhid, row.origin, row.visit, row.head_revision, row.root_directory, visit)


def software_json(node: Node, version: Version, result: ArchiveResult, viewer: Viewer) -> dict[str, Any]:
    """What ``osnode archive --json`` and the API answer."""
    body = records.describe(node, version, viewer)
    body.update(result.as_json())
    body["browse"] = f"{node.settings.public_url}/software/{version.id}"
    return body


def deposit_for(node: Node, any_id: str, viewer: Viewer) -> tuple[Version, DepositLink]:
    """The archived software of a record version, if the viewer may read its files."""
    version = records.get_version(node, any_id, viewer)
    with node.engine.connect() as conn:
        link = deposit_link(conn, version.id)
    if link is None:
        raise NotFound(f"record {any_id} holds no archived software")
    refusal = files_refusal(version, viewer, node.today())
    if refusal:
        raise Forbidden(refusal)
    return version, link


# -- forwarding to Software Heritage -------------------------------------------------------------


def export_deposit(node: Node, viewer: Viewer, any_id: str, out: Path) -> dict[str, Any]:
    """Write a Software Heritage deposit package of a record's archived software into the folder ``out``."""
    version, link = deposit_for(node, any_id, viewer)
    if out.exists() and any(out.iterdir()):
        raise InvalidInput(f"{out} is not empty; choose a new folder for the package")
    out.mkdir(parents=True, exist_ok=True)
    prefix = software_tarball_name(version.metadata, _link_result(link)).removesuffix(".tar.gz")
    with (out / swhdeposit.ARCHIVE_FILE).open("wb") as handle:
        write_tarball(node, link.root_directory, prefix, handle)
    entry = swhdeposit.build_entry(version.metadata, link.origin, node.record_url(version.id), link.swhid)
    archive_file = out / swhdeposit.ARCHIVE_FILE
    manifest = {
        "format": "swh-deposit/1",
        "record": node.record_url(version.id),
        "swhid": link.swhid,
        "root_directory": f"swh:1:dir:{link.root_directory}",
        "head_revision": f"swh:1:rev:{link.head_revision}" if link.head_revision else None,
        "origin": link.origin,
        "files": {
            swhdeposit.ARCHIVE_FILE: {"sha256": node_sha256(archive_file), "size": archive_file.stat().st_size},
            swhdeposit.METADATA_FILE: {"sha256": hashlib.sha256(entry).hexdigest(), "size": len(entry)},
        },
    }
    (out / swhdeposit.METADATA_FILE).write_bytes(entry)
    (out / swhdeposit.MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _link_result(link: DepositLink) -> ArchiveResult:
    return ArchiveResult(link.swhid, link.origin, link.visit, "", link.root_directory, link.head_revision)


def import_deposit(
    node: Node, viewer: Viewer, folder: Path, publish: bool = False, limits: Limits | None = None
) -> tuple[Version, ArchiveResult]:
    """Archive a deposit package (ours, or any ``metadata.xml`` + archive pair) as a Software record."""
    if viewer.user_id is None:
        raise Unauthorized("importing software needs an API token")
    metadata_path, archive_file = folder / swhdeposit.METADATA_FILE, folder / swhdeposit.ARCHIVE_FILE
    if not metadata_path.is_file() or not archive_file.is_file():
        raise InvalidInput(f"{folder} is not a deposit package: it needs {swhdeposit.METADATA_FILE} and an archive")
    # Every file read is one of the package's own, not a link to a file of this machine.
    metadata_path = package_paths.inside(folder, swhdeposit.METADATA_FILE)
    archive_file = package_paths.inside(folder, swhdeposit.ARCHIVE_FILE)
    manifest = _read_manifest(folder)
    files = manifest.get("files") or {}
    if not isinstance(files, dict):
        raise InvalidInput(f"{swhdeposit.MANIFEST_FILE} must map file names to checksums")
    for name, expected in files.items():
        path = package_paths.inside(folder, name)
        if not isinstance(expected, dict) or node_sha256(path) != expected.get("sha256"):
            raise InvalidInput(f"{name} in the package does not match its manifest checksum (damaged in transit?)")
    try:
        meta, origin = swhdeposit.parse_entry(metadata_path.read_bytes())
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    with Unpacked(archive_file, limits) as unpacked:
        tree = scan_tree(unpacked.root)
        expected_dir = manifest.get("root_directory")
        if expected_dir and expected_dir != f"swh:1:dir:{tree.root}":
            raise InvalidInput(f"the package's tree hashes to swh:1:dir:{tree.root}, not the declared {expected_dir}")
        result = _archive_tree(
            node, tree, origin or manifest.get("origin") or archive_file.resolve().as_uri(), "deposit"
        )
    return attach_archive(node, viewer, result, meta, None, publish)


def node_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_manifest(folder: Path) -> dict[str, Any]:
    if not (folder / swhdeposit.MANIFEST_FILE).is_file():
        return {}
    path = package_paths.inside(folder, swhdeposit.MANIFEST_FILE)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(f"{path.name} is not valid JSON") from None
    if not isinstance(manifest, dict):
        raise InvalidInput(f"{path.name} must hold an object")
    return manifest


# -- visibility and object views -------------------------------------------------------------------

VISIBILITY_WALK_LIMIT = 20_000


def _readable_roots(node: Node, conn: Connection, viewer: Viewer) -> tuple[set[str], bool]:
    """The deposit roots (``kind:hex``) the viewer may read, and whether they are all of them."""
    roots, everything = set(), True
    for row in conn.execute(select(swh_deposits.c.version_id)).scalars():
        version = records.load_version(conn, row)
        if version is None or not can_see(version, viewer) or files_refusal(version, viewer, node.today()):
            everything = False
            continue
        link = deposit_link(conn, row)
        assert link is not None
        roots.add(f"{link.swhid[6:9]}:{link.swhid[10:]}")
        roots.add(f"dir:{link.root_directory}")
        if link.head_revision:
            roots.add(f"rev:{link.head_revision}")
    return roots, everything


def _holders(conn: Connection, kind: str, oid: str) -> list[str]:
    """The objects that point at ``kind:oid`` (one step up the graph)."""
    found: list[str] = []
    if kind in ("cnt", "dir", "rev"):
        rows = select(swh_directory_entries.c.directory).where(swh_directory_entries.c.target == oid)
        found += [f"dir:{d}" for d in conn.execute(rows.distinct()).scalars()]
    if kind == "dir":
        found += [
            f"rev:{r}"
            for r in conn.execute(select(swh_revisions.c.sha1_git).where(swh_revisions.c.directory == oid)).scalars()
        ]
    if kind == "rev":
        query = select(swh_revision_parents.c.revision).where(swh_revision_parents.c.parent == oid)
        found += [f"rev:{r}" for r in conn.execute(query).scalars()]
    found += [
        f"rel:{r}" for r in conn.execute(select(swh_releases.c.sha1_git).where(swh_releases.c.target == oid)).scalars()
    ]
    query = select(swh_snapshot_branches.c.snapshot).where(swh_snapshot_branches.c.target == bytes.fromhex(oid))
    found += [f"snp:{s}" for s in conn.execute(query.distinct()).scalars()]
    return found


def reachable_from(conn: Connection, kind: str, oid: str, roots: set[str]) -> bool:
    """Whether ``kind:oid`` lies under one of ``roots`` (walking up the graph, within a bound)."""
    start = f"{kind}:{oid}"
    seen, frontier = {start}, [start]
    while frontier and len(seen) < VISIBILITY_WALK_LIMIT:
        current = frontier.pop()
        if current in roots:
            return True
        for holder in _holders(conn, *current.split(":")):
            if holder not in seen:
                seen.add(holder)
                frontier.append(holder)
    return False


def visible(node: Node, conn: Connection, viewer: Viewer, kind: str, oid: str) -> bool:
    """An archived object is shown to those who may read the files of a deposit that holds it."""
    if object_type(conn, oid) != kind:
        return False
    roots, everything = _readable_roots(node, conn, viewer)
    return everything or reachable_from(conn, kind, oid, roots)


def _swhid(kind: str, oid: str) -> str:
    return f"swh:1:{kind}:{oid}"


def _name(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape").encode("utf-8", "backslashreplace").decode()


def object_json(node: Node, conn: Connection, kind: str, oid: str) -> dict[str, Any]:
    body: dict[str, Any] = {"swhid": _swhid(kind, oid), "type": kind}
    if kind == "cnt":
        row = content_row(conn, oid)
        body |= {"length": row.length, "sha256": row.sha256, "raw": node.api_url(f"/swhid/{_swhid(kind, oid)}/raw")}
    elif kind == "dir":
        body["entries"] = [
            {"name": _name(e.name), "perms": f"{e.perms:o}", "type": e.kind, "target": _swhid(e.kind, e.target)}
            for e in directory_entries(conn, oid)
        ]
    elif kind == "rev":
        row = revision(conn, oid)
        body |= {
            "directory": _swhid("dir", row.directory),
            "parents": [_swhid("rev", p) for p in parents(conn, oid)],
            "author": row.author,
            "date": row.date,
            "date_offset": row.date_offset,
            "message": row.message,
        }
    elif kind == "rel":
        row = release(conn, oid)
        body |= {"name": row.name, "target": _swhid(row.target_type, row.target), "message": row.message}
    else:
        body["branches"] = [
            {"name": _name(bytes(b.name)), "target_type": b.target_type, "target": _branch_target(b)}
            for b in snapshot_branches(conn, oid)
        ]
    return body


def _branch_target(row: Any) -> str | None:
    if row.target is None:
        return None
    if row.target_type == "alias":
        return _name(bytes(row.target))
    return _swhid(SWH_TYPE_OF_BRANCH[row.target_type], bytes(row.target).hex())


def resolve_swhid(node: Node, viewer: Viewer, text: str) -> tuple[SWHID, dict[str, Any]]:
    """The object a SWHID names, as JSON, with its qualifiers (kept as context, as Software Heritage does)."""
    try:
        parsed = parse_swhid(text)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    with node.engine.connect() as conn:
        if not visible(node, conn, viewer, parsed.kind, parsed.hex):
            raise NotFound(f"this node's archive holds no object {parsed.core}")
        body = object_json(node, conn, parsed.kind, parsed.hex)
    body["qualifiers"] = dict(parsed.qualifiers)
    return parsed, body


def archive_draft_file(node: Node, viewer: Viewer, version_id: str, key: str) -> tuple[Version, ArchiveResult]:
    """Archive a source archive or git bundle already uploaded to a draft, and make the draft point at it."""
    deposit.check_draft_for_upload(node, version_id, key, viewer)
    version = records.get_version(node, version_id, viewer)
    entry = version.file(key)
    if entry is None:
        raise NotFound(f"draft {version_id} has no file named '{key}'")
    path = node.blobs.path(entry.sha256)
    if not (is_bundle(path) or is_archive(path)):
        raise InvalidInput(f"'{key}' is neither a tar or zip archive nor a git bundle")
    result = archive_path(node, path, origin=f"{node.record_url(version.record_id)}/files/{key}")
    meta = _merge_metadata(node, result, None)
    meta.update({k: v for k, v in version.metadata.items() if k != "relatedIdentifiers"})
    deposit.update_draft(node, version_id, viewer, metadata=meta)
    with node.transaction() as tx:
        tx.execute(swh_deposits.delete().where(swh_deposits.c.version_id == version_id))
        tx.execute(
            swh_deposits.insert().values(
                version_id=version_id,
                swhid=result.swhid,
                origin=result.origin,
                visit=result.visit,
                head_revision=result.head_revision,
                root_directory=result.root_directory,
            )
        )
    return records.get_version(node, version_id, viewer), result
