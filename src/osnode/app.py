"""The one place that builds a node's app and its scheduler from the plugins (the built-ins first).

``osnode serve`` and the tests build the app with :func:`create_app` and the background jobs with
:func:`scheduler_for`; nothing registers itself by being imported, so an app served without the CLI
harvests all the same.
"""

from __future__ import annotations

import pluggy
from fastapi import FastAPI

from . import plugins
from .domain.access import Viewer
from .plugins import builtins
from .services.jobs import Job, Scheduler
from .services.node import Node
from .web.app import build_app
from .web.deps import get_viewer


def plugin_manager(*extra: object) -> pluggy.PluginManager:
    """The node's built-in jobs, panels and routes, then the installed plugins, then ``extra``."""
    return plugins.plugin_manager([builtins], extra)


def create_app(node: Node, pm: pluggy.PluginManager | None = None, *, served: bool = True) -> FastAPI:
    pm = pm or plugin_manager()
    routes = plugins.gathered(pm.hook.register_routes())
    app = build_app(node, routes, plugins.gathered(pm.hook.register_panels()), served=served)
    # What the LDN inbox hands notifications to before its built-in handlers (services/notify/handlers.py).
    app.state.notify_handlers = plugins.gathered(pm.hook.register_notify_handlers())
    return app


def trusted_app(node: Node, viewer: Viewer) -> FastAPI:
    """The node's app where every request is ``viewer``: for the CLI's local mode, in-process only.

    Never serve it. It is safe because it is reachable only through the Python object (the CLI's
    in-process transport opens no socket) and it is built by someone who can already open the data
    folder and its catalog, i.e. who holds every right it grants. No token is minted or stored.
    """
    app = create_app(node, served=False)
    app.dependency_overrides[get_viewer] = lambda: viewer
    return app


def jobs(pm: pluggy.PluginManager | None = None) -> list[Job]:
    return plugins.gathered((pm or plugin_manager()).hook.register_jobs())


def scheduler_for(node: Node, pm: pluggy.PluginManager | None = None) -> Scheduler:
    """The background jobs of every plugin, ready to ``start``."""
    return Scheduler(node, jobs(pm))


def served_app() -> FastAPI:
    """The app of one of ``osnode serve --workers N``'s processes (uvicorn's factory, by import string).

    Each process opens the node from the same settings as its parent (data folder and base URL passed in
    ``OSNODE_DATA`` and ``OSNODE_BASE_URL``); the parent migrated the catalog before starting them, and runs
    the embedded scheduler, if any, once for all of them.
    """
    return create_app(Node.open_configured())
