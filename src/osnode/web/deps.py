"""Request dependencies: the node, and the viewer behind a bearer token or a session cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from starlette.concurrency import run_in_threadpool

from ..domain.access import ANONYMOUS, Viewer
from ..domain.errors import Forbidden, Unauthorized
from ..services import users, visas
from ..services.node import Node
from . import sessions


def get_node(request: Request) -> Node:
    return request.app.state.node


async def get_viewer(request: Request) -> Viewer:
    """A bearer token wins (and needs no CSRF token); else the session cookie, whose state-changing requests
    must carry this browser's CSRF token; else an anonymous reader. The result is kept on ``request.state``
    (the page header shows who is signed in)."""
    cached = getattr(request.state, "viewer", None)
    if cached is not None:
        return cached
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("use 'Authorization: Bearer <token>'")
        viewer = await run_in_threadpool(users.authenticate, get_node(request), token.strip())
        if viewer.read_only and request.method not in sessions.SAFE_METHODS:
            raise Forbidden("this API token has the read scope: it cannot change anything")
    else:
        viewer = await sessions.viewer_of_cookie(request) or ANONYMOUS
        if viewer.user_id is not None:
            await sessions.check_csrf(request)
    visa = request.headers.get(visas.HEADER)
    if visa:  # a grant from the record's origin node, honoured only if it verifies (services.visas)
        viewer = await run_in_threadpool(visas.with_visa, get_node(request), viewer, visa.strip()[:8192])
    request.state.viewer = viewer
    return viewer


# Shared parameter defaults for route signatures.
NodeDep = Depends(get_node)
ViewerDep = Depends(get_viewer)


# A catalog row id in a URL path: anything a 32-bit integer column cannot hold is a 422, never a database error.
DbId = Annotated[int, Path(ge=1, le=2_147_483_647)]
