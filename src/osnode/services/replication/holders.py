"""Who holds a copy of a version's files, or of one blob: this node and the peers replication noted."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ...storage.peers import peers
from ...storage.replicas import replicas
from ..harvest import origin_of
from ..node import Node


@dataclass(frozen=True)
class Holder:
    url: str
    is_self: bool
    files: int


def holders(node: Node, version_id: str) -> list[Holder]:
    """The nodes known to hold the files of a version (this node first)."""
    with node.engine.connect() as conn:
        rows = conn.execute(
            select(replicas.c.holder, replicas.c.is_self, replicas.c.sha256).where(replicas.c.version_id == version_id)
        ).all()
    counted: dict[tuple[str, bool], int] = {}
    for row in rows:
        counted[(row.holder, row.is_self)] = counted.get((row.holder, row.is_self), 0) + 1
    found = [Holder(url, is_self, n) for (url, is_self), n in counted.items()]
    return sorted(found, key=lambda h: (not h.is_self, h.url))


def blob_holders(node: Node, sha256: str) -> list[str]:
    """Other nodes that hold blob ``sha256`` (fixity repair asks them first), then every peer's site."""
    with node.engine.connect() as conn:
        known = conn.execute(
            select(replicas.c.holder).where(replicas.c.sha256 == sha256, replicas.c.is_self.is_(False)).distinct()
        ).scalars()
        sites = [origin_of(url) for url in conn.execute(select(peers.c.base_url).order_by(peers.c.name)).scalars()]
        return list(dict.fromkeys([*sorted(known), *sites]))
