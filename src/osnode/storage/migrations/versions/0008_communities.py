"""Communities (collections of records)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "communities",
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("slug", name="pk_communities"),
    )
    op.create_table(
        "record_communities",
        sa.Column("record_id", sa.String(20), nullable=False),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name="fk_record_communities_record_id_records", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["slug"], ["communities.slug"], name="fk_record_communities_slug_communities", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["requested_by"], ["users.id"], name="fk_record_communities_requested_by_users"),
        sa.PrimaryKeyConstraint("record_id", "slug", name="pk_record_communities"),
    )
    op.create_index("ix_record_communities_slug_status", "record_communities", ["slug", "status"])


def downgrade() -> None:
    op.drop_index("ix_record_communities_slug_status", table_name="record_communities")
    op.drop_table("record_communities")
    op.drop_table("communities")
