"""What a plugin can add to a node: the hooks, declared once (pluggy, as Datasette does).

A plugin is any object or module with functions marked ``@hookimpl`` and named after a hook below. The
node's own parts are plugins too (``plugins/builtins.py`` for the server, ``cli/commands.py`` for the command),
registered before any third-party plugin found under the ``osnode`` entry-point group (``osnode.app`` and the
CLI build the plugin managers). Every hook returns
a list (pluggy gathers one per plugin) so a plugin adds to what is there and never replaces it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter

    from ..services.jobs import Job
    from ..services.notify.handlers import Handler
    from ..web.panels import Provider

PROJECT = "osnode"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_jobs() -> list[Job]:  # type: ignore[empty-body]
    """Background jobs the server's scheduler runs (``services.jobs.Job``)."""


@hookspec
def register_panels() -> list[Provider]:  # type: ignore[empty-body]
    """Sections of a record's landing page (``web.panels.Provider``), shown after the files in this order."""


@hookspec
def register_routes() -> list[APIRouter]:  # type: ignore[empty-body]
    """FastAPI routers included in the app, in this order."""


@hookspec
def register_notify_handlers() -> list[Handler]:  # type: ignore[empty-body]
    """Handlers of COAR Notify notifications (``services.notify.handlers.Handler``), asked before the built-in
    ones: e.g. a journal taking the review requests addressed to it into its submission queue."""


@hookspec
def register_commands(cli: typer.Typer) -> None:
    """Add commands or command groups to the ``osnode`` command."""
