"""Tables for background work shared by many processes: the durable job queue and named leases.

Migration 0020 creates them. The queue is read and written only by ``services/queue.py``; a lease
(``leases``) is a lock any process on any machine can take through the catalog (``services/leases.py``),
e.g. one tus upload written by one connection at a time across web processes.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, Table, Text

from .catalog import metadata

# One row per job. ``state`` is queued -> running -> done, or back to queued with a later ``run_after``
# (a retry with backoff), or dead once ``attempts`` reaches ``max_attempts`` (the admin page's dead letters).
# A running job belongs to ``locked_by`` until ``locked_until``; its worker pushes that forward while it
# works, so a worker killed mid-job lets the lease run out and another worker takes the job again.
queue_jobs = Table(
    "queue_jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("task", String(100), nullable=False),
    Column("args", JSON, nullable=False),
    Column("state", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("run_after", DateTime(timezone=True), nullable=False),
    Column("locked_by", String(200), nullable=True),
    Column("locked_until", DateTime(timezone=True), nullable=True),
    # A periodic job's period ("fixity@29012345"): unique, so two schedulers enqueue it once.
    Column("dedupe_key", String(200), nullable=True, unique=True),
    Column("last_error", Text, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True), nullable=True),
)
# The claim's search: the oldest due job of a state.
Index("ix_queue_jobs_state", queue_jobs.c.state, queue_jobs.c.run_after)

# A named lock with an expiry: whoever holds an unexpired row holds the lock.
leases = Table(
    "leases",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires", DateTime(timezone=True), nullable=False),
)
