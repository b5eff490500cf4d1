"""Review rounds: the editor assigns a section editor and invites reviewers by email; a reviewer answers and
reviews from the link in the invitation, without an account. The link's token is stored hashed; answering
(accept or decline) works once; the review form works while the invitation is accepted and not yet done."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from ...domain.access import Viewer
from ...domain.errors import Conflict, FieldError, InvalidInput, NotFound
from ...domain.journals import (
    FileKind,
    JournalRole,
    Recommendation,
    ReviewMode,
    Stage,
    Standing,
    may_read_report,
    shows_reviewer_names,
)
from ...storage.catalog import users
from ...storage.journals import journal_reviews, journal_submissions
from .. import accounts
from ..node import Node, utcnow
from .common import journal_row, refuse_if, require, signed_in, small_int, text
from .submissions import Submission, Upload, _submission, add_file_row, row_of, standing_on, store

ANSWERED = ("accepted", "declined", "submitted")
DEFAULT_DAYS = 21
REMIND_BEFORE = timedelta(days=3)


@dataclass(frozen=True)
class Review:
    id: int
    round: int
    name: str
    email: str
    language: str
    status: str
    due: date
    recommendation: str | None
    for_author: str
    for_editor: str
    invited: datetime
    submitted: datetime | None
    reviewer_id: int | None


def _review(row: Any) -> Review:
    return Review(
        row.id,
        row.round,
        row.name,
        row.email,
        row.language,
        row.status,
        row.due,
        row.recommendation,
        row.for_author or "",
        row.for_editor or "",
        row.invited,
        row.submitted,
        row.reviewer_id,
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def reviews_of(conn: Connection, submission_id: str) -> list[Review]:
    query = select(journal_reviews).where(journal_reviews.c.submission_id == submission_id)
    return [_review(r) for r in conn.execute(query.order_by(journal_reviews.c.round, journal_reviews.c.id))]


def _editing(conn: Connection, viewer: Viewer, submission_id: str) -> Any:
    signed_in(viewer, "editing a submission")
    row = row_of(conn, submission_id)
    standing = standing_on(conn, viewer, row)
    if not (standing.edits or standing.author or standing.copyedits or standing.produces):
        raise NotFound("no such submission")
    require(standing.edits, "only the submission's editors take this step")
    return row


def assign_editor(node: Node, viewer: Viewer, submission_id: str, user_id: int) -> accounts.Account:
    """The desk check: a section editor (or editor) of the journal takes the submission into review."""
    with node.transaction() as tx:
        row = _editing(tx, viewer, submission_id)
        from .common import roles_of

        held = roles_of(tx, row.journal, user_id)
        if not held & {JournalRole.SECTION_EDITOR, JournalRole.EDITOR, JournalRole.MANAGER}:
            raise InvalidInput("this account is not an editor of the journal", [FieldError("editor", "not an editor")])
        if row.stage not in (Stage.SUBMITTED.value, Stage.REVIEW.value):
            raise Conflict("the submission is past review")
        stage = Stage.REVIEW.value
        tx.execute(
            update(journal_submissions)
            .where(journal_submissions.c.id == submission_id)
            .values(editor_id=user_id, stage=stage, updated=utcnow())
        )
    account = accounts.get(node, user_id)
    assert account is not None
    return account


@dataclass(frozen=True)
class Invitation:
    review: Review
    token: str
    submission: Submission


def invite(node: Node, viewer: Viewer, submission_id: str, form: dict[str, Any]) -> Invitation:
    """Invite a reviewer by email for the current round, with a deadline (days from today)."""
    errors: list[FieldError] = []
    email = text(form.get("email"), "email", errors, limit=320, required=True)
    if email and "@" not in email:
        errors.append(FieldError("email", "enter a valid email address"))
    name = text(form.get("name"), "name", errors, limit=200, required=True)
    language = text(form.get("language") or "en", "language", errors, limit=8) or "en"
    days = small_int(form.get("days") or DEFAULT_DAYS)
    if days is None or not 1 <= days <= 365:
        errors.append(FieldError("days", "a number of days between 1 and 365"))
        days = DEFAULT_DAYS
    refuse_if(errors, "the reviewer cannot be invited")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with node.transaction() as tx:
        row = _editing(tx, viewer, submission_id)
        if row.stage not in (Stage.SUBMITTED.value, Stage.REVIEW.value):
            raise Conflict("reviewers are invited while the submission is in review")
        if email.lower() == (_author_email(tx, row.author_id) or "").lower():
            raise InvalidInput("the author cannot review their own submission", [FieldError("email", "the author")])
        same = and_(
            journal_reviews.c.submission_id == submission_id,
            journal_reviews.c.round == row.round,
            journal_reviews.c.email == email,
        )
        if tx.execute(select(journal_reviews.c.id).where(same)).first() is not None:
            raise Conflict("this reviewer is already invited to this round")
        account = accounts.by_email(tx, email)
        values = dict(submission_id=submission_id, round=row.round, email=email, name=name, language=language)
        values |= dict(reviewer_id=account.id if account else None, token_hash=_hash(token), status="invited")
        values |= dict(due=node.today() + timedelta(days=days), invited=now)
        review_id = tx.execute(insert(journal_reviews).values(**values)).inserted_primary_key[0]
        tx.execute(
            update(journal_submissions)
            .where(journal_submissions.c.id == submission_id)
            .values(stage=Stage.REVIEW.value, updated=now)
        )
        review = _review(tx.execute(select(journal_reviews).where(journal_reviews.c.id == review_id)).one())
        submission = _submission(tx, row_of(tx, submission_id))
    return Invitation(review, token, submission)


def _author_email(conn: Connection, user_id: int) -> str | None:
    return conn.execute(select(users.c.email).where(users.c.id == user_id)).scalar()


# -- the reviewer's side: everything through the link's token -----------------------------------------------


@dataclass(frozen=True)
class ReviewerView:
    review: Review
    submission: Submission
    standing: Standing
    mode: ReviewMode
    others: list[Review]
    """The round's other reports, once the reviewer has submitted their own (names only in open review)."""


def _by_token(conn: Connection, token: str) -> Any:
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise NotFound("this review link is not valid")
    row = conn.execute(select(journal_reviews).where(journal_reviews.c.token_hash == _hash(token))).first()
    if row is None or row.status == "cancelled":
        raise NotFound("this review link is not valid")
    return row


def by_token(node: Node, token: str) -> ReviewerView:
    with node.engine.connect() as conn:
        row = _by_token(conn, token)
        sub_row = row_of(conn, row.submission_id)
        mode = ReviewMode(journal_row(conn, sub_row.journal).review_mode)
        if sub_row.stage in (Stage.DECLINED.value, Stage.PUBLISHED.value) and row.status != "submitted":
            raise NotFound("this review link is not valid any more")
        standing = Standing(review_status=row.status, reviewed=row.status == "submitted")
        submission = _submission(conn, sub_row)
        others = [
            r
            for r in reviews_of(conn, row.submission_id)
            if r.id != row.id and r.round == row.round and r.status == "submitted"
        ]
        others = [r for r in others if may_read_report(standing, own=False)]
        return ReviewerView(_review(row), submission, standing, mode, others)


def respond(node: Node, token: str, accept: bool) -> ReviewerView:
    """Accept or decline the invitation: once (a second answer is a conflict, and nothing changes)."""
    with node.transaction() as tx:
        row = _by_token(tx, token)
        if row.status != "invited":
            raise Conflict("this invitation was already answered")
        status = "accepted" if accept else "declined"
        answered = tx.execute(
            update(journal_reviews)
            .where(journal_reviews.c.id == row.id, journal_reviews.c.status == "invited")
            .values(status=status, responded=utcnow())
        )
        if answered.rowcount != 1:
            raise Conflict("this invitation was already answered")
    return by_token(node, token)


def submit_review(node: Node, token: str, form: dict[str, Any], uploads: list[Upload]) -> ReviewerView:
    errors: list[FieldError] = []
    recommendation = form.get("recommendation")
    if recommendation not in {r.value for r in Recommendation}:
        errors.append(FieldError("recommendation", "choose a recommendation"))
    for_author = text(form.get("for_author"), "for_author", errors, required=True)
    for_editor = text(form.get("for_editor"), "for_editor", errors)
    refuse_if(errors, "the review is not complete")
    with node.engine.connect() as conn:
        row = _by_token(conn, token)
        if row.status != "accepted":
            raise Conflict("this review cannot be sent: accept the invitation first, or it was sent already")
    stored = [store(node, u) for u in uploads[:5]]
    with node.transaction() as tx:
        done = tx.execute(
            update(journal_reviews)
            .where(journal_reviews.c.id == row.id, journal_reviews.c.status == "accepted")
            .values(
                status="submitted",
                recommendation=recommendation,
                for_author=for_author,
                for_editor=for_editor,
                submitted=utcnow(),
            )
        )
        if done.rowcount != 1:
            raise Conflict("this review was sent already")
        for blob in stored:
            add_file_row(tx, row.submission_id, row.round, FileKind.REVIEW, blob, review_id=row.id)
        tx.execute(
            update(journal_submissions).where(journal_submissions.c.id == row.submission_id).values(updated=utcnow())
        )
    return by_token(node, token)


# -- what others are shown of the reviews -----------------------------------------------------------------


@dataclass(frozen=True)
class ShownReview:
    review: Review
    name: str  # "" when the viewer may not know who reviewed
    for_editor: str  # "" unless the viewer edits


def shown_reviews(node: Node, standing: Standing, mode: ReviewMode, submission_id: str) -> list[ShownReview]:
    """The reviews as this viewer may see them: editors see all; an author sees only submitted reports' comments
    for the author, without names unless review is open, and never the comments for the editor."""
    with node.engine.connect() as conn:
        found = reviews_of(conn, submission_id)
    names = shows_reviewer_names(standing, mode)
    if standing.edits:
        return [ShownReview(r, r.name, r.for_editor) for r in found]
    if standing.author:
        return [ShownReview(r, r.name if names else "", "") for r in found if r.status == "submitted"]
    return []


def editors_of(node: Node, submission: Submission) -> list[accounts.Account]:
    """Who hears of a reviewer's answer or report: the assigned editor, else the journal's editors."""
    if submission.editor_id is not None:
        found = accounts.get(node, submission.editor_id)
        if found is not None and found.email:
            return [found]
    from .journals import holders

    return holders(node, submission.journal, JournalRole.EDITOR, JournalRole.MANAGER)


# -- reminders (a scheduled job; the web layer writes the emails) -----------------------------------------


def due_for_reminder(node: Node, today: date | None = None) -> list[tuple[Review, Submission]]:
    """Open invitations and accepted reviews whose deadline is near or past and that were not reminded today."""
    today = today or node.today()
    now = utcnow()
    open_ = journal_reviews.c.status.in_(("invited", "accepted"))
    near = journal_reviews.c.due <= today + REMIND_BEFORE
    query = select(journal_reviews).where(open_, near).order_by(journal_reviews.c.id).limit(200)
    out: list[tuple[Review, Submission]] = []
    with node.transaction() as tx:
        for row in tx.execute(query).all():
            if row.reminded is not None and accounts.aware(row.reminded) > now - timedelta(days=1):
                continue
            tx.execute(update(journal_reviews).where(journal_reviews.c.id == row.id).values(reminded=now))
            out.append((_review(row), _submission(tx, row_of(tx, row.submission_id), with_files=False)))
    return out


def new_token(node: Node, review_id: int) -> str:
    """A fresh link for a reminder (the old one stops working: only hashes are kept, so it cannot be resent)."""
    token = secrets.token_urlsafe(32)
    with node.transaction() as tx:
        tx.execute(update(journal_reviews).where(journal_reviews.c.id == review_id).values(token_hash=_hash(token)))
    return token
