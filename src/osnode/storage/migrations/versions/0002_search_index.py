"""search index

Revision ID: 0002
Revises: 0001

Written by hand: autogenerate cannot express an FTS5 virtual table, its triggers, or a tsvector
column with a GIN index. The index starts empty; ``storage.search.ensure_current`` fills it when
the node opens (it rebuilds whenever the stored index version is not the current one).
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_FTS_COLUMNS = "titles, creators, subjects, descriptions"


def upgrade() -> None:
    op.create_table(
        "search_docs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=20), nullable=False),
        sa.Column("version_id", sa.String(length=20), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("title_sort", sa.String(length=200), nullable=False),
        sa.Column("creators", sa.Text(), nullable=False),
        sa.Column("titles", sa.Text(), nullable=False),
        sa.Column("subjects", sa.Text(), nullable=False),
        sa.Column("descriptions", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=50), nullable=True),
        sa.Column("access", sa.String(length=20), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], name=op.f("fk_search_docs_record_id_records")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_docs")),
        sa.UniqueConstraint("record_id", name=op.f("uq_search_docs_record_id")),
    )
    with op.batch_alter_table("search_docs", schema=None) as batch_op:
        batch_op.create_index("ix_search_docs_published_at", ["published_at"], unique=False)
        batch_op.create_index("ix_search_docs_title_sort", ["title_sort"], unique=False)
    op.create_table(
        "search_facets",
        sa.Column("doc_id", sa.Integer(), nullable=False),
        sa.Column("facet", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["doc_id"], ["search_docs.id"], name=op.f("fk_search_facets_doc_id_search_docs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("doc_id", "facet", "value", name=op.f("pk_search_facets")),
    )
    with op.batch_alter_table("search_facets", schema=None) as batch_op:
        batch_op.create_index("ix_search_facets_facet_value", ["facet", "value", "doc_id"], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        # External content: the text lives once, in search_docs; triggers keep FTS5 in step.
        op.execute(
            f"CREATE VIRTUAL TABLE search_fts USING fts5({_FTS_COLUMNS}, content='search_docs',"
            " content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        new = "new.titles, new.creators, new.subjects, new.descriptions"
        old = "old.titles, old.creators, old.subjects, old.descriptions"
        op.execute(
            "CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN"
            f" INSERT INTO search_fts(rowid, {_FTS_COLUMNS}) VALUES (new.id, {new}); END"
        )
        op.execute(
            "CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN"
            f" INSERT INTO search_fts(search_fts, rowid, {_FTS_COLUMNS}) VALUES ('delete', old.id, {old}); END"
        )
        op.execute(
            "CREATE TRIGGER search_docs_au AFTER UPDATE ON search_docs BEGIN"
            f" INSERT INTO search_fts(search_fts, rowid, {_FTS_COLUMNS}) VALUES ('delete', old.id, {old});"
            f" INSERT INTO search_fts(rowid, {_FTS_COLUMNS}) VALUES (new.id, {new}); END"
        )
    else:
        op.execute("ALTER TABLE search_docs ADD COLUMN document tsvector")
        op.execute("CREATE INDEX ix_search_docs_document ON search_docs USING gin (document)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("search_docs_ai", "search_docs_ad", "search_docs_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_table("search_facets")
    op.drop_table("search_docs")
    op.execute("DELETE FROM node_settings WHERE key = 'search_index_version'")
