"""Benchmark: throughput of the durable job queue (services/queue.py) on PostgreSQL, no-op jobs.

    uv run python bench/jobqueue.py --jobs 5000 --workers 1 2
    uv run python bench/jobqueue.py --jobs 20000 --workers 1 2 4 --database-url postgresql://postgres@127.0.0.1/qbench

For each worker count: a fresh database (created on the server of ``--database-url``'s admin URL and
dropped afterwards), ``--jobs`` no-op jobs enqueued in one go, then that many worker *processes* (each a
``queue.Worker`` as ``osnode worker`` runs it, polling every 50 ms) started together; timed from the moment
they are all ready until the last job is done. Every job is a claim (UPDATE ... SKIP LOCKED), a heartbeat
thread started and stopped, and a completion (UPDATE): three transactions with a durable commit, which is
what bounds the figure. Reported: jobs/s and the enqueue rate. The machine is shared: the load average is
printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from osnode.config import load_settings
from osnode.services import queue
from osnode.services.node import Node
from osnode.storage.queue import queue_jobs


def noop(_node: Node, _args: dict[str, object]) -> None:
    return None


def work(url: str, folder: str, ready: multiprocessing.Event, go: multiprocessing.Event) -> None:  # type: ignore[valid-type]
    node = Node.open(load_settings(folder, database_url=url, queue="database"))
    worker = queue.Worker(node, [], {"noop": noop}, schedule=False, poll=0.05)
    ready.set()  # type: ignore[attr-defined]
    go.wait()  # type: ignore[attr-defined]
    idle = 0
    while idle < 20:  # a second of empty polls: the queue is drained
        if worker.run_one() is None:
            idle += 1
            time.sleep(0.05)
        else:
            idle = 0
    node.close()


def run(admin_url: str, jobs: int, workers: int) -> dict[str, float]:
    name = f"osnode_qbench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    folder = tempfile.mkdtemp(prefix="qbench-")
    try:
        node = Node.open(load_settings(folder, database_url=url, queue="database"))
        began = time.perf_counter()
        with node.transaction() as tx:  # one transaction: the enqueue rate of a batch
            now = queue.utcnow()
            rows = [
                dict(
                    task="noop",
                    args={},
                    state="queued",
                    attempts=0,
                    max_attempts=5,
                    run_after=now,
                    last_error="",
                    created=now,
                )
                for _ in range(jobs)
            ]
            tx.execute(queue_jobs.insert(), rows)
        batch_rate = jobs / (time.perf_counter() - began)
        began = time.perf_counter()
        for _ in range(200):
            queue.enqueue(node, "noop")
        single_rate = 200 / (time.perf_counter() - began)
        context = multiprocessing.get_context("spawn")
        go = context.Event()
        readies = [context.Event() for _ in range(workers)]
        processes = [context.Process(target=work, args=(url, folder, r, go)) for r in readies]
        for p in processes:
            p.start()
        for r in readies:
            r.wait()
        began = time.perf_counter()
        go.set()
        total = jobs + 200
        while True:
            with node.engine.connect() as conn:
                done = conn.execute(select(func.count()).where(queue_jobs.c.state == "done")).scalar_one()
            if done >= total:
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - began
        for p in processes:
            p.join()
        node.close()
        return {
            "workers": workers,
            "jobs": total,
            "seconds": round(seconds, 2),
            "jobs_per_s": round(total / seconds, 1),
            "enqueue_batch_per_s": round(batch_rate),
            "enqueue_one_per_s": round(single_rate),
        }
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    print(f"{platform.node()} nproc={os.cpu_count()} load average {os.getloadavg()}")
    results = []
    for workers in args.workers:
        result = run(args.database_url, args.jobs, workers)
        results.append(result)
        print(json.dumps(result))
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "jobqueue.json").write_text(json.dumps(results, indent=2))
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
