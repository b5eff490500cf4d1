"""Read queries over the archived graph (contents, directories, revisions, releases, snapshots) and the JSON
view of one object. Callers decide who may see an object (see ``visibility``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from ...domain.errors import NotFound
from ...software.codemeta import prefill
from ...software.swhid import BRANCH_TYPE_OF, PERM_DIR, PERM_LINK, SWH_TYPE_OF_BRANCH, Entry
from ...storage.software import (
    swh_contents,
    swh_directory_entries,
    swh_objects,
    swh_releases,
    swh_revision_parents,
    swh_revisions,
    swh_snapshot_branches,
)
from ..node import Node


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


def prefill_from_archive(node: Node, directory: str) -> dict[str, Any]:
    found: dict[str, bytes | None] = {"codemeta.json": None, "CITATION.cff": None}
    with node.engine.connect() as conn:
        for name in found:
            entry = lookup_path(conn, directory, name.encode())
            if entry is not None and entry.kind == "cnt" and entry.perms != PERM_LINK:
                row = content_row(conn, entry.target)
                if row is not None and row.length <= 1024 * 1024:
                    found[name] = node.blobs.read_bytes(row.sha256)
    return prefill(found["codemeta.json"], found["CITATION.cff"])


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
