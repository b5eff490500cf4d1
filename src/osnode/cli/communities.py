"""``osnode communities``: create, list and fill communities on a data folder (as its administrator)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ..services import communities
from . import AdminSession, DataOpt, JsonOpt, out, print_table

# This module's commands; cli/commands.py adds them to the ``osnode`` command.
commands = typer.Typer()

communities_app = typer.Typer(help="Communities: curated collections of records.", no_args_is_help=True)
commands.add_typer(communities_app, name="communities")


@communities_app.command("add")
def add(
    slug: Annotated[str, typer.Argument(help="Short id: lower-case letters, digits and hyphens.")],
    title: Annotated[str, typer.Option("--title", help="The community's name.")],
    description: Annotated[str, typer.Option("--description", help="What it collects.")] = "",
    data: DataOpt = None,
) -> None:
    """Create a community."""
    local = AdminSession(data)
    try:
        made = communities.create(local.node, local.viewer, slug, title, description)
    finally:
        local.close()
    out.print(f"community '{made.slug}' created: {made.title}")


@communities_app.command("list")
def list_(as_json: JsonOpt = False, data: DataOpt = None) -> None:
    """List communities with their number of records."""
    local = AdminSession(data)
    try:
        found = communities.list_all(local.node)
        listed = [c.as_dict(local.node) for c in found]
    finally:
        local.close()
    if as_json:
        out.print_json(json.dumps({"items": listed}))
        return
    rows = [[c.slug, str(c.records), c.title] for c in found]
    print_table(["slug", "records", "title"], rows)


@communities_app.command("include")
def include(slug: str, record: str, data: DataOpt = None) -> None:
    """Include a published record (by its record id) in a community."""
    local = AdminSession(data)
    try:
        membership = communities.include(local.node, local.viewer, slug, record)
    finally:
        local.close()
    out.print(f"record {membership.record_id} is in community '{membership.slug}'")


@communities_app.command("remove")
def remove(slug: str, record: str, data: DataOpt = None) -> None:
    """Take a record out of a community."""
    local = AdminSession(data)
    try:
        communities.remove(local.node, local.viewer, slug, record)
    finally:
        local.close()
    out.print(f"record {record} removed from community '{slug}'")
