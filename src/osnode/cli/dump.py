"""``osnode dump``: the node's records as gzip JSON Lines in a file (see ``services.dump``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from ..config import load_settings
from ..services import dump, oai
from ..services.node import Node
from . import CliError, DataOpt, err, out

# This module's commands; cli/commands.py adds them to the ``osnode`` command.
commands = typer.Typer()


@commands.command("dump")
def dump_cmd(
    out_file: Annotated[Path, typer.Option("--out", help="File to write (gzip JSON Lines).")],
    since: Annotated[str | None, typer.Option("--since", help="Only records changed since (ISO 8601).")] = None,
    data: DataOpt = None,
) -> None:
    """Write every record's metadata (or those changed since a moment) to a .jsonl.gz file."""
    moment = dump.parse_since(since)
    if out_file.is_dir():
        raise CliError(f"--out is a folder: {out_file}")
    if not out_file.parent.is_dir():
        raise CliError(f"no such folder: {out_file.parent}")
    node = Node.open(load_settings(data))
    partial = out_file.with_name(f".{out_file.name}.partial")
    try:
        total = oai.count_items(node, oai.Window(start=moment))
        count = 0

        def counted():  # type: ignore[no-untyped-def]
            nonlocal count
            for line in dump.lines(node, moment):
                count += 1
                progress.update(task, completed=count)
                yield line

        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
        ) as progress:
            task = progress.add_task("dumping records", total=total)
            # Written beside the target and renamed at the end: a file named --out is always whole.
            with partial.open("wb") as handle:
                for chunk in dump.gzip_stream(counted()):
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
        partial.replace(out_file)
    finally:
        partial.unlink(missing_ok=True)
        node.close()
    out.print(f"wrote {count} records to {out_file}")
