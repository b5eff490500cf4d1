"""New upload (/deposit/new, /deposit/{id}): plain forms, signed-in people only (the workspace, /my, is
``web/workspace.py``).

Every button of the form is a submit button named ``action`` ("save", "add:creators", "up:creators.1",
"publish"...): each saves the draft first, so nothing typed is lost without JavaScript; with JavaScript a small
script also posts the form to ``/deposit/{id}/autosave`` a moment after typing stops. Errors come back beside
the field whose name is their metadata path (see ``services.deposit_form``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from ..domain import duo, vocabularies
from ..domain.access import Viewer
from ..domain.errors import FieldError, InvalidInput, NodeError, TooLarge
from ..services import deposit, deposit_form, metadata_import
from ..services.node import Node
from .account_pages import page
from .deps import NodeDep
from .i18n import N_
from .sessions import SignedInDep
from .upload_pages import _read_chunks

router = APIRouter(include_in_schema=False)
# Common open licences first (SPDX ids); "other" lets the depositor type any SPDX expression.
LICENCES = ["CC-BY-4.0", "CC0-1.0", "CC-BY-SA-4.0", "MIT", "Apache-2.0", "GPL-3.0-or-later", "BSD-3-Clause",
            "CC-BY-NC-4.0", "LGPL-3.0-or-later", "MPL-2.0", "AGPL-3.0-or-later", "ODbL-1.0"]  # fmt: skip
FILES_PER_PAGE = 50
MAX_FORM_FIELDS = deposit_form.MAX_FIELDS + 10
MESSAGES = [
    N_("this form has too many fields"),
    N_("a field of this form is too long"),
    N_("this file is not DataCite XML or JSON, RO-Crate metadata, CodeMeta or CITATION.cff"),
    N_("a metadata file has at most 2 MB"),
]


def _context(node: Node, viewer: Viewer, version: Any, fields: dict[str, str], page_no: int) -> dict[str, Any]:
    files = list(version.files) if version else []
    start = max(page_no - 1, 0) * FILES_PER_PAGE
    return {
        "version": version,
        "f": fields,
        "rows": {g: max(deposit_form.rows(fields, g), n) for g, n in deposit_form.LISTS.items()},
        "people": deposit_form.people(node, viewer),
        "licences": LICENCES,
        "vocab": vocabularies,
        "duo_permissions": duo.PERMISSIONS,
        "files": files[start : start + FILES_PER_PAGE],
        "file_count": len(files),
        "file_page": max(page_no, 1),
        "file_pages": max((len(files) + FILES_PER_PAGE - 1) // FILES_PER_PAGE, 1),
    }


def _form_page(
    request: Request,
    node: Node,
    viewer: Viewer,
    version: Any,
    fields: dict[str, str],
    *,
    errors: list[FieldError] | None = None,
    status: int = 200,
    page_no: int = 1,
    **extra: Any,
) -> Response:
    by_field: dict[str, list[str]] = {}
    for error in errors or []:
        by_field.setdefault(error.path, []).append(error.message)
    context = _context(node, viewer, version, fields, page_no) | {"errors": by_field, "shown": []} | extra
    return page(request, "deposit/form.html", status, **context)


async def _posted(request: Request) -> tuple[dict[str, Any], str]:
    try:
        form = await request.form(max_fields=MAX_FORM_FIELDS, max_files=0)
    except MultiPartException as exc:
        raise InvalidInput(exc.message) from None
    raw = {k: v for k, v in form.items() if isinstance(v, str)}
    return raw, str(raw.get("action", "save"))


@router.get("/deposit/new", response_class=HTMLResponse)
def new_form(request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    return _form_page(request, node, viewer, None, {"access.level": "open"})


@router.post("/deposit/new", response_class=HTMLResponse)
async def create(request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    """The first save makes the draft; its own page takes over from there (the same action applied)."""
    try:
        version = await run_in_threadpool(deposit_form.start, node, viewer)
    except NodeError as exc:
        return _form_page(request, node, viewer, None, {}, errors=[FieldError("(root)", exc.detail)], status=exc.status)
    return await _save_and_show(request, node, viewer, version.id)


@router.post("/deposit/import", response_class=HTMLResponse)
async def start_from_file(request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    """A draft whose fields come from an uploaded metadata file (``services.metadata_import`` reads it)."""
    try:
        form = await request.form(max_files=1, max_fields=5, max_part_size=metadata_import.MAX_BYTES)
        upload = form.get("metadata")
        if not isinstance(upload, UploadFile):
            raise InvalidInput(metadata_import.UNREADABLE, [FieldError("file", metadata_import.UNREADABLE)])
        data = await upload.read(metadata_import.MAX_BYTES + 1)
        saved = await run_in_threadpool(metadata_import.start_from_file, node, viewer, upload.filename or "", data)
    except MultiPartException as exc:
        return _form_page(request, node, viewer, None, {}, errors=[FieldError("file", exc.message)], status=422)
    except InvalidInput as exc:
        return _form_page(request, node, viewer, None, {}, errors=exc.errors, status=422)
    return _form_page(request, node, viewer, saved.version, saved.fields, errors=saved.errors)


@router.get("/deposit/{version_id}", response_class=HTMLResponse)
def edit_form(version_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    version, fields = deposit_form.load(node, version_id, viewer)
    page_no = request.query_params.get("files_page", "1")
    done = request.query_params.get("done", "")
    return _form_page(request, node, viewer, version, fields, page_no=int(page_no) if page_no.isdigit() else 1,
                      done=done if done in ("saved", "files") else "")  # fmt: skip


@router.post("/deposit/{version_id}", response_class=HTMLResponse)
async def save(version_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    return await _save_and_show(request, node, viewer, version_id)


async def _save_and_show(request: Request, node: Node, viewer: Viewer, version_id: str) -> Response:
    try:
        raw, action = await _posted(request)
        if action == "publish":
            saved = await run_in_threadpool(deposit_form.publish, node, version_id, viewer, raw)
            if not saved.errors:
                return RedirectResponse(f"/records/{saved.version.id}", status_code=303)
        else:
            saved = await run_in_threadpool(deposit_form.save, node, version_id, viewer, raw)
    except InvalidInput as exc:
        version, fields = await run_in_threadpool(deposit_form.load, node, version_id, viewer)
        errors = exc.errors or [FieldError("(root)", exc.detail)]
        return _form_page(request, node, viewer, version, fields, errors=errors, status=exc.status)
    if action not in ("save", "publish"):
        people = await run_in_threadpool(deposit_form.people, node, viewer)
        fields = deposit_form.apply_action(saved.fields, action, people)
        if fields != saved.fields:
            await run_in_threadpool(deposit.save_form_fields, node, version_id, viewer, fields)
        return _form_page(request, node, viewer, saved.version, fields, errors=saved.errors)
    if saved.errors:
        return _form_page(request, node, viewer, saved.version, saved.fields, errors=saved.errors, status=422)
    return RedirectResponse(f"/deposit/{version_id}?done=saved", status_code=303)


@router.post("/deposit/{version_id}/autosave")
async def autosave(version_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    """The script's debounced save: what was kept, and the errors by field name (JSON)."""
    raw, _ = await _posted(request)
    saved = await run_in_threadpool(deposit_form.save, node, version_id, viewer, raw)
    errors = [{"field": e.path, "message": e.message} for e in saved.errors]
    return JSONResponse({"saved": True, "errors": errors}, headers={"Cache-Control": "no-store"})


@router.post("/deposit/{version_id}/files", response_class=HTMLResponse)
async def add_files(version_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    """Several files in one plain multipart post (the no-JavaScript way; the script uses tus)."""
    limit = node.settings.max_upload_bytes
    length = request.headers.get("content-length", "")
    try:
        version, _ = await run_in_threadpool(deposit_form.load, node, version_id, viewer)
        if length.isdigit() and int(length) > limit + 64 * 1024:
            raise TooLarge(f"the upload is larger than this node's limit of {limit} bytes")
        form = await request.form(max_files=100, max_fields=10)
    except MultiPartException as exc:
        raise InvalidInput(exc.message) from None
    try:
        uploads = [u for u in form.getlist("files") if isinstance(u, UploadFile) and u.filename]
        if not uploads:
            raise InvalidInput(N_("choose a file to upload"))
        for upload in uploads:
            await run_in_threadpool(
                deposit.add_file, node, version_id, upload.filename or "", _read_chunks(upload.file), viewer
            )
    finally:
        await form.close()
    return RedirectResponse(f"/deposit/{version_id}?done=files#files", status_code=303)


@router.post("/deposit/{version_id}/files/remove", response_class=HTMLResponse)
async def remove_file(
    version_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep
) -> Response:
    form = await request.form(max_fields=5, max_files=0)
    key = form.get("key")
    await run_in_threadpool(deposit.remove_file, node, version_id, key if isinstance(key, str) else "", viewer)
    return RedirectResponse(f"/deposit/{version_id}#files", status_code=303)


@router.get("/deposit/{version_id}/delete", response_class=HTMLResponse)
def confirm_delete(version_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    version, fields = deposit_form.load(node, version_id, viewer)
    return page(request, "deposit/delete.html", version=version, title=fields.get("titles.0.title", ""))


@router.post("/deposit/{version_id}/delete")
async def delete(version_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    await run_in_threadpool(deposit.delete_draft, node, version_id, viewer)
    return RedirectResponse("/my?done=deleted", status_code=303)


@router.post("/deposit/{record_id}/new-version")
async def new_version(record_id: str, request: Request, node: Node = NodeDep, viewer: Viewer = SignedInDep) -> Response:
    version = await run_in_threadpool(deposit.new_version, node, record_id, viewer)
    return RedirectResponse(f"/deposit/{version.id}", status_code=303)
