"""Replication policies per peer and the replicas each node holds

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Written out, not imported from storage/replicas.py: a migration stays as it was released.
    op.create_table(
        "replication_policies",
        sa.Column("peer_id", sa.Integer, sa.ForeignKey("peers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("policy", sa.String(20), nullable=False),
        sa.Column("sets", sa.JSON, nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "replication_state",
        sa.Column("peer_id", sa.Integer, sa.ForeignKey("peers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("oai_identifier", sa.String(1000), primary_key=True),
        sa.Column("record_id", sa.String(20), nullable=False),
        sa.Column("datestamp", sa.String(30), nullable=True),
        sa.Column("replicated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("message", sa.Text, nullable=True),
    )
    op.create_table(
        "replicas",
        sa.Column("version_id", sa.String(20), sa.ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(1000), primary_key=True),
        sa.Column("record_id", sa.String(20), nullable=False),
        sa.Column("is_self", sa.Boolean, nullable=False),
        sa.Column("reported", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_replicas_sha256", "replicas", ["sha256"])
    op.create_index("ix_replicas_record_id", "replicas", ["record_id"])


def downgrade() -> None:
    op.drop_index("ix_replicas_record_id", table_name="replicas")
    op.drop_index("ix_replicas_sha256", table_name="replicas")
    op.drop_table("replicas")
    op.drop_table("replication_state")
    op.drop_table("replication_policies")
