"""``/api/docs``: Swagger UI served by the node itself, from the copy the ``fastapi-offline`` package ships.

FastAPI's own docs page loads Swagger UI from a CDN, so a node offline (or behind a strict firewall) showed
a blank page and every reader's browser told a third party which node it was reading. The assets are
served under ``/api/docs/assets`` with a long cache lifetime; the page itself is a few hundred bytes.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"
DOCS = "/api/docs"
# No validator badge: Swagger UI would send the whole document to validator.swagger.io.
PARAMETERS = {"validatorUrl": None, "tryItOutEnabled": False}


def install(app: FastAPI) -> None:
    app.mount(f"{DOCS}/assets", StaticFiles(directory=ASSETS), name="api-docs-assets")

    @app.get(DOCS, include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/api/openapi.json",
            title=f"{app.title}: API",
            swagger_js_url=f"{DOCS}/assets/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS}/assets/swagger-ui.css",
            swagger_favicon_url="/favicon.svg",
            swagger_ui_parameters=PARAMETERS,
        )
