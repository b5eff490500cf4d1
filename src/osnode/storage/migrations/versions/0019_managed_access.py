"""Managed access: DUO terms on versions, data access committees, access requests, votes, grants, the
hash-chained audit log, visa revocations, and peers' jurisdiction

Revision ID: 0019_managed_access
Revises: 0018_journals
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_managed_access"
down_revision = "0018_journals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.String(length=20), nullable=True),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_record", ["record_id"], unique=False)

    op.create_table(
        "committees",
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("community", sa.String(length=64), nullable=True),
        sa.Column("quorum", sa.Integer(), nullable=False),
        sa.Column("agreement", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_committees")),
    )
    op.create_table(
        "visa_revocations",
        sa.Column("issuer", sa.String(length=1000), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("issuer", "grant_id", name=op.f("pk_visa_revocations")),
    )
    op.create_table(
        "committee_members",
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("chair", sa.Boolean(), nullable=False),
        sa.Column("added", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["slug"], ["committees.slug"], name=op.f("fk_committee_members_slug_committees"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("slug", "user_id", name=op.f("pk_committee_members")),
    )
    op.create_table(
        "access_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=20), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("purpose_code", sa.String(length=10), nullable=False),
        sa.Column("disease", sa.String(length=500), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("project", sa.String(length=500), nullable=False),
        sa.Column("institution", sa.String(length=500), nullable=False),
        sa.Column("institution_ror", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("not_for_profit", sa.Boolean(), nullable=False),
        sa.Column("commercial", sa.Boolean(), nullable=False),
        sa.Column("methods", sa.Boolean(), nullable=False),
        sa.Column("collaborates", sa.Boolean(), nullable=False),
        sa.Column("ethics_sha256", sa.String(length=64), nullable=True),
        sa.Column("ethics_name", sa.String(length=255), nullable=True),
        sa.Column("agreement_accepted", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_access_requests_record_id_records"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_requests")),
    )
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.create_index("ix_access_requests_record", ["record_id", "state"], unique=False)
        batch_op.create_index("ix_access_requests_requester", ["requester_id"], unique=False)

    op.create_table(
        "committee_records",
        sa.Column("record_id", sa.String(length=20), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_committee_records_record_id_records"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["slug"], ["committees.slug"], name=op.f("fk_committee_records_slug_committees"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_committee_records")),
    )
    op.create_table(
        "grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("project", sa.String(length=500), nullable=True),
        sa.Column("issued", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires", sa.Date(), nullable=False),
        sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Integer(), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_grants_record_id_records"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_requests.id"],
            name=op.f("fk_grants_request_id_access_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grants")),
        sa.UniqueConstraint("request_id", name="uq_grants_request"),
    )
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.create_index("ix_grants_record_user", ["record_id", "user_id"], unique=False)

    op.create_table(
        "request_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_requests.id"],
            name=op.f("fk_request_comments_request_id_access_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_comments")),
    )
    with op.batch_alter_table("request_comments", schema=None) as batch_op:
        batch_op.create_index("ix_request_comments_request", ["request_id"], unique=False)

    op.create_table(
        "request_votes",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("voter_id", sa.Integer(), nullable=False),
        sa.Column("approve", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_requests.id"],
            name=op.f("fk_request_votes_request_id_access_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "voter_id", name=op.f("pk_request_votes")),
    )
    with op.batch_alter_table("peers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("jurisdiction", sa.String(length=2), nullable=True))

    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data_use", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.drop_column("data_use")

    with op.batch_alter_table("peers", schema=None) as batch_op:
        batch_op.drop_column("jurisdiction")

    op.drop_table("request_votes")
    with op.batch_alter_table("request_comments", schema=None) as batch_op:
        batch_op.drop_index("ix_request_comments_request")

    op.drop_table("request_comments")
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_index("ix_grants_record_user")

    op.drop_table("grants")
    op.drop_table("committee_records")
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_access_requests_requester")
        batch_op.drop_index("ix_access_requests_record")

    op.drop_table("access_requests")
    op.drop_table("committee_members")
    op.drop_table("visa_revocations")
    op.drop_table("committees")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_record")

    op.drop_table("audit_log")
