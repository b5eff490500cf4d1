"""The ``osnode`` command. Works on a data folder directly, or on a remote node with --url/--token."""

from __future__ import annotations

import errno
import json
import os
import socket
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import click
import sqlalchemy.exc
import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
from rich.table import Table

from ..client import InProcessTransport, NodeClient
from ..config import ConfigError, load_settings
from ..domain.access import Viewer
from ..domain.errors import NodeError
from ..services import users
from ..services.node import Node

app = typer.Typer(help="Open Science Node: publish and share open research outputs.", no_args_is_help=True)
users_app = typer.Typer(help="Manage users and API tokens.", no_args_is_help=True)
app.add_typer(users_app, name="users")
# No automatic highlighting: it colours the digits inside a SHA-256 or an id apart from its letters,
# which splits what a user copies; the CLI colours what it means to (markup) and nothing else.
out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, highlight=False)

DataOpt = Annotated[
    Path | None, typer.Option("--data", help="Node data folder (default: $OSNODE_DATA, else ./osnode-data).")
]
UrlOpt = Annotated[str | None, typer.Option("--url", help="Work on a remote node over its API instead.")]
TokenOpt = Annotated[str | None, typer.Option("--token", envvar="OSNODE_TOKEN", help="API token for --url.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


class CliError(Exception):
    """A usage problem reported as one line."""


class AdminSession:
    """A data folder opened as its first administrator, for the commands that have no API call yet."""

    def __init__(self, data: Path | None) -> None:
        settings = load_settings(data)
        if not settings.data_dir.is_dir():
            # Checked before opening: opening would create the folder for a command that then fails.
            raise CliError(f"no node in {settings.data_dir}: run 'osnode init' first")
        self.node = Node.open(settings)
        admin = users.first_admin(self.node)
        if admin is None:
            self.node.close()
            raise CliError(f"node in {self.node.settings.data_dir} has no administrator yet: run 'osnode init' first")
        self.viewer: Viewer = users.viewer_for(admin)

    def close(self) -> None:
        self.node.close()


# A local upload goes to the in-process app in pieces of this size (the transport reads each one whole).
LOCAL_UPLOAD_PIECE = 8 * 1024 * 1024


def local_client(data: Path | None) -> NodeClient:
    """``NodeClient`` on the data folder's own app, in this process, acting as the folder's first admin.

    The same routes and errors as ``--url``; the admin identity is passed to the in-process app
    (``trusted_app``), never minted as a token, and no port is opened.
    """
    from ..app import trusted_app

    session = AdminSession(data)
    try:
        app = trusted_app(session.node, session.viewer)
        client = NodeClient(
            "http://osnode.local",  # any host: no request leaves the process; links use the settings
            transport=InProcessTransport(app),
            upload_piece=LOCAL_UPLOAD_PIECE,
        )
    except BaseException:
        session.close()
        raise
    client.on_close(session.close)
    return client


def backend(data: Path | None, url: str | None, token: str | None) -> NodeClient:
    if url:
        if not token:
            raise CliError("--url needs --token (or $OSNODE_TOKEN)")
        return NodeClient(url, token)
    return local_client(data)


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    """A table on a terminal; tab-separated lines (a header, then one per row) into a pipe or a file.

    Nothing is cut short: on a narrow terminal a long cell (a URL, an id) folds onto more lines instead
    of ending in an ellipsis. Plain lines are whole, for scripts (``cut -f2``).
    """
    if not out.is_terminal:
        for line in [headers, *rows]:
            # Written as is: rich would expand the tabs into spaces.
            out.file.write("\t".join(cell.replace("\t", " ").replace("\n", " ") for cell in line) + "\n")
        return
    table = Table()
    for header in headers:
        # Nothing ends in an ellipsis: a long URL or id folds onto more lines, every character kept.
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*row)
    out.print(table)


def read_metadata_file(path: Path) -> tuple[Any, Any]:
    """Metadata from JSON or YAML; either the metadata itself or ``{"metadata": ..., "access": ...}``."""
    if not path.is_file():
        raise CliError(f"metadata file not found: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
            # PyYAML's own message spans several lines (with a source excerpt); the CLI prints one.
            mark = exc.problem_mark
            reason = f"{exc.problem} (line {mark.line + 1}, column {mark.column + 1})"
        else:
            reason = " ".join(str(exc).split())
        kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
        raise CliError(f"{path} is not valid {kind}: {reason}") from None
    if not isinstance(data, dict):
        raise CliError(f"{path} must hold an object of metadata properties")
    if "metadata" in data:
        return data["metadata"], data.get("access")
    return data, None


def _print_version(version: dict[str, Any]) -> None:
    meta = version.get("metadata", {})
    title = (meta.get("titles") or [{"title": "(untitled)"}])[0]["title"]
    out.print(f"[bold]{title}[/bold]")
    out.print(f"id {version['id']} · record {version['record_id']} · version {version['version']} · {version['state']}")
    out.print(f"url {version['url']}")
    for f in version.get("files", []):
        out.print(f"  {f['key']}  {f['size']} bytes  {f['checksum']}")


@app.command()
def init(
    data: DataOpt = None,
    admin: Annotated[str, typer.Option(help="Name of the first administrator.")] = "admin",
    database_url: Annotated[str | None, typer.Option(help="PostgreSQL URL instead of embedded SQLite.")] = None,
    base_url: Annotated[str | None, typer.Option(help="Public URL of the node.")] = None,
    name: Annotated[str | None, typer.Option(help="The node's name, shown as publisher.")] = None,
) -> None:
    """Create a node's data folder and its first administrator; prints the admin's API token."""
    folder = data or load_settings().data_dir
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "osnode.toml"
    wanted = {"database_url": database_url, "base_url": base_url, "node_name": name}
    lines = [f"{key} = {json.dumps(value)}" for key, value in wanted.items() if value]
    if lines:
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    node = Node.open(load_settings(folder))
    try:
        if users.first_admin(node) is not None:
            raise CliError(f"node in {folder} is already initialized")
        user = users.create_user(node, admin, "admin")
        token = users.create_token(node, user, "created by osnode init")
    finally:
        node.close()
    out.print(f"initialized node in {folder}")
    out.print(f"admin '{user.name}' token: {token}")


@app.command()
def serve(
    data: DataOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Web processes sharing the port (uvicorn workers).")] = 1,
) -> None:
    """Serve the node's API and pages."""
    import uvicorn

    from ..app import create_app, scheduler_for
    from ..services import explore_worker
    from ..web.serving import uvicorn_options

    settings = load_settings(data)
    if not settings.base_url:
        # Nothing configured: links point at where we listen.
        settings = replace(settings, base_url=f"http://{host}:{port}")
    node = Node.open(settings)  # migrates the catalog once, before any worker process opens it
    out.print(f"serving {node.settings.node_name} at http://{host}:{port}/ (data: {node.settings.data_dir})")
    out.print("press Ctrl+C to stop")
    if node.settings.explore_preload and workers == 1:
        explore_worker.start()  # before serving: the first preview does not wait for the libraries to load
    # The embedded default runs the background jobs here, once for all web processes; with the durable
    # queue, ``osnode worker`` processes run them.
    scheduler = scheduler_for(node) if node.settings.queue == "embedded" else None
    if scheduler is not None:
        scheduler.start()
    options = uvicorn_options(node.settings.trusted_proxies)
    try:
        if workers == 1:
            uvicorn.run(create_app(node), host=host, port=port, log_level="warning", **options)
        else:
            # Each process builds its own app (``app.served_app``) from the same settings.
            os.environ["OSNODE_DATA"] = str(settings.data_dir)
            os.environ["OSNODE_BASE_URL"] = settings.base_url
            target = "osnode.app:served_app"
            uvicorn.run(target, factory=True, host=host, port=port, workers=workers, log_level="warning", **options)
    finally:
        if scheduler is not None:
            scheduler.stop(timeout=5)


@app.command("deposit")
def deposit_cmd(
    files: Annotated[list[Path], typer.Argument(help="Files to upload.")],
    metadata: Annotated[Path, typer.Option("--metadata", "-m", help="Metadata file (JSON or YAML).")],
    publish: Annotated[bool, typer.Option("--publish", help="Publish right after upload.")] = False,
    as_json: JsonOpt = False,
    data: DataOpt = None,
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Create a record from files and a metadata file; optionally publish it."""
    for path in files:
        if not path.is_file():
            raise CliError(f"not a file: {path}")
    meta, access = read_metadata_file(metadata)
    node = backend(data, url, token)
    draft: dict[str, Any] | None = None
    try:
        draft = node.create_draft(meta, access)
        total = sum(p.stat().st_size for p in files)
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=err,
            disable=as_json or not err.is_terminal,
        ) as progress:
            task = progress.add_task("uploading", total=total)
            for path in files:
                progress.update(task, description=path.name)
                node.upload(draft["id"], path, lambda n: progress.advance(task, n))
        result = node.publish(draft["id"]) if publish else node.get(draft["id"])
    except BaseException:
        # A deposit that fails half-way leaves nothing behind: bad input changes nothing.
        if draft is not None:
            _discard_draft(node, draft["id"])
        raise
    finally:
        node.close()
    if as_json:
        out.print_json(json.dumps(result))
    else:
        _print_version(result)


def _discard_draft(node: NodeClient, version_id: str) -> None:
    try:
        node.delete_draft(version_id)
    except (NodeError, OSError) as exc:
        err.print(f"warning: could not remove the unfinished draft {version_id}: {exc}", markup=False)


def _version_command(
    data: Path | None,
    url: str | None,
    token: str | None,
    as_json: bool,
    call: Callable[[NodeClient], dict[str, Any]],
) -> None:
    """Run one call that answers a version, on a data folder or a remote node, and print it."""
    node = backend(data, url, token)
    try:
        result = call(node)
    finally:
        node.close()
    out.print_json(json.dumps(result)) if as_json else _print_version(result)


@app.command("publish")
def publish_cmd(
    version_id: str, as_json: JsonOpt = False, data: DataOpt = None, url: UrlOpt = None, token: TokenOpt = None
) -> None:
    """Publish a draft version."""
    _version_command(data, url, token, as_json, lambda node: node.publish(version_id))


@app.command()
def show(
    record_id: str, as_json: JsonOpt = False, data: DataOpt = None, url: UrlOpt = None, token: TokenOpt = None
) -> None:
    """Show a record (its latest version) or one version."""
    _version_command(data, url, token, as_json, lambda node: node.get(record_id))


@app.command("list")
def list_cmd(
    size: Annotated[int, typer.Option(help="Records per page.")] = 20,
    cursor: Annotated[str | None, typer.Option(help="Cursor from the previous page.")] = None,
    drafts: Annotated[bool, typer.Option("--drafts", help="List drafts instead.")] = False,
    as_json: JsonOpt = False,
    data: DataOpt = None,
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """List records, newest first."""
    node = backend(data, url, token)
    try:
        page = node.list(size, cursor, "draft" if drafts else "published")
    finally:
        node.close()
    if as_json:
        out.print_json(json.dumps(page))
        return
    rows = []
    for item in page["items"]:
        meta = item["metadata"]
        kind = (meta.get("resourceType") or {}).get("resourceTypeGeneral", "")
        title = (meta.get("titles") or [{"title": ""}])[0]["title"]
        rows.append([item["id"], item["record_id"], str(item["version"]), kind, title])
    print_table(["id", "record", "v", "kind", "title"], rows)
    if page.get("cursor"):
        out.print(f"next page: --cursor {page['cursor']}")


@app.command("new-version")
def new_version_cmd(
    record_id: str, as_json: JsonOpt = False, data: DataOpt = None, url: UrlOpt = None, token: TokenOpt = None
) -> None:
    """Start a new draft version of a published record (files carried over)."""
    _version_command(data, url, token, as_json, lambda node: node.new_version(record_id))


@app.command()
def withdraw(
    record_id: str,
    reason: Annotated[str, typer.Option("--reason", help="Why it is withdrawn (shown on the tombstone).")],
    as_json: JsonOpt = False,
    data: DataOpt = None,
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Withdraw a version, or every version of a record; a tombstone remains."""
    node = backend(data, url, token)
    try:
        result = node.withdraw(record_id, reason)
    finally:
        node.close()
    if as_json:
        out.print_json(json.dumps(result))
    else:
        for stone in result["withdrawn"]:
            out.print(f"withdrawn {stone['id']}: {stone['reason']}")


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[str, typer.Option(help="admin, curator or depositor.")] = "depositor",
    data: DataOpt = None,
) -> None:
    """Add a user and print a first API token for them."""
    node = Node.open(load_settings(data))
    try:
        user = users.create_user(node, name, role)
        token = users.create_token(node, user, "created by osnode users add")
    finally:
        node.close()
    out.print(f"user '{user.name}' ({user.role.value}) token: {token}")


@users_app.command("token")
def users_token(name: str, data: DataOpt = None) -> None:
    """Make a new API token for an existing user."""
    node = Node.open(load_settings(data))
    try:
        token = users.create_token(node, users.get_user(node, name), "created by osnode users token")
    finally:
        node.close()
    out.print(token)


def _check_port(host: str, port: int) -> None:
    """Refuse a port another program holds, before the demo spends a minute building."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind((host, port))
    except OSError as exc:
        reason = "it is already in use" if exc.errno == errno.EADDRINUSE else " ".join(str(exc).split())
        raise CliError(f"cannot listen on {host}:{port}: {reason}; choose another with --port") from None


@app.command()
def demo(
    data: Annotated[Path, typer.Option("--data", help="Folder for the demo node.")] = Path("demo-data"),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Only create the demo node.")] = False,
    fresh: Annotated[bool, typer.Option("--fresh", help="Replace an earlier demo node and its additions.")] = False,
) -> None:
    """A node with sample content (dataset, article, software, cell atlas), then serve it.

    An earlier demo node in the folder is kept as it is, with whatever was added to it, unless --fresh.
    """
    from ..services import demo as demo_service

    if not no_serve:
        _check_port(host, port)
    # The demo runs on embedded defaults, whatever catalog this shell points at.
    os.environ.pop("OSNODE_DATABASE_URL", None)
    base_url = f"http://{host}:{port}"
    if demo_service.is_demo(data) and not fresh:
        summary = demo_service.reopen_demo(data, base_url)
        out.print(f"demo node in {data} kept as it was, with {len(summary.records)} published records")
        out.print("  (osnode demo --fresh replaces it)")
    else:
        if demo_service.is_demo(data):
            out.print(f"replacing the demo node in {data}: deleting {demo_service.demo_contents(data)}")
        summary = demo_service.build_demo(data, base_url)
        out.print(f"demo node in {data} with {len(summary.records)} records")
    for item in summary.records:
        out.print(f"  {item['kind']:<16} {item['url']}")
    out.print(f"admin token: {summary.token}")
    out.print("  (the administrator's API token: for the upload page, the API and osnode --url URL --token TOKEN)")
    if not no_serve:
        serve(data=data, host=host, port=port)


def main() -> None:
    try:
        # Without standalone mode click returns the code of a ``typer.Exit`` instead of exiting with it.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except NodeError as exc:
        message = exc.detail
        errors = getattr(exc, "errors", None)
        if errors:
            message += ": " + "; ".join(f"{e.path}: {e.message}" for e in errors)
        err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
    except (CliError, ConfigError) as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except OSError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
    except (sqlalchemy.exc.ArgumentError, sqlalchemy.exc.OperationalError) as exc:
        # A wrong or unreachable database URL: the driver's message, on one line.
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        err.print(f"error: cannot use the catalog: {reason}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)


# The command groups that live in their own modules, and any installed plugin's, are added here explicitly.
def _register_commands(cli: typer.Typer) -> None:
    from ..plugins import plugin_manager
    from . import commands

    # Only the command plugins: the server's built-ins would load the web stack for every command.
    plugin_manager([commands]).hook.register_commands(cli=cli)


_register_commands(app)
