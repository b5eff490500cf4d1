"""Every request sees the node's current settings, whichever process they were changed in.

An administrator's change is stored in the catalog and applied at once in the process that made it; the other
processes (``osnode serve --workers N``, other machines) compare the catalog's settings stamp with their own
and read the settings again only when it moved (``services.site.refresh``). The stamp is asked at most once per
``INTERVAL`` seconds per process, by the first request after it: on a loaded machine with PostgreSQL one keyed
read cost milliseconds, more than the smallest requests themselves (bench/RESULTS.md), so another worker shows a
change within a second rather than on its very next request."""

from __future__ import annotations

import time

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from ..services import site
from ..services.node import Node

INTERVAL = 1.0


class FreshSettings:
    def __init__(self, app: ASGIApp, node: Node) -> None:
        self.app = app
        self.node = node
        self.due = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and time.monotonic() >= self.due:
            self.due = time.monotonic() + INTERVAL
            await run_in_threadpool(site.refresh, self.node)  # one keyed read; off the event loop
        await self.app(scope, receive, send)
