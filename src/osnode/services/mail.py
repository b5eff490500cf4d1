"""Email: one outbox table, sent over SMTP by a background job, retried with backoff.

Messages arrive already written in the recipient's language (the web layer renders them from its translated
catalogs, ``web/mail.py``); this module only queues and delivers. A message is tried at once by the next run
of the job, then after 1, 2, 4 ... minutes (capped at an hour), and given up after ``MAX_ATTEMPTS``; its state,
attempts and last error stay in the table for the admin page and ``osnode mail list``.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import select, update

from ..domain.errors import NotFound
from ..storage.accounts import outbox
from .jobs import Job
from .node import Node, utcnow

log = logging.getLogger("osnode.mail")
QUEUED, SENT, FAILED = "queued", "sent", "failed"
MAX_ATTEMPTS = 8
BATCH = 50
CHECK_SECONDS = 15.0
SMTP_TIMEOUT = 30


@dataclass(frozen=True)
class Message:
    id: int
    recipient: str
    subject: str
    body: str
    language: str
    state: str
    attempts: int
    next_try: datetime
    last_error: str


def enqueue(node: Node, recipient: str, subject: str, body: str, language: str) -> int:
    now = utcnow()
    values = dict(recipient=recipient, subject=subject[:500], body=body, language=language, state=QUEUED)
    values |= dict(attempts=0, next_try=now, last_error="", created=now)
    with node.transaction() as tx:
        return tx.execute(outbox.insert().values(**values)).inserted_primary_key[0]


def listing(node: Node, limit: int = 100) -> list[Message]:
    with node.engine.connect() as conn:
        rows = conn.execute(select(outbox).order_by(outbox.c.id.desc()).limit(limit)).all()
    return [_message(r) for r in rows]


def _message(row) -> Message:  # type: ignore[no-untyped-def]
    return Message(
        row.id,
        row.recipient,
        row.subject,
        row.body,
        row.language,
        row.state,
        row.attempts,
        row.next_try,
        row.last_error,
    )


def backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def _build(node: Node, message: Message) -> EmailMessage:
    email = EmailMessage()
    email["From"] = node.settings.mail_from or node.settings.admin_email
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(domain="osnode")
    email.set_content(message.body)
    email["Content-Language"] = message.language  # after set_content, which clears Content-* headers
    return email


def connect(node: Node) -> smtplib.SMTP:
    s = node.settings
    if s.smtp_security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT)
        if s.smtp_security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    if s.smtp_user:
        smtp.login(s.smtp_user, s.smtp_password)
    return smtp


def send_due(node: Node) -> int:
    """Send the queued messages whose time has come; how many went out."""
    if not node.settings.smtp_host:
        return 0
    now = utcnow()
    with node.engine.connect() as conn:
        rows = conn.execute(
            select(outbox).where(outbox.c.state == QUEUED, outbox.c.next_try <= now).order_by(outbox.c.id).limit(BATCH)
        ).all()
    if not rows:
        return 0
    try:
        smtp = connect(node)
    except (OSError, smtplib.SMTPException) as exc:
        for row in rows:
            _failed(node, _message(row), f"cannot reach the SMTP server: {exc}")
        return 0
    sent = 0
    with smtp:
        for row in rows:
            sent += _send_one(node, smtp, _message(row))
    return sent


def _send_one(node: Node, smtp: smtplib.SMTP, message: Message) -> int:
    try:
        smtp.send_message(_build(node, message))
    except (OSError, smtplib.SMTPException) as exc:
        _failed(node, message, str(exc))
        return 0
    with node.transaction() as tx:
        tx.execute(
            update(outbox)
            .where(outbox.c.id == message.id)
            .values(state=SENT, sent=utcnow(), attempts=message.attempts + 1)
        )
    return 1


def _failed(node: Node, message: Message, error: str) -> None:
    attempts = message.attempts + 1
    state = FAILED if attempts >= MAX_ATTEMPTS else QUEUED
    log.warning("mail %s to %s failed (attempt %s): %s", message.id, message.recipient, attempts, error)
    values = dict(attempts=attempts, state=state, last_error=error[:2000], next_try=utcnow() + backoff(attempts))
    with node.transaction() as tx:
        tx.execute(update(outbox).where(outbox.c.id == message.id).values(**values))


JOBS = [Job("mail", lambda node: CHECK_SECONDS if node.settings.smtp_host else None, send_due)]


def retry(node: Node, message_id: int) -> None:
    """Put a message that was given up on back in the queue, to be tried at the send job's next turn."""
    with node.transaction() as tx:
        done = tx.execute(
            update(outbox)
            .where(outbox.c.id == message_id, outbox.c.state == FAILED)
            .values(state=QUEUED, next_try=utcnow())
        )
    if done.rowcount != 1:
        raise NotFound("no failed message with this number")
