"""Registration, email verification and password reset through the pages, with the mail delivered by the
outbox job to a real SMTP server on loopback (aiosmtpd), read back as it arrived."""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from osnode.app import create_app
from osnode.config import load_settings
from osnode.domain.access import Viewer
from osnode.domain.errors import Forbidden
from osnode.domain.records import Role
from osnode.services import accounts, mail
from osnode.services import users as user_service
from osnode.services.node import Node, utcnow
from osnode.storage.accounts import account_links, outbox
from osnode.storage.catalog import users
from osnode.web import sessions
from tests.conftest import free_port
from tests.web.accounts_helpers import PASSWORD, csrf_of, local_account, sign_in


@dataclass
class Inbox:
    """What the SMTP server received."""

    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def mail_node(data_dir: Path, database_url: str, smtp: tuple[Inbox, int]) -> Iterator[Node]:
    _, port = smtp
    settings = load_settings(
        data_dir,
        database_url=database_url,
        base_url="http://testserver",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        mail_from="node@example.org",
        register_min_seconds=0,
    )
    opened = Node.open(settings)
    yield opened
    opened.close()


@pytest.fixture
def web(mail_node: Node) -> Iterator[TestClient]:
    with TestClient(create_app(mail_node)) as client:
        yield client


def delivered(node: Node, inbox: Inbox, count: int = 1) -> list[Message]:
    assert mail.send_due(node) >= 1
    assert len(inbox.messages) == count
    return inbox.messages


def link_in(message: Message) -> str:
    body = message.get_payload(decode=True).decode()
    found = re.search(r"http://testserver(/\S+)", body)
    assert found, body
    return found.group(1)


def register(client: TestClient, email_: str = "ana@example.org", **extra: str):  # type: ignore[no-untyped-def]
    page = client.get("/register")
    stamp = re.search(r'name="stamp" value="([^"]+)"', page.text)
    assert stamp
    data = {
        "email": email_,
        "display_name": "Ana Silva",
        "password": PASSWORD,
        "language": "en",
        "website": "",
        "stamp": stamp.group(1),
        "csrf": csrf_of(client, "/register"),
    }
    return client.post("/register", data=data | extra)


def test_register_verify_and_sign_in(web: TestClient, mail_node: Node, smtp: tuple[Inbox, int]) -> None:
    inbox, _ = smtp
    done = register(web)
    assert done.status_code == 200 and "Check your email" in done.text
    (message,) = delivered(mail_node, inbox)
    assert message["To"] == "ana@example.org" and message["From"] == "node@example.org"
    assert "Confirm your email address" in message["Subject"]
    verify = web.get(link_in(message))
    assert verify.status_code == 200 and "confirmed" in verify.text
    with mail_node.engine.connect() as conn:
        assert conn.execute(select(users.c.email_verified).where(users.c.email == "ana@example.org")).scalar_one()
    again = web.get(link_in(message))  # single use
    assert again.status_code == 422
    assert sign_in(web).status_code == 303


def test_mail_is_written_in_the_recipients_language(web: TestClient, mail_node: Node, smtp: tuple[Inbox, int]) -> None:
    inbox, _ = smtp
    register(web, language="ar")
    (message,) = delivered(mail_node, inbox)
    assert message["Content-Language"] == "ar"
    assert "أكّد عنوان بريدك الإلكتروني" in str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert "مرحبًا" in message.get_payload(decode=True).decode()


def test_registering_a_taken_email_looks_the_same_and_tells_the_owner(
    web: TestClient, mail_node: Node, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    local_account(mail_node)
    taken = register(web, "ANA@example.org")
    assert taken.status_code == 200 and "Check your email" in taken.text
    (message,) = delivered(mail_node, inbox)
    assert "already have an account" in message["Subject"]


def test_honeypot_and_forged_or_hurried_stamps_are_refused(web: TestClient, mail_node: Node) -> None:
    assert register(web, website="http://spam.example").status_code == 422
    assert register(web, stamp="9999999999.deadbeef").status_code == 422
    assert register(web, "b@example.org", stamp="").status_code == 422
    with mail_node.engine.connect() as conn:
        assert conn.execute(select(users.c.id).where(users.c.email.is_not(None))).first() is None


def test_a_form_sent_too_fast_is_refused(data_dir: Path, database_url: str) -> None:
    node = Node.open(load_settings(data_dir, database_url=database_url, base_url="http://testserver"))
    try:
        with TestClient(create_app(node)) as client:
            response = register(client)
            assert response.status_code == 422 and "too quickly" in response.text
    finally:
        node.close()


def test_oversized_fields_and_html_are_handled(web: TestClient, mail_node: Node) -> None:
    assert register(web, display_name="x" * 5000).status_code == 413
    shown = register(web, "not-an-email", display_name="<b>Ana</b>")
    assert shown.status_code == 422
    assert "&lt;b&gt;Ana&lt;/b&gt;" in shown.text and "<b>Ana</b>" not in shown.text
    made = register(web, "c@example.org", display_name='<script>alert("x")</script>')
    assert made.status_code == 200
    with mail_node.transaction() as tx:
        tx.execute(update(users).values(email_verified=True))
    sign_in(web, "c@example.org")
    page = web.get("/account")
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text


def test_invitation_mode_refuses_open_registration(data_dir: Path, database_url: str) -> None:
    node = Node.open(
        load_settings(
            data_dir,
            database_url=database_url,
            base_url="http://testserver",
            registration="invitation",
            register_min_seconds=0,
        )
    )
    try:
        with TestClient(create_app(node)) as client:
            assert register(client).status_code == 403
    finally:
        node.close()


def test_approval_mode_keeps_new_accounts_waiting(data_dir: Path, database_url: str) -> None:
    node = Node.open(
        load_settings(
            data_dir,
            database_url=database_url,
            base_url="http://testserver",
            registration="approval",
            register_min_seconds=0,
        )
    )
    try:
        with TestClient(create_app(node)) as client:
            assert register(client).status_code == 200
            waiting = sign_in(client)
            assert waiting.status_code == 403 and "approval" in waiting.text
            assert sessions.COOKIE not in client.cookies
            (pending,) = accounts.waiting(node)
            with pytest.raises(Forbidden):
                accounts.set_status(node, Viewer(pending.id, Role.DEPOSITOR), pending.id, accounts.ACTIVE)
            boss = user_service.create_user(node, "boss", "admin")
            accounts.set_status(node, Viewer(boss.id, Role.ADMIN), pending.id, accounts.ACTIVE)
            assert sign_in(client).status_code == 303
            accounts.set_status(node, Viewer(boss.id, Role.ADMIN), pending.id, accounts.DISABLED)
            assert client.get("/account", headers={"Accept": "text/html"}, follow_redirects=False).status_code == 303
    finally:
        node.close()


# -- password reset ---------------------------------------------------------------------------------


def test_reset_works_once_and_ends_every_session(web: TestClient, mail_node: Node, smtp: tuple[Inbox, int]) -> None:
    inbox, _ = smtp
    local_account(mail_node)
    elsewhere = TestClient(web.app)
    sign_in(elsewhere)
    asked = web.post("/forgot", data={"email": "ana@example.org", "csrf": csrf_of(web, "/forgot")})
    unknown = web.post("/forgot", data={"email": "nobody@example.org", "csrf": csrf_of(web, "/forgot")})
    assert asked.status_code == unknown.status_code == 200
    assert "If an account exists" in asked.text and "If an account exists" in unknown.text
    (message,) = delivered(mail_node, inbox)
    path = link_in(message)
    token = path.split("token=", 1)[1]
    with mail_node.engine.connect() as conn:
        stored = conn.execute(select(account_links.c.token_hash)).scalars().all()
    assert token not in stored  # only its hash
    new = "a brand new passphrase"
    form = web.get(path)
    assert form.status_code == 200 and form.headers["referrer-policy"] == "same-origin"
    done = web.post("/reset", data={"token": token, "password": new, "csrf": csrf_of(web, "/forgot")})
    assert done.status_code == 200 and "changed" in done.text
    assert elsewhere.get("/account", headers={"Accept": "text/html"}, follow_redirects=False).status_code == 303
    reused = web.post(
        "/reset", data={"token": token, "password": "yet another password", "csrf": csrf_of(web, "/forgot")}
    )
    assert reused.status_code == 422
    assert sign_in(web, password=new).status_code == 303
    assert sign_in(TestClient(web.app), password="yet another password").status_code == 401


def test_an_expired_reset_link_changes_nothing(web: TestClient, mail_node: Node) -> None:
    account = local_account(mail_node)
    _, token = accounts.request_reset(mail_node, "ana@example.org") or (None, "")
    with mail_node.transaction() as tx:
        tx.execute(update(account_links).values(expires=utcnow() - timedelta(seconds=1)))
    refused = web.post(
        "/reset", data={"token": token, "password": "a brand new passphrase", "csrf": csrf_of(web, "/forgot")}
    )
    assert refused.status_code == 422 and "expired" in refused.text
    assert accounts.sign_in(mail_node, "ana@example.org", PASSWORD, "x").id == account.id


# -- the outbox ------------------------------------------------------------------------------------------


def test_failed_delivery_is_retried_with_backoff_and_state_kept(mail_node: Node, smtp: tuple[Inbox, int]) -> None:
    inbox, _ = smtp
    mail.enqueue(mail_node, "ana@example.org", "Hello", "Body", "en")
    broken = Node(
        load_settings(
            mail_node.settings.data_dir,
            database_url=mail_node.settings.catalog_url,
            smtp_host="127.0.0.1",
            smtp_port=free_port(),
            smtp_security="none",
        ),
        mail_node.engine,
        mail_node.blobs,
    )
    assert mail.send_due(broken) == 0
    (queued,) = mail.listing(mail_node)
    assert queued.state == mail.QUEUED and queued.attempts == 1 and "cannot reach" in queued.last_error
    assert mail.send_due(mail_node) == 0  # not due yet: it waits its backoff
    with mail_node.transaction() as tx:
        tx.execute(update(outbox).values(next_try=utcnow()))
    assert mail.send_due(mail_node) == 1
    (sent,) = mail.listing(mail_node)
    assert sent.state == mail.SENT and len(inbox.messages) == 1
    assert mail.backoff(1) == timedelta(minutes=1) and mail.backoff(3) == timedelta(minutes=4)
    assert mail.backoff(20) == timedelta(hours=1)


def test_the_mail_job_is_registered() -> None:
    from osnode.plugins.builtins import JOBS

    assert "mail" in {job.name for job in JOBS}


def test_invitation_mode_registers_only_the_invited_email_once(data_dir: Path, database_url: str) -> None:
    from osnode.services import invitations

    node = Node.open(
        load_settings(
            data_dir,
            database_url=database_url,
            base_url="http://testserver",
            registration="invitation",
            register_min_seconds=0,
        )
    )
    try:
        boss = user_service.create_user(node, "boss", "admin")
        with pytest.raises(Forbidden):
            invitations.invite(node, Viewer(boss.id, Role.DEPOSITOR), "x@example.org")
        code = invitations.invite(node, Viewer(boss.id, Role.ADMIN), "Invited@example.org")
        with TestClient(create_app(node)) as client:
            form = client.get(f"/register?invitation={code}&email=invited@example.org")
            assert 'name="invitation"' in form.text and code in form.text
            assert register(client, "other@example.org", invitation=code).status_code == 422
            assert register(client, "invited@example.org", invitation="forged").status_code == 422
            assert register(client, "invited@example.org", invitation=code).status_code == 200
            assert register(client, "second@example.org", invitation=code).status_code == 422  # used
        with node.engine.connect() as conn:
            emails = conn.execute(select(users.c.email).where(users.c.email.is_not(None))).scalars().all()
        assert emails == ["invited@example.org"]
    finally:
        node.close()
