"""Double-anonymous review: a reviewer fetching a PDF or DOCX manuscript (from the emailed link, or signed in)
gets a copy without the metadata naming the author; the copy is made once (a blob keyed by the original's
SHA-256); editors still get the original bytes."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from osnode.domain.access import Viewer
from osnode.domain.journals import FileKind
from osnode.domain.records import Role
from osnode.services.journals import reviews, submissions
from osnode.services.node import Node
from tests.formats.test_manuscripts import AUTHOR, make_docx, make_pdf
from tests.journals.helpers import HTML, Browsers, cast, make_journal, submission_form

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _names_author(data: bytes) -> bool:
    """The author's name anywhere in the bytes, or (for a zip, DOCX) in any of its entries unpacked."""
    needles = (AUTHOR.encode(), AUTHOR.encode("utf-16-be"))
    if any(n in data for n in needles):
        return True
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return any(any(n in z.read(i) for n in needles) for i in z.namelist())
    return False


def test_a_reviewer_never_gets_the_authors_name_in_file_metadata(node: Node, tmp_path: Path) -> None:
    people = cast(node)
    make_journal(node, people)  # double-anonymous
    author = Viewer(user_id=people.author.id, role=Role.DEPOSITOR)
    editor = Viewer(user_id=people.editor.id, role=Role.DEPOSITOR)
    pdf = make_pdf(tmp_path / "m.pdf").read_bytes()
    docx = make_docx(tmp_path / "m.docx").read_bytes()
    assert _names_author(pdf) and _names_author(docx)  # the originals do name her
    files = [
        submissions.Upload(FileKind.MANUSCRIPT, "paper.pdf", [pdf], "application/pdf"),
        submissions.Upload(FileKind.SUPPLEMENTARY, "notes.docx", [docx], "application/octet-stream"),
    ]
    sub = submissions.submit(node, author, "suelos", submission_form(), files)
    reviews.assign_editor(node, editor, sub.id, people.editor.id)
    made = reviews.invite(node, editor, sub.id, {"name": "Rev", "email": "rev@example.org", "days": "7"})
    reviews.respond(node, made.token, True)
    ids = {f.name: f.id for f in made.submission.files}
    with Browsers(node) as web:
        reader = web()
        for name in ("paper.pdf", "notes.docx"):
            got = reader.get(f"/review/{made.token}/files/{ids[name]}", headers=HTML)
            assert got.status_code == 200, got.text
            assert not _names_author(got.content), name
            again = reader.get(f"/review/{made.token}/files/{ids[name]}", headers=HTML)
            assert again.content == got.content  # the same stored copy
        docx_copy = reader.get(f"/review/{made.token}/files/{ids['notes.docx']}", headers=HTML)
        assert docx_copy.headers["content-type"].startswith(DOCX_TYPE)
        with zipfile.ZipFile(io.BytesIO(docx_copy.content)) as z:
            assert b"The manuscript text." in z.read("word/document.xml")  # the text is still there

        editors = web("editor@example.org")
        original = editors.get(f"/submissions/{sub.id}/files/{ids['paper.pdf']}", headers=HTML)
        assert original.status_code == 200 and original.content == pdf  # editors know who wrote it
    cached = list((node.settings.data_dir / "anonymised").iterdir())
    assert len([p for p in cached if "." not in p.name]) == 2  # one pointer per original, made once
