"""The ``osnode`` command. Works on a data folder directly, or on a remote node with --url/--token."""

from __future__ import annotations

import json
import os
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

from ..client import NodeClient, file_chunks
from ..config import ConfigError, load_settings
from ..domain.access import Viewer
from ..domain.errors import NodeError
from ..services import deposit, records, users
from ..services.node import Node

app = typer.Typer(help="Open Science Node: publish and share open research outputs.", no_args_is_help=True)
users_app = typer.Typer(help="Manage users and API tokens.", no_args_is_help=True)
app.add_typer(users_app, name="users")
out = Console(soft_wrap=True)
err = Console(stderr=True)

DataOpt = Annotated[
    Path | None, typer.Option("--data", help="Node data folder (default: $OSNODE_DATA, else ./osnode-data).")
]
UrlOpt = Annotated[str | None, typer.Option("--url", help="Work on a remote node over its API instead.")]
TokenOpt = Annotated[str | None, typer.Option("--token", envvar="OSNODE_TOKEN", help="API token for --url.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


class CliError(Exception):
    """A usage problem reported as one line."""


class LocalBackend:
    """The same calls as ``NodeClient``, run directly on a data folder as its first administrator."""

    def __init__(self, data: Path | None) -> None:
        self.node = Node.open(load_settings(data))
        admin = users.first_admin(self.node)
        if admin is None:
            raise CliError(f"node in {self.node.settings.data_dir} has no administrator yet: run 'osnode init' first")
        self.viewer: Viewer = users.viewer_for(admin)

    def close(self) -> None:
        self.node.close()

    def _json(self, version: Any) -> dict[str, Any]:
        return records.describe(self.node, version, self.viewer)

    def create_draft(self, metadata: Any = None, access: Any = None) -> dict[str, Any]:
        return self._json(deposit.create_draft(self.node, self.viewer, metadata, access))

    def upload(self, version_id: str, path: Path, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        entry = deposit.add_file(self.node, version_id, path.name, file_chunks(path, progress), self.viewer)
        version = records.get_version(self.node, version_id, self.viewer)
        return records.file_json(
            self.node, version, entry, readable=records.files_readable(self.node, version, self.viewer)
        )

    def publish(self, version_id: str) -> dict[str, Any]:
        return self._json(deposit.publish(self.node, version_id, self.viewer))

    def delete_draft(self, version_id: str) -> None:
        deposit.delete_draft(self.node, version_id, self.viewer)

    def get(self, any_id: str) -> dict[str, Any]:
        return self._json(records.get_version(self.node, any_id, self.viewer))

    def list(self, size: int = 20, cursor: str | None = None, state: str = "published") -> dict[str, Any]:
        page = records.list_records(self.node, self.viewer, size=size, cursor=cursor, state=state)
        return {"items": page.items, "cursor": page.next_cursor}

    def new_version(self, any_id: str) -> dict[str, Any]:
        return self._json(deposit.new_version(self.node, any_id, self.viewer))

    def withdraw(self, any_id: str, reason: str) -> dict[str, Any]:
        withdrawn = deposit.withdraw(self.node, any_id, self.viewer, reason)
        return {"withdrawn": [records.tombstone(self.node, v) for v in withdrawn]}


def backend(data: Path | None, url: str | None, token: str | None) -> LocalBackend | NodeClient:
    if url:
        if not token:
            raise CliError("--url needs --token (or $OSNODE_TOKEN)")
        return NodeClient(url, token)
    return LocalBackend(data)


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
) -> None:
    """Serve the node's API and pages."""
    import uvicorn

    from ..app import create_app, scheduler_for
    from ..services import explore_worker

    settings = load_settings(data)
    if not settings.base_url:
        # Nothing configured: links point at where we listen.
        settings = replace(settings, base_url=f"http://{host}:{port}")
    node = Node.open(settings)
    out.print(f"serving {node.settings.node_name} at http://{host}:{port}/ (data: {node.settings.data_dir})")
    if node.settings.explore_preload:
        explore_worker.start()  # before serving: the first preview does not wait for the libraries to load
    scheduler = scheduler_for(node)
    scheduler.start()
    try:
        uvicorn.run(create_app(node), host=host, port=port, log_level="warning")
    finally:
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


def _discard_draft(node: LocalBackend | NodeClient, version_id: str) -> None:
    try:
        node.delete_draft(version_id)
    except (NodeError, OSError) as exc:
        err.print(f"warning: could not remove the unfinished draft {version_id}: {exc}", markup=False)


def _version_command(
    data: Path | None,
    url: str | None,
    token: str | None,
    as_json: bool,
    call: Callable[[LocalBackend | NodeClient], dict[str, Any]],
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
    table = Table("id", "record", "v", "kind", "title")
    for item in page["items"]:
        meta = item["metadata"]
        kind = (meta.get("resourceType") or {}).get("resourceTypeGeneral", "")
        title = (meta.get("titles") or [{"title": ""}])[0]["title"]
        table.add_row(item["id"], item["record_id"], str(item["version"]), kind, title)
    out.print(table)
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


@app.command()
def demo(
    data: Annotated[Path, typer.Option("--data", help="Folder for the demo node (recreated).")] = Path("demo-data"),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Only create the demo node.")] = False,
) -> None:
    """A fresh node with sample content (dataset, article, software), then serve it."""
    from ..services.demo import build_demo

    # The demo runs on embedded defaults, whatever catalog this shell points at.
    os.environ.pop("OSNODE_DATABASE_URL", None)
    summary = build_demo(data)
    out.print(f"demo node in {data} with {len(summary.records)} records; admin token: {summary.token}")
    for item in summary.records:
        out.print(f"  {item['kind']:<16} {item['url']}")
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
