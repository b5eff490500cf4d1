"""One harvest run: its record in ``harvest_runs`` (counts, errors kept), and what its pages are stored with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row

from osnode.services.node import Node
from osnode.services.runs import Tally, interrupt_running, keep, open_row, save_row
from osnode.storage.peers import harvest_runs

from .limits import Guard

MAX_ERRORS_KEPT = 1000


@dataclass
class RunInfo(Tally):
    id: int
    peer: str
    started: datetime
    finished: datetime | None
    status: str
    metadata_prefix: str | None
    from_datestamp: str | None
    resumed: bool
    pages: int = 0
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: int = 0
    error_list: list[dict[str, Any]] = field(default_factory=list)
    message: str | None = None
    # Progress only, not stored: what the peer says the whole list holds.
    complete_list_size: int | None = None


@dataclass
class Context:
    node: Node
    peer: Row
    owner_id: int
    origin: str
    publisher: str
    own_prefixes: tuple[str, ...]
    own_url: str
    run: RunInfo
    guard: Guard
    """The run's bounds: every request to the peer and every page read go through it."""
    progress: Callable[[RunInfo], None] | None = None


def note(run: RunInfo, identifier: str | None, message: str, *, error: bool) -> None:
    if error:
        run.errors += 1
    keep(run.error_list, {"identifier": identifier, "message": message[:1000], "error": error}, MAX_ERRORS_KEPT)


def save_run(tx: Connection, run: RunInfo) -> None:
    save_row(tx, harvest_runs, run.id, run)


def start_run(node: Node, peer: Row) -> RunInfo:
    with node.transaction() as tx:
        stopped = "the harvest stopped before it ended"
        interrupt_running(tx, harvest_runs, harvest_runs.c.peer_id == peer.id, stopped)
        run_id, now = open_row(
            tx,
            harvest_runs,
            peer_id=peer.id,
            status="running",
            resumed=peer.resumption_token is not None,
            pages=0,
            added=0,
            updated=0,
            deleted=0,
            unchanged=0,
            skipped=0,
            errors=0,
            error_list=[],
        )
    return RunInfo(run_id, peer.name, now, None, "running", None, None, peer.resumption_token is not None)
