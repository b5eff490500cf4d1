"""``osnode peers replicate NAME --policy ...`` and ``osnode replicate [PEER]``: mirroring peers' files.

The scheduled replication is a job of the built-in plugin (``osnode.plugins.builtins``), run after the
scheduled harvests so newly harvested records get their files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..config import load_settings
from ..services import replication
from ..services.harvest import OAIClient
from ..services.node import Node
from . import CliError, DataOpt, JsonOpt, err, out
from .harvest import peers_app

# This module's commands; cli/commands.py adds them to the ``osnode`` command.
commands = typer.Typer()


def _open(data: Path | None) -> Node:
    return Node.open(load_settings(data))


@peers_app.command("replicate")
def peers_replicate(
    name: Annotated[str, typer.Argument(help="The peer's name.")],
    policy: Annotated[
        str | None, typer.Option("--policy", help="metadata (default), open (all open files) or sets.")
    ] = None,
    sets: Annotated[list[str] | None, typer.Option("--set", help="A set whose files to mirror (repeat).")] = None,
    as_json: JsonOpt = False,
    data: DataOpt = None,
) -> None:
    """Show or set what is mirrored from a peer: metadata only, all open files, or chosen sets."""
    node = _open(data)
    try:
        if policy is None:
            if sets:
                raise CliError("--set goes with --policy sets")
            chosen = replication.get_policy(node, name)
        else:
            chosen = replication.set_policy(node, name, policy, sets or [])
    finally:
        node.close()
    if as_json:
        out.print_json(json.dumps(chosen.as_json()))
    else:
        sets_text = f" ({', '.join(chosen.sets)})" if chosen.sets else ""
        out.print(f"{chosen.peer}: {chosen.policy}{sets_text}", markup=False)


def _print_report(report: replication.Report) -> None:
    out.print(
        f"{report.peer} [{report.policy}]: {report.records} record(s) · {report.replicated} replicated · "
        f"{report.unchanged} unchanged · {report.skipped} skipped · {report.failed} failed · "
        f"{report.blobs_fetched} blob(s) fetched ({report.bytes_fetched} bytes) · {report.blobs_present} present",
        markup=False,
    )
    if report.message:
        out.print(f"  {report.message}", markup=False)
    for problem in report.errors:
        out.print(f"  error {problem['identifier']}: {problem['message']}", markup=False)


@commands.command("replicate")
def replicate_cmd(
    peer: Annotated[
        str | None, typer.Argument(help="The peer to replicate (default: every peer with a policy).")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=32, help="Parallel transfers.")] = 4,
    as_json: JsonOpt = False,
    data: DataOpt = None,
) -> None:
    """Fetch the files of harvested records that this node does not hold yet (resumes, verifies)."""
    node = _open(data)
    try:
        if peer:
            replication.get_policy(node, peer)  # an unknown name is an error before anything starts
        names = [peer] if peer else replication.replicating_peers(node)
        if not names:
            raise CliError("no peer has a files policy: set one with 'osnode peers replicate NAME --policy open'")
        reports = []
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            console=err,
            disable=as_json or not err.is_terminal,
        ) as progress:
            for name in names:
                task = progress.add_task(name, total=None, counts="")

                def show(report: replication.Report, done: int, task: int = task) -> None:
                    counts = (
                        f"ok {report.replicated + report.unchanged} !{report.failed} · "
                        f"{report.blobs_fetched} blobs, {report.bytes_fetched / 1e6:.1f} MB"
                    )
                    progress.update(task, completed=done, total=report.records, counts=counts)

                reports.append(replication.replicate(node, name, connect=OAIClient, progress=show, workers=workers))
    finally:
        node.close()
    if as_json:
        out.print_json(json.dumps({"reports": [r.as_json() for r in reports]}))
    else:
        for report in reports:
            _print_report(report)
    failed = sum(r.failed for r in reports)
    if failed:
        raise CliError(f"{failed} record(s) could not be replicated now; run again to resume")
