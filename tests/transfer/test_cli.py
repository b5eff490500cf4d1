"""The transfer commands: ``osnode deposit --url`` (tus), ``osnode fixity``, ``export``/``import``."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from fastapi.testclient import TestClient

from osnode.services.node import Node
from tests.blob_stores import remove
from tests.conftest import Account, LiveServer, minimal_metadata
from tests.test_cli import Cli, cli, fails, ok  # noqa: F401  (cli is a fixture)
from tests.transfer.conftest import proxy_to
from tests.web.conftest import published_record


def test_deposit_over_a_cut_link_resumes_and_publishes(
    live_server: LiveServer,
    depositor: Account,
    tmp_path: Path,
    cli: Cli,  # noqa: F811
) -> None:
    data = os.urandom(1024 * 1024 + 1)
    source = tmp_path / "upload.bin"
    source.write_bytes(data)
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps(minimal_metadata()))
    proxy = proxy_to(live_server.url, after=300_000, cuts=2)
    try:
        result = ok(
            cli("deposit", source, "-m", meta, "--publish", "--json", "--url", proxy.url, "--token", depositor.token)
        )
    finally:
        proxy.stop()
    assert proxy.cut_done == 2
    record = result.json()
    assert record["state"] == "published"
    assert record["files"][0]["checksum"] == "sha256:" + hashlib.sha256(data).hexdigest()


def test_fixity_and_packages_commands(
    node: Node,
    client: TestClient,
    depositor: Account,
    admin: Account,
    tmp_path: Path,
    cli: Cli,  # noqa: F811
) -> None:
    record = published_record(client, depositor, {"a.txt": b"alpha", "b.txt": b"beta"})
    env = {"OSNODE_DATABASE_URL": node.settings.catalog_url}
    data = ("--data", node.settings.data_dir)
    report = ok(cli("fixity", "--all", "--json", *data, env=env)).json()
    assert (report["checked"], report["ok"]) == (2, 2)
    remove(node, hashlib.sha256(b"beta").hexdigest())
    damaged = cli("fixity", "--all", *data, env=env)
    assert damaged.code == 2 and "1 missing" in damaged.stdout
    status = ok(cli("fixity", "status", "--json", *data, env=env)).json()
    assert status["missing"] == 1 and len(status["runs"]) == 2
    assert "1 missing" in ok(cli("fixity", "status", *data, env=env)).stdout
    # Export what can be exported: a missing blob refuses the export with one line.
    fails(cli("export", "--out", tmp_path / "bag1", *data, env=env), "missing")
    node.blobs.put_stream([b"beta"])
    summary = ok(cli("export", "--out", tmp_path / "bag2", "--json", *data, env=env)).json()
    assert summary["versions"] == 1 and record["id"] in summary["ids"]
    fails(cli("export", "--out", tmp_path / "bag2", *data, env=env), "not empty")
    fails(cli("export", "--out", tmp_path / "bag3", "--since", "yesterday", *data, env=env), "--since")
    # Importing into the same node: everything is already here.
    again = ok(cli("import", tmp_path / "bag2", "--json", *data, env=env)).json()
    assert (again["versions"], again["skipped_versions"]) == (0, 1)
    (tmp_path / "bag2" / "data" / record["record_id"] / record["id"] / "files" / "a.txt").write_bytes(b"ALPHA")
    fails(cli("import", tmp_path / "bag2", *data, env=env), "refused")
