"""Local accounts, browser sessions, emailed links, sign-in failures, community curators, scoped tokens and
the email outbox

Revision ID: 0014_accounts
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_accounts"
down_revision = "0013"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=f"fk_{table}_user_id_users", ondelete="CASCADE")


def _accounts_columns() -> None:
    # Batch mode: SQLite cannot add a UNIQUE column in place.
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email", sa.String(320), nullable=True))
        batch.add_column(sa.Column("display_name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("password_hash", sa.String(200), nullable=True))
        batch.add_column(sa.Column("email_verified", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("language", sa.String(8), nullable=False, server_default="en"))
        batch.add_column(sa.Column("orcid", sa.String(19), nullable=True))
        batch.add_column(sa.Column("status", sa.String(10), nullable=False, server_default="active"))
        batch.create_unique_constraint("uq_users_email", ["email"])
        batch.create_unique_constraint("uq_users_orcid", ["orcid"])
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("scope", sa.String(10), nullable=True))
        batch.add_column(sa.Column("expires", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("revoked", sa.DateTime(timezone=True), nullable=True))


def upgrade() -> None:
    _accounts_columns()
    op.create_table(
        "sessions",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _when("created"),
        _when("expires"),
        _user_fk("sessions"),
        sa.PrimaryKeyConstraint("id_hash", name="pk_sessions"),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_table(
        "account_links",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(10), nullable=False),
        _when("expires"),
        _when("used", nullable=True),
        _user_fk("account_links"),
        sa.PrimaryKeyConstraint("token_hash", name="pk_account_links"),
    )
    op.create_table(
        "signin_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(400), nullable=False),
        _when("at"),
        sa.PrimaryKeyConstraint("id", name="pk_signin_failures"),
    )
    op.create_index("ix_signin_failures_subject_at", "signin_failures", ["subject", "at"])
    op.create_table(
        "community_curators",
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["slug"], ["communities.slug"], name="fk_community_curators_slug_communities", ondelete="CASCADE"
        ),
        _user_fk("community_curators"),
        sa.PrimaryKeyConstraint("slug", "user_id", name="pk_community_curators"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("next_try"),
        sa.Column("last_error", sa.Text(), nullable=False),
        _when("created"),
        _when("sent", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_state_next_try", "outbox", ["state", "next_try"])


def downgrade() -> None:
    for table in ("outbox", "community_curators", "signin_failures", "account_links", "sessions"):
        op.drop_table(table)
    with op.batch_alter_table("tokens") as batch:
        for column in ("revoked", "expires", "scope"):
            batch.drop_column(column)
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_orcid", type_="unique")
        batch.drop_constraint("uq_users_email", type_="unique")
        for column in ("status", "orcid", "language", "email_verified", "password_hash", "display_name", "email"):
            batch.drop_column(column)
