"""The FastAPI application for one node."""

from __future__ import annotations

from fastapi import FastAPI

from ..oaipmh import routes as oaipmh_routes
from ..services.node import Node
from . import api, pages, problems, search


def create_app(node: Node) -> FastAPI:
    app = FastAPI(
        title=node.settings.node_name,
        summary="Open Science Node: deposit, version, publish and download research outputs",
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.node = node
    problems.install(app)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(oaipmh_routes.router)
    app.include_router(search.router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
