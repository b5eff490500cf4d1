"""The unfiltered counts of what a node holds (records, facet counts, files), for the home page and an empty
search: read from the catalog while current (``storage.search.summary``), recounted when an index write made
them stale, by one request at a time per process.

Why: counting every facet of every record took 130-180 ms of CPU per home page, and 32 requests at once made
32 connections each scan the whole facet table (seconds of latency, a gigabyte of page caches). Now a request
reads one or two small rows; after a change, one request per process recounts while the others wait for its
answer, and the recount is stored for every process. Storing is best effort with a short lock wait, so a
request never waits long behind a harvest holding the write lock (the next recount stores again)."""

from __future__ import annotations

import logging
import threading
import weakref

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from ..storage.catalog import BUSY_TIMEOUT_MS
from ..storage.search import summary as stored
from .node import Node

log = logging.getLogger("osnode.summary")

_recount = threading.Lock()
# The last summary this process counted or read, per catalog: a second look costs one small query.
_memo: weakref.WeakKeyDictionary[Engine, stored.Summary] = weakref.WeakKeyDictionary()
STORE_WAIT_MS = 200


def current(node: Node) -> stored.Summary:
    """The unfiltered counts as of the catalog's latest index write."""
    with node.engine.connect() as conn:
        memo = _memo.get(node.engine)
        if memo is not None and memo.generation == stored.generation(conn):
            return memo
        found = stored.cached(conn)
    if found is not None:
        _memo[node.engine] = found
        return found
    # One recount at a time in this process: a burst of requests after a change waits for one answer instead
    # of each scanning the facet table, which is what bounds CPU and memory under load.
    with _recount:
        with node.engine.connect() as conn:
            memo = _memo.get(node.engine)
            if memo is not None and memo.generation == stored.generation(conn):
                return memo
            found = stored.cached(conn)
            fresh = found is None
            if found is None:
                found = stored.count(conn)
        _memo[node.engine] = found
        if fresh:
            _store(node, found)
    return found


def _store(node: Node, summary: stored.Summary) -> None:
    with node.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        wait = f"PRAGMA busy_timeout={STORE_WAIT_MS}" if sqlite else f"SET LOCAL lock_timeout = '{STORE_WAIT_MS}ms'"
        try:
            conn.exec_driver_sql(wait)
            stored.store(conn, summary)
            conn.commit()
        except DBAPIError as exc:  # busy: a harvest or another process holds the lock; stored another time
            conn.rollback()
            log.info("the search summary was not stored: %s", exc)
        finally:
            if sqlite:  # the pooled connection goes back with the node's usual patience
                conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                conn.commit()
