"""``osnode audit``: verify the managed-access audit log's hash chain, and export it for an ethics board."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ..config import load_settings
from ..services import audit
from ..services.node import Node
from . import CliError, DataOpt, JsonOpt, out

# This module's commands; cli/commands.py adds them to the ``osnode`` command.
commands = typer.Typer()

audit_app = typer.Typer(help="The append-only, hash-chained audit log of managed access.")
commands.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def verify(as_json: JsonOpt = False, data: DataOpt = None) -> None:
    """Walk the whole chain: any altered, removed or reordered entry fails it (exit 1)."""
    node = Node.open(load_settings(data))
    try:
        result = audit.verify(node)
    finally:
        node.close()
    if as_json:
        out.print_json(json.dumps(result.__dict__))
    elif result.ok:
        out.print(f"audit log intact: {result.entries} entries, last hash {result.last_hash}")
    if not result.ok:
        raise CliError(f"audit log broken at entry {result.first_bad}: {result.problem}")


@audit_app.command("export")
def export(
    target: Annotated[Path, typer.Argument(help="The file to write (.csv or .json).")],
    data: DataOpt = None,
) -> None:
    """Write the whole log, in order, as CSV or JSON (by the file's extension)."""
    if target.suffix not in (".csv", ".json"):
        raise CliError("the export file ends in .csv or .json")
    node = Node.open(load_settings(data))
    try:
        with node.engine.connect() as conn:
            entries = list(audit.entries(conn))
    finally:
        node.close()
    target.write_text(audit.as_csv(entries) if target.suffix == ".csv" else audit.as_json(entries), encoding="utf-8")
    out.print(f"{len(entries)} entries written to {target}")
