"""Invitations, for registration mode "invitation": an administrator invites an email address; the emailed
code (stored only as its SHA-256) lets one account register, within ``LIFETIME``, once."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import Connection, select, update

from ..domain.access import Viewer
from ..domain.errors import Forbidden, InvalidInput
from ..domain.records import Role
from ..storage.accounts import invitations
from . import accounts
from .node import Node, utcnow

LIFETIME = timedelta(days=14)
BAD_INVITATION = "this invitation is not valid: it has expired or was already used"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(node: Node, viewer: Viewer, email: str) -> str:
    """An invitation code for ``email`` (shown once: it goes into the emailed link)."""
    if viewer.role is not Role.ADMIN or viewer.read_only or viewer.user_id is None:
        raise Forbidden("only an administrator invites people")
    email = accounts.check_email(email)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    values = dict(token_hash=_hash(token), email=email, invited_by=viewer.user_id, created=now, expires=now + LIFETIME)
    with node.transaction() as tx:
        tx.execute(invitations.insert().values(**values))
    return token


def spend(conn: Connection, token: str, email: str) -> None:
    """Use an invitation inside the registration's transaction; any mismatch fails alike."""
    row = conn.execute(select(invitations).where(invitations.c.token_hash == _hash(token[:100]))).first()
    if row is None or row.used is not None or accounts.aware(row.expires) <= utcnow():
        raise InvalidInput(BAD_INVITATION)
    if row.email != accounts.normal_email(email):
        raise InvalidInput(BAD_INVITATION)
    done = conn.execute(
        update(invitations)
        .where(invitations.c.token_hash == row.token_hash, invitations.c.used.is_(None))
        .values(used=utcnow())
    )
    if done.rowcount != 1:
        raise InvalidInput(BAD_INVITATION)
