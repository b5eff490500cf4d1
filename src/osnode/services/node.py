"""A node: its settings, catalog engine and blob store, opened once and shared by every use case."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine

from ..config import Settings, load_settings, with_stored
from ..storage import search, site_settings
from ..storage.blobs import BlobStore
from ..storage.catalog import RELAXED, WRITE, make_engine, migrate

TMP_IDLE_SECONDS = 3600.0


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Node:
    settings: Settings
    engine: Engine
    blobs: BlobStore
    # The browser-set settings (``site:``) this process last applied, and when it last looked for others'
    # (services/site.py ``refresh``): another web process may change them.
    site_seen: dict[str, object] = field(default_factory=dict)
    site_checked: float = 0.0

    @classmethod
    def open(cls, settings: Settings) -> Node:
        """Open (and if needed create and migrate) the node in ``settings.data_dir``."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        blobs = BlobStore(settings.blob_dir)
        # Only what no process has touched for an hour: other processes may share this store.
        blobs.clean_tmp(idle_seconds=TMP_IDLE_SECONDS)
        engine = make_engine(settings.catalog_url)
        migrate(engine)
        node = cls(settings, engine, blobs)
        with node.transaction() as tx:
            search.ensure_current(tx)
            stored = site_settings.read(tx)
        node.settings = with_stored(settings, stored)  # what an administrator set in the browser wins
        node.site_seen, node.site_checked = stored, time.monotonic()
        return node

    @classmethod
    def open_configured(cls) -> Node:
        """The node the environment and its data folder's ``osnode.toml`` describe (``load_settings``)."""
        return cls.open(load_settings())

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[Connection]:
        """One catalog transaction: everything in it lands, or nothing does. ``durable=False``: its
        commit may be lost to a power cut (not to a crash), for writes that are redone when lost."""
        options = {WRITE: True} if durable else {WRITE: True, RELAXED: True}
        with self.engine.connect().execution_options(**options) as connection, connection.begin():
            if not durable and connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
            yield connection

    def record_url(self, record_or_version_id: str) -> str:
        return f"{self.settings.public_url}/records/{record_or_version_id}"

    def api_url(self, path: str) -> str:
        return f"{self.settings.public_url}/api{path}"

    def today(self) -> date:
        return utcnow().date()


def failpoint(name: str) -> None:
    """Stop here for good when ``OSNODE_FAILPOINTS`` names this point.

    Crash tests use it to hold a process inside a transaction and kill it there; it costs one
    environment lookup otherwise.
    """
    if name in os.environ.get("OSNODE_FAILPOINTS", "").split(","):
        while True:
            time.sleep(3600)
