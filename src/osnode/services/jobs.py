"""Background work of a running node (scheduled harvests, fixity rounds...): an in-process scheduler.

The embedded default is one thread in the ``osnode serve`` process, so a small node needs no queue or cron.
A use case declares its ``Job`` in its own module and a plugin registers it (``register_jobs``, see
``osnode.app``; the built-in jobs are listed in ``plugins/builtins.py``); each job decides how often it
runs from the node's settings and records its own results (history tables, counts, errors) where its CLI and
admin page read them. A job that fails is logged and tried again at its next turn; it never stops
the scheduler or the server.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..storage import site_settings
from .node import Node, utcnow

log = logging.getLogger("osnode.jobs")


@dataclass(frozen=True)
class Job:
    name: str
    # Seconds between runs for this node, or None when the job is switched off there.
    interval: Callable[[Node], float | None]
    run: Callable[[Node], object]


class Scheduler:
    """Runs each due job in turn on one daemon thread; ``stop`` lets the running job finish."""

    def __init__(self, node: Node, jobs: list[Job], tick: float = 1.0) -> None:
        self.node = node
        self.jobs = list(jobs)
        self.tick = tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="osnode-jobs", daemon=True)
        self._due: dict[str, float] = {}

    def start(self) -> None:
        now = time.monotonic()
        for job in self.jobs:
            interval = job.interval(self.node)
            if interval is not None:
                # First run one interval after start, so a restart loop cannot hammer peers.
                self._due[job.name] = now + interval
                note(self.node, job.name, next_run=utcnow() + timedelta(seconds=interval))
        self._thread.start()

    def scheduled(self) -> list[str]:
        """The names of the jobs that will run on this node (those switched on when it started)."""
        return [job.name for job in self.jobs if job.name in self._due]

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def run_due(self) -> list[str]:
        """Run every job whose time has come; returns their names (tests call this directly)."""
        ran = []
        for job in self.jobs:
            due = self._due.get(job.name)
            if due is None or time.monotonic() < due or self._stop.is_set():
                continue
            started, error = utcnow(), ""
            try:
                job.run(self.node)
            except Exception as exc:  # a job's failure is its own to record; the scheduler carries on
                log.exception("background job %s failed", job.name)
                error = f"{type(exc).__name__}: {exc}"[:2000]
            ran.append(job.name)
            interval = job.interval(self.node)
            if interval is None:
                self._due.pop(job.name, None)
            else:
                self._due[job.name] = time.monotonic() + interval
            later = utcnow() + timedelta(seconds=interval) if interval is not None else None
            note(self.node, job.name, last_run=started, last_error=error, next_run=later)
        return ran

    def _loop(self) -> None:
        while not self._stop.wait(self.tick):
            self.run_due()


# -- what the admin page shows ---------------------------------------------------------------------

JOB_PREFIX = "job:"


@dataclass(frozen=True)
class JobStatus:
    name: str
    last_run: datetime | None
    last_error: str
    next_run: datetime | None


def note(node: Node, name: str, **changes: datetime | str | None) -> None:
    """Keep a job's last and next run in the catalog; a failure to note never stops the scheduler."""
    try:
        with node.transaction(durable=False) as tx:
            current = site_settings.read(tx, JOB_PREFIX + name).get("", {})
            state = dict(current) if isinstance(current, dict) else {}
            state |= {k: v.isoformat() if isinstance(v, datetime) else v for k, v in changes.items()}
            site_settings.write(tx, {name: state}, JOB_PREFIX)
    except Exception:
        log.exception("could not note the run of job %s", name)


def statuses(node: Node) -> list[JobStatus]:
    """Every job that was scheduled on this node, with its last run, last error and next run."""
    with node.engine.connect() as conn:
        stored = site_settings.read(conn, JOB_PREFIX)

    def when(value: object) -> datetime | None:
        return datetime.fromisoformat(value) if isinstance(value, str) and value else None

    return [
        JobStatus(name, when(s.get("last_run")), str(s.get("last_error") or ""), when(s.get("next_run")))
        for name, s in sorted(stored.items())
        if isinstance(s, dict)
    ]
