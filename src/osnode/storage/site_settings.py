"""Node settings an administrator changed in the browser, kept in ``node_settings`` under ``site:<name>``.

They override the config file's values when the node opens and at once in the running process
(services/site.py)."""

from __future__ import annotations

import json

from sqlalchemy import Connection, delete, select

from .catalog import node_settings

PREFIX = "site:"


def read(conn: Connection) -> dict[str, object]:
    rows = conn.execute(select(node_settings).where(node_settings.c.key.like(PREFIX + "%"))).all()
    return {row.key.removeprefix(PREFIX): json.loads(row.value) for row in rows}


def write(conn: Connection, values: dict[str, object]) -> None:
    for name, value in values.items():
        key = PREFIX + name
        conn.execute(delete(node_settings).where(node_settings.c.key == key))
        conn.execute(node_settings.insert().values(key=key, value=json.dumps(value)))
