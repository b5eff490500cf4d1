"""Indexes for keyset paging by (updated, id) and for origin-node sets

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_records_updated_id", "records", ["updated", "id"])
    op.create_index("ix_versions_origin_node", "versions", ["origin_node"])


def downgrade() -> None:
    op.drop_index("ix_versions_origin_node", table_name="versions")
    op.drop_index("ix_records_updated_id", table_name="records")
