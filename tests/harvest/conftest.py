"""Harvest test helpers: a second node that harvests (same backend as the peer), records published
through the services, and a deliberately broken OAI-PMH server with canned responses."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import text

from osnode.config import load_settings
from osnode.domain.access import Viewer
from osnode.services import deposit
from osnode.services.harvest import OAIClient, RetryPolicy
from osnode.services.node import Node
from tests.conftest import LiveServer, _pg_admin, _pg_url, minimal_metadata, start_server


def serve(data_dir: Path, database_url: str, env: dict[str, str] | None = None, wait: float = 180) -> LiveServer:
    return start_server(data_dir, database_url, env, patience=wait)


def publish(node: Node, viewer: Viewer, **changes: Any) -> str:
    """A published metadata-only record; returns the record id."""
    draft = deposit.create_draft(node, viewer, minimal_metadata(**changes), {"level": "metadata-only"})
    deposit.publish(node, draft.id, viewer)
    return draft.record_id


@pytest.fixture
def harvester_url(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty catalog on the same backend as the test's ``node``."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'harvester.sqlite'}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"osnode_h_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield _pg_url(name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def harvester_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "harvester"
    folder.mkdir()
    return folder


@pytest.fixture
def harvester(harvester_dir: Path, harvester_url: str) -> Iterator[Node]:
    opened = Node.open(
        load_settings(harvester_dir, database_url=harvester_url, base_url="https://harvester.example.org")
    )
    yield opened
    opened.close()


def fast_client(url: str) -> OAIClient:
    """A client that retries quickly: tests need no minute-long backoffs."""
    return OAIClient(url, retry=RetryPolicy(attempts=3, backoff=0.05, max_wait=5), timeout=20)


# -- a broken OAI-PMH server -----------------------------------------------------------------------

Responder = Callable[[dict[str, str]], tuple[int, dict[str, str], bytes]]


@dataclass
class FakePeer:
    url: str
    requests: list[dict[str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    respond: Responder | None = None


@pytest.fixture
def fake_peer() -> Iterator[FakePeer]:
    """A real HTTP server on a free port whose answers each test scripts (``respond``)."""
    peer = FakePeer("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            peer.paths.append(parts.path)
            params = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            if parts.path != "/oai":
                self.send_response(404)
                self.end_headers()
                return
            peer.requests.append(params)
            params = params | {"_host": self.headers.get("Host", "")}
            assert peer.respond is not None
            status, headers, body = peer.respond(params)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    peer.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield peer
    server.shutdown()
    server.server_close()


OAI_HEAD = (
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
    "<responseDate>2026-11-20T10:00:00Z</responseDate><request>http://peer/oai</request>"
)


def identify_xml(name: str = "Broken Repository") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{OAI_HEAD}<Identify><repositoryName>{name}</repositoryName>'
        "<baseURL>http://peer/oai</baseURL><protocolVersion>2.0</protocolVersion>"
        "<adminEmail>a@example.org</adminEmail><earliestDatestamp>2000-01-01T00:00:00Z</earliestDatestamp>"
        "<deletedRecord>persistent</deletedRecord><granularity>YYYY-MM-DDThh:mm:ssZ</granularity>"
        "</Identify></OAI-PMH>"
    ).encode()


def formats_xml(*prefixes: str) -> bytes:
    items = "".join(
        f"<metadataFormat><metadataPrefix>{p}</metadataPrefix><schema>http://x/{p}.xsd</schema>"
        f"<metadataNamespace>http://x/{p}</metadataNamespace></metadataFormat>"
        for p in prefixes
    )
    return f"{OAI_HEAD}<ListMetadataFormats>{items}</ListMetadataFormats></OAI-PMH>".encode()


def dc_record(identifier: str, datestamp: str, title: str, *, extra: str = "", deleted: bool = False) -> str:
    if deleted:
        return (
            f'<record><header status="deleted"><identifier>{identifier}</identifier>'
            f"<datestamp>{datestamp}</datestamp></header></record>"
        )
    return (
        f"<record><header><identifier>{identifier}</identifier><datestamp>{datestamp}</datestamp></header>"
        '<metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:title>{title}</dc:title>{extra}</oai_dc:dc></metadata></record>"
    )


def list_records_xml(records: list[str], token: str | None = None, prolog: str = "") -> bytes:
    token_xml = f"<resumptionToken>{token}</resumptionToken>" if token else "<resumptionToken/>"
    declaration = prolog or '<?xml version="1.0" encoding="UTF-8"?>'
    # One record a line, as real repositories write them: parse errors then point at one record.
    body = f"{declaration}\n{OAI_HEAD}<ListRecords>\n" + "\n".join(records) + "\n"
    return f"{body}{token_xml}</ListRecords></OAI-PMH>".encode()
