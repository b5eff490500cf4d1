"""The rows one archive run adds to the graph tables (contents, directories, revisions, releases, snapshot
branches, objects), built from git objects and scanned trees, and written in one transaction with the visit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from ...domain.errors import InvalidInput
from ...software.swhid import TYPE_OF_GIT, Entry, object_id, parse_commit, parse_person, parse_tree, snapshot_id
from ...storage import catalog
from ...storage.blobs import StoredBlob
from ...storage.software import (
    insert_ignoring_duplicates,
    swh_contents,
    swh_directory_entries,
    swh_objects,
    swh_origins,
    swh_releases,
    swh_revision_parents,
    swh_revisions,
    swh_snapshot_branches,
    swh_visits,
)
from ..node import utcnow


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


def add_content(batch: Batch, oid: str, blob: StoredBlob) -> None:
    batch.add(oid, "cnt")
    batch.blobs.append(blob)
    batch.contents.append({"sha1_git": oid, "sha256": blob.sha256, "length": blob.size})


def add_directory(batch: Batch, oid: str, entries: list[Entry]) -> None:
    batch.add(oid, "dir")
    batch.entries += [{"directory": oid, "name": e.name, "perms": e.perms, "target": e.target} for e in entries]


def _text(raw: bytes) -> str:
    # For display and search only; the raw bytes stay authoritative.
    return raw.decode("utf-8", "replace").replace("\x00", "\ufffd")


def add_revision(batch: Batch, oid: str, raw: bytes) -> None:
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


def add_release(batch: Batch, oid: str, raw: bytes) -> None:
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


def add_snapshot(batch: Batch, branches: dict[bytes, tuple[str, bytes] | None]) -> str:
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


def write_batch(tx: Connection, batch: Batch) -> None:
    now = utcnow()
    catalog.register_blobs(tx, {b.sha256: b.size for b in batch.blobs}, now)
    insert_ignoring_duplicates(tx, swh_contents, batch.contents)
    insert_ignoring_duplicates(tx, swh_directory_entries, batch.entries)
    insert_ignoring_duplicates(tx, swh_revisions, batch.revisions)
    insert_ignoring_duplicates(tx, swh_revision_parents, batch.parents)
    insert_ignoring_duplicates(tx, swh_releases, batch.releases)
    insert_ignoring_duplicates(tx, swh_snapshot_branches, batch.branches)
    # Objects last: an id listed here is complete, which is what the "already archived?" check relies on.
    insert_ignoring_duplicates(tx, swh_objects, batch.objects)


def new_visit(tx: Connection, origin: str, visit_type: str, swhid: str) -> int:
    # Insert-or-keep the origin, then lock its row: two archives of one origin get visits n and n+1.
    tx.execute(catalog.insert_or_ignore(tx, swh_origins, index_elements=["url"]).values(url=origin))
    origin_id = tx.execute(select(swh_origins.c.id).where(swh_origins.c.url == origin).with_for_update()).scalar_one()
    last = tx.execute(select(func.max(swh_visits.c.visit)).where(swh_visits.c.origin_id == origin_id)).scalar()
    visit = (last or 0) + 1
    tx.execute(
        swh_visits.insert().values(origin_id=origin_id, visit=visit, date=utcnow(), type=visit_type, swhid=swhid)
    )
    return visit


def count_by_type(batch: Batch) -> dict[str, int]:
    counts: dict[str, int] = {}
    for obj in batch.objects:
        counts[obj["type"]] = counts.get(obj["type"], 0) + 1
    return counts


def add_git_object(batch: Batch, oid: str, kind: str, raw: bytes) -> None:
    swh_kind = TYPE_OF_GIT.get(kind)
    if swh_kind is None or object_id(swh_kind, raw) != oid:
        raise InvalidInput(f"git object {oid} is damaged: its body does not hash to its id")
    if kind == "tree":
        add_directory(batch, oid, parse_tree(raw))
    elif kind == "commit":
        add_revision(batch, oid, raw)
    else:
        add_release(batch, oid, raw)
