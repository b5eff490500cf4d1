"""Fixity: re-hash stored blobs on a rotation, record what was found, and repair damage from peers.

Each round takes the blobs checked longest ago (never-checked first) within a budget of bytes and
blobs, so a node with more data than a night of disk reads still gets round to every blob in turn.
A blob that is missing or no longer hashes to its name is moved aside into ``quarantine`` (kept for
inspection, never served: downloads of it answer a problem saying its bytes are missing) and fetched
again from each repair peer in turn, verified byte for byte before it becomes visible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update

from ..domain.errors import NodeError
from ..storage.catalog import blobs
from ..storage.uploads import fixity_checks, fixity_events, fixity_runs
from .jobs import Job
from .node import Node, utcnow
from .replication import blob_holders
from .runs import Tally, close_row, keep, open_row
from .transfer import fetch_blob

# A scheduled round every hour, re-hashing at most this much: a full pass over 1 TB takes ~6 weeks.
INTERVAL_SECONDS = 3600.0
BUDGET_BYTES = 1024**3
BUDGET_COUNT = 10_000


_COUNTS = ("checked", "bytes", "ok", "missing", "corrupt", "repaired")


@dataclass
class RunReport(Tally):
    run_id: int
    checked: int = 0
    bytes: int = 0
    ok: int = 0
    missing: int = 0
    corrupt: int = 0
    repaired: int = 0
    problems: list[dict[str, str]] = field(default_factory=list)


def due_blobs(node: Node, max_bytes: int | None, max_count: int | None) -> list[tuple[str, int]]:
    """The blobs to check now: oldest check first, never-checked before all, within the budget."""
    query = (
        select(blobs.c.sha256, blobs.c.size)
        .outerjoin(fixity_checks, fixity_checks.c.sha256 == blobs.c.sha256)
        .order_by(fixity_checks.c.checked_at.asc().nulls_first(), blobs.c.sha256)
    )
    if max_count is not None:
        query = query.limit(max_count)
    chosen, total = [], 0
    with node.engine.connect() as conn:
        for sha256, size in conn.execute(query):
            if max_bytes is not None and chosen and total + size > max_bytes:
                break
            chosen.append((sha256, size))
            total += size
    return chosen


def _check(node: Node, sha256: str) -> str:
    if not node.blobs.exists(sha256):
        return "missing"
    # Read back through the store (for S3, a GET): what a reader would be given is what is checked.
    return "ok" if node.blobs.hash_of(sha256) == sha256 else "corrupt"


def _quarantine(node: Node, sha256: str) -> str:
    """Move damaged bytes out of the store (never served again); returns where they went."""
    return node.blobs.quarantine(sha256)


def _repair(node: Node, sha256: str) -> tuple[bool, str]:
    # The configured repair peers first, then the nodes known to hold a copy (replication) and every peer.
    peers = list(dict.fromkeys([*node.settings.repair_peers, *blob_holders(node, sha256)]))
    if not peers:
        return False, "no repair peers configured and no peer holds a copy"
    notes = []
    for peer in peers:
        try:
            fetch_blob(node, peer, sha256)
            return True, f"repaired from {peer}"
        except (NodeError, OSError) as exc:
            notes.append(f"{peer}: {getattr(exc, 'detail', exc)}")
    return False, "; ".join(notes)


def _record(node: Node, run_id: int, sha256: str, status: str, repaired: bool, action: str | None) -> None:
    now = utcnow()
    values = {"checked_at": now, "status": "ok" if repaired else status, "detail": action}
    if repaired:
        values["repaired_at"] = now
    with node.transaction() as tx:
        exists = tx.execute(select(fixity_checks.c.sha256).where(fixity_checks.c.sha256 == sha256)).first()
        if exists:
            tx.execute(update(fixity_checks).where(fixity_checks.c.sha256 == sha256).values(**values))
        else:
            tx.execute(insert(fixity_checks).values(sha256=sha256, **values))
        if action is not None:
            tx.execute(insert(fixity_events).values(run_id=run_id, sha256=sha256, at=now, status=status, action=action))


def run(
    node: Node,
    *,
    max_bytes: int | None = BUDGET_BYTES,
    max_count: int | None = BUDGET_COUNT,
    progress: Callable[[str, int], None] | None = None,
) -> RunReport:
    """One fixity round; ``max_bytes``/``max_count`` None means no limit (check everything)."""
    due = due_blobs(node, max_bytes, max_count)
    with node.transaction() as tx:
        run_id, _ = open_row(tx, fixity_runs, **dict.fromkeys(_COUNTS, 0))
    report = RunReport(run_id)
    for sha256, size in due:
        status = _check(node, sha256)
        report.add("checked")
        report.add("bytes", size)
        action, repaired = None, False
        if status == "ok":
            report.add("ok")
        else:
            report.add(status)
            moved = _quarantine(node, sha256) if status == "corrupt" else "bytes missing"
            repaired, how = _repair(node, sha256)
            report.add("repaired", int(repaired))
            action = f"{moved}; {how}"
            keep(report.problems, {"sha256": sha256, "status": status, "action": action}, None)
        _record(node, run_id, sha256, status, repaired, action)
        if progress:
            progress(sha256, size)
    with node.transaction() as tx:
        close_row(tx, fixity_runs, run_id, report)
    return report


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def status(node: Node, runs: int = 10, events: int = 50) -> dict[str, Any]:
    """Where fixity stands: counts by latest result, blobs never checked, recent rounds and problems."""
    with node.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(blobs)).scalar_one()
        counts = dict(conn.execute(select(fixity_checks.c.status, func.count()).group_by(fixity_checks.c.status)).all())
        oldest = conn.execute(select(func.min(fixity_checks.c.checked_at))).scalar_one()
        run_rows = conn.execute(select(fixity_runs).order_by(fixity_runs.c.id.desc()).limit(runs)).all()
        event_rows = conn.execute(select(fixity_events).order_by(fixity_events.c.id.desc()).limit(events)).all()
        damaged = conn.execute(
            select(fixity_checks.c.sha256, fixity_checks.c.status, fixity_checks.c.checked_at, fixity_checks.c.detail)
            .where(fixity_checks.c.status != "ok")
            .order_by(fixity_checks.c.sha256)
        ).all()
    checked = sum(counts.values())
    return {
        "blobs": total,
        "never_checked": max(total - checked, 0),
        "ok": counts.get("ok", 0),
        "missing": counts.get("missing", 0),
        "corrupt": counts.get("corrupt", 0),
        "oldest_check": _iso(oldest),
        "damaged": [
            {"sha256": r.sha256, "status": r.status, "checked_at": _iso(r.checked_at), "detail": r.detail}
            for r in damaged
        ],
        "runs": [
            {
                "id": r.id,
                "started": _iso(r.started),
                "finished": _iso(r.finished),
                "checked": r.checked,
                "bytes": r.bytes,
                "ok": r.ok,
                "missing": r.missing,
                "corrupt": r.corrupt,
                "repaired": r.repaired,
            }
            for r in run_rows
        ],
        "events": [
            {"run_id": r.run_id, "sha256": r.sha256, "at": _iso(r.at), "status": r.status, "action": r.action}
            for r in event_rows
        ],
    }


# What this module gives the server's scheduler (registered by the built-in plugin, osnode.plugins).
JOBS: list[Job] = [Job("fixity", lambda node: INTERVAL_SECONDS, lambda node: run(node))]
