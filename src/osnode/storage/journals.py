"""Journals: the tables behind a journal, its people, its submissions and their review, and its issues.

A published article is an ordinary record (``records``/``versions``); ``journal_submissions.record_id`` names
it, so every record-level feature (landing page, DataCite, OAI-PMH, search, replication, fixity) applies. The
submission's own files (manuscripts, revisions, review attachments, galleys before publication) are blobs of
the store listed in ``journal_files``: they are served only through ``services.journals.files``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from .catalog import metadata

journals = Table(
    "journals",
    metadata,
    # The slug is the journal's id in URLs and in its OAI-PMH set ``journal:<slug>``.
    Column("slug", String(64), primary_key=True),
    Column("titles", JSON, nullable=False),  # [{"title": ..., "lang": ...}], the first is the main title
    Column("issn_print", String(9), nullable=True),
    Column("issn_online", String(9), nullable=True),
    Column("issn_l", String(9), nullable=True),
    Column("publisher", String(500), nullable=False),
    # The about pages: description, focus_scope, guidelines, team, no_fees, checklist (free text each).
    Column("texts", JSON, nullable=False),
    Column("licence", String(100), nullable=False),
    Column("review_mode", String(20), nullable=False),
    Column("languages", JSON, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
)

journal_sections = Table(
    "journal_sections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("journal", String(64), ForeignKey("journals.slug", ondelete="CASCADE"), nullable=False, index=True),
    Column("title", String(500), nullable=False),
    Column("position", Integer, nullable=False),
)

journal_roles = Table(
    "journal_roles",
    metadata,
    Column("journal", String(64), ForeignKey("journals.slug", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(30), primary_key=True),
)
Index("ix_journal_roles_user_id", journal_roles.c.user_id)

journal_issues = Table(
    "journal_issues",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("journal", String(64), ForeignKey("journals.slug", ondelete="CASCADE"), nullable=False),
    Column("volume", String(20), nullable=False),
    Column("number", String(20), nullable=False),
    Column("year", Integer, nullable=False),
    Column("title", String(500), nullable=False),
    Column("cover_sha256", String(64), nullable=True),
    Column("cover_type", String(100), nullable=True),
    Column("published", DateTime(timezone=True), nullable=True),  # None: being put together
    Column("created", DateTime(timezone=True), nullable=False),
    # "Vol. 3 No. 2" exists once per journal: the clash is refused by the database too.
    UniqueConstraint("journal", "volume", "number", name="uq_journal_issues_journal"),
)
# The archive: a journal's published issues, newest first, one index range per page.
Index("ix_journal_issues_journal_published", journal_issues.c.journal, journal_issues.c.published)

journal_submissions = Table(
    "journal_submissions",
    metadata,
    Column("id", String(20), primary_key=True),
    Column("journal", String(64), ForeignKey("journals.slug", ondelete="CASCADE"), nullable=False),
    Column("section_id", Integer, nullable=True),
    Column("author_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("stage", String(20), nullable=False),
    Column("round", Integer, nullable=False),
    Column("metadata", JSON, nullable=False),  # DataCite-shaped: titles, descriptions, creators, subjects ...
    Column("details", JSON, nullable=False),  # cover letter, competing interests, data availability, checklist
    Column("editor_id", Integer, nullable=True),  # the section editor it is assigned to
    Column("record_id", String(20), nullable=True),  # the published article
    Column("issue_id", Integer, nullable=True),
    Column("first_page", String(20), nullable=True),
    Column("last_page", String(20), nullable=True),
    Column("proofs_approved", DateTime(timezone=True), nullable=True),
    Column("published", DateTime(timezone=True), nullable=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
)
Index("ix_journal_submissions_journal_stage", journal_submissions.c.journal, journal_submissions.c.stage)
# An issue's table of contents and a journal's latest articles: one index range each.
Index("ix_journal_submissions_issue_id", journal_submissions.c.issue_id, journal_submissions.c.published)
Index("ix_journal_submissions_record_id", journal_submissions.c.record_id)
Index("ix_journal_submissions_journal_published", journal_submissions.c.journal, journal_submissions.c.published)

journal_files = Table(
    "journal_files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("submission_id", String(20), ForeignKey("journal_submissions.id", ondelete="CASCADE"), nullable=False),
    Column("round", Integer, nullable=False),
    # manuscript, supplementary, revision, review (a reviewer's attachment), copyedit, galley
    Column("kind", String(20), nullable=False),
    Column("name", String(255), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("media_type", String(200), nullable=False),
    Column("review_id", Integer, nullable=True),
    Column("uploaded_by", Integer, nullable=True),
    Column("created", DateTime(timezone=True), nullable=False),
)
Index("ix_journal_files_submission_id", journal_files.c.submission_id)
Index("ix_journal_files_sha256", journal_files.c.sha256)

journal_reviews = Table(
    "journal_reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("submission_id", String(20), ForeignKey("journal_submissions.id", ondelete="CASCADE"), nullable=False),
    Column("round", Integer, nullable=False),
    Column("reviewer_id", Integer, nullable=True),  # an account, when the email has one
    Column("email", String(320), nullable=False),
    Column("name", String(200), nullable=False),
    Column("language", String(8), nullable=False),
    # The invitation link's token, hashed: it lets the reviewer answer and review without an account.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("status", String(20), nullable=False),  # invited, accepted, declined, submitted, cancelled
    Column("due", Date, nullable=False),
    Column("reminded", DateTime(timezone=True), nullable=True),
    Column("recommendation", String(20), nullable=True),
    Column("for_author", Text, nullable=True),
    Column("for_editor", Text, nullable=True),
    Column("invited", DateTime(timezone=True), nullable=False),
    Column("responded", DateTime(timezone=True), nullable=True),
    Column("submitted", DateTime(timezone=True), nullable=True),
    Column("record_id", String(20), nullable=True),  # the report published as its own record (open review)
)
Index("ix_journal_reviews_submission_id", journal_reviews.c.submission_id)
Index("ix_journal_reviews_status_due", journal_reviews.c.status, journal_reviews.c.due)

journal_decisions = Table(
    "journal_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("submission_id", String(20), ForeignKey("journal_submissions.id", ondelete="CASCADE"), nullable=False),
    Column("round", Integer, nullable=False),
    Column("decision", String(20), nullable=False),
    Column("letter", Text, nullable=False),
    Column("editor_id", Integer, nullable=True),
    Column("created", DateTime(timezone=True), nullable=False),
)
Index("ix_journal_decisions_submission_id", journal_decisions.c.submission_id)

# The editor's own wording of a decision letter, per journal, decision and language (else the translated default).
journal_letters = Table(
    "journal_letters",
    metadata,
    Column("journal", String(64), ForeignKey("journals.slug", ondelete="CASCADE"), primary_key=True),
    Column("decision", String(20), primary_key=True),
    Column("language", String(8), primary_key=True),
    Column("body", Text, nullable=False),
)
