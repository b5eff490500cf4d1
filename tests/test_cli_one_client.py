"""One client: the CLI's local mode runs ``NodeClient`` against the folder's app in-process, so a command
says the same thing locally (``--data``) as against a live ``osnode serve`` (``--url``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from osnode.services import records, users
from osnode.services.node import Node
from tests.conftest import Account, LiveServer, minimal_metadata
from tests.test_cli import Cli, cli, fails, ok, write_json  # noqa: F401 - cli is a fixture

BAD_ORCID = [{"familyName": "Silva", "givenName": "Ana", "orcid": "0000-0002-1825-0098"}]


def test_the_same_bad_input_gives_the_same_line_locally_and_remotely(
    tmp_path: Path,
    node: Node,
    data_dir: Path,
    database_url: str,
    live_server: LiveServer,
    admin: Account,
    cli: Cli,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OSNODE_DATABASE_URL", database_url)
    csv_file = tmp_path / "rainfall.csv"
    csv_file.write_bytes(b"year,mm\n2001,1021\n")
    orcid = write_json(tmp_path / "orcid.json", minimal_metadata(creators=BAD_ORCID))
    no_creators = write_json(tmp_path / "draft-only.json", {"titles": [{"title": "No creators yet"}]})
    commands = [
        ("deposit", csv_file, "--metadata", orcid, "--publish"),
        ("deposit", csv_file, "--metadata", no_creators, "--publish"),
        ("show", "no-such-id"),
        ("publish", "no-such-id"),
        ("new-version", "no-such-id"),
        ("withdraw", "no-such-id", "--reason", "gone"),
        ("list", "--size", "0"),
        ("list", "--cursor", "not-a-cursor"),
    ]
    for args in commands:
        local = fails(cli(*args, "--data", data_dir))
        remote = fails(cli(*args, "--url", live_server.url, "--token", admin.token))
        assert local == remote, args
    assert "creators.0.orcid" in fails(cli(*commands[0], "--data", data_dir))
    # Neither way left a draft or a record behind.
    staff = users.viewer_for(admin.user)
    assert records.list_records(node, staff, state="draft").items == []
    assert records.list_records(node, staff).items == []


def test_local_mode_uploads_in_pieces_through_the_api(
    tmp_path: Path,
    data_dir: Path,
    database_url: str,
    node: Node,
    admin: Account,
    cli: Cli,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OSNODE_DATABASE_URL", database_url)
    # Smaller pieces than the file: the in-process transport never holds the whole file.
    monkeypatch.setattr("osnode.cli.LOCAL_UPLOAD_PIECE", 1000)
    big = tmp_path / "series.bin"
    big.write_bytes(bytes(range(256)) * 20)  # 5,120 bytes: six PATCHes
    meta = write_json(tmp_path / "meta.json", minimal_metadata())
    published = ok(cli("deposit", big, "--metadata", meta, "--publish", "--json", "--data", data_dir)).json()
    [entry] = published["files"]
    assert entry["size"] == 5120
    version = records.get_version(node, published["id"], users.viewer_for(admin.user))
    assert node.blobs.read_bytes(version.files[0].sha256) == big.read_bytes()
