"""Scheduled harvests: the peers whose interval has passed, harvested in turn."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from osnode.domain.errors import Conflict
from osnode.domain.moments import as_utc
from osnode.services.node import Node, utcnow
from osnode.storage.peers import peers

from .peerclient import Connect
from .pipeline import harvest
from .runs import RunInfo

log = logging.getLogger("osnode.harvest")


def due_peers(node: Node, now: datetime | None = None) -> list[str]:
    now = now or utcnow()
    with node.engine.connect() as conn:
        rows = conn.execute(select(peers).where(peers.c.every_hours.is_not(None)).order_by(peers.c.name)).all()
    due = []
    for row in rows:
        last = as_utc(row.last_run_at)
        if last is None or last + timedelta(hours=row.every_hours) <= now:
            due.append(row.name)
    return due


def harvest_due(node: Node, connect: Connect) -> list[RunInfo]:
    """The scheduled harvests: every peer whose interval has passed since its last run (a peer
    being harvested by a command meanwhile is left to it)."""
    runs = []
    for name in due_peers(node):
        try:
            runs.append(harvest(node, name, connect))
        except Conflict as exc:
            log.info("%s", exc)
    return runs
