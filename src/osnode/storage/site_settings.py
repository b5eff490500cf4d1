"""Node settings an administrator changed in the browser, kept in ``node_settings`` under ``site:<name>``.

They override the config file's values when the node opens and at once in the running process
(services/site.py). The background jobs' last and next runs are kept the same way under ``job:<name>``
(services/jobs.py), so the admin page of any process sees them.

Every write of site settings also changes ``site-stamp``, a random token: each process remembers the stamp its
settings were read at and, on each request, compares it with the catalog's (one row read by its key), so a
change made through one worker is seen by every other at their next request (services/site.py, ``refresh``)."""

from __future__ import annotations

import json
import secrets

from sqlalchemy import Connection, delete, select

from .catalog import node_settings

PREFIX = "site:"
STAMP = "site-stamp"  # not under PREFIX: read() of the settings never sees it


def read(conn: Connection, prefix: str = PREFIX) -> dict[str, object]:
    rows = conn.execute(select(node_settings).where(node_settings.c.key.like(prefix + "%"))).all()
    return {row.key.removeprefix(prefix): json.loads(row.value) for row in rows}


def write(conn: Connection, values: dict[str, object], prefix: str = PREFIX) -> str | None:
    """Store the values; for site settings, also a new stamp, which is returned."""
    for name, value in values.items():
        key = prefix + name
        conn.execute(delete(node_settings).where(node_settings.c.key == key))
        conn.execute(node_settings.insert().values(key=key, value=json.dumps(value)))
    if prefix != PREFIX:
        return None
    fresh = secrets.token_hex(8)
    conn.execute(delete(node_settings).where(node_settings.c.key == STAMP))
    conn.execute(node_settings.insert().values(key=STAMP, value=fresh))
    return fresh


def stamp(conn: Connection) -> str | None:
    """The token of the last change to site settings (None if they were never changed)."""
    return conn.execute(select(node_settings.c.value).where(node_settings.c.key == STAMP)).scalar()
