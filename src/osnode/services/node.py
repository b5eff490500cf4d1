"""A node: its settings, catalog engine and blob store, opened once and shared by every use case."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine

from ..config import Settings, load_settings, with_stored
from ..storage import search, site_settings
from ..storage.blobs import BlobStore, LocalBlobStore
from ..storage.catalog import RELAXED, WRITE, make_engine, migrate
from ..storage.s3_blobs import S3BlobStore

TMP_IDLE_SECONDS = 3600.0


def utcnow() -> datetime:
    return datetime.now(UTC)


def open_blob_store(settings: Settings) -> BlobStore:
    """The store ``blob_store`` names: the data folder's ``blobs`` by default, else S3-compatible storage."""
    if not settings.blob_store:
        return LocalBlobStore(settings.blob_dir)
    store = S3BlobStore(
        settings.blob_store,
        endpoint=settings.s3_endpoint,
        region=settings.s3_region,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key,
        presign_seconds=settings.s3_presign_seconds,
        cache_dir=settings.data_dir / "s3-cache",
        cache_bytes=settings.s3_cache_mb * 1024 * 1024,
    )
    store.check()
    return store


@dataclass
class Node:
    settings: Settings
    engine: Engine
    blobs: BlobStore
    base_settings: Settings | None = None
    """The settings before what administrators stored in the catalog (``services.site.refresh`` re-applies)."""
    site_stamp: str | None = None
    """The catalog's ``site-stamp`` when ``settings`` were last made from it."""

    @classmethod
    def open(cls, settings: Settings) -> Node:
        """Open (and if needed create and migrate) the node in ``settings.data_dir``."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        blobs = open_blob_store(settings)
        # Only what no process has touched for a while: other processes may share this store.
        blobs.clean_tmp(idle_seconds=TMP_IDLE_SECONDS)
        engine = make_engine(settings.catalog_url)
        migrate(engine)
        node = cls(settings, engine, blobs)
        with node.transaction() as tx:
            search.ensure_current(tx)
            stored = site_settings.read(tx)
            node.site_stamp = site_settings.stamp(tx)
        node.base_settings = settings
        node.settings = with_stored(settings, stored)  # what an administrator set in the browser wins
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
