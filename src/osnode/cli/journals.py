"""``osnode journals``: moving a journal's back catalogue from OJS (as the node's administrator)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ..services.journals import ojs_import
from . import AdminSession, DataOpt, JsonOpt, out

# This module's commands; cli/commands.py adds them to the ``osnode`` command.
commands = typer.Typer()

journals_app = typer.Typer(help="Diamond open access journals.", no_args_is_help=True)
commands.add_typer(journals_app, name="journals")


@journals_app.command("import-ojs")
def import_ojs(
    slug: Annotated[str, typer.Argument(help="The journal on this node (create it first, with its ISSNs).")],
    base_url: Annotated[
        str, typer.Argument(help="The OJS OAI-PMH endpoint, e.g. https://journal.example/index.php/j/oai")
    ],
    set_spec: Annotated[str | None, typer.Option("--set", help="Only this OAI-PMH set (e.g. the journal's).")] = None,
    as_json: JsonOpt = False,
    data: DataOpt = None,
) -> None:
    """Harvest an OJS journal's articles into their issues here, keeping DOIs and original URLs (re-runs add
    only what is new)."""
    local = AdminSession(data)
    try:
        report = ojs_import.import_ojs(local.node, local.viewer, slug, base_url, set_spec)
    finally:
        local.close()
    if as_json:
        out.print_json(json.dumps(report.__dict__))
        return
    out.print(
        f"{len(report.added)} articles added, {report.skipped} already here, "
        f"{len(report.issues_created)} issues created, {len(report.problems)} left out"
    )
    for line in report.problems:
        out.print(f"  left out: {line}", markup=False)
