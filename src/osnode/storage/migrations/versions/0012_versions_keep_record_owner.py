"""Every version belongs to its record's owner

A new version started by a curator used to be recorded as the curator's, which made the curator
an owner of the files it carried over (a restricted record's among them). The node now keeps the
record's owner on every version; this gives the versions made before that back to it.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_versions = sa.table("versions", sa.column("record_id", sa.String), sa.column("owner_id", sa.Integer))
_records = sa.table("records", sa.column("id", sa.String), sa.column("owner_id", sa.Integer))


def upgrade() -> None:
    record_owner = sa.select(_records.c.owner_id).where(_records.c.id == _versions.c.record_id).scalar_subquery()
    op.execute(_versions.update().where(_versions.c.owner_id != record_owner).values(owner_id=record_owner))


def downgrade() -> None:
    # Who started each version was not kept, and handing ownership back would reopen the leak.
    pass
