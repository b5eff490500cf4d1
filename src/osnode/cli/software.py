"""``osnode archive``, ``osnode swh-export`` and ``osnode swh-import``: software preservation from the shell."""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer

from ..services import archive
from . import AdminSession, CliError, DataOpt, JsonOpt, err, out, read_metadata_file

# This module's commands; cli/commands.py adds them to the ``osnode`` command.
commands = typer.Typer()


def _report(body: dict, as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps(body))
        return
    out.print(f"[bold]{body['metadata'].get('titles', [{'title': '(untitled)'}])[0]['title']}[/bold]")
    out.print(f"id {body['id']} · {body['state']} · {body['url']}")
    out.print(f"swhid {body['swhid']}")
    if body.get("head_revision"):
        out.print(f"head revision {body['head_revision']}")
    out.print(f"root directory {body['root_directory']}")
    out.print(f"cite {body['cite']}")
    out.print(f"{body['new_objects']} new objects ({body['seen_objects']} seen)")


@commands.command("archive")
def archive_cmd(
    path: Annotated[Path, typer.Argument(help="A git repository, a git bundle, a tar/zip archive or a folder.")],
    ref: Annotated[
        list[str] | None, typer.Option("--ref", help="Archive only this branch or tag (repeatable).")
    ] = None,
    metadata: Annotated[
        Path | None, typer.Option("--metadata", "-m", help="Metadata file (JSON or YAML) overriding the prefill.")
    ] = None,
    origin: Annotated[str | None, typer.Option("--origin", help="The origin URL to record (default: guessed).")] = None,
    publish: Annotated[bool, typer.Option("--publish", help="Publish the Software record right away.")] = False,
    as_json: JsonOpt = False,
    data: DataOpt = None,
) -> None:
    """Archive source code with SWHIDs and make a Software record pointing at it."""
    if not path.exists():
        raise CliError(f"not found: {path}")
    meta, access = read_metadata_file(metadata) if metadata else (None, None)
    if meta is not None and not isinstance(meta, dict):
        raise CliError("the metadata file must hold an object")
    local = AdminSession(data)
    try:
        with err.status("archiving…", spinner="dots") if err.is_terminal and not as_json else nullcontext():
            version, result = archive.archive_software(
                local.node, local.viewer, path, ref or None, meta, access, origin, publish
            )
        body = archive.software_json(local.node, version, result, local.viewer)
    finally:
        local.close()
    _report(body, as_json)


@commands.command("swh-export")
def swh_export_cmd(
    record: Annotated[str, typer.Argument(help="The record (or version) id of archived software.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the deposit package into.")],
    as_json: JsonOpt = False,
    data: DataOpt = None,
) -> None:
    """Write a Software Heritage deposit package (metadata.xml + archive.tar.gz) for a record."""
    local = AdminSession(data)
    try:
        manifest = archive.export_deposit(local.node, local.viewer, record, out_dir)
    finally:
        local.close()
    if as_json:
        out.print_json(json.dumps(manifest | {"folder": str(out_dir)}))
    else:
        out.print(f"deposit package for {manifest['swhid']} written to {out_dir}")


@commands.command("swh-import")
def swh_import_cmd(
    folder: Annotated[Path, typer.Argument(help="A deposit package folder (metadata.xml + archive.tar.gz).")],
    publish: Annotated[bool, typer.Option("--publish", help="Publish the Software record right away.")] = False,
    as_json: JsonOpt = False,
    data: DataOpt = None,
) -> None:
    """Archive a Software Heritage deposit package as a Software record."""
    if not folder.is_dir():
        raise CliError(f"not a folder: {folder}")
    local = AdminSession(data)
    try:
        version, result = archive.import_deposit(local.node, local.viewer, folder, publish)
        body = archive.software_json(local.node, version, result, local.viewer)
    finally:
        local.close()
    _report(body, as_json)
