"""Browser sessions, kept on the server: the browser holds a random id, the catalog only its SHA-256.

A session starts at sign-in with a fresh id (the id a browser had before is never promoted, so no session
fixation), ends at sign-out, and "sign out everywhere" ends every session of the account.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from ..domain.access import Viewer
from ..domain.records import Role
from ..storage.accounts import sessions
from ..storage.catalog import users
from .accounts import ACTIVE
from .node import Node, utcnow


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start(node: Node, user_id: int) -> str:
    """A new session for ``user_id``; its id is returned once, for the cookie."""
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + timedelta(days=node.settings.session_days)
    with node.transaction() as tx:
        tx.execute(delete(sessions).where(sessions.c.expires < now))  # sweep the expired while we are here
        tx.execute(sessions.insert().values(id_hash=_hash(session_id), user_id=user_id, created=now, expires=expires))
    return session_id


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def user_of(node: Node, session_id: str) -> int | None:
    """The active user a live session belongs to, or None (unknown, expired, or the account is not active)."""
    if not session_id or len(session_id) > 100:
        return None
    with node.engine.connect() as conn:
        row = conn.execute(
            select(sessions.c.user_id, sessions.c.expires)
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.id_hash == _hash(session_id), users.c.status == ACTIVE)
        ).first()
    if row is None or _aware(row.expires) <= utcnow():
        return None
    return row.user_id


def viewer_of(node: Node, session_id: str) -> Viewer | None:
    """The viewer a session cookie stands for: the account's full role (a session is the person)."""
    user_id = user_of(node, session_id)
    if user_id is None:
        return None
    with node.engine.connect() as conn:
        role = conn.execute(select(users.c.role).where(users.c.id == user_id)).scalar_one()

    return Viewer(user_id, Role(role))


def end(node: Node, session_id: str) -> None:
    with node.transaction() as tx:
        tx.execute(delete(sessions).where(sessions.c.id_hash == _hash(session_id)))


def end_all(node: Node, user_id: int) -> int:
    """Sign out everywhere: how many sessions ended."""
    with node.transaction() as tx:
        return tx.execute(delete(sessions).where(sessions.c.user_id == user_id)).rowcount
