"""What is mirrored from each peer: ``metadata`` (nothing more), ``open`` (every open file) or
``sets`` (the open files of records in chosen OAI-PMH sets)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, delete, select

from ...domain.errors import InvalidInput, NotFound
from ...storage.peers import peers
from ...storage.replicas import replication_policies, replication_state
from ..node import Node, utcnow

POLICIES = ("metadata", "open", "sets")
MAX_SETS, MAX_SET = 50, 500


@dataclass(frozen=True)
class Policy:
    peer: str
    policy: str
    sets: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"peer": self.peer, "policy": self.policy, "sets": list(self.sets)}


def peer_named(conn: Connection, name: str) -> Row:
    row = conn.execute(select(peers).where(peers.c.name == name)).first()
    if row is None:
        raise NotFound(f"no peer named '{name}'")
    return row


def policy_of(conn: Connection, peer: Row) -> Policy:
    row = conn.execute(select(replication_policies).where(replication_policies.c.peer_id == peer.id)).first()
    if row is None:
        return Policy(peer.name, "metadata")
    return Policy(peer.name, row.policy, tuple(row.sets or ()))


def get_policy(node: Node, name: str) -> Policy:
    with node.engine.connect() as conn:
        return policy_of(conn, peer_named(conn, name))


def list_policies(node: Node) -> list[Policy]:
    with node.engine.connect() as conn:
        return [policy_of(conn, row) for row in conn.execute(select(peers).order_by(peers.c.name)).all()]


def set_policy(node: Node, name: str, policy: str, sets: Iterable[str] = ()) -> Policy:
    """Choose what is mirrored from peer ``name``: ``metadata`` (nothing more), ``open`` or ``sets``."""
    chosen = tuple(dict.fromkeys(s.strip() for s in sets if s.strip()))
    if policy not in POLICIES:
        raise InvalidInput(f"'{policy}' is not a replication policy: {', '.join(POLICIES)}")
    if policy == "sets" and not chosen:
        raise InvalidInput("the 'sets' policy needs at least one --set")
    if policy != "sets" and chosen:
        raise InvalidInput("--set only goes with the 'sets' policy")
    if len(chosen) > MAX_SETS or any(len(s) > MAX_SET or any(c.isspace() for c in s) for s in chosen):
        raise InvalidInput(f"at most {MAX_SETS} setSpecs, each without spaces and at most {MAX_SET} characters")
    with node.transaction() as tx:
        peer = peer_named(tx, name)
        tx.execute(delete(replication_policies).where(replication_policies.c.peer_id == peer.id))
        if policy != "metadata":
            tx.execute(
                replication_policies.insert().values(
                    peer_id=peer.id, policy=policy, sets=list(chosen), updated=utcnow()
                )
            )
        # A new policy means a fresh look at every record on the next run.
        tx.execute(delete(replication_state).where(replication_state.c.peer_id == peer.id))
    return Policy(name, policy, chosen)


def replicating_peers(node: Node) -> list[str]:
    with node.engine.connect() as conn:
        return list(
            conn.execute(
                select(peers.c.name)
                .join(replication_policies, replication_policies.c.peer_id == peers.c.id)
                .order_by(peers.c.name)
            ).scalars()
        )
