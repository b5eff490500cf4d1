"""Run bookkeeping shared by harvest, replication, fixity and package runs: the counts a run keeps, the errors it
met (a bounded list, so a broken peer or disk cannot fill the catalog or the terminal), its JSON form, and, for
runs kept in a table (``harvest_runs``, ``fixity_runs``), its row opened when it starts, saved as it goes and
closed when it ends, and rows left ``running`` by a process that died marked as interrupted."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, update

from .node import utcnow


class Tally:
    """A mixin for a run's dataclass whose int fields are its counts."""

    def add(self, name: str, n: int = 1) -> None:
        setattr(self, name, getattr(self, name) + n)

    def as_json(self) -> dict[str, Any]:
        """The fields as JSON values (moments in ISO 8601)."""
        data = dataclasses.asdict(self)  # type: ignore[call-overload]
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}

    def as_dict(self) -> dict[str, Any]:
        return self.as_json()


def keep(entries: list[dict[str, Any]], entry: dict[str, Any], limit: int | None) -> None:
    """Keep ``entry`` in a run's list of errors while it holds fewer than ``limit`` (None: no bound)."""
    if limit is None or len(entries) < limit:
        entries.append(entry)


def open_row(tx: Connection, table: Table, **values: Any) -> tuple[int, datetime]:
    """Insert a run's row, started now; returns (its id, when it started)."""
    now = utcnow()
    run_id = tx.execute(table.insert().values(started=now, **values)).inserted_primary_key[0]
    return int(run_id), now


def save_row(tx: Connection, table: Table, run_id: int, run: object, **values: Any) -> None:
    """Write the fields of ``run`` that are columns of ``table`` (but its id and start), and ``values``."""
    fields = {f.name for f in dataclasses.fields(run)}  # type: ignore[arg-type]
    columns = {c.name for c in table.columns} - {"id", "started"}
    row = {name: getattr(run, name) for name in fields & columns} | values
    tx.execute(update(table).where(table.c.id == run_id).values(**row))


def close_row(tx: Connection, table: Table, run_id: int, run: object, **values: Any) -> None:
    """Save a run's row, finished now."""
    save_row(tx, table, run_id, run, finished=utcnow(), **values)


def interrupt_running(tx: Connection, table: Table, where: ColumnElement[bool], message: str) -> None:
    """Rows still ``running`` were cut off (their process died): say so rather than leave them hanging."""
    tx.execute(
        update(table)
        .where(where, table.c.status == "running")
        .values(status="interrupted", finished=utcnow(), message=message)
    )
