"""``osnode peers add|list|remove`` and ``osnode harvest``, on SQLite and PostgreSQL, including a
harvest killed mid-way (a real process, stopped after its first page) that the next run resumes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from osnode.config import load_settings
from osnode.services.node import Node
from osnode.storage.peers import peers
from tests.conftest import Account
from tests.harvest.conftest import publish, serve
from tests.test_cli import Cli, cli, fails, ok  # noqa: F401  (cli is a fixture)


def _env(url: str) -> dict[str, str]:
    return {"OSNODE_DATABASE_URL": url}


def test_peers_and_harvest_commands(
    cli: Cli,  # noqa: F811
    node: Node,
    admin: Account,
    data_dir: Path,
    database_url: str,
    harvester_dir: Path,
    harvester_url: str,
) -> None:
    made = [publish(node, admin.viewer, titles=[{"title": f"Record {i}"}]) for i in range(5)]
    server = serve(data_dir, database_url, {"OSNODE_OAI_PAGE_SIZE": "2"})
    env = _env(harvester_url)
    data = ["--data", str(harvester_dir)]
    try:
        added = ok(cli("peers", "add", f"{server.url}/oai", "--name", "a", "--every", "6", *data, env=env))
        assert "added peer a" in added.stdout
        fails(cli("peers", "add", "ftp://nowhere", *data, env=env), "not an http(s) URL")
        fails(cli("peers", "add", f"{server.url}/oai", "--name", "a", *data, env=env), "already exists")
        fails(cli("peers", "add", "http://127.0.0.1:9/oai", "--name", "dead", *data, env=env), "does not answer")
        fails(cli("harvest", "nope", *data, env=env), "no peer named 'nope'")

        # A harvest killed after its first page...
        killed = subprocess.Popen(
            [sys.executable, "-m", "osnode", "harvest", "a", *data],
            env=os.environ | env | {"OSNODE_FAILPOINTS": "harvest.page"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            token = _wait_for_token(harvester_dir, harvester_url)
        finally:
            killed.kill()
            killed.wait()
        assert token is not None
        # ...is resumed by the next one, which fetches only the rest.
        report = ok(cli("harvest", "a", "--json", *data, env=env)).json()["runs"][0]
        assert (report["status"], report["resumed"], report["added"]) == ("ok", True, 3)
        listed = ok(cli("peers", "list", "--json", *data, env=env)).json()["peers"]
        assert listed[0]["records"] == 5 and listed[0]["every_hours"] == 6
        assert listed[0]["last_run"]["added"] == 3
        table = ok(cli("peers", "list", *data, env=env)).stdout
        assert "a" in table and "ok" in table

        again = ok(cli("harvest", "--no-dump", *data, env=env)).stdout  # every peer; nothing new
        assert "a: ok" in again and "0 added" in again
        removed = ok(cli("peers", "remove", "a", *data, env=env))
        assert "5 record(s) withdrawn" in removed.stdout
        fails(cli("peers", "remove", "a", *data, env=env), "no peer named 'a'")
        fails(cli("harvest", *data, env=env), "no peers yet")
    finally:
        server.stop()
    assert len(made) == 5


def _wait_for_token(data_dir: Path, url: str) -> str | None:
    node = Node.open(load_settings(data_dir, database_url=url))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with node.engine.connect() as conn:
                token = conn.execute(select(peers.c.resumption_token)).scalar()
            if token:
                return token
            time.sleep(0.2)
        return None
    finally:
        node.close()
