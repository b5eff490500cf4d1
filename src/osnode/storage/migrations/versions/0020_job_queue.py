"""A durable job queue for ``osnode worker`` processes, and named leases shared by every process

Revision ID: 0020_job_queue
Revises: 0019_managed_access
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_job_queue"
down_revision = "0019_managed_access"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(100), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_by", sa.String(200), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dedupe_key", sa.String(200), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_queue_jobs"),
        sa.UniqueConstraint("dedupe_key", name="uq_queue_jobs_dedupe_key"),
    )
    op.create_index("ix_queue_jobs_state", "queue_jobs", ["state", "run_after"])
    op.create_table(
        "leases",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_index("ix_queue_jobs_state", table_name="queue_jobs")
    op.drop_table("queue_jobs")
