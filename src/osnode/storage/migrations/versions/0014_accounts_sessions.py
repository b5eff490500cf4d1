"""Local accounts, browser sessions, emailed links, sign-in failures, community curators, scoped tokens, the
email outbox, and OpenID Connect sign-ins and identities

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
    # Plain ADD COLUMN (no table rebuild: on SQLite a rebuild of users would trip the foreign keys that point at
    # it); uniqueness comes from unique indexes.
    op.add_column("users", sa.Column("email", sa.String(320), nullable=True))
    op.add_column("users", sa.Column("display_name", sa.String(200), nullable=True))
    op.add_column("users", sa.Column("password_hash", sa.String(200), nullable=True))
    op.add_column("users", sa.Column("email_verified", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("users", sa.Column("language", sa.String(8), nullable=False, server_default="en"))
    op.add_column("users", sa.Column("orcid", sa.String(19), nullable=True))
    op.add_column("users", sa.Column("status", sa.String(10), nullable=False, server_default="active"))
    op.create_index("ix_users_email", "users", ["email"], unique=True)
    op.create_index("ix_users_orcid", "users", ["orcid"], unique=True)
    op.add_column("tokens", sa.Column("scope", sa.String(10), nullable=True))
    op.add_column("tokens", sa.Column("expires", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tokens", sa.Column("revoked", sa.DateTime(timezone=True), nullable=True))


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
    op.create_table(
        "oidc_pending",
        sa.Column("state_hash", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(100), nullable=False),
        sa.Column("verifier", sa.String(200), nullable=False),
        sa.Column("next", sa.String(2000), nullable=False),
        sa.Column("browser_hash", sa.String(64), nullable=False),
        _when("created"),
        sa.PrimaryKeyConstraint("state_hash", name="pk_oidc_pending"),
    )
    op.create_table(
        "identities",
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _user_fk("identities"),
        sa.PrimaryKeyConstraint("provider", "subject", name="pk_identities"),
    )
    op.create_table(
        "invitations",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=False),
        _when("created"),
        _when("expires"),
        _when("used", nullable=True),
        sa.ForeignKeyConstraint(
            ["invited_by"], ["users.id"], name="fk_invitations_invited_by_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_invitations"),
    )


def downgrade() -> None:
    for table in (
        "invitations",
        "identities",
        "oidc_pending",
        "outbox",
        "community_curators",
        "signin_failures",
        "account_links",
        "sessions",
    ):
        op.drop_table(table)
    op.drop_index("ix_users_orcid", table_name="users")
    op.drop_index("ix_users_email", table_name="users")
    for table, columns in (
        ("tokens", ("revoked", "expires", "scope")),
        ("users", ("status", "orcid", "language", "email_verified", "password_hash", "display_name", "email")),
    ):
        for column in columns:
            op.drop_column(table, column)  # SQLite >= 3.35 drops a plain column in place
