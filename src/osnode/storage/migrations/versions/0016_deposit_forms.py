"""The web deposit form's raw fields beside each draft (kept even when they are not valid metadata yet), and
an index on each depositor's versions for the workspace

Revision ID: 0016_deposit_forms
Revises: 0015_search_fuzzy
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_deposit_forms"
down_revision = "0015_search_fuzzy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "draft_forms",
        sa.Column("version_id", sa.String(20), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"], ["versions.id"], name="fk_draft_forms_version_id_versions", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("version_id", name="pk_draft_forms"),
    )
    op.create_index("ix_versions_owner_updated", "versions", ["owner_id", "updated"])
    op.create_table(
        "record_owners",
        sa.Column("record_id", sa.String(20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name="fk_record_owners_record_id_records", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_record_owners_user_id_users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("record_id", "user_id", name="pk_record_owners"),
    )


def downgrade() -> None:
    op.drop_table("record_owners")
    op.drop_index("ix_versions_owner_updated", table_name="versions")
    op.drop_table("draft_forms")
