"""The ``osnode`` command's own command groups, added like any plugin's (``register_commands``)."""

from __future__ import annotations

import typer

from ..plugins import hookimpl
from . import audit, communities, dump, fixity, harvest, journals, packages, replication, roles, software, tokens


@hookimpl
def register_commands(cli: typer.Typer) -> None:
    for module in (audit, communities, dump, fixity, harvest, journals, packages, replication, roles, software, tokens):
        cli.add_typer(module.commands)  # no name: the module's commands and groups join the top level
