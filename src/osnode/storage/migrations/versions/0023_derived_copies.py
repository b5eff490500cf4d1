"""Derived columnar copies: a table file rewritten as Parquet (keyed by the source's SHA-256 and format)

Revision ID: 0023_derived_copies
Revises: 0022_workspace
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_derived_copies"
down_revision = "0022_workspace"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "derived_copies",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", "format", name=op.f("pk_derived_copies")),
    )


def downgrade() -> None:
    op.drop_table("derived_copies")
