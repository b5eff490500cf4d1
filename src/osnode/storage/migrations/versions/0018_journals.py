"""Journals: journals, their sections and people, submissions with their files, review rounds and decisions,
decision letters as the editors word them, and issues

Revision ID: 0018_journals
Revises: 0017_curation
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_journals"
down_revision = "0017_curation"
branch_labels = None
depends_on = None

TABLES = (
    "journal_reviews",
    "journal_files",
    "journal_decisions",
    "journal_submissions",
    "journal_sections",
    "journal_roles",
    "journal_letters",
    "journal_issues",
    "journals",
)


def upgrade() -> None:
    op.create_table(
        "journals",
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("titles", sa.JSON(), nullable=False),
        sa.Column("issn_print", sa.String(length=9), nullable=True),
        sa.Column("issn_online", sa.String(length=9), nullable=True),
        sa.Column("issn_l", sa.String(length=9), nullable=True),
        sa.Column("publisher", sa.String(length=500), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("licence", sa.String(length=100), nullable=False),
        sa.Column("review_mode", sa.String(length=20), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_journals")),
    )
    op.create_table(
        "journal_issues",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("journal", sa.String(length=64), nullable=False),
        sa.Column("volume", sa.String(length=20), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("cover_sha256", sa.String(length=64), nullable=True),
        sa.Column("cover_type", sa.String(length=100), nullable=True),
        sa.Column("published", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["journal"], ["journals.slug"], name=op.f("fk_journal_issues_journal_journals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_issues")),
        sa.UniqueConstraint("journal", "volume", "number", name="uq_journal_issues_journal"),
    )
    op.create_index("ix_journal_issues_journal_published", "journal_issues", ["journal", "published"], unique=False)
    op.create_table(
        "journal_letters",
        sa.Column("journal", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["journal"], ["journals.slug"], name=op.f("fk_journal_letters_journal_journals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("journal", "decision", "language", name=op.f("pk_journal_letters")),
    )
    op.create_table(
        "journal_roles",
        sa.Column("journal", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["journal"], ["journals.slug"], name=op.f("fk_journal_roles_journal_journals"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_journal_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("journal", "user_id", "role", name=op.f("pk_journal_roles")),
    )
    op.create_index("ix_journal_roles_user_id", "journal_roles", ["user_id"], unique=False)
    op.create_table(
        "journal_sections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("journal", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["journal"], ["journals.slug"], name=op.f("fk_journal_sections_journal_journals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_sections")),
    )
    op.create_index(op.f("ix_journal_sections_journal"), "journal_sections", ["journal"], unique=False)
    op.create_table(
        "journal_submissions",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("journal", sa.String(length=64), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("editor_id", sa.Integer(), nullable=True),
        sa.Column("record_id", sa.String(length=20), nullable=True),
        sa.Column("issue_id", sa.Integer(), nullable=True),
        sa.Column("first_page", sa.String(length=20), nullable=True),
        sa.Column("last_page", sa.String(length=20), nullable=True),
        sa.Column("proofs_approved", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_journal_submissions_author_id_users")),
        sa.ForeignKeyConstraint(
            ["journal"], ["journals.slug"], name=op.f("fk_journal_submissions_journal_journals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_submissions")),
    )
    op.create_index(op.f("ix_journal_submissions_author_id"), "journal_submissions", ["author_id"], unique=False)
    op.create_index("ix_journal_submissions_issue_id", "journal_submissions", ["issue_id", "published"], unique=False)
    op.create_index(
        "ix_journal_submissions_journal_published", "journal_submissions", ["journal", "published"], unique=False
    )
    op.create_index("ix_journal_submissions_journal_stage", "journal_submissions", ["journal", "stage"], unique=False)
    op.create_index("ix_journal_submissions_record_id", "journal_submissions", ["record_id"], unique=False)
    op.create_table(
        "journal_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.String(length=20), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("letter", sa.Text(), nullable=False),
        sa.Column("editor_id", sa.Integer(), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["journal_submissions.id"],
            name=op.f("fk_journal_decisions_submission_id_journal_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_decisions")),
    )
    op.create_index("ix_journal_decisions_submission_id", "journal_decisions", ["submission_id"], unique=False)
    op.create_table(
        "journal_files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.String(length=20), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=200), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["journal_submissions.id"],
            name=op.f("fk_journal_files_submission_id_journal_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_files")),
    )
    op.create_index("ix_journal_files_sha256", "journal_files", ["sha256"], unique=False)
    op.create_index("ix_journal_files_submission_id", "journal_files", ["submission_id"], unique=False)
    op.create_table(
        "journal_reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.String(length=20), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("reminded", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recommendation", sa.String(length=20), nullable=True),
        sa.Column("for_author", sa.Text(), nullable=True),
        sa.Column("for_editor", sa.Text(), nullable=True),
        sa.Column("invited", sa.DateTime(timezone=True), nullable=False),
        sa.Column("responded", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted", sa.DateTime(timezone=True), nullable=True),
        sa.Column("record_id", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["journal_submissions.id"],
            name=op.f("fk_journal_reviews_submission_id_journal_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_reviews")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_journal_reviews_token_hash")),
    )
    op.create_index("ix_journal_reviews_status_due", "journal_reviews", ["status", "due"], unique=False)
    op.create_index("ix_journal_reviews_submission_id", "journal_reviews", ["submission_id"], unique=False)


def downgrade() -> None:
    for table in TABLES:  # dependants first; their indexes go with them
        op.drop_table(table)
