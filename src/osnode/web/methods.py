"""Which methods a path takes: HEAD wherever GET works, and the whole list in a 405's Allow.

HEAD (RFC 9110 §9.3.2): the same status and headers as GET, without the body.

FastAPI routes answer only the methods they name, so a HEAD to a GET route would be a 405. Routes
that name HEAD themselves (file and blob downloads, tus) keep their own handler; any other HEAD is
served as its GET and the body dropped on the way out, so the headers (Content-Length included)
are exactly those of the GET.
"""

from __future__ import annotations

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed(scope: Scope) -> str:
    """The Allow header for the request's path: every method some route on that path takes.

    Asked of the router method by method, since Starlette's own 405 names only the methods of the
    first route on the path, and GET and POST of one path are often two routes here. HEAD comes
    with GET (see ``HeadAsGet``).
    """
    routes = scope["app"].router.routes
    methods = [m for m in _METHODS if any(r.matches({**scope, "method": m})[0] is Match.FULL for r in routes)]
    if "GET" in methods and "HEAD" not in methods:
        methods.insert(methods.index("GET") + 1, "HEAD")
    return ", ".join(methods)


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" or self._has_own_head(scope):
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # swallow the pieces; the last (empty) one ends the response
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)

    def _has_own_head(self, scope: Scope) -> bool:
        return any(route.matches(scope)[0] is Match.FULL for route in scope["app"].router.routes)
