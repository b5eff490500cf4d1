"""COAR Notify: the LDN inbox and the outbox of notifications sent; DOIs reserved and registered;
usage aggregates (COUNTER)

Revision ID: 0021_network
Revises: 0020_job_queue
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_network"
down_revision = "0020_job_queue"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "notify_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.String(1000), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("sender", sa.String(1000), nullable=False),
        sa.Column("record_id", sa.String(20), nullable=True),
        sa.Column("in_reply_to", sa.String(1000), nullable=True),
        sa.Column("object_url", sa.String(2000), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        _when("received"),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notify_inbox"),
        sa.UniqueConstraint("notification_id", name="uq_notify_inbox_notification_id"),
    )
    op.create_index("ix_notify_inbox_record_id", "notify_inbox", ["record_id"])
    op.create_index("ix_notify_inbox_kind_state", "notify_inbox", ["kind", "state"])
    op.create_table(
        "notify_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.String(1000), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("target", sa.String(1000), nullable=False),
        sa.Column("inbox", sa.String(2000), nullable=False),
        sa.Column("record_id", sa.String(20), nullable=True),
        sa.Column("in_reply_to", sa.Integer(), nullable=True),
        sa.Column("answer", sa.String(30), nullable=True),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("next_try"),
        sa.Column("last_error", sa.Text(), nullable=False),
        _when("created"),
        _when("sent", nullable=True),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notify_outbox"),
        sa.UniqueConstraint("notification_id", name="uq_notify_outbox_notification_id"),
    )
    op.create_index("ix_notify_outbox_state_next_try", "notify_outbox", ["state", "next_try"])
    op.create_index("ix_notify_outbox_record_id", "notify_outbox", ["record_id"])
    op.create_table(
        "dois",
        sa.Column("record_id", sa.String(20), nullable=False),
        sa.Column("doi", sa.String(300), nullable=False),
        sa.Column("registrar", sa.String(20), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("target", sa.String(12), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("pushed", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("next_try"),
        sa.Column("last_error", sa.Text(), nullable=False),
        _when("updated"),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], name="fk_dois_record_id_records"),
        sa.PrimaryKeyConstraint("record_id", name="pk_dois"),
        sa.UniqueConstraint("doi", name="uq_dois_doi"),
    )
    op.create_index("ix_dois_state_next_try", "dois", ["state", "next_try"])
    op.create_table(
        "usage_monthly",
        sa.Column("record_id", sa.String(20), nullable=False),
        sa.Column("access_method", sa.String(10), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("total_investigations", sa.Integer(), nullable=False),
        sa.Column("unique_investigations", sa.Integer(), nullable=False),
        sa.Column("total_requests", sa.Integer(), nullable=False),
        sa.Column("unique_requests", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("record_id", "access_method", "month", "country", "source", name="pk_usage_monthly"),
    )
    op.create_index("ix_usage_monthly_month", "usage_monthly", ["month"])
    op.create_table(
        "usage_days",
        sa.Column("day", sa.String(10), nullable=False),
        _when("counted"),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_usage_days"),
    )
    op.create_table(
        "usage_salts",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_usage_salts"),
    )


def downgrade() -> None:
    op.drop_table("usage_salts")
    op.drop_table("usage_days")
    op.drop_table("usage_monthly")
    op.drop_table("dois")
    op.drop_table("notify_outbox")
    op.drop_table("notify_inbox")
