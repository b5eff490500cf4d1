"""Reading user files outside the web server's process: one child process per job, with hard limits.

Profiling a table, summarising an atlas or drawing a plot runs third-party parsers (pandas/openpyxl, DuckDB,
h5py) on bytes anyone may upload. Each job runs in a fresh child process forked from a ``forkserver`` (a
clean process started once, with the libraries already imported, so a job starts in milliseconds and never
inherits the web server's threads or connections). In the child, ``RLIMIT_AS`` bounds its memory and
``RLIMIT_CPU`` its processor time; the parent kills it past a wall-clock time. Whatever the child does — run
out of memory, crash in C code, spin forever — the web process only sees a clear refusal.

At most ``explore_workers`` jobs run at once in one server process; one more is answered 503 with a
Retry-After rather than queued, so a burst of costly views cannot pile up work.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import signal
import threading
from collections.abc import Callable
from multiprocessing import forkserver
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from ..config import Settings
from ..domain.errors import InvalidInput, NodeError
from ..explore.limits import Limits
from .node import Node

log = logging.getLogger("osnode.explore")

T = TypeVar("T")

RETRY_AFTER_SECONDS = 5
# The libraries jobs need, imported once in the fork server instead of in each job (a second or more each).
_PRELOAD = [
    "osnode.services.explore",
    "pandas",
    "openpyxl",
    "pyarrow.parquet",
    "frictionless.formats",
    "osnode.services.explore_warmup",
]


class Saturated(NodeError):
    """Every explore worker is busy: the client may try again after ``retry_after`` seconds."""

    status = 503
    title = "Service unavailable"
    retry_after = RETRY_AFTER_SECONDS


class Unavailable(NodeError):
    """The worker could not run (it failed to start or ended for a reason that is not the file's)."""

    status = 503
    title = "Service unavailable"
    retry_after = RETRY_AFTER_SECONDS


class OverLimit(InvalidInput):
    """A job stopped for using more time or memory than one job may: the file costs too much to read here."""


_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(_PRELOAD)
_slots: dict[tuple[int, int], threading.BoundedSemaphore] = {}
_slots_guard = threading.Lock()


def start() -> None:
    """Start the fork server now (it imports the libraries jobs need) rather than on the first job."""
    forkserver.ensure_running()
    first = Limits(
        seconds=300,
        cpu_seconds=300,
        memory_bytes=2**40,
        max_cells=1,
        max_rows=1,
        max_unpacked_bytes=1,
        max_atlas_cells=1,
    )
    try:
        _run(first, sum, ((),), "a first job")  # returns once the fork server has imported everything
    except NodeError as exc:  # jobs will fail with the same reason; the rest of the node still serves
        log.error("the explore fork server did not start: %s", exc.detail)


def limits_of(settings: Settings) -> Limits:
    """The bounds of one job, from the node's ``explore_*`` settings."""
    return Limits(
        seconds=settings.explore_seconds,
        cpu_seconds=settings.explore_cpu_seconds,
        memory_bytes=settings.explore_memory_mb * 1024 * 1024,
        max_cells=settings.explore_max_cells,
        max_rows=settings.explore_max_rows,
        max_unpacked_bytes=settings.explore_max_unpacked_mb * 1024 * 1024,
        max_atlas_cells=settings.explore_max_atlas_cells,
    )


def _slot(node: Node) -> threading.BoundedSemaphore:
    # One pool of slots per opened node (tests open several nodes in one process, each with its settings);
    # the size is part of the key because a closed node's id can be reused by the next one.
    workers = node.settings.explore_workers
    with _slots_guard:
        return _slots.setdefault((id(node), workers), threading.BoundedSemaphore(workers))


def _lower(kind: int, soft: int, hard: int) -> None:
    """Set a limit, never above the one the server already runs under (raising it is not allowed)."""
    _, ceiling = resource.getrlimit(kind)
    if ceiling != resource.RLIM_INFINITY:
        soft, hard = min(soft, ceiling), min(hard, ceiling)
    resource.setrlimit(kind, (soft, hard))


def _child(conn: Connection, limits: Limits, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    _lower(resource.RLIMIT_AS, limits.memory_bytes, limits.memory_bytes)
    # The soft limit sends SIGXCPU (which kills); the hard one, a second later, SIGKILL if it was caught.
    _lower(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 1)
    try:
        result: tuple[str, Any] = ("ok", fn(*args))
    except NodeError as exc:
        result = ("refused", (type(exc), exc.detail))
    except MemoryError:
        result = ("memory", None)
    except Exception as exc:  # a parser's bug on a crafted file: a refusal, logged by the parent
        result = ("failed", f"{type(exc).__name__}: {str(exc)[:300]}")
    try:
        conn.send(result)
    except MemoryError:
        conn.send(("memory", None))
    conn.close()


def run(node: Node, fn: Callable[..., T], *args: Any, name: str = "this file") -> T:
    """``fn(*args)`` in a child process within the node's limits; ``fn`` and its arguments must pickle
    (a module-level function, paths and plain values). Raises ``Saturated`` when every worker is busy and
    ``InvalidInput`` (``OverLimit`` past a limit) with one plain sentence when the job is refused."""
    slot = _slot(node)
    if not slot.acquire(blocking=False):
        raise Saturated(
            f"every explore worker of this node is busy ({node.settings.explore_workers} at once, setting "
            f"explore_workers); try again in {RETRY_AFTER_SECONDS} seconds"
        )
    try:
        return _run(limits_of(node.settings), fn, args, name)
    finally:
        slot.release()


def _run(limits: Limits, fn: Callable[..., T], args: tuple[Any, ...], name: str) -> T:
    receive, send = _context.Pipe(duplex=False)
    process = _context.Process(target=_child, args=(send, limits, fn, args), daemon=True)
    process.start()
    send.close()  # the child holds the only sending end: its death ends the pipe
    try:
        message: tuple[str, Any] | None = None
        if receive.poll(limits.seconds):
            try:
                message = receive.recv()
            except EOFError:
                message = None  # the child died before answering
        else:
            process.kill()
            raise OverLimit(
                f"reading {name} took longer than {limits.seconds} seconds, the most one job may take on this "
                "node (setting explore_seconds); download it instead"
            )
    finally:
        receive.close()
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()
    if message is None:
        raise _death(process.exitcode, limits, name)
    status, value = message
    if status == "ok":
        return value  # type: ignore[no-any-return]
    if status == "refused":
        raise _refusal(*value)
    if status == "memory":
        raise _memory(limits, name)
    log.warning("reading %s failed in its worker: %s", name, value)
    raise InvalidInput(f"{name} cannot be read: the file is damaged or not in the format its name says")


def _refusal(kind: type[NodeError], detail: str) -> NodeError:
    """The child's refusal as the same kind of error, so it keeps its HTTP status."""
    try:
        return kind(detail)
    except TypeError:  # an error that carries more than a sentence
        return InvalidInput(detail)


def _memory(limits: Limits, name: str) -> OverLimit:
    return OverLimit(
        f"reading {name} needs more than {limits.memory_bytes // 2**20} MB of memory, the most one job may use "
        "on this node (setting explore_memory_mb); download it instead"
    )


def _death(exitcode: int | None, limits: Limits, name: str) -> NodeError:
    log.warning("an explore worker reading %s ended with exit code %s", name, exitcode)
    if exitcode in (-signal.SIGXCPU, -signal.SIGKILL):
        return OverLimit(
            f"reading {name} used more than {limits.cpu_seconds} seconds of processor time, the most one job "
            "may use on this node (setting explore_cpu_seconds); download it instead"
        )
    if exitcode in (-signal.SIGABRT, -signal.SIGSEGV, -signal.SIGBUS):
        # Native code that cannot allocate aborts or crashes rather than raising MemoryError.
        return _memory(limits, name)
    return Unavailable(f"the worker reading {name} stopped unexpectedly; try again in {RETRY_AFTER_SECONDS} seconds")
