"""Software archive objects (SWHIDs)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "swh_objects",
        sa.Column("sha1_git", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=3), nullable=False),
        sa.PrimaryKeyConstraint("sha1_git", name=op.f("pk_swh_objects")),
    )
    op.create_table(
        "swh_contents",
        sa.Column("sha1_git", sa.String(length=40), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["sha256"], ["blobs.sha256"], name=op.f("fk_swh_contents_sha256_blobs")),
        sa.PrimaryKeyConstraint("sha1_git", name=op.f("pk_swh_contents")),
    )
    op.create_index("ix_swh_contents_sha256", "swh_contents", ["sha256"])
    op.create_table(
        "swh_directory_entries",
        sa.Column("directory", sa.String(length=40), nullable=False),
        sa.Column("name", sa.LargeBinary(), nullable=False),
        sa.Column("perms", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("directory", "name", name=op.f("pk_swh_directory_entries")),
    )
    op.create_table(
        "swh_revisions",
        sa.Column("sha1_git", sa.String(length=40), nullable=False),
        sa.Column("directory", sa.String(length=40), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("date", sa.BigInteger(), nullable=True),
        sa.Column("date_offset", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha1_git", name=op.f("pk_swh_revisions")),
    )
    op.create_table(
        "swh_revision_parents",
        sa.Column("revision", sa.String(length=40), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("parent", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("revision", "rank", name=op.f("pk_swh_revision_parents")),
    )
    op.create_index("ix_swh_revision_parents_parent", "swh_revision_parents", ["parent"])
    op.create_table(
        "swh_releases",
        sa.Column("sha1_git", sa.String(length=40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("target", sa.String(length=40), nullable=False),
        sa.Column("target_type", sa.String(length=3), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha1_git", name=op.f("pk_swh_releases")),
    )
    op.create_table(
        "swh_snapshot_branches",
        sa.Column("snapshot", sa.String(length=40), nullable=False),
        sa.Column("name", sa.LargeBinary(), nullable=False),
        sa.Column("target_type", sa.String(length=10), nullable=False),
        sa.Column("target", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("snapshot", "name", name=op.f("pk_swh_snapshot_branches")),
    )
    op.create_table(
        "swh_origins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_swh_origins")),
        sa.UniqueConstraint("url", name=op.f("uq_swh_origins_url")),
    )
    op.create_table(
        "swh_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("origin_id", sa.Integer(), nullable=False),
        sa.Column("visit", sa.Integer(), nullable=False),
        sa.Column("date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("swhid", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(["origin_id"], ["swh_origins.id"], name=op.f("fk_swh_visits_origin_id_swh_origins")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_swh_visits")),
        sa.UniqueConstraint("origin_id", "visit", name="uq_swh_visits_origin_visit"),
    )
    op.create_table(
        "swh_deposits",
        sa.Column("version_id", sa.String(length=20), nullable=False),
        sa.Column("swhid", sa.String(length=60), nullable=False),
        sa.Column("origin", sa.String(length=1000), nullable=False),
        sa.Column("visit", sa.Integer(), nullable=False),
        sa.Column("head_revision", sa.String(length=40), nullable=True),
        sa.Column("root_directory", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"], ["versions.id"], name=op.f("fk_swh_deposits_version_id_versions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_swh_deposits")),
    )
    op.create_index("ix_swh_directory_entries_target", "swh_directory_entries", ["target"])
    op.create_index("ix_swh_revisions_directory", "swh_revisions", ["directory"])
    op.create_index("ix_swh_releases_target", "swh_releases", ["target"])
    op.create_index("ix_swh_snapshot_branches_target", "swh_snapshot_branches", ["target"])


def downgrade() -> None:
    for table in (
        "swh_deposits",
        "swh_visits",
        "swh_origins",
        "swh_snapshot_branches",
        "swh_releases",
        "swh_revision_parents",
        "swh_revisions",
        "swh_directory_entries",
        "swh_contents",
        "swh_objects",
    ):
        op.drop_table(table)
