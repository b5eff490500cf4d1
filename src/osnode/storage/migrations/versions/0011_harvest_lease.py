"""A lease on each peer, so that two harvests of one peer never run at once

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("peers", sa.Column("lease_owner", sa.String(300), nullable=True))
    op.add_column("peers", sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("peers") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
