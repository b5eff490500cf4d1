"""A durable job queue in the catalog, for ``osnode worker`` processes on any number of machines.

Why our own and not procrastinate or Redis: the catalog is already the one engine every process of a
node shares, so a table with ``SELECT ... FOR UPDATE SKIP LOCKED`` gives durable jobs (a job is a row,
committed before ``enqueue`` returns) with no second engine to run, back up or monitor, and the same
code runs on SQLite (whose single writer makes the claim atomic without SKIP LOCKED). See
``docs/scale-out.md`` for the whole argument.

How it holds up:
- A worker claims a job by moving it to ``running`` under a lease (``locked_until``) that a heartbeat
  thread pushes forward while the handler works. A worker killed mid-job stops beating; once the lease runs
  out any worker claims the job again. Handlers are idempotent (harvests resume from their saved token,
  replication fetches only missing blobs by hash, fixity re-checks, the outbox marks each mail sent), so a
  second run applies nothing twice.
- A handler that raises is retried after ``retry_seconds * 2**(attempts-1)`` (capped at an hour); after
  ``max_attempts`` it is ``dead``: the admin page's dead letters, retried or discarded from there.
- Periodic jobs are enqueued by every scheduler with a ``dedupe_key`` naming the job and its period
  (``fixity@600:2901234``); the key is unique, so however many schedulers run, each period enqueues once.
- A worker that loses the catalog (PostgreSQL restarted) logs it, waits and tries again; the pool's
  pre-ping replaces the dead connections.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, delete, func, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from ..domain.errors import Conflict, NotFound
from ..domain.moments import as_utc
from ..storage.queue import queue_jobs
from . import jobs as scheduled
from .jobs import Job
from .node import Node, utcnow

log = logging.getLogger("osnode.queue")

QUEUED, RUNNING, DONE, DEAD = "queued", "running", "done", "dead"
STATES = (QUEUED, RUNNING, DONE, DEAD)
MAX_BACKOFF = 3600.0
# Finished jobs are kept this long for the admin page, then pruned by the scheduler.
KEEP_DONE = timedelta(days=7)

# A task's handler: the node and the job's arguments (JSON). Periodic jobs take no arguments.
Handler = Callable[[Node, dict[str, Any]], object]


@dataclass(frozen=True)
class QueuedJob:
    id: int
    task: str
    args: dict[str, Any]
    state: str
    attempts: int
    max_attempts: int
    run_after: datetime
    locked_by: str | None
    locked_until: datetime | None
    last_error: str
    created: datetime
    finished: datetime | None


def _job(row: Row) -> QueuedJob:
    return QueuedJob(
        row.id,
        row.task,
        dict(row.args or {}),
        row.state,
        row.attempts,
        row.max_attempts,
        as_utc(row.run_after),
        row.locked_by,
        as_utc(row.locked_until),
        row.last_error,
        as_utc(row.created),
        as_utc(row.finished),
    )


def worker_name() -> str:
    """Who holds a claimed job: host, process and a random part (a pid is reused after a restart)."""
    return f"{socket.gethostname()[:150]}/{os.getpid()}/{secrets.token_hex(4)}"


def backoff(node: Node, attempts: int) -> float:
    return min(node.settings.queue_retry_seconds * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


# -- putting work in ---------------------------------------------------------------------------------


def enqueue(
    node: Node,
    task: str,
    args: Mapping[str, Any] | None = None,
    *,
    delay: float = 0.0,
    max_attempts: int | None = None,
    dedupe_key: str | None = None,
) -> int | None:
    """Queue one run of ``task``; its id, or None when ``dedupe_key`` was queued already."""
    now = utcnow()
    values = dict(
        task=task,
        args=dict(args or {}),
        state=QUEUED,
        attempts=0,
        max_attempts=max_attempts or node.settings.queue_max_attempts,
        run_after=now + timedelta(seconds=delay),
        dedupe_key=dedupe_key,
        last_error="",
        created=now,
    )
    try:
        with node.transaction() as tx:
            return tx.execute(queue_jobs.insert().values(**values)).inserted_primary_key[0]
    except IntegrityError:
        if dedupe_key is None:
            raise
        return None  # another scheduler enqueued this period first


def period_key(job: Job, interval: float, moment: datetime) -> str:
    """The key of the period ``moment`` falls in: the same on every machine with a clock in sync."""
    return f"{job.name}@{int(interval)}:{int(moment.timestamp() // interval)}"


def enqueue_periodic(node: Node, periodic: list[Job], moment: datetime | None = None) -> list[str]:
    """Queue each periodic job whose current period is not queued yet; the names queued.

    A job still waiting from an earlier period is not queued again (a slow queue does not pile up
    sweeps); two schedulers doing this at once are kept to one row per period by the unique key.
    """
    moment = moment or utcnow()
    with node.engine.connect() as conn:
        waiting = set(conn.execute(select(queue_jobs.c.task).where(queue_jobs.c.state == QUEUED)).scalars())
    queued = []
    for job in periodic:
        interval = job.interval(node)
        if interval is None or interval <= 0 or job.name in waiting:
            continue
        if enqueue(node, job.name, dedupe_key=period_key(job, interval, moment)) is not None:
            queued.append(job.name)
    return queued


# -- taking work out ---------------------------------------------------------------------------------


def claim(node: Node, worker: str, tasks: set[str] | None = None) -> QueuedJob | None:
    """Take the oldest due job (or one whose worker's lease ran out) for ``worker``, or None."""
    now = utcnow()
    lease = timedelta(seconds=node.settings.queue_lease_seconds)
    # Not durable: a claim lost to a power cut leaves the job queued, to be claimed again.
    with node.transaction(durable=False) as tx:
        # A job that already used its attempts and whose worker vanished is not run again: dead.
        tx.execute(
            update(queue_jobs)
            .where(
                queue_jobs.c.state == RUNNING,
                queue_jobs.c.locked_until < now,
                queue_jobs.c.attempts >= queue_jobs.c.max_attempts,
            )
            .values(state=DEAD, finished=now, locked_until=None, last_error=_lost(now))
        )
        due = or_(
            and_(queue_jobs.c.state == QUEUED, queue_jobs.c.run_after <= now),
            and_(queue_jobs.c.state == RUNNING, queue_jobs.c.locked_until < now),
        )
        pick = select(queue_jobs.c.id).where(due)
        if tasks is not None:
            pick = pick.where(queue_jobs.c.task.in_(sorted(tasks)))
        # SKIP LOCKED: two workers never wait on, nor take, the same row (PostgreSQL); SQLite has one
        # writer at a time (BEGIN IMMEDIATE), which makes the same statement atomic there.
        pick = pick.order_by(queue_jobs.c.run_after, queue_jobs.c.id).limit(1).with_for_update(skip_locked=True)
        row = tx.execute(
            update(queue_jobs)
            .where(queue_jobs.c.id == pick.scalar_subquery())
            .values(state=RUNNING, locked_by=worker, locked_until=now + lease, attempts=queue_jobs.c.attempts + 1)
            .returning(*queue_jobs.c)
        ).first()
    return _job(row) if row is not None else None


def _lost(now: datetime) -> str:
    return f"its worker stopped (killed or lost) before it finished; given up at {now:%Y-%m-%d %H:%M:%S} UTC"


def heartbeat(node: Node, job_id: int, worker: str) -> bool:
    """Push the lease forward; False when the job is no longer this worker's (its lease ran out)."""
    until = utcnow() + timedelta(seconds=node.settings.queue_lease_seconds)
    with node.transaction(durable=False) as tx:
        mine = and_(queue_jobs.c.id == job_id, queue_jobs.c.locked_by == worker, queue_jobs.c.state == RUNNING)
        return tx.execute(update(queue_jobs).where(mine).values(locked_until=until)).rowcount == 1


def complete(node: Node, job: QueuedJob, worker: str) -> bool:
    """Mark the job done, if this worker still holds it. Not durable: lost to a power cut, the job runs
    again, which an idempotent handler shrugs off; a durable commit would cost more than a no-op job."""
    with node.transaction(durable=False) as tx:
        mine = and_(queue_jobs.c.id == job.id, queue_jobs.c.locked_by == worker, queue_jobs.c.state == RUNNING)
        # ``locked_by`` stays: the admin page shows which worker ran it.
        values = dict(state=DONE, finished=utcnow(), locked_until=None, last_error="")
        return tx.execute(update(queue_jobs).where(mine).values(**values)).rowcount == 1


def fail(node: Node, job: QueuedJob, worker: str, error: str) -> str:
    """Record a failed attempt: queued again after a backoff, or dead when attempts are used up."""
    now = utcnow()
    dead = job.attempts >= job.max_attempts
    values: dict[str, Any] = dict(locked_until=None, last_error=error[:2000])
    if dead:
        values |= dict(state=DEAD, finished=now)
    else:
        values |= dict(state=QUEUED, run_after=now + timedelta(seconds=backoff(node, job.attempts)))
    with node.transaction(durable=False) as tx:
        mine = and_(queue_jobs.c.id == job.id, queue_jobs.c.locked_by == worker, queue_jobs.c.state == RUNNING)
        tx.execute(update(queue_jobs).where(mine).values(**values))
    return DEAD if dead else QUEUED


# -- what the admin page shows and does ----------------------------------------------------------------


def listing(node: Node, states: tuple[str, ...] = STATES, limit: int = 100) -> list[QueuedJob]:
    with node.engine.connect() as conn:
        query = select(queue_jobs).where(queue_jobs.c.state.in_(states)).order_by(queue_jobs.c.id.desc())
        return [_job(row) for row in conn.execute(query.limit(limit))]


def counts(node: Node) -> dict[str, int]:
    """How many jobs are in each state (every state present, zero or not)."""
    with node.engine.connect() as conn:
        query = select(queue_jobs.c.state, func.count()).group_by(queue_jobs.c.state)
        found = {state: n for state, n in conn.execute(query)}
    return {state: int(found.get(state, 0)) for state in STATES}


def retry(node: Node, job_id: int) -> None:
    """Give a dead job its attempts back and queue it now."""
    values = dict(state=QUEUED, attempts=0, run_after=utcnow(), finished=None)
    with node.transaction() as tx:
        if tx.execute(
            update(queue_jobs).where(queue_jobs.c.id == job_id, queue_jobs.c.state == DEAD).values(**values)
        ).rowcount:
            return
        _refuse(tx, job_id)


def discard(node: Node, job_id: int) -> None:
    """Forget a dead job."""
    with node.transaction() as tx:
        if tx.execute(delete(queue_jobs).where(queue_jobs.c.id == job_id, queue_jobs.c.state == DEAD)).rowcount:
            return
        _refuse(tx, job_id)


def _refuse(tx: Any, job_id: int) -> None:
    if tx.execute(select(queue_jobs.c.id).where(queue_jobs.c.id == job_id)).first() is None:
        raise NotFound("no such job")
    raise Conflict("only dead jobs are retried or discarded")


def prune(node: Node, keep: timedelta = KEEP_DONE) -> int:
    with node.transaction(durable=False) as tx:
        old = and_(queue_jobs.c.state == DONE, queue_jobs.c.finished < utcnow() - keep)
        return tx.execute(delete(queue_jobs).where(old)).rowcount


# -- the worker ------------------------------------------------------------------------------------


def handlers_of(periodic: list[Job]) -> dict[str, Handler]:
    """The periodic jobs as tasks: each runs its sweep, which takes no arguments."""
    return {job.name: (lambda node, _args, run=job.run: run(node)) for job in periodic}


class Worker:
    """Takes jobs from the queue and runs them one at a time; with ``schedule``, also enqueues the periodic
    jobs (every worker may: the unique period key keeps each period to one job)."""

    def __init__(
        self,
        node: Node,
        periodic: list[Job],
        extra: Mapping[str, Handler] | None = None,
        *,
        schedule: bool = True,
        poll: float = 1.0,
        name: str | None = None,
    ) -> None:
        self.node = node
        self.periodic = list(periodic)
        self.handlers = handlers_of(periodic) | dict(extra or {})
        self.schedule = schedule
        self.poll = poll
        self.name = name or worker_name()
        self.stopping = threading.Event()
        self._next_prune = 0.0
        self._periodic_names = {job.name for job in self.periodic}

    def run_one(self) -> QueuedJob | None:
        """Claim and run one due job; the job as claimed, or None when none was due."""
        job = claim(self.node, self.name)
        if job is None:
            return None
        beating = threading.Event()
        beat = threading.Thread(target=self._beat, args=(job, beating), name="osnode-queue-beat", daemon=True)
        beat.start()
        started, error = utcnow(), ""
        try:
            handler = self.handlers.get(job.task)
            if handler is None:
                raise LookupError(f"no handler for task {job.task!r} in this worker")
            handler(self.node, job.args)
        except Exception as exc:  # the job's failure is recorded on it; the worker carries on
            log.exception("job %s (%s) failed on attempt %s", job.id, job.task, job.attempts)
            error = f"{type(exc).__name__}: {exc}"
        finally:
            beating.set()
            beat.join()
        self._settle(job, error)
        if job.task in self._periodic_names:  # the jobs table of the admin page, as the scheduler keeps it
            scheduled.note(self.node, job.task, last_run=started, last_error=error)
        return job

    def _settle(self, job: QueuedJob, error: str) -> None:
        # The handler's work is committed; losing the catalog now must not lose the outcome, so keep trying
        # (if the lease runs out meanwhile another worker runs the job again, which is harmless).
        delay = 0.5
        while not self.stopping.is_set():
            try:
                if error:
                    fail(self.node, job, self.name, error)
                else:
                    complete(self.node, job, self.name)
                return
            except DBAPIError as exc:
                log.warning("cannot record job %s's outcome (%s); retrying", job.id, exc.__class__.__name__)
                self.stopping.wait(delay)
                delay = min(delay * 2, 10.0)

    def _beat(self, job: QueuedJob, done: threading.Event) -> None:
        every = max(self.node.settings.queue_lease_seconds / 3, 0.2)
        while not done.wait(every):
            try:
                if not heartbeat(self.node, job.id, self.name):
                    log.warning("job %s's lease was lost; another worker may run it too", job.id)
            except DBAPIError:
                log.warning("cannot renew job %s's lease (catalog unreachable)", job.id)

    def tick(self) -> bool:
        """One turn: enqueue what is due, then run one job; whether a job ran."""
        if self.schedule:
            enqueue_periodic(self.node, self.periodic)
            if time.monotonic() >= self._next_prune:
                prune(self.node)
                self._next_prune = time.monotonic() + 3600
        return self.run_one() is not None

    def run(self) -> None:
        """Until ``stopping`` is set: work while there is work, poll when there is none, and wait out a
        lost catalog (a restarted PostgreSQL) rather than stop."""
        delay = self.poll
        while not self.stopping.is_set():
            try:
                if self.tick():
                    delay = self.poll
                    continue
                delay = self.poll
            except DBAPIError as exc:
                log.warning("catalog unreachable (%s); trying again in %.1f s", exc.__class__.__name__, delay)
                delay = min(max(delay, 0.5) * 2, 10.0)
            self.stopping.wait(delay)
