"""RFC 9457 problem details for every error, so clients get one shape whatever went wrong."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..domain.errors import Gone, InvalidInput, NodeError
from . import i18n, methods, negotiation
from .templating import templates

PROBLEM = "application/problem+json"
HTML = "text/html"
# A browser states text/html above everything else; an API client (curl's */*, JSON, problem+json) does not.
_ERROR_TYPES = [PROBLEM, "application/json", HTML]
# What the error page says for each status, in the reader's words: a heading and one line on what to do.
_PAGE_TEXT = {
    400: (i18n.N_("The request was not understood"), i18n.N_("Check the address or the form and try again.")),
    401: (i18n.N_("Please sign in"), i18n.N_("This page is only for people with an account on this node.")),
    403: (i18n.N_("Not allowed"), i18n.N_("Your account may not see or change this.")),
    404: (i18n.N_("Page not found"), i18n.N_("Nothing is at this address. It may have been mistyped or moved.")),
    405: (i18n.N_("Not possible here"), i18n.N_("This address does not accept that kind of request.")),
    410: (i18n.N_("Gone"), i18n.N_("This was here once and has been withdrawn.")),
    413: (i18n.N_("Too large"), i18n.N_("What was sent is larger than this node accepts.")),
    422: (i18n.N_("Some values are not valid"), i18n.N_("Check the values below and try again.")),
    429: (i18n.N_("Too many requests"), i18n.N_("Please wait a moment and try again.")),
}
_OTHER = (i18n.N_("Something went wrong"), i18n.N_("Please try again later, or go back to the home page."))
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


def wants_html(request: Request) -> bool:
    """A person in a browser: no API path, and text/html preferred to every JSON type (ties go to JSON)."""
    if request.url.path.startswith("/api/") or request.url.path == "/api":
        return False
    return negotiation.choose(request.headers.get("accept"), _ERROR_TYPES) == HTML


def _back(request: Request) -> str | None:
    """The page the reader came from, when it is on this node (a way back that needs no script)."""
    referer = urlsplit(request.headers.get("referer") or "")
    if referer.netloc != request.url.netloc or not referer.path.startswith("/") or referer.path == request.url.path:
        return None
    return referer.path + (f"?{referer.query}" if referer.query else "")


def error_page(request: Request, status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    """The HTML page a browser gets for an error: the status in the reader's words and a way on."""
    heading, advice = _PAGE_TEXT.get(status, _OTHER)
    context = {"status": status, "heading": heading, "advice": advice, "detail": detail, "back": _back(request)}
    headers = dict(headers or {})
    headers["Vary"] = "Accept"
    return templates.TemplateResponse(request, "error.html", context, status_code=status, headers=headers)


def answer(request: Request, status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> Response:
    """problem+json for API clients, an HTML page for browsers: the one place errors take their shape."""
    if wants_html(request):
        if status == 401:
            headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
        return error_page(request, status, detail, headers)
    return problem(status, detail, request.url.path, headers=headers, **extra)


def _path(loc: tuple[Any, ...]) -> str:
    # FastAPI prefixes body errors with "body"; the client knows it sent a body.
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or "(body)"


def install(app: FastAPI) -> None:
    generate = app.openapi  # FastAPI's generator, which caches the document it builds
    app.openapi = lambda: _declare_problem(generate())  # type: ignore[method-assign]

    @app.exception_handler(NodeError)
    async def node_error(request: Request, exc: NodeError) -> Response:
        extra: dict[str, Any] = {}
        if isinstance(exc, InvalidInput) and exc.errors:
            extra["errors"] = [e.as_dict() for e in exc.errors]
        if isinstance(exc, Gone):
            extra["tombstone"] = exc.tombstone
        headers: dict[str, str] = {}
        retry_after = getattr(exc, "retry_after", None)  # a busy service says when to come back (RFC 9110)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return answer(request, exc.status, exc.detail, headers, **extra)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"path": _path(e["loc"]), "message": e["msg"]} for e in exc.errors()]
        return answer(request, 422, f"the request has {len(errors)} error(s)", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # RFC 9110 requires Allow, naming every method of the path
            headers["Allow"] = methods.allowed(request.scope)
        return answer(request, exc.status_code, detail, headers)

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> Response:
        # A 5xx is always a bug: log it whole, tell the client only that it happened.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return answer(request, 500, "an internal error occurred; it has been logged")
