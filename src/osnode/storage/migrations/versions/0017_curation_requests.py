"""Community inclusion requests carry the depositor's message and the curator's decision (who, when, why)

Revision ID: 0017_curation
Revises: 0016_deposit_forms
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_curation"
down_revision = "0016_deposit_forms"
branch_labels = None
depends_on = None

COLUMNS = ("message", "decided_by", "decided_at", "decision_message")


def upgrade() -> None:
    with op.batch_alter_table("record_communities") as batch:
        batch.add_column(sa.Column("message", sa.Text(), nullable=True))
        batch.add_column(sa.Column("decided_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("decision_message", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("record_communities") as batch:
        for column in reversed(COLUMNS):
            batch.drop_column(column)
