"""``osnode check``: one line per configured engine (database, blobs, queue, SMTP, OIDC), non-zero on failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from oidc_provider_mock import run_server_in_thread

from tests.conftest import free_port
from tests.test_cli import Cli, cli, folder, ok, token_in  # noqa: F401 - fixtures

__all__ = ["cli", "folder"]


class Sink:
    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        return "250 OK"


@pytest.fixture(scope="module")
def smtp_port() -> Iterator[int]:
    port = free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port
    controller.stop()


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


def configure(folder: Path, smtp_port: int, discovery: str) -> None:
    (folder / "osnode.toml").write_text(
        f'queue = "database"\nsmtp_host = "127.0.0.1"\nsmtp_port = {smtp_port}\nsmtp_security = "none"\n'
        f'[oidc.uni]\ndiscovery = "{discovery}"\nclient_id = "c"\nclient_secret = "s"\n',
        encoding="utf-8",
    )


def test_every_engine_reachable_gives_one_ok_line_each(folder: Path, cli: Cli, smtp_port: int, provider: str) -> None:
    configure(folder, smtp_port, f"{provider}/.well-known/openid-configuration")
    result = ok(cli("check", "--data", folder))
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "ok   database",
        "ok   blobs",
        "ok   queue",
        "ok   smtp",
        "ok   oidc",
    ]
    assert "schema at 0020_job_queue" in lines[0] or "schema at" in lines[0]
    assert "0 queued, 0 running, 0 dead" in lines[2]
    assert f"127.0.0.1:{smtp_port}" in lines[3]
    assert "issuer http://localhost" in lines[4]


def test_what_cannot_be_reached_is_said_in_one_line_each_and_exits_non_zero(
    folder: Path, cli: Cli, provider: str
) -> None:
    closed = free_port()
    configure(folder, closed, f"{provider}/no-such-discovery")
    result = cli("check", "--data", folder, env={"OSNODE_DATABASE_URL": f"postgresql://nobody@127.0.0.1:{closed}/x"})
    assert result.code == 1
    assert "Traceback" not in result.stdout + result.stderr
    failed = result.stderr.splitlines()
    assert [line.split(":")[0] for line in failed] == ["FAIL database", "FAIL queue", "FAIL smtp", "FAIL oidc"]
    assert f"127.0.0.1:{closed}" in failed[0] and "OperationalError" in failed[0]
    assert "cannot talk to 127.0.0.1" in failed[2]
    assert "404" in failed[3]
    assert result.stdout.startswith("ok   blobs")
