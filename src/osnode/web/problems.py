"""RFC 9457 problem details for every error, so clients get one shape whatever went wrong."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..domain.errors import Gone, InvalidInput, NodeError

PROBLEM = "application/problem+json"
log = logging.getLogger("osnode.web")


def problem(status: int, detail: str, instance: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _path(loc: tuple[Any, ...]) -> str:
    # FastAPI prefixes body errors with "body"; the client knows it sent a body.
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or "(body)"


def install(app: FastAPI) -> None:
    @app.exception_handler(NodeError)
    async def node_error(request: Request, exc: NodeError) -> JSONResponse:
        extra: dict[str, Any] = {}
        if isinstance(exc, InvalidInput) and exc.errors:
            extra["errors"] = [e.as_dict() for e in exc.errors]
        if isinstance(exc, Gone):
            extra["tombstone"] = exc.tombstone
        response = problem(exc.status, exc.detail, request.url.path, **extra)
        retry_after = getattr(exc, "retry_after", None)  # a busy service says when to come back (RFC 9110)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"path": _path(e["loc"]), "message": e["msg"]} for e in exc.errors()]
        return problem(422, f"the request has {len(errors)} error(s)", request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        return problem(exc.status_code, detail, request.url.path)

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        # A 5xx is always a bug: log it whole, tell the client only that it happened.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "an internal error occurred; it has been logged", request.url.path)
