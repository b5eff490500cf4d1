"""Sign-in with an OpenID Connect provider: /login/oidc/{name} sends the browser there, the callback signs in.

The pending sign-in is bound to this browser (its session or pre-session cookie, as CSRF tokens are), so a
callback URL replayed in another browser, or a forged one, signs nobody in.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from ..domain.errors import NodeError
from ..services import oidc
from ..services.node import Node
from . import sessions
from .account_pages import page
from .deps import NodeDep

router = APIRouter(include_in_schema=False)


def _callback(node: Node, name: str) -> str:
    return f"{node.settings.public_url}/login/oidc/{name}/callback"


@router.get("/login/oidc/{name}")
async def start(name: str, request: Request, next: str = "", node: Node = NodeDep) -> Response:  # noqa: A002
    browser = sessions.browser_key(request)
    try:
        url = await run_in_threadpool(oidc.begin, node, name, _callback(node, name), browser, sessions.safe_next(next))
    except NodeError as exc:
        return page(request, "account/login.html", exc.status, error=exc.detail, next="/account", email="")
    response = RedirectResponse(url, status_code=303)
    sessions.attach(request, response)
    return response


@router.get("/login/oidc/{name}/callback", response_class=HTMLResponse)
async def callback(name: str, request: Request, node: Node = NodeDep) -> Response:
    params = request.query_params
    if params.get("error") or not params.get("state") or not params.get("code"):
        error = "the sign-in with this provider could not be completed; try again"
        return page(request, "account/login.html", 401, error=error, next="/account", email="")
    browser = sessions.browser_key(request)
    current = await sessions.viewer_of_cookie(request)
    try:
        account, target = await run_in_threadpool(
            oidc.finish,
            node,
            name,
            _callback(node, name),
            browser,
            params["state"],
            params["code"],
            current.user_id if current else None,
        )
    except NodeError as exc:
        return page(request, "account/login.html", exc.status, error=exc.detail, next="/account", email="")
    response = RedirectResponse(sessions.safe_next(target), status_code=303)
    await run_in_threadpool(sessions.sign_in, response, node, account.id, sessions.session_id(request))
    return response
