"""The web deposit form's raw fields beside each draft (kept even when they are not valid metadata yet), and
an index on each depositor's versions for the workspace

Revision ID: 0014_deposit_forms
Revises: 0014_accounts
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_deposit_forms"
down_revision = "0014_accounts"
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


def downgrade() -> None:
    op.drop_index("ix_versions_owner_updated", table_name="versions")
    op.drop_table("draft_forms")
