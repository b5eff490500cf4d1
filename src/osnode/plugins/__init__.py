"""Plugins: the hooks (:mod:`.hookspecs`), the node's own server parts as the default plugin (:mod:`.builtins`)
and the plugin manager that gathers them. ``osnode.app`` builds the app and the scheduler from it.

Third-party plugins are found under the ``osnode`` entry-point group (``[project.entry-points.osnode]``) and
may add jobs, panels, routes and commands. This package stays light to import (the CLI loads it for its
commands); the web stack comes in only with :mod:`.builtins`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain
from typing import TypeVar

import pluggy

from . import hookspecs
from .hookspecs import hookimpl

__all__ = ["gathered", "hookimpl", "plugin_manager"]

T = TypeVar("T")


def plugin_manager(defaults: Sequence[object], extra: Sequence[object] = ()) -> pluggy.PluginManager:
    """``defaults`` (the node's own parts), then the installed plugins, then ``extra`` (a tool's, a test's)."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for plugin in defaults:
        pm.register(plugin)
    pm.load_setuptools_entrypoints(hookspecs.PROJECT)
    for plugin in extra:
        pm.register(plugin)
    return pm


def gathered(results: Iterable[list[T]]) -> list[T]:
    """One list from a hook's answers, in registration order (pluggy calls the last registered first)."""
    return list(chain.from_iterable(reversed(list(results))))
