"""The durable job queue (services/queue.py), on SQLite and PostgreSQL: claims, leases, retries with backoff,
dead letters, and periodic jobs enqueued once per period however many schedulers run."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from osnode.domain.errors import Conflict, NotFound
from osnode.services import queue
from osnode.services.jobs import Job, statuses
from osnode.services.node import Node
from osnode.storage.queue import queue_jobs


def _settings(node: Node, **changes: Any) -> Node:
    node.settings = replace(node.settings, **changes)
    return node


def test_a_job_is_claimed_once_run_and_marked_done(node: Node) -> None:
    ran: list[dict[str, Any]] = []
    worker = queue.Worker(node, [], {"note": lambda _n, args: ran.append(args)}, schedule=False)
    job_id = queue.enqueue(node, "note", {"n": 1})
    assert worker.run_one() is not None
    assert worker.run_one() is None  # nothing else due
    assert ran == [{"n": 1}]
    (job,) = queue.listing(node)
    assert (job.id, job.state, job.attempts, job.locked_by) == (job_id, queue.DONE, 1, worker.name)
    assert statuses(node) == []  # one-off tasks leave the periodic jobs' table alone


def test_a_periodic_job_run_by_a_worker_shows_its_last_run(node: Node) -> None:
    sweep = Job("sweep", lambda _n: 60.0, lambda _n: None)
    worker = queue.Worker(node, [sweep], schedule=False)
    queue.enqueue_periodic(node, [sweep])
    assert worker.run_one() is not None
    (status,) = statuses(node)
    assert status.name == "sweep" and status.last_run is not None and status.last_error == ""


def test_two_claims_never_take_the_same_job(node: Node) -> None:
    queue.enqueue(node, "a")
    first = queue.claim(node, "w1")
    assert first is not None and first.locked_by == "w1"
    assert queue.claim(node, "w2") is None


def test_a_job_whose_worker_stopped_is_taken_over_when_its_lease_runs_out(node: Node) -> None:
    queue.enqueue(node, "a")
    taken = queue.claim(node, "gone")
    assert taken is not None
    assert queue.claim(node, "w2") is None  # the lease still holds
    with node.transaction() as tx:  # the dead worker's lease runs out
        tx.execute(update(queue_jobs).values(locked_until=datetime.now(UTC) - timedelta(seconds=1)))
    again = queue.claim(node, "w2")
    assert again is not None and again.id == taken.id and again.attempts == 2
    assert not queue.heartbeat(node, taken.id, "gone")  # the old worker's outcome no longer counts
    assert not queue.complete(node, taken, "gone")
    assert queue.complete(node, again, "w2")


def test_a_failing_job_is_retried_with_backoff_then_dead_then_retried_or_discarded(node: Node) -> None:
    _settings(node, queue_retry_seconds=10, queue_max_attempts=2)

    def broken(_node: Node, _args: dict[str, Any]) -> None:
        raise RuntimeError("peer said no")

    worker = queue.Worker(node, [], {"broken": broken}, schedule=False)
    job_id = queue.enqueue(node, "broken")
    before = datetime.now(UTC)
    worker.run_one()
    (job,) = queue.listing(node)
    assert job.state == queue.QUEUED and "peer said no" in job.last_error
    assert job.run_after >= before + timedelta(seconds=10)  # first backoff
    assert worker.run_one() is None  # not due yet
    with node.transaction() as tx:
        tx.execute(update(queue_jobs).values(run_after=datetime.now(UTC) - timedelta(seconds=1)))
    worker.run_one()
    (job,) = queue.listing(node)
    assert (job.state, job.attempts) == (queue.DEAD, 2)
    assert queue.counts(node)[queue.DEAD] == 1
    queue.retry(node, job_id)
    (job,) = queue.listing(node)
    assert (job.state, job.attempts) == (queue.QUEUED, 0)
    with pytest.raises(Conflict):
        queue.discard(node, job_id)  # only dead jobs
    _settings(node, queue_retry_seconds=0)
    worker.run_one()
    worker.run_one()
    queue.discard(node, job_id)
    assert queue.listing(node) == []
    with pytest.raises(NotFound):
        queue.retry(node, job_id)


def test_an_unknown_task_fails_rather_than_vanishing(node: Node) -> None:
    _settings(node, queue_max_attempts=1)
    queue.enqueue(node, "nobody-knows")
    queue.Worker(node, [], schedule=False).run_one()
    (job,) = queue.listing(node)
    assert job.state == queue.DEAD and "no handler" in job.last_error


def test_a_killed_worker_that_used_its_last_attempt_is_dead(node: Node) -> None:
    _settings(node, queue_max_attempts=1)
    queue.enqueue(node, "a")
    assert queue.claim(node, "gone") is not None
    with node.transaction() as tx:
        tx.execute(update(queue_jobs).values(locked_until=datetime.now(UTC) - timedelta(seconds=1)))
    assert queue.claim(node, "w2") is None
    (job,) = queue.listing(node)
    assert job.state == queue.DEAD and "worker stopped" in job.last_error


def test_periodic_jobs_are_enqueued_once_per_period_by_many_schedulers(node: Node) -> None:
    jobs = [Job("sweep", lambda _n: 60.0, lambda _n: None), Job("off", lambda _n: None, lambda _n: None)]
    moment = datetime(2026, 12, 6, 3, 0, 10, tzinfo=UTC)
    queued: list[list[str]] = []
    barrier = threading.Barrier(4)

    def scheduler() -> None:
        barrier.wait()
        queued.append(queue.enqueue_periodic(node, jobs, moment))

    threads = [threading.Thread(target=scheduler) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(sum(queued, [])) == ["sweep"]  # one of the four won the period
    # Still waiting: the next period does not pile another sweep on top.
    assert queue.enqueue_periodic(node, jobs, moment + timedelta(seconds=60)) == []
    queue.Worker(node, jobs, schedule=False).run_one()
    assert queue.enqueue_periodic(node, jobs, moment + timedelta(seconds=30)) == []  # same period, done
    assert queue.enqueue_periodic(node, jobs, moment + timedelta(seconds=60)) == ["sweep"]


def test_done_jobs_are_pruned_after_a_while(node: Node) -> None:
    queue.enqueue(node, "a")
    queue.Worker(node, [], {"a": lambda _n, _a: None}, schedule=False).run_one()
    assert queue.prune(node) == 0
    assert queue.prune(node, keep=timedelta(seconds=-1)) == 1
