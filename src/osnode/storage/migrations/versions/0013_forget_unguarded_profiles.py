"""Forget the data profiles made before every reader went through the guard

A profile is a cache of what a file holds, computed once per blob and served without opening the
file again. Profiles computed before ``explore.guard`` existed may hold what a crafted file read from
outside itself (an HDF5 external link to a restricted blob, say); they are dropped so each is computed
again, through the guard, on its next view.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.table("data_profiles").delete())


def downgrade() -> None:
    pass  # a cache: nothing to give back
