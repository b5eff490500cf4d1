"""What the software pages read: a deposit's trees, files and history, each checked to lie inside the deposit
(or visible to the viewer) before anything is returned. The web module only shapes these answers into pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from ...domain.access import Viewer
from ...domain.errors import NotFound
from ...software.swhid import Entry
from ..node import Node
from .links import DepositLink, deposit_link
from .objects import content_row, directory_entries, log, lookup_path, object_type, parents, read_content, revision
from .visibility import reachable_from, visible


@dataclass(frozen=True)
class Listed:
    """One entry of a directory listing, with the size of a file (None for folders and links to revisions)."""

    entry: Entry
    size: int | None


@dataclass(frozen=True)
class LogEntry:
    revision: Any
    parent_count: int


def deposit_roots(link: DepositLink) -> set[str]:
    """The graph nodes a deposit starts from: an anchor must lie under one of them."""
    roots = {f"dir:{link.root_directory}", f"{link.swhid[6:9]}:{link.swhid[10:]}"}
    if link.head_revision:
        roots.add(f"rev:{link.head_revision}")
    return roots


def visible_content(node: Node, viewer: Viewer, sha1_git: str) -> bytes:
    """The bytes of an archived file the viewer may see (NotFound otherwise, revealing nothing)."""
    with node.engine.connect() as conn:
        if not visible(node, conn, viewer, "cnt", sha1_git):
            raise NotFound(f"this node's archive holds no content swh:1:cnt:{sha1_git}")
    return read_content(node, sha1_git)


def content_length(node: Node, sha1_git: str) -> int:
    with node.engine.connect() as conn:
        row = content_row(conn, sha1_git)
    if row is None:
        raise NotFound(f"the archive holds no content swh:1:cnt:{sha1_git}")
    return int(row.length)


def listing(node: Node, directory: str, limit: int) -> list[Listed]:
    """The first ``limit`` entries of a directory with their sizes, in one connection."""
    with node.engine.connect() as conn:
        return _listing(conn, directory, limit)


def _listing(conn: Connection, directory: str, limit: int) -> list[Listed]:
    shown = []
    for entry in directory_entries(conn, directory)[:limit]:
        size = None
        if entry.kind == "cnt":
            row = content_row(conn, entry.target)
            size = row.length if row else None
        shown.append(Listed(entry, size))
    return shown


def _anchor_root(conn: Connection, link: DepositLink, anchor: str) -> tuple[str, str]:
    kind = object_type(conn, anchor)
    if kind not in ("rev", "dir") or not reachable_from(conn, kind, anchor, deposit_roots(link)):
        raise NotFound(f"this software holds no revision or directory {anchor}")
    if kind == "rev":
        return kind, revision(conn, anchor).directory
    return kind, anchor


def tree_entry(node: Node, link: DepositLink, anchor: str, path: bytes) -> tuple[str, Entry | None]:
    """(kind of the anchor, the entry at ``path`` under it or None) for an anchor inside the deposit."""
    with node.engine.connect() as conn:
        kind, root = _anchor_root(conn, link, anchor)
        return kind, lookup_path(conn, root, path)


def revision_log(node: Node, link: DepositLink, anchor: str, limit: int) -> list[LogEntry]:
    """The history from a revision inside the deposit, newest first."""
    with node.engine.connect() as conn:
        kind, _ = _anchor_root(conn, link, anchor)
        if kind != "rev":
            raise NotFound("only a revision has a history")
        return [LogEntry(r, len(parents(conn, r.sha1_git))) for r in log(conn, anchor, limit=limit)]


def check_deposit_directory(node: Node, link: DepositLink, directory: str) -> None:
    """NotFound unless ``directory`` is a directory inside the deposit."""
    with node.engine.connect() as conn:
        if object_type(conn, directory) != "dir" or not reachable_from(conn, "dir", directory, deposit_roots(link)):
            raise NotFound(f"this software holds no directory {directory}")


def link_of(node: Node, version_id: str) -> DepositLink | None:
    """The archived software a version points at, if any (the caller checks who may see it)."""
    with node.engine.connect() as conn:
        return deposit_link(conn, version_id)
