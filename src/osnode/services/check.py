"""``osnode check``: can this configuration reach every engine it names? One finding per engine.

Run by an operator before starting a role (web, worker) on a new machine, or when something stopped. It
changes nothing: the catalog is opened without migrating, the blob store is probed with a temporary file
that is removed, SMTP gets a greeting and NOOP (and a login when credentials are set), OIDC providers a
fetch of their discovery document.
"""

from __future__ import annotations

import smtplib
import ssl
import tempfile
from dataclasses import dataclass

import httpx
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, select, text

from ..config import Settings
from ..storage.catalog import alembic_config, make_engine
from ..storage.queue import queue_jobs
from . import mail, oidc
from .node import Node, open_blob_store

TIMEOUT = 10.0
DISCOVERY_KEYS = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


@dataclass(frozen=True)
class Finding:
    engine: str  # what was checked: database, blobs, queue, smtp, oidc:<name>
    ok: bool
    detail: str  # what was found, or what is wrong


def _short(exc: BaseException) -> str:
    """An exception on one line (a driver's message can run over several)."""
    first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {first[0] if first else ''}"[:300]


def check_all(settings: Settings) -> list[Finding]:
    engine = make_engine(settings.catalog_url)
    try:
        findings = [check_database(engine)]
        reachable = findings[0].ok
        node = Node(settings, engine, open_blob_store(settings))
        findings.append(check_blobs(node))
        findings.append(check_queue(node, reachable))
        findings.append(check_smtp(node))
        findings.extend(check_oidc(node))
        return findings
    finally:
        engine.dispose()


def check_database(engine: Engine) -> Finding:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
            has_version = engine.dialect.has_table(conn, "alembic_version")
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() if has_version else None
            version = conn.dialect.server_version_info
    except Exception as exc:  # any driver failure is the finding, never a traceback
        return Finding("database", False, f"cannot reach {engine.url.render_as_string()}: {_short(exc)}")
    where = f"{engine.dialect.name} {'.'.join(map(str, version or ()))} at {engine.url.render_as_string()}"
    if current != head:
        state = "empty" if current is None else f"at {current}"
        # Not a failure: the first process that opens the node (serve, worker) migrates it.
        return Finding("database", True, f"{where}; schema {state}, {head} is applied when the node first opens")
    return Finding("database", True, f"{where}; schema at {head}")


def check_blobs(node: Node) -> Finding:
    folder = node.settings.blob_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".check-") as probe:
            probe.write(b"osnode check")
            probe.flush()
    except OSError as exc:
        return Finding("blobs", False, f"cannot write in {folder}: {exc.strerror or exc}")
    return Finding("blobs", True, f"local folder {folder}, writable")


def check_queue(node: Node, catalog_reachable: bool) -> Finding:
    if node.settings.queue == "embedded":
        return Finding("queue", True, "embedded: background jobs run in the osnode serve process")
    if not catalog_reachable:
        return Finding("queue", False, "the durable queue lives in the catalog, which cannot be reached")
    try:
        with node.engine.connect() as conn:
            rows = conn.execute(select(queue_jobs.c.state, func.count()).group_by(queue_jobs.c.state)).all()
    except Exception as exc:
        return Finding("queue", False, f"the queue's table cannot be read (not migrated yet?): {_short(exc)}")
    found = {state: n for state, n in rows}
    summary = ", ".join(f"{found.get(s, 0)} {s}" for s in ("queued", "running", "dead"))
    return Finding("queue", True, f"database: {summary}; run 'osnode worker' to take jobs")


def check_smtp(node: Node) -> Finding:
    s = node.settings
    if not s.smtp_host:
        return Finding("smtp", True, "not configured: mail stays in the outbox")
    where = f"{s.smtp_host}:{s.smtp_port} ({s.smtp_security})"
    try:
        with mail.connect(node) as smtp:
            smtp.noop()
    except smtplib.SMTPAuthenticationError as exc:
        return Finding("smtp", False, f"{where} refused the login of {s.smtp_user!r}: {exc.smtp_code}")
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        return Finding("smtp", False, f"cannot talk to {where}: {_short(exc)}")
    return Finding("smtp", True, f"{where} answers" + (f", login as {s.smtp_user!r} accepted" if s.smtp_user else ""))


def check_oidc(node: Node) -> list[Finding]:
    findings = []
    for provider in oidc.providers(node):
        name = f"oidc:{provider.name}"
        try:
            response = httpx.get(provider.discovery, timeout=TIMEOUT)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            findings.append(Finding(name, False, f"cannot fetch {provider.discovery}: {_short(exc)}"))
            continue
        missing = [k for k in DISCOVERY_KEYS if not isinstance(document, dict) or not isinstance(document.get(k), str)]
        if missing:
            findings.append(Finding(name, False, f"{provider.discovery} lacks {', '.join(missing)}"))
        else:
            findings.append(Finding(name, True, f"issuer {document['issuer']}"))
    return findings
