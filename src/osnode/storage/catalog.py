"""The catalog: tables, the engine for SQLite or PostgreSQL, and schema migrations with Alembic.

Tables are SQLAlchemy Core: the services read rows into the domain's dataclasses themselves,
which keeps the mapping plain and visible.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.dml import Insert

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    # Local accounts (migration 0014). The email is kept lower-cased, so unique means case-insensitively
    # unique; name-only users (made by the CLI) have none and sign in with tokens only.
    Column("email", String(320), nullable=True),
    Column("display_name", String(200), nullable=True),
    # An argon2id PHC string (services/passwords.py); none: no password sign-in.
    Column("password_hash", String(200), nullable=True),
    Column("email_verified", Boolean, nullable=False, server_default=false()),
    Column("language", String(8), nullable=False, server_default="en"),
    Column("orcid", String(19), nullable=True),
    Column("status", String(10), nullable=False, server_default="active"),
)
Index("ix_users_email", users.c.email, unique=True)
Index("ix_users_orcid", users.c.orcid, unique=True)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    # Only the SHA-256 of a token is kept: a leaked catalog leaks no credentials.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("label", String(200), nullable=False, default=""),
    Column("created", DateTime(timezone=True), nullable=False),
    # What the token may do (read / deposit / admin); none: a token from before scopes, its user's full role.
    Column("scope", String(10), nullable=True),
    Column("expires", DateTime(timezone=True), nullable=True),
    Column("revoked", DateTime(timezone=True), nullable=True),
)

records = Table(
    "records",
    metadata,
    Column("id", String(20), primary_key=True),
    Column("owner_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    # The version the concept id resolves to; null until the first publication.
    Column("latest_published_id", String(20), nullable=True),
    # When the record last changed in a way readers see; orders listings and feeds.
    Column("updated", DateTime(timezone=True), nullable=False),
)

versions = Table(
    "versions",
    metadata,
    Column("id", String(20), primary_key=True),
    Column("record_id", String(20), ForeignKey("records.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("state", String(20), nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("access_level", String(20), nullable=False),
    Column("embargo_until", Date, nullable=True),
    Column("owner_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),
    Column("withdrawn_at", DateTime(timezone=True), nullable=True),
    Column("withdrawal_reason", Text, nullable=True),
    Column("origin_node", String(200), nullable=True),
    # GA4GH DUO data-use terms (``domain.duo.DataUse.as_dict``): a restricted version with terms is managed.
    Column("data_use", JSON, nullable=True),
    UniqueConstraint("record_id", "number", name="uq_versions_record_number"),
)
Index("ix_versions_record_state", versions.c.record_id, versions.c.state)
# OAI-PMH and feeds page through records by (updated, id); harvested sets filter by origin.
Index("ix_records_updated_id", records.c.updated, records.c.id)
Index("ix_versions_origin_node", versions.c.origin_node)
# A depositor's own versions, newest first: the workspace and the deposit form's co-authors (0016_deposit_forms).
Index("ix_versions_owner_updated", versions.c.owner_id, versions.c.updated)

blobs = Table(
    "blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
)

files = Table(
    "files",
    metadata,
    Column("version_id", String(20), ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("sha256", String(64), ForeignKey("blobs.sha256"), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("mimetype", String(200), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
)
Index("ix_files_sha256", files.c.sha256)
Index("ix_files_created", files.c.created)

node_settings = Table(
    "node_settings",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

# The search index (see storage/search/). These two tables are portable; the engine's own
# full-text structures (FTS5 table, tsvector column and GIN index) are made by migration 0002.
search_docs = Table(
    "search_docs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("record_id", String(20), ForeignKey("records.id"), nullable=False, unique=True),
    Column("version_id", String(20), nullable=False),
    Column("title", Text, nullable=False),
    Column("title_sort", String(200), nullable=False),
    Column("creators", Text, nullable=False),
    Column("titles", Text, nullable=False),
    Column("subjects", Text, nullable=False),
    Column("descriptions", Text, nullable=False),
    Column("year", Integer, nullable=True),
    Column("kind", String(50), nullable=True),
    Column("access", String(20), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),
)
Index("ix_search_docs_published_at", search_docs.c.published_at)
Index("ix_search_docs_title_sort", search_docs.c.title_sort)

search_facets = Table(
    "search_facets",
    metadata,
    Column("doc_id", Integer, ForeignKey("search_docs.id", ondelete="CASCADE"), primary_key=True),
    Column("facet", String(20), primary_key=True),
    # Case-folded for subjects (one facet for "Statistics" and "statistics"); ``label`` is the value as written.
    Column("value", String(500), primary_key=True),
    Column("label", String(500), nullable=True),
)
Index("ix_search_facets_facet_value", search_facets.c.facet, search_facets.c.value, search_facets.c.doc_id)

# Engine-specific search structures, invisible to the declared metadata.
_NATIVE_TABLE_PREFIX = "search_fts"
_NATIVE_COLUMNS = {("search_docs", "document")}
_NATIVE_INDEXES = {"ix_search_docs_document"}


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    """Alembic's filter: leave the engine-specific search structures to their hand-written migration."""
    if type_ == "table" and name and name.startswith(_NATIVE_TABLE_PREFIX):
        return False
    if type_ == "column" and (obj.table.name, name) in _NATIVE_COLUMNS:
        return False
    return not (type_ == "index" and name in _NATIVE_INDEXES)


MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets readers run while a writer commits; a generous busy timeout rides out short locks
    # between the web server and a CLI command working on the same data folder.
    # The driver's own transaction handling starts a transaction only at the first write, so the
    # reads a use case checks before writing would sit outside it; we emit BEGIN ourselves.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a committed transaction survives power loss too, not only a killed process.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # SQLite's default page cache is 2 MB; the catalog's indexes are far larger, and a bulk writer
    # (a harvest of a million records) touches pages of every one of them for each row it adds.
    cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
    cursor.close()


CACHE_KIB = 32 * 1024
BUSY_TIMEOUT_MS = 30_000
# Pages of write-ahead log before SQLite copies them into the database (its default is 1,000): a
# bulk writer (a harvest) then pays for that copy and its fsync far less often.
WAL_CHECKPOINT_PAGES = 16_384


class EncodedJSON(str):
    """A JSON column's value already encoded (by the harvest's worker process, say): written as is."""


def _json_text(value: Any) -> str:
    """JSON columns are written with orjson (faster than the standard library at the sizes
    metadata has); a value orjson cannot encode (an integer beyond 64 bits, say) falls back to the
    standard encoder, so nothing that stored before fails now."""
    if isinstance(value, EncodedJSON):
        return value
    try:
        return orjson.dumps(value).decode()
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value)


WRITE = "osnode_write"
RELAXED = "osnode_relaxed"
"""A transaction whose commit may be lost to a power cut (never to a crash of the process, and never
corrupting anything): for writes that are fetched again when lost, such as a harvested page stored
with its resumption token. It skips the fsync of each commit."""


def _sqlite_begin(connection: Connection) -> None:
    # A write transaction takes SQLite's write lock up front (IMMEDIATE), so what it read before
    # writing cannot change under it; read-only transactions stay deferred and never block.
    options = connection.get_execution_options()
    # Each transaction has its durability; the pooled connection remembers the one it was left with.
    synchronous = "NORMAL" if options.get(RELAXED) else "FULL"
    if connection.info.get("synchronous", "FULL") != synchronous:
        connection.exec_driver_sql(f"PRAGMA synchronous={synchronous}")
        connection.info["synchronous"] = synchronous
    connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE) else "BEGIN")


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, json_serializer=_json_text, json_deserializer=orjson.loads
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=_json_text, json_deserializer=orjson.loads)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


# A PostgreSQL advisory lock key ("osnodemg"): one migration at a time across processes and machines.
MIGRATION_LOCK = 0x6F736E6F64656D67


def migrate(engine: Engine) -> None:
    """Bring the catalog's schema up to date (idempotent; safe at every start). On PostgreSQL, web
    processes and workers on several machines may start at once: they migrate one after the other, the
    later ones finding the schema already at head."""
    if engine.dialect.name != "postgresql":
        command.upgrade(alembic_config(engine), "head")  # SQLite: one file, one machine, a write lock
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            command.upgrade(alembic_config(engine), "head")
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            conn.commit()


def register_blob(conn: Connection, sha256: str, size: int, now: datetime) -> None:
    """Record that the store holds ``sha256`` (the bytes are written first; a blob already known stays)."""
    conn.execute(insert_or_ignore(conn, blobs).values(sha256=sha256, size=size, created=now))


def register_blobs(conn: Connection, stored: dict[str, int], now: datetime, batch: int = 500) -> None:
    """``register_blob`` for many blobs at once (``sha256 -> size``; an archived tree's files), in a few
    multi-row statements."""
    rows = [{"sha256": sha256, "size": size, "created": now} for sha256, size in stored.items()]
    for start in range(0, len(rows), batch):
        conn.execute(insert_or_ignore(conn, blobs), rows[start : start + batch])


def insert_or_ignore(conn: Connection, table: Table, index_elements: list[str] | None = None) -> Insert:
    """An INSERT that skips rows whose key is already there. SQLite and PostgreSQL both spell it
    ``ON CONFLICT DO NOTHING``, but SQLAlchemy builds it only from each dialect's own ``insert``."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    return insert(table).on_conflict_do_nothing(index_elements=index_elements)
