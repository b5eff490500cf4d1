"""The lease a harvest holds on its peer: one run per peer across processes (and hosts, on a
shared PostgreSQL catalog).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Row, select, update

from osnode.domain.errors import Conflict
from osnode.domain.moments import as_utc
from osnode.services.locks import dead_here, holder_name
from osnode.services.node import Node, utcnow
from osnode.storage.peers import peers

# How long a harvest holds its peer without storing a page; renewed with each page. A lease left by
# a harvest that died on this host is taken over at once (its process is gone); one left by a process
# on another host (a shared PostgreSQL catalog) runs out.
LEASE = timedelta(minutes=15)


def take_lease(node: Node, peer: Row) -> str:
    """Claim the peer for this harvest, or raise Conflict when another harvest holds it."""
    owner = holder_name()
    now = utcnow()
    with node.transaction() as tx:
        query = select(peers.c.lease_owner, peers.c.lease_until).where(peers.c.id == peer.id).with_for_update()
        held = tx.execute(query).one()
        until = as_utc(held.lease_until)
        if until is not None and until >= now and not dead_here(held.lease_owner):
            raise Conflict(
                f"peer '{peer.name}' is being harvested already (by another process or the scheduler);"
                f" try again later (its lease runs out at {until:%Y-%m-%d %H:%M} UTC at the latest)"
            )
        # The transaction holds the write lock (SQLite) or the row (PostgreSQL, FOR UPDATE): no
        # other harvest can take the lease between the check and this update.
        tx.execute(update(peers).where(peers.c.id == peer.id).values(lease_owner=owner, lease_until=now + LEASE))
    return owner


def released(tx: Connection, peer_id: int, owner: str) -> dict[str, Any]:
    """The columns that give the lease back, if this harvest still holds it."""
    held = tx.execute(select(peers.c.lease_owner).where(peers.c.id == peer_id)).scalar() == owner
    return {"lease_owner": None, "lease_until": None} if held else {}
