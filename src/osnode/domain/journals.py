"""Journals' rules, decided without I/O: the roles, the stages of a submission, the review modes, and who may
do or see what on a journal and on a submission.

``services.journals.standing`` gathers the facts about one viewer (their roles in the journal, whether they
wrote the submission, hold its assignment or review it); every service function asks these rules, so a page,
a file route and a form all get the same answer. A refusal says why in one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum


class JournalRole(StrEnum):
    MANAGER = "manager"
    EDITOR = "editor"
    SECTION_EDITOR = "section-editor"
    REVIEWER = "reviewer"
    AUTHOR = "author"
    COPYEDITOR = "copyeditor"
    PRODUCTION_EDITOR = "production-editor"


# The roles given on a journal's people page; reviewer and author follow from an invitation or a submission.
STAFF_ROLES = (
    JournalRole.MANAGER,
    JournalRole.EDITOR,
    JournalRole.SECTION_EDITOR,
    JournalRole.COPYEDITOR,
    JournalRole.PRODUCTION_EDITOR,
)


class ReviewMode(StrEnum):
    DOUBLE = "double-anonymous"
    SINGLE = "single-anonymous"
    OPEN = "open"


class Stage(StrEnum):
    SUBMITTED = "submitted"  # waiting for the desk check
    REVIEW = "review"
    REVISIONS = "revisions"  # the author is revising
    COPYEDITING = "copyediting"
    PRODUCTION = "production"
    PUBLISHED = "published"
    DECLINED = "declined"


class Decision(StrEnum):
    ACCEPT = "accept"
    MINOR = "minor-revisions"
    MAJOR = "major-revisions"
    DECLINE = "decline"


class Recommendation(StrEnum):
    ACCEPT = "accept"
    MINOR = "minor-revisions"
    MAJOR = "major-revisions"
    DECLINE = "decline"


class FileKind(StrEnum):
    MANUSCRIPT = "manuscript"
    SUPPLEMENTARY = "supplementary"
    REVISION = "revision"
    REVIEW = "review"  # a reviewer's attachment
    COPYEDIT = "copyedit"
    GALLEY = "galley"


# What a reviewer is given to read: the work, never the editorial or production files.
REVIEWER_KINDS = frozenset({FileKind.MANUSCRIPT, FileKind.SUPPLEMENTARY, FileKind.REVISION})
# The stages a decision may be taken in, and where each decision leads.
DECIDABLE = frozenset({Stage.SUBMITTED, Stage.REVIEW})
NEXT_STAGE = {
    Decision.ACCEPT: Stage.COPYEDITING,
    Decision.MINOR: Stage.REVISIONS,
    Decision.MAJOR: Stage.REVISIONS,
    Decision.DECLINE: Stage.DECLINED,
}

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}", re.ASCII)


def valid_slug(value: str) -> bool:
    return bool(_SLUG.fullmatch(value))


@dataclass(frozen=True)
class Standing:
    """What one viewer is to one journal and (when one is in question) one of its submissions."""

    admin: bool = False
    roles: frozenset[JournalRole] = field(default_factory=frozenset)
    author: bool = False  # wrote the submission
    assigned: bool = False  # the section editor it is assigned to
    review_status: str | None = None  # their review of it, when they review it (by their link)
    reviewed: bool = False  # they have submitted their report this round

    @property
    def manages(self) -> bool:
        return self.admin or JournalRole.MANAGER in self.roles

    @property
    def edits(self) -> bool:
        """Takes editorial steps on the submission: desk check, reviewers, decisions."""
        return self.manages or JournalRole.EDITOR in self.roles or self.assigned

    @property
    def sees_queue(self) -> bool:
        """Sees the journal's list of submissions."""
        staff = {JournalRole.EDITOR, JournalRole.SECTION_EDITOR, JournalRole.COPYEDITOR, JournalRole.PRODUCTION_EDITOR}
        return self.manages or bool(self.roles & staff)

    @property
    def copyedits(self) -> bool:
        return self.edits or JournalRole.COPYEDITOR in self.roles

    @property
    def produces(self) -> bool:
        return self.edits or JournalRole.PRODUCTION_EDITOR in self.roles

    @property
    def publishes(self) -> bool:
        """Puts together and publishes issues: the journal's managers and editors."""
        return self.manages or JournalRole.EDITOR in self.roles

    @property
    def reviews(self) -> bool:
        return self.review_status in ("accepted", "submitted")


def may_open_submission(s: Standing) -> bool:
    """The submission's workflow page (signed in): its editors, copyeditors, production editors and its author.
    Reviewers read what they review through their invitation's link, never through this page."""
    return s.edits or s.copyedits or s.produces or s.author


def may_get_file(s: Standing, kind: FileKind, stage: Stage) -> bool:
    """Whether this viewer may get a submission's file of this kind: nobody without a role on it does."""
    if s.edits:
        return True
    if s.reviews:
        return kind in REVIEWER_KINDS
    if s.author:
        # Reviewers' attachments reach the author only through the editor's decision letter.
        return kind != FileKind.REVIEW
    if s.copyedits or s.produces:
        return stage in (Stage.COPYEDITING, Stage.PRODUCTION, Stage.PUBLISHED) and kind != FileKind.REVIEW
    return False


def shows_author_names(s: Standing, mode: ReviewMode) -> bool:
    """Double-anonymous review: someone invited to review (who is nothing more on this submission) never sees who
    wrote it, whether they have answered or not."""
    if mode is not ReviewMode.DOUBLE:
        return True
    return s.edits or s.author or s.copyedits or s.produces or s.review_status is None


def shows_reviewer_names(s: Standing, mode: ReviewMode) -> bool:
    """Authors (and other reviewers) learn who reviewed only in open review; editors always know."""
    return s.edits or mode is ReviewMode.OPEN


def may_read_report(s: Standing, own: bool) -> bool:
    """A reviewer reads another's report only once they have submitted their own."""
    if s.edits or own:
        return True
    return s.reviews and s.reviewed
