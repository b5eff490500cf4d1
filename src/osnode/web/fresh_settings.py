"""Every request sees the node's current settings, whichever process they were changed in.

An administrator's change is stored in the catalog and applied at once in the process that made it; the other
processes (``osnode serve --workers N``, other machines) compare the catalog's settings stamp with their own
before each request and read the settings again only when it moved (``services.site.refresh``)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from ..services import site
from ..services.node import Node


class FreshSettings:
    def __init__(self, app: ASGIApp, node: Node) -> None:
        self.app = app
        self.node = node

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await run_in_threadpool(site.refresh, self.node)  # one indexed read; off the event loop
        await self.app(scope, receive, send)
