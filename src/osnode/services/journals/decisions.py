"""Decisions (accept, minor or major revisions, decline) with their letter, the author's revision (a new round),
and the journal's own wording of each decision letter per language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, select, update

from ...domain.access import Viewer
from ...domain.errors import Conflict, FieldError, InvalidInput
from ...domain.journals import DECIDABLE, NEXT_STAGE, Decision, FileKind, Stage
from ...storage.journals import journal_decisions, journal_letters, journal_submissions
from .. import accounts
from ..node import Node, utcnow
from .common import journal_row, journal_standing, refuse_if, require, signed_in, text
from .reviews import _editing
from .submissions import Submission, Upload, _submission, add_file_row, row_of, standing_on, store


@dataclass(frozen=True)
class DecisionMade:
    id: int
    round: int
    decision: Decision
    letter: str
    created: datetime


def decisions_of(node: Node, submission_id: str) -> list[DecisionMade]:
    query = select(journal_decisions).where(journal_decisions.c.submission_id == submission_id)
    with node.engine.connect() as conn:
        rows = conn.execute(query.order_by(journal_decisions.c.id)).all()
    return [DecisionMade(r.id, r.round, Decision(r.decision), r.letter, r.created) for r in rows]


def decide(node: Node, viewer: Viewer, submission_id: str, decision: Any, letter: Any) -> tuple[Submission, Any]:
    """The editor decides; the letter (from the journal's template, edited) goes to the author by email."""
    try:
        chosen = Decision(decision)
    except ValueError:
        raise InvalidInput("choose a decision", [FieldError("decision", "accept, revisions or decline")]) from None
    errors: list[FieldError] = []
    body = text(letter, "letter", errors, required=True)
    refuse_if(errors, "the decision needs a letter")
    now = utcnow()
    with node.transaction() as tx:
        row = _editing(tx, viewer, submission_id)
        if Stage(row.stage) not in DECIDABLE:
            raise Conflict(f"no decision can be taken at this stage ({row.stage})")
        values = dict(submission_id=submission_id, round=row.round, decision=chosen.value, letter=body)
        tx.execute(insert(journal_decisions).values(editor_id=viewer.user_id, created=now, **values))
        stage = NEXT_STAGE[chosen]
        tx.execute(
            update(journal_submissions)
            .where(journal_submissions.c.id == submission_id)
            .values(stage=stage.value, updated=now)
        )
        submission = _submission(tx, row_of(tx, submission_id))
    return submission, accounts.get(node, submission.author_id)


def revise(node: Node, viewer: Viewer, submission_id: str, note: Any, uploads: list[Upload]) -> Submission:
    """The author sends revised files: the submission goes back to review, in a new round."""
    signed_in(viewer, "revising a submission")
    errors: list[FieldError] = []
    message = text(note, "note", errors)
    if not uploads:
        errors.append(FieldError("revision", "attach the revised manuscript"))
    refuse_if(errors, "the revision is not complete")
    with node.engine.connect() as conn:
        row = row_of(conn, submission_id)
        require(standing_on(conn, viewer, row).author, "only the author revises the submission")
        if row.stage != Stage.REVISIONS.value:
            raise Conflict("no revision was asked for")
    stored = [store(node, u) for u in uploads[:10]]
    with node.transaction() as tx:
        row = row_of(tx, submission_id)
        if row.stage != Stage.REVISIONS.value:
            raise Conflict("no revision was asked for")
        new_round = row.round + 1
        for blob in stored:
            add_file_row(tx, submission_id, new_round, FileKind.REVISION, blob, uploaded_by=viewer.user_id)
        details = dict(row.details or {})
        details.setdefault("revision_notes", []).append({"round": new_round, "note": message})
        tx.execute(
            update(journal_submissions)
            .where(journal_submissions.c.id == submission_id)
            .values(stage=Stage.REVIEW.value, round=new_round, details=details, updated=utcnow())
        )
        return _submission(tx, row_of(tx, submission_id))


# -- decision letters: the journal's wording, per decision and language ------------------------------------


def letter_override(node: Node, slug: str, decision: Decision, language: str) -> str | None:
    key = and_(
        journal_letters.c.journal == slug,
        journal_letters.c.decision == decision.value,
        journal_letters.c.language == language,
    )
    with node.engine.connect() as conn:
        return conn.execute(select(journal_letters.c.body).where(key)).scalar()


def set_letter(node: Node, viewer: Viewer, slug: str, decision: Any, language: Any, body: Any) -> None:
    """A manager or editor rewords a decision letter in one language; an empty body restores the default."""
    signed_in(viewer, "editing letters")
    try:
        chosen = Decision(decision)
    except ValueError:
        raise InvalidInput("choose a decision", [FieldError("decision", "unknown")]) from None
    errors: list[FieldError] = []
    lang = text(language, "language", errors, limit=8, required=True)
    wording = text(body, "body", errors)
    refuse_if(errors, "the letter cannot be saved")
    with node.transaction() as tx:
        journal_row(tx, slug)
        require(journal_standing(tx, viewer, slug).publishes, "only the journal's managers and editors do this")
        key = and_(
            journal_letters.c.journal == slug,
            journal_letters.c.decision == chosen.value,
            journal_letters.c.language == lang,
        )
        tx.execute(delete(journal_letters).where(key))
        if wording:
            tx.execute(insert(journal_letters).values(journal=slug, decision=chosen.value, language=lang, body=wording))


def fill(template: str, values: dict[str, str]) -> str:
    """Put the placeholders ``{author}``, ``{title}``, ``{journal}``, ``{comments}`` into a letter. Plain
    replacement, not ``str.format``: an editor's braces elsewhere stay as typed and can reach nothing else."""
    out = template
    for name, value in values.items():
        out = out.replace("{" + name + "}", value)
    return out
