"""search: case-folded facets with their written form, and a vocabulary for typo tolerance

``search_facets.label`` keeps a value as it was written ("Statistics") while ``value`` holds the
case-folded key ("statistics"), so one facet counts both spellings and shows the most common one.

The vocabulary behind "did you mean": on SQLite an ``fts5vocab`` table over the FTS5 index (built
in, costs nothing to keep); on PostgreSQL a ``search_terms`` table of the index's words with a
``pg_trgm`` index, so a misspelt word finds its neighbours by trigram similarity. The index is
rebuilt on the next open (``storage.search.INDEX_VERSION`` changed with this revision).

Revision ID: 0015_search_fuzzy
Revises: 0014_accounts
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_search_fuzzy"
down_revision = "0014_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("search_facets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("label", sa.String(length=500), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE search_fts_vocab USING fts5vocab(search_fts, 'row')")
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE TABLE search_fts_terms (term text PRIMARY KEY)")
        op.execute("CREATE INDEX ix_search_fts_terms_trgm ON search_fts_terms USING gin (term gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_fts_vocab")
    else:
        op.execute("DROP TABLE IF EXISTS search_fts_terms")
    with op.batch_alter_table("search_facets", schema=None) as batch_op:
        batch_op.drop_column("label")
    op.execute("DELETE FROM node_settings WHERE key = 'search_index_version'")
