"""Node settings an administrator changed in the browser, kept in ``node_settings`` under ``site:<name>``.

They override the config file's values when the node opens and at once in the running process
(services/site.py). The background jobs' last and next runs are kept the same way under ``job:<name>``
(services/jobs.py), so the admin page of any process sees them."""

from __future__ import annotations

import json

from sqlalchemy import Connection, delete, select

from .catalog import node_settings

PREFIX = "site:"


def read(conn: Connection, prefix: str = PREFIX) -> dict[str, object]:
    rows = conn.execute(select(node_settings).where(node_settings.c.key.like(prefix + "%"))).all()
    return {row.key.removeprefix(prefix): json.loads(row.value) for row in rows}


def write(conn: Connection, values: dict[str, object], prefix: str = PREFIX) -> None:
    for name, value in values.items():
        key = prefix + name
        conn.execute(delete(node_settings).where(node_settings.c.key == key))
        conn.execute(node_settings.insert().values(key=key, value=json.dumps(value)))
