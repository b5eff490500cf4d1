"""Who may open an /admin page: an administrator. A browser without a session is sent to sign in (an API
client gets 401); anyone else gets 403 (a page for a browser, a problem for an API client)."""

from __future__ import annotations

from fastapi import Depends, Request

from ..domain.access import Viewer
from ..domain.errors import Forbidden
from ..domain.records import Role
from .sessions import require_signed_in


async def require_admin(request: Request) -> Viewer:
    viewer = await require_signed_in(request)
    if viewer.role is not Role.ADMIN:
        raise Forbidden("only an administrator may see this page")
    return viewer


AdminDep = Depends(require_admin)
