"""RFC 9457 problem details for every error, so clients get one shape whatever went wrong."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..domain.errors import Gone, InvalidInput, NodeError
from . import methods

PROBLEM = "application/problem+json"
log = logging.getLogger("osnode.web")
# tus's own status (a checksum that does not match), unknown to HTTPStatus.
_OWN_PHRASES = {460: "Checksum Mismatch"}


class FieldProblem(BaseModel):
    """One field's error: its path (e.g. ``metadata.creators.0.orcid``) and what is wrong with it."""

    path: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem: the body of every 4xx and 5xx answer of the API."""

    model_config = ConfigDict(extra="allow", title="Problem")
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] | None = None
    tombstone: dict[str, Any] | None = None


def phrase(status: int) -> str:
    return _OWN_PHRASES.get(status) or HTTPStatus(status).phrase


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route for the problems it can answer with, each as problem+json.

    The schema is a reference, so the Problem schema is declared once (see ``install``) and every
    route states only which statuses it really gives.
    """
    content = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    return {status: {"description": phrase(status), "content": content} for status in sorted(set(statuses))}


def _declare_problem(document: dict[str, Any]) -> dict[str, Any]:
    """Add the Problem schema that ``documented`` refers to, once, to FastAPI's document."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    if "Problem" not in schemas:
        problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(problem_schema.pop("$defs", {}))
        schemas["Problem"] = problem_schema
        # FastAPI's own 422 shape is never sent: validation errors are problems too.
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    return document


def problem(
    status: int, detail: str, instance: str | None = None, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": phrase(status),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _path(loc: tuple[Any, ...]) -> str:
    # FastAPI prefixes body errors with "body"; the client knows it sent a body.
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or "(body)"


def install(app: FastAPI) -> None:
    generate = app.openapi  # FastAPI's generator, which caches the document it builds
    app.openapi = lambda: _declare_problem(generate())  # type: ignore[method-assign]

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
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # RFC 9110 requires Allow, naming every method of the path
            headers["Allow"] = methods.allowed(request.scope)
        return problem(exc.status_code, detail, request.url.path, headers=headers)

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        # A 5xx is always a bug: log it whole, tell the client only that it happened.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "an internal error occurred; it has been logged", request.url.path)
