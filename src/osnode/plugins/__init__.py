"""The one place that builds the node's app and scheduler from its plugins.

``osnode serve`` and the tests build the app with :func:`create_app` and the scheduler with
:func:`scheduler_for`; nothing registers itself by being imported. Third-party plugins are found under
the ``osnode`` entry-point group (``[project.entry-points.osnode]``) and may add jobs, panels, routes
and commands (see :mod:`.hookspecs`).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from typing import TypeVar

import pluggy
from fastapi import FastAPI

from ..services.jobs import Job, Scheduler
from ..services.node import Node
from ..web.app import build_app
from . import builtins, hookspecs
from .hookspecs import hookimpl

__all__ = ["create_app", "hookimpl", "plugin_manager", "scheduler_for"]

T = TypeVar("T")


def plugin_manager(*extra: object) -> pluggy.PluginManager:
    """The built-ins, then the installed plugins, then ``extra`` (a tool's own plugins, or a test's)."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(builtins, name="osnode.builtins")
    pm.load_setuptools_entrypoints(hookspecs.PROJECT)
    for plugin in extra:
        pm.register(plugin)
    return pm


def _gathered(results: Iterable[list[T]]) -> list[T]:
    # pluggy calls the last registered plugin first; the built-ins come first in what the node shows.
    return list(chain.from_iterable(reversed(list(results))))


def create_app(node: Node, pm: pluggy.PluginManager | None = None) -> FastAPI:
    pm = pm or plugin_manager()
    return build_app(node, _gathered(pm.hook.register_routes()), _gathered(pm.hook.register_panels()))


def jobs(pm: pluggy.PluginManager | None = None) -> list[Job]:
    return _gathered((pm or plugin_manager()).hook.register_jobs())


def scheduler_for(node: Node, pm: pluggy.PluginManager | None = None) -> Scheduler:
    """The background jobs of every plugin, ready to ``start``."""
    return Scheduler(node, jobs(pm))
