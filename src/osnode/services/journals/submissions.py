"""Submissions: an author sends a manuscript to a journal (metadata, files, cover letter, statements,
checklist); its editors, copyeditors and production editors work on it; its files go only to those the rules
in ``domain.journals`` name (``services.access.submission_file``, which every file route calls)."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, insert, select

from ...domain import multilingual
from ...domain.access import Viewer
from ...domain.errors import FieldError, InvalidInput, NotFound
from ...domain.identifiers import normalize_doi, normalize_orcid, normalize_ror, validate_swhid, validate_url
from ...domain.journals import FileKind, ReviewMode, Stage, Standing, may_open_submission
from ...domain.metadata import parse_metadata
from ...domain.records import new_id, validate_file_key
from ...storage.catalog import users
from ...storage.journals import journal_files, journal_submissions
from ..node import Node, utcnow
from . import journals as journals_service
from .common import MAX_LINE, journal_row, journal_standing, refuse_if, require, signed_in, small_int, text

MAX_FILES = 20
MAX_AUTHORS = 100
MAX_LINES = 500
DETAILS = ("cover_letter", "competing_interests", "data_availability", "references_text")


@dataclass(frozen=True)
class StoredFile:
    id: int
    round: int
    kind: FileKind
    name: str
    size: int
    media_type: str
    sha256: str
    review_id: int | None
    created: datetime


@dataclass(frozen=True)
class Submission:
    id: str
    journal: str
    stage: Stage
    round: int
    metadata: dict[str, Any]
    details: dict[str, Any]
    author_id: int
    author_name: str
    editor_id: int | None
    section_id: int | None
    record_id: str | None
    issue_id: int | None
    first_page: str | None
    last_page: str | None
    proofs_approved: datetime | None
    created: datetime
    updated: datetime
    files: list[StoredFile] = field(default_factory=list)

    def title(self, lang: str | None = None) -> str:
        return multilingual.preferred_title(self.metadata.get("titles") or [], lang)

    def files_of(self, *kinds: FileKind) -> list[StoredFile]:
        return [f for f in self.files if f.kind in kinds]


# -- the submission form -------------------------------------------------------------------------------


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()][:MAX_LINES]


def _authors(value: str, errors: list[FieldError]) -> list[dict[str, Any]]:
    """One author a line: ``Name | ORCID | affiliation | ROR`` (all but the name optional)."""
    creators: list[dict[str, Any]] = []
    for n, line in enumerate(_lines(value)[:MAX_AUTHORS]):
        parts = [p.strip() for p in line.split("|")] + ["", "", ""]
        name, orcid, affiliation, ror = parts[:4]
        creator: dict[str, Any] = {"name": name[:MAX_LINE], "nameType": "Personal"}
        if orcid:
            try:
                creator["orcid"] = normalize_orcid(orcid)
            except ValueError:
                errors.append(FieldError(f"authors.{n}", f"'{orcid[:40]}' is not a valid ORCID iD"))
        if affiliation:
            place: dict[str, Any] = {"name": affiliation[:MAX_LINE]}
            if ror:
                try:
                    place["ror"] = normalize_ror(ror)
                except ValueError:
                    errors.append(FieldError(f"authors.{n}", f"'{ror[:40]}' is not a valid ROR id"))
            creator["affiliations"] = [place]
        if not name:
            errors.append(FieldError(f"authors.{n}", "each line starts with the author's name"))
        creators.append(creator)
    if not creators:
        errors.append(FieldError("authors", "at least one author"))
    return creators


_DOI = re.compile(r"^(https?://(dx\.)?doi\.org/|doi:)?10\.\d{4,9}/\S+$", re.IGNORECASE)


def related(value: str, relation: str, path: str, errors: list[FieldError], *, strict: bool) -> list[dict[str, Any]]:
    """Identifiers a line: a DOI, a SWHID or a URL (such as a record of this node). ``strict``: anything else
    is an error; otherwise such a line (a reference given as plain text) is kept only as text."""
    found: list[dict[str, Any]] = []
    for n, line in enumerate(_lines(value)):
        candidate = line.split()[-1] if line.split() else line
        try:
            if _DOI.match(candidate):
                found.append(dict(relatedIdentifier=normalize_doi(candidate), relatedIdentifierType="DOI"))
            elif candidate.startswith("swh:"):
                found.append(dict(relatedIdentifier=validate_swhid(candidate), relatedIdentifierType="SWHID"))
            elif candidate.startswith(("http://", "https://")):
                found.append(dict(relatedIdentifier=validate_url(candidate), relatedIdentifierType="URL"))
            elif strict:
                errors.append(FieldError(f"{path}.{n}", "give a DOI, a SWHID or a URL"))
                continue
            else:
                continue
        except ValueError as exc:
            errors.append(FieldError(f"{path}.{n}", str(exc)[:200]))
            continue
        found[-1]["relationType"] = relation
    return found


def metadata_from_form(form: dict[str, Any], errors: list[FieldError]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The article's DataCite-shaped metadata and the submission's other details, from the submission form."""
    title = text(form.get("title"), "title", errors, limit=MAX_LINE * 2, required=True)
    lang = text(form.get("language") or "en", "language", errors, limit=8) or "en"
    descriptions = []
    for suffix in ("", "2"):
        abstract = text(form.get(f"abstract{suffix}"), f"abstract{suffix}", errors, required=not suffix)
        alang = text(form.get(f"abstract{suffix}_lang") or lang, f"abstract{suffix}_lang", errors, limit=8)
        if abstract:
            descriptions.append({"description": abstract, "descriptionType": "Abstract", "lang": alang or lang})
    keywords = [k.strip() for k in text(form.get("keywords"), "keywords", errors).split(",") if k.strip()]
    funding = []
    for line in _lines(text(form.get("funding"), "funding", errors)):
        funder, _, award = (p.strip() for p in line.partition("|"))
        if funder:
            funding.append({"funderName": funder[:MAX_LINE], **({"awardNumber": award[:200]} if award else {})})
    references_text = text(form.get("references"), "references", errors)
    data_text = text(form.get("data_links"), "data_links", errors)
    relations = related(references_text, "References", "references", errors, strict=False)
    relations += related(data_text, "IsSupplementedBy", "data_links", errors, strict=True)
    metadata: dict[str, Any] = {
        "titles": [{"title": title, "lang": lang}],
        "creators": _authors(text(form.get("authors"), "authors", errors), errors),
        "descriptions": descriptions,
        "subjects": [{"subject": k[:MAX_LINE]} for k in keywords[:50]],
        "fundingReferences": funding,
        "relatedIdentifiers": relations,
        "language": lang,
        "resourceType": {"resourceTypeGeneral": "JournalArticle"},
    }
    try:
        metadata = parse_metadata(metadata).to_json()
    except InvalidInput as exc:
        errors.extend(exc.errors)
    details = {
        "cover_letter": text(form.get("cover_letter"), "cover_letter", errors),
        "competing_interests": text(form.get("competing_interests"), "competing_interests", errors, required=True),
        "data_availability": text(form.get("data_availability"), "data_availability", errors, required=True),
        "data_links": data_text,
        "references_text": references_text,
    }
    return metadata, details


# -- files -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A file as the web layer hands it over: its name, what it is, and its bytes as they arrive."""

    kind: FileKind
    name: str
    chunks: Iterable[bytes]
    media_type: str | None = None


def _safe_name(name: str) -> str:
    base = Path(name.replace("\\", "/")).name.strip()
    base = "".join(c for c in base if c.isprintable() and c not in '<>:"|?*')[:200]
    try:  # the name becomes a record's file key when the file is a galley: it must be a valid one
        return validate_file_key(base)
    except ValueError:
        return "file"


def store(node: Node, upload: Upload) -> tuple[str, str, int, str]:
    """Put an upload's bytes in the blob store (hashed, size-limited); returns (name, sha256, size, media type)."""
    name = _safe_name(upload.name)
    blob = node.blobs.put_stream(upload.chunks, node.settings.max_upload_bytes)
    kind = upload.media_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return name, blob.sha256, blob.size, kind


def add_file_row(
    conn: Connection, submission_id: str, round_: int, kind: FileKind, stored: tuple[str, str, int, str], **extra: Any
) -> int:
    name, sha256, size, media_type = stored
    values = dict(submission_id=submission_id, round=round_, kind=kind.value, name=name, sha256=sha256, size=size)
    values |= dict(media_type=media_type[:200], created=utcnow(), **extra)
    return conn.execute(insert(journal_files).values(**values)).inserted_primary_key[0]


def _files(conn: Connection, submission_id: str) -> list[StoredFile]:
    query = select(journal_files).where(journal_files.c.submission_id == submission_id).order_by(journal_files.c.id)
    return [
        StoredFile(r.id, r.round, FileKind(r.kind), r.name, r.size, r.media_type, r.sha256, r.review_id, r.created)
        for r in conn.execute(query)
    ]


# -- reading ---------------------------------------------------------------------------------------------


def _submission(conn: Connection, row: Any, with_files: bool = True) -> Submission:
    author = conn.execute(select(users.c.display_name, users.c.name).where(users.c.id == row.author_id)).first()
    return Submission(
        id=row.id,
        journal=row.journal,
        stage=Stage(row.stage),
        round=row.round,
        metadata=row.metadata or {},
        details=row.details or {},
        author_id=row.author_id,
        author_name=(author.display_name or author.name) if author else "",
        editor_id=row.editor_id,
        section_id=row.section_id,
        record_id=row.record_id,
        issue_id=row.issue_id,
        first_page=row.first_page,
        last_page=row.last_page,
        proofs_approved=row.proofs_approved,
        created=row.created,
        updated=row.updated,
        files=_files(conn, row.id) if with_files else [],
    )


def row_of(conn: Connection, submission_id: str) -> Any:
    if not isinstance(submission_id, str) or "\x00" in submission_id or len(submission_id) > 20:
        raise NotFound("no such submission")
    row = conn.execute(select(journal_submissions).where(journal_submissions.c.id == submission_id)).first()
    if row is None:
        raise NotFound("no such submission")
    return row


def standing_on(conn: Connection, viewer: Viewer, row: Any) -> Standing:
    base = journal_standing(conn, viewer, row.journal)
    if viewer.user_id is None or viewer.read_only:
        return base
    return Standing(
        admin=base.admin,
        roles=base.roles,
        author=row.author_id == viewer.user_id,
        assigned=row.editor_id == viewer.user_id,
    )


def open_submission(node: Node, viewer: Viewer, submission_id: str) -> tuple[Submission, Standing, ReviewMode]:
    """The submission, for someone with a role on it; anyone else is told it does not exist."""
    signed_in(viewer, "opening a submission")
    with node.engine.connect() as conn:
        row = row_of(conn, submission_id)
        standing = standing_on(conn, viewer, row)
        if not may_open_submission(standing):
            raise NotFound("no such submission")
        mode = ReviewMode(journal_row(conn, row.journal).review_mode)
        return _submission(conn, row), standing, mode


def queue(node: Node, viewer: Viewer, slug: str, stage: str | None = None) -> list[Submission]:
    """The journal's submissions, newest change first (its editorial people)."""
    signed_in(viewer, "the journal's submissions")
    with node.engine.connect() as conn:
        journal_row(conn, slug)
        require(journal_standing(conn, viewer, slug).sees_queue, "only the journal's editorial team sees this")
        where = journal_submissions.c.journal == slug
        if stage:
            where = and_(where, journal_submissions.c.stage == stage)
        else:
            where = and_(where, journal_submissions.c.stage != Stage.PUBLISHED.value)
        query = select(journal_submissions).where(where).order_by(journal_submissions.c.updated.desc()).limit(500)
        return [_submission(conn, r, with_files=False) for r in conn.execute(query)]


def mine(node: Node, viewer: Viewer) -> list[Submission]:
    if viewer.user_id is None:
        return []
    with node.engine.connect() as conn:
        query = select(journal_submissions).where(journal_submissions.c.author_id == viewer.user_id)
        rows = conn.execute(query.order_by(journal_submissions.c.updated.desc()).limit(200))
        return [_submission(conn, r, with_files=False) for r in rows]


# -- submitting --------------------------------------------------------------------------------------------


def submit(node: Node, viewer: Viewer, slug: str, form: dict[str, Any], uploads: list[Upload]) -> Submission:
    """An author (any signed-in account) submits; the form is checked in full before a byte is stored."""
    author_id = signed_in(viewer, "submitting to a journal")
    errors: list[FieldError] = []
    metadata, details = metadata_from_form(form, errors)
    journal = journals_service.get(node, slug)
    ticked = form.get("checklist") or []
    if len(journal.checklist) != len([t for t in ticked if t]):
        errors.append(FieldError("checklist", "confirm every item of the author checklist"))
    details["checklist"] = journal.checklist
    section_id = small_int(form.get("section"))
    if section_id is not None and section_id not in {s.id for s in journal.sections}:
        errors.append(FieldError("section", "no such section in this journal"))
    if not any(u.kind is FileKind.MANUSCRIPT for u in uploads):
        errors.append(FieldError("manuscript", "attach the manuscript"))
    if len(uploads) > MAX_FILES:
        errors.append(FieldError("files", f"at most {MAX_FILES} files"))
    refuse_if(errors, "the submission is not complete")
    stored = [(u.kind, store(node, u)) for u in uploads]
    now = utcnow()
    submission_id = new_id()
    with node.transaction() as tx:
        values = dict(id=submission_id, journal=slug, section_id=section_id, author_id=author_id)
        values |= dict(stage=Stage.SUBMITTED.value, round=1, metadata=metadata, details=details)
        tx.execute(insert(journal_submissions).values(created=now, updated=now, **values))
        for kind, blob in stored:
            add_file_row(tx, submission_id, 1, kind, blob, uploaded_by=author_id)
    return open_submission(node, viewer, submission_id)[0]


# -- what serving a file needs (``services.access.submission_file`` decides who gets it) ---------------


@dataclass(frozen=True)
class FileDownload:
    name: str
    media_type: str
    sha256: str  # a blob of ``node.blobs``
    size: int
