"""Archived software on the web: browse trees, read files with line anchors and SWHIDs for line ranges, commit
logs, reproducible tar.gz downloads, the ``/swhid/...`` resolver, the JSON API, and the landing-page panel."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, unquote_to_bytes

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from ..domain.access import Viewer
from ..domain.errors import InvalidInput, NotFound, TooLarge, Unauthorized
from ..domain.records import Version
from ..services import access, archive
from ..services.archive import browsing
from ..services.node import Node
from ..software.swhid import PERM_DIR, PERM_EXEC, PERM_LINK, SWHID, parse_lines, parse_swhid
from . import negotiation, problems
from .deps import NodeDep, ViewerDep
from .panels import Panel
from .templating import templates

router = APIRouter(responses=problems.documented(400, 401, 403, 404, 409, 410, 413, 422))
MAX_SHOWN_BYTES = 128 * 1024  # larger files are offered for download, not rendered (page budget)
MAX_SHOWN_ENTRIES = 1000
HTML, JSON = "text/html", "application/json"


# -- JSON API --------------------------------------------------------------------------------------


@router.post("/api/software", status_code=201, tags=["software"], summary="Archive an uploaded source archive")
async def upload_and_archive(
    request: Request,
    filename: str = Query("upload", description="The uploaded file's name (for the record's title)."),
    publish: bool = False,
    origin: str | None = None,
    node: Node = NodeDep,
    viewer: Viewer = ViewerDep,
) -> dict[str, Any]:
    """The request body is a tar.gz/tar.xz/zip archive or a git bundle; it is checked, archived with SWHIDs and
    becomes a Software record (a draft unless ``publish``)."""
    if viewer.user_id is None:
        raise Unauthorized("archiving software needs an API token")
    limit = node.settings.max_upload_bytes
    folder = Path(tempfile.mkdtemp(prefix="osnode-upload-"))
    target = folder / (Path(filename).name or "upload")
    try:
        size = 0
        with target.open("wb") as handle:
            async for chunk in request.stream():
                size += len(chunk)
                if limit is not None and size > limit:
                    raise TooLarge(f"the upload is larger than this node's limit of {limit} bytes")
                handle.write(chunk)
        if size == 0:
            raise InvalidInput("the request body is empty: send the archive as the body")
        version, result = await run_in_threadpool(
            archive.archive_software, node, viewer, target, None, None, None, origin or f"upload:{target.name}", publish
        )
        return await run_in_threadpool(archive.software_json, node, version, result, viewer)
    finally:
        target.unlink(missing_ok=True)
        os.rmdir(folder)


@router.post("/api/records/{version_id}/software", tags=["software"], summary="Archive a draft's uploaded file")
def archive_draft_file(
    version_id: str, key: str = Query(...), node: Node = NodeDep, viewer: Viewer = ViewerDep
) -> dict[str, Any]:
    version, result = archive.archive_draft_file(node, viewer, version_id, key)
    return archive.software_json(node, version, result, viewer)


@router.get("/api/software/{any_id}", tags=["software"], summary="The archived software of a record")
def software_info(any_id: str, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, Any]:
    version, link = archive.deposit_for(node, any_id, viewer)
    return _link_json(node, version, link)


@router.get("/api/software/contents/{sha1_git}/raw", tags=["software"], summary="The bytes of an archived file")
def content_raw(sha1_git: str, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    data = browsing.visible_content(node, viewer, sha1_git)
    return Response(data, media_type="application/octet-stream", headers={"X-Content-Type-Options": "nosniff"})


def _raw_swhid(request: Request, prefix: str) -> str:
    # The raw (still percent-encoded) path: a qualifier value may hold an encoded ';' that decoding would turn
    # into a separator.
    raw = request.scope.get("raw_path") or request.url.path.encode()
    text = raw.decode("latin-1").split(prefix, 1)[-1]
    return text if text.startswith("swh:") else unquote(text)


@router.get("/api/swhid/{swhid:path}", tags=["software"], summary="Resolve a SWHID (qualifiers allowed)")
def api_resolve(swhid: str, request: Request, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> dict[str, Any]:
    _, body = archive.resolve_swhid(node, viewer, _raw_swhid(request, "/api/swhid/"))
    return body


# -- HTML ------------------------------------------------------------------------------------------


@router.get("/swhid/{swhid:path}", include_in_schema=False)
def resolve(
    swhid: str, request: Request, lines: str | None = None, node: Node = NodeDep, viewer: Viewer = ViewerDep
) -> Response:
    chosen = negotiation.choose(request.headers.get("accept"), [HTML, JSON])
    if chosen is None:
        return problems.problem(406, "this resource is available as text/html, application/json", request.url.path)
    parsed, body = archive.resolve_swhid(node, viewer, _raw_swhid(request, "/swhid/"))
    if chosen == JSON:
        return Response(_dumps(body), media_type=JSON, headers={"Vary": "Accept"})
    context: dict[str, Any] = {"node": node, "swhid": parsed, "object": body}
    if parsed.kind == "cnt":
        # Line links on this page select with ?lines=; the qualifier is the starting selection.
        cite = str(SWHID(parsed.kind, parsed.hex, tuple(q for q in parsed.qualifiers if q[0] != "lines")))
        context |= _file_context(node, parsed.hex, lines or parsed.qualifier("lines"), cite)
    elif parsed.kind == "dir":
        context["rows"] = _rows(node, parsed.hex, lambda e: f"/swhid/swh:1:{e.kind}:{e.target}")
    page = templates.TemplateResponse(request, "software/object.html", context)
    page.headers["Vary"] = "Accept"
    return page


def _dumps(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False, indent=1)


@router.get("/software/{any_id}", include_in_schema=False)
def software_home(any_id: str, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    version, link = archive.deposit_for(node, any_id, viewer)
    root = link.head_revision or link.root_directory
    return RedirectResponse(f"/software/{version.id}/tree/{root}/", status_code=303)


@router.get("/software/{any_id}/tree/{anchor}/{path:path}", response_class=HTMLResponse, include_in_schema=False)
def browse(
    any_id: str,
    anchor: str,
    path: str,
    request: Request,
    lines: str | None = None,
    node: Node = NodeDep,
    viewer: Viewer = ViewerDep,
) -> Response:
    version, link = archive.deposit_for(node, any_id, viewer)
    base = f"/software/{version.id}"
    raw_path = _raw_tail(request, f"/tree/{anchor}/")
    anchor_kind, entry = browsing.tree_entry(node, link, anchor, raw_path)
    if entry is None:
        raise NotFound(f"no file or folder '{path}' in this tree")
    anchor_swhid = f"swh:1:{anchor_kind}:{anchor}"
    quals = {"origin": link.origin, "visit": link.visit_swhid, "anchor": anchor_swhid}
    context: dict[str, Any] = {
        "node": node,
        "version": version,
        "title": version.metadata.get("titles", [{"title": version.id}])[0]["title"],
        "base": base,
        "anchor": anchor,
        "anchor_swhid": anchor_swhid,
        "crumbs": _crumbs(base, anchor, raw_path),
        "path": "/" + _shown(raw_path),
        "qualifier_path": "/" + raw_path.decode("utf-8", "surrogateescape"),
    }
    if entry.perms == PERM_DIR:
        here = f"{base}/tree/{anchor}/" + (quote(raw_path) + "/" if raw_path else "")
        context["rows"] = _rows(
            node, entry.target, lambda e: here + quote(e.name) + ("/" if e.perms == PERM_DIR else "")
        )
        context["swhid"] = SWHID("dir", entry.target).with_qualifiers(
            **quals, path=context["qualifier_path"] if raw_path else None
        )
        context["download"] = f"{base}/archive/{entry.target}.tar.gz"
        context["log"] = f"{base}/log/{anchor}" if anchor_kind == "rev" else None
        return templates.TemplateResponse(request, "software/tree.html", context)
    if entry.kind != "cnt":
        raise NotFound(f"'{path}' is a submodule, which is archived separately")
    cite = SWHID("cnt", entry.target).with_qualifiers(**quals, path=context["qualifier_path"])
    context |= _file_context(node, entry.target, lines, str(cite))
    context["is_link"] = entry.perms == PERM_LINK
    context["is_exec"] = entry.perms == PERM_EXEC
    return templates.TemplateResponse(request, "software/file.html", context)


def _raw_tail(request: Request, marker: str) -> bytes:
    """The path after ``marker`` as the bytes the client sent: file names need not be UTF-8."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    tail = raw.split(marker.encode(), 1)[-1]
    return unquote_to_bytes(tail.decode("latin-1")).strip(b"/")


def _shown(name: bytes) -> str:
    """A name for display: bytes that are not UTF-8 are shown as \\xNN escapes."""
    return name.decode("utf-8", "backslashreplace")


def _crumbs(base: str, anchor: str, raw_path: bytes) -> list[tuple[str, str]]:
    crumbs = [("/", f"{base}/tree/{anchor}/")]
    parts = [p for p in raw_path.split(b"/") if p]
    for i, part in enumerate(parts):
        crumbs.append((_shown(part), f"{base}/tree/{anchor}/{quote(b'/'.join(parts[: i + 1]))}/"))
    return crumbs


def _rows(node: Node, directory: str, href) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    rows = []
    for listed in browsing.listing(node, directory, MAX_SHOWN_ENTRIES):
        entry, size = listed.entry, listed.size
        rows.append(
            {
                "name": _shown(entry.name),
                "is_dir": entry.perms == PERM_DIR,
                "kind": {PERM_DIR: "folder", PERM_LINK: "symlink", PERM_EXEC: "executable"}.get(entry.perms, "file"),
                "href": href(entry) if entry.kind != "rev" else None,
                "size": size,
                "swhid": f"swh:1:{entry.kind}:{entry.target}",
            }
        )
    return rows


def _file_context(node: Node, sha1_git: str, lines: str | None, cite: str) -> dict[str, Any]:
    length = browsing.content_length(node, sha1_git)
    selected: tuple[int, int] | None = None
    if lines:
        try:
            selected = parse_lines(lines)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
    text_lines: list[str] | None = None
    if length <= MAX_SHOWN_BYTES:
        data = archive.read_content(node, sha1_git)
        if b"\0" not in data:
            text_lines = data.decode("utf-8", "replace").splitlines()
    parsed_cite = parse_swhid(cite)
    range_swhid = str(parsed_cite.with_qualifiers(lines=_lines_text(selected))) if selected else None
    # Relative links ("?lines=..."): short, and right on every page that shows a file.
    links = []
    for number in range(1, len(text_lines or []) + 1):
        if selected and selected[0] == selected[1] and number > selected[0]:
            target = f"?lines={selected[0]}-{number}#L{selected[0]}"
        else:
            target = f"?lines={number}#L{number}"
        links.append(target)
    return {
        "sha1_git": sha1_git,
        "length": length,
        "lines": text_lines,
        "line_links": links,
        "selected": selected,
        "cite": cite,
        "range_swhid": range_swhid,
        "raw": f"/api/software/contents/{sha1_git}/raw",
    }


def _lines_text(selected: tuple[int, int]) -> str:
    return str(selected[0]) if selected[0] == selected[1] else f"{selected[0]}-{selected[1]}"


@router.get("/software/{any_id}/log/{anchor}", response_class=HTMLResponse, include_in_schema=False)
def commit_log(
    any_id: str, anchor: str, request: Request, node: Node = NodeDep, viewer: Viewer = ViewerDep
) -> Response:
    version, link = archive.deposit_for(node, any_id, viewer)
    entries = [
        {
            "swhid": f"swh:1:rev:{e.revision.sha1_git}",
            "id": e.revision.sha1_git,
            "author": e.revision.author.split(" <")[0],
            "date": e.revision.date,
            "summary": (e.revision.message.strip().splitlines() or [""])[0],
            "href": f"/software/{version.id}/tree/{e.revision.sha1_git}/",
            "parents": e.parent_count,
        }
        for e in browsing.revision_log(node, link, anchor, limit=200)
    ]
    context = {
        "node": node,
        "version": version,
        "entries": entries,
        "anchor": anchor,
        "base": f"/software/{version.id}",
    }
    return templates.TemplateResponse(request, "software/log.html", context)


@router.get("/software/{any_id}/archive/{directory}.tar.gz", include_in_schema=False)
def download_directory(any_id: str, directory: str, node: Node = NodeDep, viewer: Viewer = ViewerDep) -> Response:
    version, link = archive.deposit_for(node, any_id, viewer)
    browsing.check_deposit_directory(node, link, directory)
    name = f"swh-dir-{directory[:12]}"
    spool = archive.tarball_file(node, directory, name)
    headers = {"Content-Disposition": f'attachment; filename="{name}.tar.gz"', "ETag": f'"{directory}"'}
    return StreamingResponse(
        archive.file_chunks(spool),
        media_type="application/gzip",
        headers=headers,
        background=BackgroundTask(spool.close),
    )


# -- landing-page panel ------------------------------------------------------------------------------


def _link_json(node: Node, version: Version, link: archive.DepositLink) -> dict[str, Any]:
    quals = {"origin": link.origin, "visit": link.visit_swhid}
    body: dict[str, Any] = {"id": version.id, "swhid": link.swhid, "origin": link.origin, "visit": link.visit}
    body["root_directory"] = str(
        SWHID("dir", link.root_directory).with_qualifiers(
            **quals, anchor=f"swh:1:rev:{link.head_revision}" if link.head_revision else None
        )
    )
    body["head_revision"] = (
        str(SWHID("rev", link.head_revision).with_qualifiers(**quals)) if link.head_revision else None
    )
    body["snapshot"] = (
        str(SWHID("snp", link.swhid[10:]).with_qualifiers(origin=link.origin)) if link.visit_swhid else None
    )
    body["browse"] = f"{node.settings.public_url}/software/{version.id}"
    return body


def software_panel(_request: Request, node: Node, version: Version, viewer: Viewer) -> Panel | None:
    link = browsing.link_of(node, version.id)
    # A SWHID is a content hash: a reader who may not get the files never sees it (docs/security.md).
    if link is None or access.refusal(node, version, viewer) is not None:
        return None
    context = _link_json(node, version, link)
    context["browsable"] = True
    return Panel("panels/software.html", context)


def swh_date(stamp: int | None) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M UTC") if stamp is not None else ""


templates.env.filters["swh_date"] = swh_date
