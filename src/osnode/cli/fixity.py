"""``osnode fixity``: re-hash stored blobs (a budgeted round, or --all) and show where fixity stands."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
from rich.table import Table

from ..config import load_settings
from ..services import fixity
from ..services.node import Node
from . import DataOpt, JsonOpt, err, out

# This module's commands; cli/commands.py adds them to the ``osnode`` command.
commands = typer.Typer()

fixity_app = typer.Typer(help="Check stored blobs against their SHA-256 and repair damage from peers.")
commands.add_typer(fixity_app, name="fixity")


@fixity_app.callback(invoke_without_command=True)
def fixity_cmd(
    ctx: typer.Context,
    check_all: Annotated[bool, typer.Option("--all", help="Check every blob, not one budgeted round.")] = False,
    as_json: JsonOpt = False,
    data: DataOpt = None,
) -> None:
    """Run one fixity round (oldest-checked blobs first, within the budget)."""
    if ctx.invoked_subcommand is not None:
        return
    node = Node.open(load_settings(data))
    try:
        budget = (None, None) if check_all else (fixity.BUDGET_BYTES, fixity.BUDGET_COUNT)
        total = sum(size for _, size in fixity.due_blobs(node, *budget))
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=err,
            disable=as_json or not err.is_terminal,
        ) as progress:
            task = progress.add_task("checking", total=total)
            report = fixity.run(
                node, max_bytes=budget[0], max_count=budget[1], progress=lambda _sha, size: progress.advance(task, size)
            )
    finally:
        node.close()
    if as_json:
        out.print_json(json.dumps(report.as_dict()))
        return
    out.print(
        f"checked {report.checked} blobs ({report.bytes} bytes): {report.ok} intact, {report.missing} missing, "
        f"{report.corrupt} corrupt, {report.repaired} repaired"
    )
    for problem in report.problems:
        out.print(f"  {problem['status']} {problem['sha256']}: {problem['action']}", markup=False)
    if report.missing + report.corrupt > report.repaired:
        # Damage left unrepaired is a failure for scripts and cron, though the round itself ran.
        sys.exit(2)


@fixity_app.command("status")
def status_cmd(as_json: JsonOpt = False, data: DataOpt = None) -> None:
    """Counts by last result, damaged blobs, and the recent rounds."""
    node = Node.open(load_settings(data))
    try:
        state = fixity.status(node)
    finally:
        node.close()
    if as_json:
        out.print_json(json.dumps(state))
        return
    out.print(
        f"{state['blobs']} blobs: {state['ok']} intact, {state['missing']} missing, {state['corrupt']} corrupt, "
        f"{state['never_checked']} never checked; oldest check {state['oldest_check'] or 'none'}"
    )
    for damaged in state["damaged"]:
        out.print(f"  {damaged['status']} {damaged['sha256']}: {damaged['detail']}", markup=False)
    columns = ("id", "started", "checked", "bytes", "ok", "missing", "corrupt", "repaired")
    table = Table(*columns)
    for r in state["runs"]:
        table.add_row(*(str(r[k]) for k in columns))
    out.print(table)
