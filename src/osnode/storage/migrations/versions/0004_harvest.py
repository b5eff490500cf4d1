"""Peers, harvest runs and record sources (federation)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "peers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("base_url", sa.String(1000), nullable=False),
        sa.Column("set_spec", sa.String(500), nullable=True),
        sa.Column("metadata_prefix", sa.String(100), nullable=True),
        sa.Column("every_hours", sa.Float(), nullable=True),
        sa.Column("created", _TZ, nullable=False),
        sa.Column("next_from", sa.String(30), nullable=True),
        sa.Column("resumption_token", sa.Text(), nullable=True),
        sa.Column("pending_from", sa.String(30), nullable=True),
        sa.Column("pending_prefix", sa.String(100), nullable=True),
        sa.Column("last_run_at", _TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_peers"),
        sa.UniqueConstraint("name", name="uq_peers_name"),
    )
    op.create_table(
        "harvest_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("peer_id", sa.Integer(), nullable=False),
        sa.Column("started", _TZ, nullable=False),
        sa.Column("finished", _TZ, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("metadata_prefix", sa.String(100), nullable=True),
        sa.Column("from_datestamp", sa.String(30), nullable=True),
        sa.Column("resumed", sa.Boolean(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("error_list", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_harvest_runs"),
        sa.ForeignKeyConstraint(["peer_id"], ["peers.id"], name="fk_harvest_runs_peer_id_peers", ondelete="CASCADE"),
    )
    op.create_index("ix_harvest_runs_peer_started", "harvest_runs", ["peer_id", "started"])
    op.create_table(
        "record_sources",
        sa.Column("peer_id", sa.Integer(), nullable=False),
        sa.Column("oai_identifier", sa.String(1000), nullable=False),
        sa.Column("record_id", sa.String(20), nullable=False),
        sa.Column("datestamp", sa.String(30), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("doi", sa.String(500), nullable=True),
        sa.Column("url", sa.String(2000), nullable=True),
        sa.Column("harvested", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("peer_id", "oai_identifier", name="pk_record_sources"),
        sa.ForeignKeyConstraint(["peer_id"], ["peers.id"], name="fk_record_sources_peer_id_peers", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], name="fk_record_sources_record_id_records"),
    )
    op.create_index("ix_record_sources_record_id", "record_sources", ["record_id"])
    op.create_index("ix_record_sources_doi", "record_sources", ["doi"])
    op.create_index("ix_record_sources_oai_identifier", "record_sources", ["oai_identifier"])


def downgrade() -> None:
    op.drop_table("record_sources")
    op.drop_table("harvest_runs")
    op.drop_table("peers")
