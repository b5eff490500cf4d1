"""``osnode export`` and ``osnode import``: offline packages (BagIt bags) between nodes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from ..config import load_settings
from ..services import packages
from ..services.node import Node
from . import CliError, DataOpt, JsonOpt, err, out

# This module's commands; cli/commands.py adds them to the ``osnode`` command.
commands = typer.Typer()


def _progress(quiet: bool) -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
        disable=quiet or not err.is_terminal,
    )


@commands.command("export")
def export_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="New folder for the bag.")],
    set_: Annotated[str | None, typer.Option("--set", help="Only this kind (resourceTypeGeneral).")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only versions published on or after YYYY-MM-DD.")
    ] = None,
    as_json: JsonOpt = False,
    data: DataOpt = None,
) -> None:
    """Write published records (RO-Crate, DataCite JSON, files) as a BagIt bag."""
    try:
        since_date = date.fromisoformat(since) if since else None
    except ValueError:
        raise CliError(f"--since must be a date, YYYY-MM-DD, not {since!r}") from None
    node = Node.open(load_settings(data))
    try:
        with _progress(as_json) as progress:
            task = progress.add_task("exporting", total=None)
            summary = packages.export(node, out_dir, set_, since_date, lambda n: progress.advance(task, n))
    finally:
        node.close()
    if as_json:
        out.print_json(json.dumps(summary.as_dict()))
    else:
        out.print(f"exported {summary.versions} versions, {summary.files} files ({summary.bytes} bytes) to {out_dir}")


@commands.command("import")
def import_cmd(
    bag: Annotated[Path, typer.Argument(help="A bag made by 'osnode export'.")],
    as_json: JsonOpt = False,
    data: DataOpt = None,
) -> None:
    """Validate a bag, then load its records with their provenance (skips what is already here)."""
    node = Node.open(load_settings(data))
    try:
        with _progress(as_json) as progress:
            task = progress.add_task("importing", total=None)
            summary = packages.import_bag(node, bag, lambda n: progress.advance(task, n))
    finally:
        node.close()
    if as_json:
        out.print_json(json.dumps(summary.as_dict()))
    else:
        out.print(
            f"imported {summary.versions} versions ({summary.skipped_versions} already here), "
            f"{summary.files} files ({summary.skipped_blobs} blobs already here)"
        )
