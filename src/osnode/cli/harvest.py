"""``osnode peers add|list|remove`` and ``osnode harvest [PEER]``: federation from the command line.

The scheduled harvests are a job of the built-in plugin (``osnode.plugins.builtins``), not of this module.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..config import load_settings
from ..domain.errors import Conflict
from ..services import harvest as harvesting
from ..services.harvest import OAIClient
from ..services.node import Node
from . import CliError, DataOpt, JsonOpt, err, out, print_table

# This module's commands; cli/commands.py adds them to the ``osnode`` command.
commands = typer.Typer()

peers_app = typer.Typer(help="Manage the OAI-PMH peers this node harvests.", no_args_is_help=True)
commands.add_typer(peers_app, name="peers")


def _open(data: Path | None) -> Node:
    return Node.open(load_settings(data))


@peers_app.command("add")
def peers_add(
    url: Annotated[str, typer.Argument(help="The peer's OAI-PMH base URL, e.g. https://node.example.org/oai")],
    name: Annotated[str | None, typer.Option("--name", help="A short name (default: the host name).")] = None,
    set_spec: Annotated[str | None, typer.Option("--set", help="Harvest only this set.")] = None,
    metadata_format: Annotated[
        str | None, typer.Option("--format", help="oai_datacite, datacite or oai_dc (default: the best offered).")
    ] = None,
    every: Annotated[float | None, typer.Option("--every", help="Harvest every HOURS while serving.")] = None,
    no_check: Annotated[bool, typer.Option("--no-check", help="Do not contact the peer now.")] = False,
    jurisdiction: Annotated[
        str | None, typer.Option("--jurisdiction", help="Where the peer keeps what it holds (ISO 3166-1 code).")
    ] = None,
    as_json: JsonOpt = False,
    data: DataOpt = None,
) -> None:
    """Add a peer to harvest (checked with Identify unless --no-check)."""
    node = _open(data)
    try:
        peer = harvesting.add_peer(
            node,
            url,
            name=name,
            set_spec=set_spec,
            metadata_prefix=metadata_format,
            every_hours=every,
            connect=None if no_check else _connect_once,
            jurisdiction=jurisdiction,
        )
    finally:
        node.close()
    if as_json:
        out.print_json(json.dumps(peer.as_json()))
    else:
        out.print(f"added peer {peer.name}: {peer.base_url}", markup=False)


def _connect_once(url: str) -> OAIClient:
    from ..services.harvest import RetryPolicy

    return OAIClient(url, retry=RetryPolicy(attempts=2, backoff=1.0, max_wait=10), timeout=20)


@peers_app.command("list")
def peers_list(as_json: JsonOpt = False, data: DataOpt = None) -> None:
    """List peers with their last harvest: status, counts and errors."""
    node = _open(data)
    try:
        found = harvesting.list_peers(node)
    finally:
        node.close()
    if as_json:
        out.print_json(json.dumps({"peers": [p.as_json() for p in found]}))
        return
    headers = ["name", "url", "set", "every", "records", "last run", "status", "+", "~", "-", "errors"]
    rows = []
    for peer in found:
        run = peer.last_run
        rows.append(
            [
                peer.name,
                peer.base_url,
                peer.set_spec or "",
                f"{peer.every_hours:g} h" if peer.every_hours else "",
                str(peer.records),
                run.started.strftime("%Y-%m-%d %H:%M") if run else "never",
                run.status if run else "",
                str(run.added) if run else "",
                str(run.updated) if run else "",
                str(run.deleted) if run else "",
                str(run.errors) if run else "",
            ]
        )
    print_table(headers, rows)
    for peer in found:
        run = peer.last_run
        if run and run.message:
            out.print(f"{peer.name}: {run.message}", markup=False)


@peers_app.command("remove")
def peers_remove(name: str, data: DataOpt = None) -> None:
    """Remove a peer; records only it provided are withdrawn."""
    node = _open(data)
    try:
        withdrawn = harvesting.remove_peer(node, name)
    finally:
        node.close()
    out.print(f"removed peer {name}; {withdrawn} record(s) withdrawn", markup=False)


def _print_report(run: harvesting.RunInfo) -> None:
    out.print(
        f"{run.peer}: {run.status} · {run.pages} page(s) · {run.added} added · {run.updated} updated · "
        f"{run.deleted} deleted · {run.unchanged} unchanged · {run.skipped} skipped · {run.errors} error(s)",
        markup=False,
    )
    if run.message:
        out.print(f"  {run.message}", markup=False)
    for problem in run.error_list:
        if problem.get("error"):
            out.print(f"  error {problem.get('identifier') or '(page)'}: {problem['message']}", markup=False)


@commands.command("harvest")
def harvest_cmd(
    peer: Annotated[str | None, typer.Argument(help="The peer to harvest (default: every peer).")] = None,
    no_dump: Annotated[
        bool, typer.Option("--no-dump", help="Page through OAI-PMH even for a first harvest of a large osnode peer.")
    ] = False,
    as_json: JsonOpt = False,
    data: DataOpt = None,
) -> None:
    """Harvest one peer, or all, incrementally; resumes an interrupted harvest. The first harvest of a
    large osnode peer reads its bulk dump."""
    node = _open(data)
    try:
        names = [peer] if peer else [p.name for p in harvesting.list_peers(node)]
        if peer:
            harvesting.get_peer(node, peer)  # an unknown name is an error before anything starts
        if not names:
            raise CliError("no peers yet: add one with 'osnode peers add URL'")
        runs: list[harvesting.RunInfo] = []
        busy: list[str] = []
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

                def show(run: harvesting.RunInfo, task: int = task) -> None:
                    done = run.added + run.updated + run.deleted + run.unchanged + run.skipped + run.errors
                    counts = f"+{run.added} ~{run.updated} -{run.deleted} !{run.errors}"
                    progress.update(task, completed=done, total=run.complete_list_size, counts=counts)

                try:
                    runs.append(harvesting.harvest(node, name, OAIClient, progress=show, use_dump=not no_dump))
                except Conflict as exc:  # another harvest of this peer is under way: say so, go on
                    busy.append(str(exc))
    finally:
        node.close()
    if as_json:
        out.print_json(json.dumps({"runs": [r.as_json() for r in runs], "busy": busy}))
    else:
        for run in runs:
            _print_report(run)
    for message in busy:
        err.print(f"error: {message}", markup=False)
    if busy or any(r.status == "failed" for r in runs):
        raise typer.Exit(1)
