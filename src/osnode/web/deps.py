"""Request dependencies: the node and the viewer behind a bearer token."""

from __future__ import annotations

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from ..domain.access import Viewer
from ..domain.errors import Unauthorized
from ..services import users
from ..services.node import Node


def get_node(request: Request) -> Node:
    return request.app.state.node


async def get_viewer(request: Request) -> Viewer:
    header = request.headers.get("authorization")
    if not header:
        return await run_in_threadpool(users.authenticate, get_node(request), None)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("use 'Authorization: Bearer <token>'")
    return await run_in_threadpool(users.authenticate, get_node(request), token.strip())


# Shared parameter defaults for route signatures.
NodeDep = Depends(get_node)
ViewerDep = Depends(get_viewer)
