"""Copyediting and production: copyedited files, then galleys (PDF, HTML, JATS XML), then the author approves
the proofs; only then can the article be published."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from ...domain.access import Viewer
from ...domain.errors import Conflict, FieldError, InvalidInput, NotFound
from ...domain.journals import FileKind, Stage
from ...formats import manuscripts
from ...storage.journals import journal_submissions
from ..node import Node, utcnow
from .common import require, signed_in
from .submissions import Submission, Upload, _submission, add_file_row, row_of, standing_on, store

GALLEY_TYPES = {"pdf": "application/pdf", "html": "text/html", "jats": "application/jats+xml"}


def _row(conn: Any, viewer: Viewer, submission_id: str) -> tuple[Any, Any]:
    signed_in(viewer, "working on a submission")
    row = row_of(conn, submission_id)
    standing = standing_on(conn, viewer, row)
    if not (standing.edits or standing.author or standing.copyedits or standing.produces):
        raise NotFound("no such submission")
    return row, standing


def add_copyedit(node: Node, viewer: Viewer, submission_id: str, upload: Upload) -> None:
    with node.engine.connect() as conn:
        row, standing = _row(conn, viewer, submission_id)
        require(standing.copyedits, "only copyeditors and editors do this")
        if row.stage != Stage.COPYEDITING.value:
            raise Conflict("the submission is not in copyediting")
    blob = store(node, upload)
    with node.transaction() as tx:
        add_file_row(tx, submission_id, row.round, FileKind.COPYEDIT, blob, uploaded_by=viewer.user_id)


def to_production(node: Node, viewer: Viewer, submission_id: str) -> Submission:
    with node.transaction() as tx:
        row, standing = _row(tx, viewer, submission_id)
        require(standing.copyedits, "only copyeditors and editors do this")
        if row.stage != Stage.COPYEDITING.value:
            raise Conflict("the submission is not in copyediting")
        tx.execute(
            update(journal_submissions)
            .where(journal_submissions.c.id == submission_id)
            .values(stage=Stage.PRODUCTION.value, updated=utcnow())
        )
        return _submission(tx, row_of(tx, submission_id))


def add_galley(node: Node, viewer: Viewer, submission_id: str, claimed: Any, upload: Upload) -> Submission:
    """A galley of the type it claims to be: a file whose bytes say otherwise is refused and nothing is kept."""
    if claimed not in GALLEY_TYPES:
        raise InvalidInput("choose the galley's type", [FieldError("type", "pdf, html or jats")])
    with node.engine.connect() as conn:
        row, standing = _row(conn, viewer, submission_id)
        require(standing.produces, "only production editors and editors do this")
        if row.stage != Stage.PRODUCTION.value:
            raise Conflict("the submission is not in production")
    blob = store(node, Upload(upload.kind, upload.name, upload.chunks, GALLEY_TYPES[claimed]))
    with node.blobs.local_path(blob[1]) as path:
        found = manuscripts.galley_kind(path)
    if found != claimed:
        raise InvalidInput(
            "the galley is not the file type it claims",
            [FieldError("file", f"it was said to be {claimed}, its bytes say {found or 'something else'}")],
        )
    with node.transaction() as tx:
        add_file_row(tx, submission_id, row.round, FileKind.GALLEY, blob, uploaded_by=viewer.user_id)
        tx.execute(
            update(journal_submissions)
            .where(journal_submissions.c.id == submission_id)
            .values(proofs_approved=None, updated=utcnow())
        )
        return _submission(tx, row_of(tx, submission_id))


def approve_proofs(node: Node, viewer: Viewer, submission_id: str) -> Submission:
    with node.transaction() as tx:
        row, standing = _row(tx, viewer, submission_id)
        require(standing.author, "only the author approves the proofs")
        sub = _submission(tx, row)
        if row.stage != Stage.PRODUCTION.value or not sub.files_of(FileKind.GALLEY):
            raise Conflict("there are no proofs to approve yet")
        now = utcnow()
        tx.execute(
            update(journal_submissions)
            .where(journal_submissions.c.id == submission_id)
            .values(proofs_approved=now, updated=now)
        )
        return _submission(tx, row_of(tx, submission_id))
