"""Who may see an archived object: those who may read the files of a deposit whose graph holds it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from ...domain.access import Viewer, can_see
from ...domain.errors import InvalidInput, NotFound
from ...software.swhid import SWHID, parse_swhid
from ...storage.software import (
    swh_deposits,
    swh_directory_entries,
    swh_releases,
    swh_revision_parents,
    swh_revisions,
    swh_snapshot_branches,
)
from .. import access, records
from ..node import Node
from .links import deposit_link
from .objects import object_json, object_type

VISIBILITY_WALK_LIMIT = 20_000


def _readable_roots(node: Node, conn: Connection, viewer: Viewer) -> tuple[set[str], bool]:
    """The deposit roots (``kind:hex``) the viewer may read, and whether they are all of them."""
    roots, everything = set(), True
    for row in conn.execute(select(swh_deposits.c.version_id)).scalars():
        version = records.load_version(conn, row)
        if version is None or not can_see(version, viewer) or access.refusal(node, version, viewer, conn=conn):
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
