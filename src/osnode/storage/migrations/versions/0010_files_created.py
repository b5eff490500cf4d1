"""An index on files.created, for the background job that profiles new explorable files

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Without it, the job (every 10 s) sorted every file of every published version to find the
    # newest: seconds of CPU each time on a node of a million records.
    op.create_index("ix_files_created", "files", ["created"])


def downgrade() -> None:
    op.drop_index("ix_files_created", table_name="files")
