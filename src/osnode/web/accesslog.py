"""One line per request on the server's standard error: time, method, path, status, bytes, duration.

On by default (``access_log = false`` in osnode.toml, or ``OSNODE_ACCESS_LOG=false``, turns it off).
Uvicorn's own access log is off under ``osnode serve`` (it runs at log level warning) and gives neither
bytes nor duration. The query string is left out: it can hold what a reader searched for, which an
operator's log has no need to keep. Written as plain ASGI so a streamed download is counted to its
last byte and timed to it.
"""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOGGER = logging.getLogger("osnode.access")


def _ready() -> logging.Logger:
    # Its own handler, so the lines appear whatever the server's logging configuration.
    if not LOGGER.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        LOGGER.addHandler(handler)
        LOGGER.setLevel(logging.INFO)
        LOGGER.propagate = False
    return LOGGER


def line(moment: datetime, method: str, path: str, status: int, size: int, seconds: float) -> str:
    """The log line: ISO 8601 UTC time, method, path, status, bytes of the body sent, duration in ms."""
    stamp = moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return f"{stamp} {method} {path} {status} {size} {seconds * 1000:.1f}ms"


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.logger = _ready()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began, moment = time.perf_counter(), datetime.now(UTC)
        status, size = 500, 0  # what a request that fails before answering amounts to

        async def counting(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting)
        finally:
            path = scope.get("path", "")
            # A path is the client's: control characters would let it forge lines of the log.
            safe = "".join(c if c.isprintable() and c != " " else f"%{ord(c):02X}" for c in path)[:2000]
            self.logger.info(line(moment, scope.get("method", "-"), safe, status, size, time.perf_counter() - began))
