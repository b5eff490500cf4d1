"""One harvest run: its record in ``harvest_runs`` (counts, errors kept), and what its pages are stored with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, update

from osnode.services.node import Node, utcnow
from osnode.storage.peers import harvest_runs

from .limits import Guard

MAX_ERRORS_KEPT = 1000


@dataclass
class RunInfo:
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

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["started"] = self.started.isoformat()
        data["finished"] = self.finished.isoformat() if self.finished else None
        return data


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
    if len(run.error_list) < MAX_ERRORS_KEPT:
        run.error_list.append({"identifier": identifier, "message": message[:1000], "error": error})


def save_run(tx: Connection, run: RunInfo) -> None:
    tx.execute(
        update(harvest_runs)
        .where(harvest_runs.c.id == run.id)
        .values(
            finished=run.finished,
            status=run.status,
            metadata_prefix=run.metadata_prefix,
            from_datestamp=run.from_datestamp,
            resumed=run.resumed,
            pages=run.pages,
            added=run.added,
            updated=run.updated,
            deleted=run.deleted,
            unchanged=run.unchanged,
            skipped=run.skipped,
            errors=run.errors,
            error_list=run.error_list,
            message=run.message,
        )
    )


def start_run(node: Node, peer: Row) -> RunInfo:
    now = utcnow()
    with node.transaction() as tx:
        # A run still 'running' was cut off (the process died): say so rather than leave it hanging.
        tx.execute(
            update(harvest_runs)
            .where(harvest_runs.c.peer_id == peer.id, harvest_runs.c.status == "running")
            .values(status="interrupted", finished=now, message="the harvest stopped before it ended")
        )
        run_id = tx.execute(
            harvest_runs.insert().values(
                peer_id=peer.id,
                started=now,
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
        ).inserted_primary_key[0]
    return RunInfo(run_id, peer.name, now, None, "running", None, None, peer.resumption_token is not None)
