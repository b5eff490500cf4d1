"""Issue 16, server: an access log line per request, and the table and atlas pages compressed like the others."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Account
from tests.explore.conftest import publish, table_bytes
from tests.explore.test_web import h5ad_bytes

from osnode.app import create_app
from osnode.config import ConfigError, load_settings
from osnode.services.node import Node
from osnode.web import accesslog
from osnode.web.compression import serves_file_bytes

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (\S+) (\S+) (\d{3}) (\d+) (\d+\.\d)ms$")


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def logged() -> Iterator[Lines]:
    handler = Lines()
    accesslog.LOGGER.addHandler(handler)
    yield handler
    accesslog.LOGGER.removeHandler(handler)


def test_each_request_gets_one_line(client: TestClient, logged: Lines) -> None:
    page = client.get("/search?q=secret+words", headers={"Accept-Encoding": "gzip"})
    missing = client.get("/api/records/nosuchrecord")
    client.get("/bad%0Aline%20here")
    first, second, third = (LINE.match(line) for line in logged.lines[-3:])
    assert first and second and third, logged.lines
    assert first.groups()[:3] == ("GET", "/search", "200")
    assert int(first.group(4)) == int(page.headers["content-length"])  # the bytes sent, compressed
    assert second.groups()[:3] == ("GET", "/api/records/nosuchrecord", "404")
    assert int(second.group(4)) == len(missing.content)
    assert "secret" not in "\n".join(logged.lines)  # the query string is not kept
    assert third.group(2) == "/bad%0Aline%20here"  # no forged lines, one field


def test_the_log_can_be_turned_off(node: Node, logged: Lines, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    quiet = Node.open(load_settings(node.settings.data_dir, database_url=node.settings.database_url, access_log="off"))
    try:
        with TestClient(create_app(quiet)) as client:
            assert client.get("/healthz").status_code == 200
    finally:
        quiet.close()
    assert logged.lines == []
    monkeypatch.setenv("OSNODE_ACCESS_LOG", "false")
    assert load_settings(tmp_path).access_log is False
    assert load_settings(tmp_path, access_log=True).access_log is True
    monkeypatch.setenv("OSNODE_ACCESS_LOG", "perhaps")
    with pytest.raises(ConfigError, match="access_log must be true or false"):
        load_settings(tmp_path)


def test_table_and_atlas_pages_are_compressed(
    node: Node, client: TestClient, depositor: Account, tmp_path: Path
) -> None:
    vid = publish(node, depositor, {"people.csv": table_bytes("csv"), "cells.h5ad": h5ad_bytes(tmp_path)})
    gzip = {"Accept-Encoding": "gzip"}
    for path in (
        f"/records/{vid}/files/people.csv/explore",
        f"/records/{vid}/files/cells.h5ad/explore",
        f"/api/records/{vid}/files/people.csv/profile",
        f"/api/records/{vid}/files/cells.h5ad/atlas",
    ):
        response = client.get(path, headers=gzip)
        assert response.status_code == 200, path
        assert response.headers.get("content-encoding") == "gzip", path
    # The file itself still goes out as stored, byte ranges and all.
    raw = client.get(f"/records/{vid}/files/people.csv", headers=gzip)
    assert raw.headers.get("content-encoding") is None and raw.content == table_bytes("csv")
    assert serves_file_bytes("/records/x/files/explore") and serves_file_bytes("/api/blobs/abc")
    assert not serves_file_bytes("/records/x/files/a.csv/explore")
