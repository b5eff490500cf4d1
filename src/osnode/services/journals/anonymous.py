"""Double-anonymous review: a reviewer who may not know the authors gets manuscripts (PDF, DOCX) without the
metadata that names them (``formats.manuscripts.strip_author_metadata``). The stripped copy is made once per
original and kept as a blob of the store; a small pointer file, named by the original's SHA-256, says which."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path

from ...domain.errors import Conflict, InvalidInput
from ...domain.journals import ReviewMode, Standing, shows_author_names
from ...formats import manuscripts
from ...storage.blobs import check_sha256
from ..node import Node
from .submissions import FileDownload, Submission

# The stripper decides by media type; a browser may send a generic one, so the name's extension counts too.
_BY_SUFFIX = {".pdf": manuscripts.PDF, ".docx": manuscripts.DOCX}


def _kind(found: FileDownload) -> str | None:
    if found.media_type in (manuscripts.PDF, manuscripts.DOCX):
        return found.media_type
    return _BY_SUFFIX.get(Path(found.name).suffix.lower())


def for_viewer(
    node: Node, standing: Standing, mode: ReviewMode, submission: Submission, file_id: int, found: FileDownload
) -> FileDownload:
    """``found`` (the file ``file_id`` as ``services.access`` gave it) itself for whoever may know the authors;
    else, for PDF and DOCX, the stripped copy."""
    if shows_author_names(standing, mode):
        return found
    kind = _kind(found)
    if kind is None:
        return found
    made, size = stripped(node, found.sha256, kind)
    return dataclasses.replace(found, sha256=made, size=size, media_type=kind)


def _pointers(node: Node) -> Path:
    folder = node.settings.data_dir / "anonymised"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def stripped(node: Node, sha256: str, kind: str) -> tuple[str, int]:
    """The blob (SHA-256, size) of the stripped copy of the blob ``sha256``, made now if it was not made before.
    A lost pointer only costs making the copy again: the same bytes are stored once."""
    pointer = _pointers(node) / check_sha256(sha256)
    if pointer.is_file():
        made = pointer.read_text().strip()
        size = node.blobs.size(made)
        if size is not None:
            return made, size
    with tempfile.TemporaryDirectory(dir=_pointers(node)) as work, node.blobs.local_path(sha256) as source:
        dst = Path(work) / "stripped"
        try:
            manuscripts.strip_author_metadata(source, dst, kind)
        except InvalidInput:
            # Not a file that can be cleaned: never fall back to the original, which may name the authors.
            raise Conflict(
                "this file cannot be made anonymous for review; the editors can upload a clean copy"
            ) from None
        blob = node.blobs.put_file(dst)
    tmp = pointer.with_suffix(".tmp")
    tmp.write_text(blob.sha256)
    os.replace(tmp, pointer)  # atomic: a reader sees no pointer or a whole one
    return blob.sha256, blob.size
