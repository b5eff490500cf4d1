"""Reading the journal forms: text fields (long ones allowed: guidelines, letters) and uploaded files, with
limits checked before the body is read where the size is known, and errors as the node's 4xx pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, BinaryIO

from fastapi import Query, Request
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException

from ...domain.errors import InvalidInput, TooLarge
from ...domain.journals import FileKind
from ...services.journals.submissions import Upload

MAX_TEXT_BODY = 512 * 1024
# Numbers in addresses, bounded: a larger one is a 422 before any query (PostgreSQL's integer stops at 2**31).
PageNo = Annotated[int, Query(ge=1, le=100_000)]
CHUNK = 1024 * 1024


async def read_form(request: Request, *, max_files: int = 0, max_fields: int = 40) -> FormData:
    length = request.headers.get("content-length", "")
    limit = request.app.state.node.settings.max_upload_bytes * max(1, max_files) if max_files else MAX_TEXT_BODY
    if length.isdigit() and int(length) > limit + 256 * 1024:
        raise TooLarge("the form is larger than this node accepts")
    try:
        return await request.form(max_files=max_files, max_fields=max_fields)
    except MultiPartException as exc:
        raise InvalidInput(exc.message) from None


def texts(form: FormData, *lists: str) -> dict[str, Any]:
    """The text fields; those named in ``lists`` (a checklist's boxes) as lists of their values."""
    out: dict[str, Any] = {}
    for key in set(form.keys()):
        values = [v for v in form.getlist(key) if isinstance(v, str)]
        out[key] = values if key in lists else (values[0] if values else "")
    return out


def _chunks(file: BinaryIO) -> Iterator[bytes]:
    while chunk := file.read(CHUNK):
        yield chunk


def uploads(form: FormData, **kinds: FileKind) -> list[Upload]:
    """Each named file field's uploads as ``Upload``s of the given kind (empty file inputs are skipped)."""
    found: list[Upload] = []
    for field, kind in kinds.items():
        for value in form.getlist(field):
            if isinstance(value, UploadFile) and value.filename:
                found.append(
                    Upload(kind, value.filename, _chunks(value.file))
                )  # the type: from the name, not the browser
    return found
