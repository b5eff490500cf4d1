"""The Alembic migrations build exactly the schema ``catalog.metadata`` declares, on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

import osnode.storage
from osnode.storage import catalog, profiles
from osnode.storage.catalog import alembic_config, make_engine, migrate

# Every storage module declares its tables on ``catalog.metadata``; load them all so the comparison
# below covers every table the migrations create, not only the ones this test happens to import.
for _module in pkgutil.iter_modules(osnode.storage.__path__):
    importlib.import_module(f"osnode.storage.{_module.name}")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    yield made
    made.dispose()


def schema_differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "render_as_batch": True,
                "include_object": catalog.include_object,
            },
        )
        return compare_metadata(context, catalog.metadata)


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(catalog.MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def current_revisions(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]


def test_migrated_schema_matches_the_declared_tables(engine: Engine) -> None:
    migrate(engine)
    assert schema_differences(engine) == []
    tables = set(inspect(engine).get_table_names())
    assert set(catalog.metadata.tables) <= tables
    assert current_revisions(engine) == [head_revision()]


def test_the_comparison_does_see_differences(engine: Engine) -> None:
    # Guard against a comparison that finds nothing because it looks at nothing.
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE node_settings"))
        conn.execute(text("DROP INDEX ix_files_sha256"))
    diffs = [d for d in schema_differences(engine) if isinstance(d, tuple)]
    assert {(d[0], d[1].name) for d in diffs} == {("add_table", "node_settings"), ("add_index", "ix_files_sha256")}


def test_migrate_twice_is_idempotent_and_keeps_data(engine: Engine) -> None:
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(insert(catalog.node_settings).values(key="name", value="Luanda node"))
    migrate(engine)
    migrate(engine)
    assert current_revisions(engine) == [head_revision()]
    assert schema_differences(engine) == []
    with engine.connect() as conn:
        assert conn.execute(select(catalog.node_settings.c.value)).scalars().all() == ["Luanda node"]


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    migrate(engine)
    now = datetime.now(UTC)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(catalog.tokens).values(user_id=12345, token_hash="h" * 64, label="", created=now))
    with engine.connect() as conn:
        assert conn.execute(select(catalog.tokens)).all() == []


def test_deleting_a_user_cascades_to_tokens(engine: Engine) -> None:
    migrate(engine)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        user_id = conn.execute(
            insert(catalog.users).values(name="ana", role="depositor", created=now).returning(catalog.users.c.id)
        ).scalar_one()
        conn.execute(insert(catalog.tokens).values(user_id=user_id, token_hash="h" * 64, label="", created=now))
    with engine.begin() as conn:
        conn.execute(catalog.users.delete().where(catalog.users.c.id == user_id))
    with engine.connect() as conn:
        assert conn.execute(select(catalog.tokens)).all() == []


# -- SQLite connection settings (SQLite only: PostgreSQL has no pragmas) ---------------------------


def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    try:
        migrate(engine)
        # Two connections at once: the pragmas are set on every new connection, not just the first.
        with engine.connect() as first, engine.connect() as second:
            for conn in (first, second):
                assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
                assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
                assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
                assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert (tmp_path / "catalog.sqlite-wal").exists()
    finally:
        engine.dispose()


def test_postgresql_urls_get_the_psycopg_driver() -> None:
    engine = make_engine("postgresql://user@127.0.0.1:1/nothing")
    try:
        assert engine.dialect.name == "postgresql"
        assert engine.dialect.driver == "psycopg"
    finally:
        engine.dispose()


def test_0012_gives_every_version_back_to_its_record_owner(engine: Engine) -> None:
    """A version a curator started before 0012 was the curator's, and so were its files."""
    config = alembic_config(engine)
    migrate(engine)  # the PostgreSQL catalog comes migrated already: step back to before 0012
    command.downgrade(config, "0011")
    now = datetime.now(UTC)
    with engine.begin() as conn:
        ids = {}
        for name, role in (("owner", "depositor"), ("curator", "curator")):
            ids[name] = conn.execute(
                insert(catalog.users).values(name=name, role=role, created=now).returning(catalog.users.c.id)
            ).scalar_one()
        conn.execute(insert(catalog.records).values(id="rec01", owner_id=ids["owner"], created=now, updated=now))
        for number, owner in ((1, "owner"), (2, "curator")):
            conn.execute(
                insert(catalog.versions).values(
                    id=f"ver0{number}",
                    record_id="rec01",
                    number=number,
                    state="published",
                    metadata={},
                    access_level="restricted",
                    owner_id=ids[owner],
                    created=now,
                    updated=now,
                )
            )
    command.upgrade(config, "head")
    with engine.connect() as conn:
        owners = dict(conn.execute(select(catalog.versions.c.id, catalog.versions.c.owner_id)).all())
    assert owners == {"ver01": ids["owner"], "ver02": ids["owner"]}


def test_0013_forgets_profiles_made_before_the_guard(engine: Engine) -> None:
    """A profile cached before explore.guard may hold bytes a crafted file read from elsewhere."""
    config = alembic_config(engine)
    migrate(engine)
    command.downgrade(config, "0012")
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(profiles.data_profiles).values(
                sha256="a" * 64, format="h5ad", status="ok", data={"leaked": "secret"}, created=now
            )
        )
    command.upgrade(config, "head")
    with engine.connect() as conn:
        assert conn.execute(select(profiles.data_profiles)).all() == []


def test_processes_starting_at_once_on_an_empty_postgresql_catalog_migrate_one_after_the_other() -> None:
    """Web processes and workers on several machines may all open a fresh catalog at the same moment."""
    import threading
    import uuid

    from tests.conftest import _pg_admin, _pg_url

    name = f"osnode_m_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engines = [make_engine(_pg_url(name)) for _ in range(4)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(engines))

    def start(engine: Engine) -> None:
        barrier.wait()
        try:
            migrate(engine)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=start, args=(e,), daemon=True) for e in engines]
        for t in threads:
            t.start()
        for t in threads:
            t.join(180)
        # Without the lock, concurrent upgrades wait on each other's DDL for good (seen): none may hang.
        assert not any(t.is_alive() for t in threads)
        assert errors == []
        assert current_revisions(engines[0]) == [head_revision()]
    finally:
        for engine in engines:
            engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
