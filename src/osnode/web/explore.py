"""Explore data before downloading it: table profiles, SQL queries, cell atlases (JSON API and pages).

Every page works without JavaScript: the query box and the atlas controls are plain GET forms, and the
embedding plot is a PNG the server renders. Errors on pages are shown as a message on the page with the
error's 4xx status; the API answers them as problem+json.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel
from starlette.background import BackgroundTask

from ..domain.access import Viewer
from ..domain.errors import InvalidInput, NodeError
from ..domain.records import Version
from ..explore import query as queries
from ..explore import render, tables
from ..services import access
from ..services import explore as service
from ..services.node import Node
from .deps import NodeDep, ViewerDep
from .panels import Panel
from .problems import documented
from .templating import templates

# 429: a preview or profile already being built for someone else.
router = APIRouter(responses=documented(400, 401, 403, 404, 410, 422, 429))
pages = APIRouter(include_in_schema=False)

CSV = "text/csv; charset=utf-8"
PARQUET = "application/vnd.apache.parquet"
# A repeatable query parameter (?value=a&value=b); each use needs its own Query, hence Annotated.
Many = Annotated[list[str] | None, Query()]


# -- JSON API -------------------------------------------------------------------------------------


@router.get("/api/records/{any_id}/files/{key}/profile", summary="Profile of a table file", tags=["explore"])
def profile(any_id: str, key: str, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, Any]:
    return service.table_profile(node, any_id, key, viewer)


class QueryIn(BaseModel):
    sql: str
    format: str = "json"


def _query_response(node: Node, any_id: str, sql: str, fmt: str, viewer: Viewer) -> Response:
    if fmt not in ("json", "csv", "parquet"):
        raise InvalidInput("format must be json, csv or parquet")
    result = service.run_query(node, any_id, sql, viewer, export=fmt != "json")
    headers = {"X-Truncated": "true" if result.truncated else "false"}
    if fmt == "csv":
        headers["Content-Disposition"] = 'attachment; filename="query.csv"'
        return Response(queries.to_csv(result), media_type=CSV, headers=headers)
    if fmt == "parquet":
        headers["Content-Disposition"] = 'attachment; filename="query.parquet"'
        return Response(queries.to_parquet(result), media_type=PARQUET, headers=headers)
    return Response(json.dumps(result.as_json(), ensure_ascii=False), media_type="application/json")


@router.get("/api/records/{any_id}/query", summary="Read-only SQL over the record's tables", tags=["explore"])
def query_get(
    any_id: str,
    sql: str = Query(..., max_length=20_000),
    format: str = "json",
    node: Node = NodeDep,
    viewer: Viewer = ViewerDep,
) -> Response:
    return _query_response(node, any_id, sql, format, viewer)


@router.post("/api/records/{any_id}/query", summary="Read-only SQL over the record's tables", tags=["explore"])
def query_post(any_id: str, body: QueryIn, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    return _query_response(node, any_id, body.sql, body.format, viewer)


@router.get("/api/records/{any_id}/tables", summary="The record's queryable tables", tags=["explore"])
def table_list(any_id: str, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, Any]:
    version, views = service.tables_of(node, any_id, viewer)
    return {"version": version.id, "tables": [{"view": v, "file": k} for v, k in views.items()]}


@router.get("/api/records/{any_id}/files/{key}/atlas", summary="Summary of a cell atlas", tags=["explore"])
def atlas(any_id: str, key: str, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, Any]:
    return service.atlas_summary(node, any_id, key, viewer)


@router.get("/api/records/{any_id}/files/{key}/atlas/plot.png", summary="Embedding plot (PNG)", tags=["explore"])
def atlas_plot(
    any_id: str,
    key: str,
    basis: str | None = None,
    colour: str | None = None,
    gene: str | None = None,
    filter_field: str | None = None,
    filter: Many = None,  # noqa: A002 - the query parameter's public name
    size: int = 512,
    node: Node = NodeDep,
    viewer: Viewer = ViewerDep,
) -> Response:
    plot = service.plot(node, any_id, key, viewer, basis, colour, gene, filter_field, filter or None, size)
    headers = {"Cache-Control": "public, max-age=3600", "X-Cells-Drawn": str(plot.cells_drawn)}
    return Response(plot.png, media_type="image/png", headers=headers)


@router.get("/api/records/{any_id}/files/{key}/atlas/genes", summary="Search genes by name", tags=["explore"])
def atlas_genes(any_id: str, key: str, q: str = "", node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict:
    return {"query": q, "genes": service.search_genes(node, any_id, key, viewer, q)}


@router.get("/api/records/{any_id}/files/{key}/atlas/expression", summary="Expression per category", tags=["explore"])
def atlas_expression(
    any_id: str,
    key: str,
    field: str,
    gene: Many = None,
    node: Node = NodeDep,
    viewer: Viewer = ViewerDep,
) -> dict[str, Any]:
    return service.expression(node, any_id, key, viewer, field, gene or [])


@router.get(
    "/api/records/{any_id}/files/{key}/atlas/subset.h5ad", summary="Chosen categories as a new .h5ad", tags=["explore"]
)
def atlas_subset(
    any_id: str,
    key: str,
    field: str,
    value: Many = None,
    node: Node = NodeDep,
    viewer: Viewer = ViewerDep,
) -> Response:
    # The page's form sends the categories one per line; the API takes repeated ``value`` parameters.
    values = [v.strip() for item in value or [] for v in item.splitlines() if v.strip()]
    path = service.subset_file(node, any_id, key, viewer, field, values)
    name = key.rsplit(".", 1)[0] + "-subset.h5ad"
    return FileResponse(
        path,
        media_type="application/x-hdf5",
        filename=name,
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


# -- pages ----------------------------------------------------------------------------------------


def _error_page(request: Request, node: Node, exc: NodeError, back: str | None = None) -> Response:
    context = {"node": node, "message": exc.detail, "title": exc.title, "back": back}
    response = templates.TemplateResponse(request, "explore/error.html", context, status_code=exc.status)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _plot_query(params: dict[str, Any], size: int | None = None) -> str:
    pairs = [(k, v) for k, v in params.items() if v and not isinstance(v, list)]
    pairs += [(k, item) for k, v in params.items() if isinstance(v, list) for item in v]
    if size:
        pairs.append(("size", str(size)))
    return urlencode(pairs)


@pages.get("/records/{any_id}/files/{key}/explore", response_class=HTMLResponse)
def explore_page(
    any_id: str,
    key: str,
    request: Request,
    basis: str | None = None,
    colour: str | None = None,
    gene: str | None = None,
    filter_field: str | None = None,
    filter: Many = None,  # noqa: A002
    node: Node = NodeDep,
    viewer: Viewer = ViewerDep,
) -> Response:
    back = f"/records/{any_id}"
    try:
        fmt = tables.file_format(key)
        if fmt == "h5ad":
            options = {
                "basis": basis,
                "colour": colour,
                "gene": gene,
                "filter_field": filter_field,
                "filter": filter or [],
            }
            return _atlas_page(request, node, any_id, key, viewer, options)
        data = service.table_profile(node, any_id, key, viewer)
        version, views = service.tables_of(node, any_id, viewer)
    except NodeError as exc:
        return _error_page(request, node, exc, back)
    view = next((v for v, k in views.items() if k == key), None)
    context = {
        "node": node,
        "version": version,
        "key": key,
        "profile": data,
        "view": view,
        "example": f'SELECT * FROM "{view}" LIMIT 10' if view else "",
    }
    return templates.TemplateResponse(request, "explore/table.html", context)


def _atlas_page(
    request: Request, node: Node, any_id: str, key: str, viewer: Viewer, options: dict[str, Any]
) -> Response:
    summary = service.atlas_summary(node, any_id, key, viewer)
    version = access.readable_version(node, any_id, viewer)
    categorical = [f for f in summary["obs"] if f.get("categories") is not None and f["n_categories"] <= 250]
    names = [f["name"] for f in categorical]
    if options["colour"] and options["colour"] not in names:
        raise InvalidInput(f"'{options['colour']}' is not a categorical field of this atlas")
    if not options["colour"] and not options["gene"] and names:
        options["colour"] = _default_colour(categorical)
    filter_field = options["filter_field"] or ""
    filter_info = next((f for f in categorical if f["name"] == filter_field), None)
    colour_info = next((f for f in categorical if f["name"] == options["colour"]), None)
    legend = _legend(colour_info) if colour_info and not options["gene"] else []
    expression = None
    suggestions: list[str] = []
    missing_gene = None
    if options["gene"]:
        try:
            field = options["colour"] or (names[0] if names else None)
            if field:
                expression = service.expression(node, any_id, key, viewer, field, [options["gene"]])
        except InvalidInput:
            # Said on the page, with the nearest names when there are any: a silently ignored gene
            # looks like a plot of it.
            missing_gene = options["gene"]
            suggestions = service.search_genes(node, any_id, key, viewer, options["gene"])[:20]
            options["gene"] = None
    # A gene colours the plot by itself; the chosen field then only groups the expression table.
    plot_params = {k: v for k, v in options.items() if v and not (k == "colour" and options["gene"])}
    api = f"/api/records/{any_id}/files/{key}/atlas"
    context = {
        "node": node,
        "version": version,
        "key": key,
        "summary": summary,
        "categorical": categorical,
        "options": options,
        "filter_info": filter_info,
        "legend": legend,
        "expression": expression,
        "suggestions": suggestions,
        "missing_gene": missing_gene,
        # The subset form offers the categories of the field the plot is coloured by (else the first).
        "subset_field": colour_info or (categorical[0] if categorical else None),
        "plot_url": f"{api}/plot.png?{_plot_query(plot_params)}",
        "api": api,
    }
    return templates.TemplateResponse(request, "explore/atlas.html", context)


def _default_colour(categorical: list[dict[str, Any]]) -> str:
    """The field a reader most likely wants first: a cell type if there is one."""
    for field in categorical:
        if "type" in field["name"].lower() or "cluster" in field["name"].lower():
            return field["name"]
    return categorical[0]["name"]


def _legend(field: dict[str, Any]) -> list[dict[str, Any]]:
    colours = render.category_colours(field["n_categories"])
    return [
        {"category": c["name"], "colour": render.hex_colour(colours[i]), "cells": c["count"]}
        for i, c in enumerate(field["categories"])
        if c["count"]
    ]


@pages.get("/records/{any_id}/query", response_class=HTMLResponse)
def query_page(
    any_id: str, request: Request, sql: str = "", node: Node = NodeDep, viewer: Viewer = ViewerDep
) -> Response:
    back = f"/records/{any_id}"
    try:
        version, views = service.tables_of(node, any_id, viewer)
    except NodeError as exc:
        return _error_page(request, node, exc, back)
    result, error, status = None, None, 200
    if sql.strip():
        try:
            result = service.run_query(node, any_id, sql, viewer).as_json()
        except NodeError as exc:
            error, status = exc.detail, exc.status
    context = {
        "node": node,
        "version": version,
        "views": views,
        "sql": sql or (f'SELECT * FROM "{next(iter(views))}" LIMIT 10' if views else ""),
        "result": result,
        "error": error,
        "download": f"/api/records/{any_id}/query?" + urlencode({"sql": sql}) if sql.strip() else None,
    }
    return templates.TemplateResponse(request, "explore/query.html", context, status_code=status)


# -- landing-page panel ---------------------------------------------------------------------------


def preview_panel(request: Request, node: Node, version: Version, viewer: Viewer) -> Panel | None:
    shown = service.preview(node, version, viewer)
    if not shown:
        return None
    return Panel("panels/preview.html", {"items": shown, "version": version})


# One router for app.py: the API and the pages (sync routes run in the threadpool; DuckDB releases the GIL).
router.include_router(pages)
