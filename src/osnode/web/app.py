"""The FastAPI application for one node."""

from __future__ import annotations

from fastapi import FastAPI

from ..services.node import Node
from . import admin_harvest, api, catalog, oai, pages, problems, search, transfer_routes
from . import software as software_routes
from .communities import router as communities_router
from .compression import TextCompression
from .dump import router as dump_router
from .explore import router as explore_router
from .methods import HeadAsGet
from .upload_pages import router as upload_router


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
    app.add_middleware(TextCompression)  # gzip for text responses, never users' files
    app.add_middleware(HeadAsGet)  # outermost: a HEAD gets the very headers its GET would
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(catalog.router)  # /api/catalog.ttl: DCAT-AP pages for open-data portals
    app.include_router(oai.router)
    app.include_router(search.router)
    app.include_router(transfer_routes.router)  # tus uploads, blobs for peers, /admin/fixity
    app.include_router(communities_router)
    app.include_router(dump_router)
    app.include_router(admin_harvest.router)  # /admin/peers; registers the sources panel
    app.include_router(explore_router)  # previews, SQL queries, cell atlases; registers the preview panel
    app.include_router(software_routes.router)  # SWHID browse/resolver/API; registers the software panel
    app.include_router(upload_router)  # /records/{id}/upload: the form, with a tus script when JS runs

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
