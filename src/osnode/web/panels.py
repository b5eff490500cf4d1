"""Sections that other parts of the node add to a record's landing page.

Software (SWHIDs), data previews, replicas... each lives in its own module and template; a provider takes the
request, the node, the version on show and the viewer, and returns a ``Panel`` (a template under
``templates/panels/`` and its context) or ``None`` when it has nothing to show. Plugins register providers
(``register_panels``, see ``osnode.app``); the landing page renders the app's panels in that order, after
the files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from ..domain.access import Viewer
from ..domain.records import Version
from ..services.node import Node
from ..services.replication import holders


@dataclass(frozen=True)
class Panel:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


Provider = Callable[[Request, Node, Version, Viewer], Panel | None]


def panels_for(request: Request, node: Node, version: Version, viewer: Viewer) -> list[Panel]:
    providers: list[Provider] = request.app.state.panels
    found = (provider(request, node, version, viewer) for provider in providers)
    return [panel for panel in found if panel is not None]


def replicas_panel(_request: Request, node: Node, version: Version, _viewer: Viewer) -> Panel | None:
    """The nodes that hold a copy of the version's files (replication), this node first."""
    found = holders(node, version.id)
    return Panel("panels/replicas.html", {"holders": found, "files": len(version.files)}) if found else None
