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

from .node import Node

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
            try:
                job.run(self.node)
            except Exception:  # a job's failure is its own to record; the scheduler carries on
                log.exception("background job %s failed", job.name)
            ran.append(job.name)
            interval = job.interval(self.node)
            if interval is None:
                self._due.pop(job.name, None)
            else:
                self._due[job.name] = time.monotonic() + interval
        return ran

    def _loop(self) -> None:
        while not self._stop.wait(self.tick):
            self.run_due()
