"""Peers from the admin pages: add one (the rules of ``osnode peers add``), choose its replication policy,
and start a harvest now in the background. Administrators only."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from ..domain.access import Viewer
from . import harvest, queue, replication
from .admin import require_admin
from .node import Node

log = logging.getLogger("osnode.admin")


@dataclass(frozen=True)
class PeerRow:
    peer: harvest.PeerInfo
    policy: replication.Policy


def overview(node: Node, viewer: Viewer) -> list[PeerRow]:
    require_admin(viewer)
    policies = {p.peer: p for p in replication.list_policies(node)}
    return [PeerRow(p, policies.get(p.name, replication.Policy(p.name, "metadata"))) for p in harvest.list_peers(node)]


def add(node: Node, viewer: Viewer, url: str, name: str = "", set_spec: str = "", every_hours: str = "") -> None:
    """Add a peer without contacting it (the page must not make this server fetch what an admin typed
    before it is saved); its first harvest says whether it answers."""
    require_admin(viewer)
    hours: float | None = None
    if every_hours.strip():
        try:
            hours = float(every_hours)
        except ValueError:
            hours = -1.0  # refused by add_peer's rule with its message
    harvest.add_peer(node, url, name=name.strip() or None, set_spec=set_spec or None, every_hours=hours)


def set_policy(node: Node, viewer: Viewer, name: str, policy: str, sets: str = "") -> None:
    require_admin(viewer)
    replication.set_policy(node, name, policy, sets.split() if policy == "sets" else ())


HARVEST_PEER = "harvest-peer"


def _harvest_peer(node: Node, args: dict[str, Any]) -> None:
    harvest.harvest(node, str(args["peer"]), harvest.OAIClient)  # Conflict (a run under way): retried later


# One-off tasks ``osnode worker`` runs besides the periodic jobs (gathered in plugins/builtins.py).
TASKS: dict[str, queue.Handler] = {HARVEST_PEER: _harvest_peer}


def harvest_now(node: Node, viewer: Viewer, name: str) -> None:
    """Start harvesting ``name``: on a background thread, or with the durable queue, as a job for the
    workers (a web process is no place for hours of harvest); its run shows on the peers page as it goes."""
    require_admin(viewer)
    harvest.get_peer(node, name)  # an unknown peer is an error now, not in the thread
    if node.settings.queue == "database":
        queue.enqueue(node, HARVEST_PEER, {"peer": name})
        return

    def run() -> None:
        try:
            harvest.harvest(node, name, harvest.OAIClient)
        except Exception:  # a run already under way (Conflict) or a bug: logged, the page shows the runs
            log.exception("harvest of %s started from the admin page failed", name)

    threading.Thread(target=run, name=f"harvest-{name}", daemon=True).start()
