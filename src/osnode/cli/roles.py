"""The roles one configuration runs besides ``serve``: ``osnode worker`` takes jobs from the durable queue,
``osnode check`` says whether every engine the configuration names can be reached."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from . import CliError, DataOpt, err, out

commands = typer.Typer()


@commands.command()
def worker(
    data: DataOpt = None,
    schedule: Annotated[
        bool, typer.Option(help="Also enqueue the periodic jobs (harmless on every worker: once per period).")
    ] = True,
    poll: Annotated[float, typer.Option(min=0.05, help="Seconds between looks at an empty queue.")] = 1.0,
) -> None:
    """Take background jobs (harvest, replication, fixity, profiles, mail) from the catalog's queue."""
    from ..app import jobs
    from ..config import load_settings
    from ..plugins.builtins import TASKS
    from ..services import queue
    from ..services.node import Node

    settings = load_settings(data)
    if settings.queue != "database":
        raise CliError("queue is 'embedded' (jobs run in osnode serve); set queue = \"database\" to use workers")
    node = Node.open(settings)
    runner = queue.Worker(node, jobs(), TASKS, schedule=schedule, poll=poll)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        runner.stopping.set()  # the running job finishes; its outcome is recorded

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    out.print(f"worker {runner.name} taking jobs from {node.engine.url.render_as_string()}")
    try:
        runner.run()
    finally:
        node.close()


@commands.command()
def check(data: DataOpt = None) -> None:
    """Check that the database, blob store, queue, SMTP server and OIDC providers can be reached."""
    from ..config import load_settings
    from ..services.check import check_all

    settings = load_settings(data)
    if not Path(settings.data_dir).is_dir():
        raise CliError(f"no node in {settings.data_dir}: run 'osnode init' first")
    findings = check_all(settings)
    for finding in findings:
        mark = "ok  " if finding.ok else "FAIL"
        (out if finding.ok else err).print(f"{mark} {finding.engine}: {finding.detail}", markup=False, soft_wrap=True)
    if not all(f.ok for f in findings):
        raise typer.Exit(1)
