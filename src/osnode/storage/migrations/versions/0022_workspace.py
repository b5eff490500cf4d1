"""Invitations to co-own a record, by email (the inviter never learns whether an account has the address);
communities get a logo

Revision ID: 0022_workspace
Revises: 0021_network
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_workspace"
down_revision = "0021_network"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "co_owner_invitations",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("record_id", sa.String(20), sa.ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("invited_by", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_co_owner_invitations_record_id", "co_owner_invitations", ["record_id"])
    with op.batch_alter_table("communities") as batch:
        batch.add_column(sa.Column("logo", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("communities") as batch:
        batch.drop_column("logo")
    op.drop_index("ix_co_owner_invitations_record_id", table_name="co_owner_invitations")
    op.drop_table("co_owner_invitations")
