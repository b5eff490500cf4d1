"""The FastAPI application for one node, from the routes and panels its plugins give (``osnode.plugins``)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from ..services.node import Node
from . import apidocs, problems, sessions, templating
from .accesslog import AccessLog
from .compression import TextCompression
from .methods import HeadAsGet
from .panels import Provider
from .serving import SiteRefresh


def build_app(node: Node, routers: list[APIRouter], panels: list[Provider], *, served: bool = True) -> FastAPI:
    app = FastAPI(
        title=node.settings.node_name,
        summary="Open Science Node: deposit, version, publish and download research outputs",
        docs_url=None,  # apidocs serves Swagger UI from the node, not a CDN
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.node = node
    app.state.panels = list(panels)
    problems.install(app)
    sessions.install(app)  # pages that need a signed-in person send browsers to /login
    app.add_middleware(TextCompression)  # gzip for text responses, never users' files
    app.add_middleware(HeadAsGet)  # a HEAD gets the very headers its GET would
    app.add_middleware(SiteRefresh)  # settings stored by another web process, picked up within seconds
    if served and node.settings.access_log:  # the CLI's in-process app is no server: nothing to log
        app.add_middleware(AccessLog)  # outermost: logs what was really sent (compressed bytes) and how long it took
    for router in routers:
        app.include_router(router)
    apidocs.install(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # Branding without forking: the operator's templates win over the package's, and their static files
    # (logo, stylesheet) are served at /static.
    templating.use_overrides(node.settings.data_dir / "templates")
    static = node.settings.data_dir / "static"
    if static.is_dir():
        app.mount("/static", StaticFiles(directory=static), name="static")
    return app
