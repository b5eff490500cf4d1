"""Users, roles and API tokens. Tokens are random and only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update

from ..domain.access import ANONYMOUS, Viewer
from ..domain.errors import Conflict, InvalidInput, NotFound, Unauthorized
from ..domain.records import Role
from ..storage.catalog import tokens, users
from .node import Node, utcnow

TOKEN_PREFIX = "osn_"


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: Role


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput(f"unknown role '{role}'; expected one of: admin, curator, depositor, reader") from None


def create_user(node: Node, name: str, role: str) -> User:
    name = name.strip()
    if not name:
        raise InvalidInput("a user name is required")
    checked = _role(role)
    with node.transaction() as tx:
        if tx.execute(select(users.c.id).where(users.c.name == name)).first():
            raise Conflict(f"a user named '{name}' already exists")
        user_id = tx.execute(
            users.insert().values(name=name, role=checked.value, created=utcnow())
        ).inserted_primary_key[0]
    return User(user_id, name, checked)


def get_user(node: Node, name: str) -> User:
    with node.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.name == name)).first()
    if row is None:
        raise NotFound(f"no user named '{name}'")
    return User(row.id, row.name, Role(row.role))


def list_users(node: Node) -> list[User]:
    with node.engine.connect() as conn:
        rows = conn.execute(select(users).order_by(users.c.id)).all()
    return [User(r.id, r.name, Role(r.role)) for r in rows]


def first_admin(node: Node) -> User | None:
    with node.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.role == Role.ADMIN.value).order_by(users.c.id).limit(1)).first()
    return User(row.id, row.name, Role(row.role)) if row else None


SCOPES = ("read", "deposit", "admin")
MAX_LABEL = 200


@dataclass(frozen=True)
class TokenInfo:
    """A token as its owner sees it: never the token itself, which is shown once at creation."""

    id: int
    label: str
    scope: str
    created: datetime
    expires: datetime | None
    revoked: datetime | None

    def active(self, now: datetime) -> bool:
        return self.revoked is None and (self.expires is None or _aware(self.expires) > now)


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def create_token(node: Node, user: User, label: str = "", scope: str = "", expires: datetime | None = None) -> str:
    """Make a new token for ``user`` and return it; it is shown this once and never stored.

    ``scope`` limits what it may do: read, deposit or admin; "" (tokens made before scopes, and the CLI's
    first tokens) stands for the user's whole role."""
    if scope and scope not in SCOPES:
        raise InvalidInput(f"unknown scope '{scope}'; expected one of: {', '.join(SCOPES)}")
    label = " ".join(label.split())
    if len(label) > MAX_LABEL:
        raise InvalidInput("a token's name has at most 200 characters")
    if expires is not None and _aware(expires) <= utcnow():
        raise InvalidInput("a token's expiry must be in the future")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    values = dict(user_id=user.id, token_hash=_hash(token), label=label, created=utcnow(), scope=scope or None)
    with node.transaction() as tx:
        tx.execute(tokens.insert().values(**values, expires=expires))
    return token


def list_tokens(node: Node, user_id: int) -> list[TokenInfo]:
    with node.engine.connect() as conn:
        rows = conn.execute(select(tokens).where(tokens.c.user_id == user_id).order_by(tokens.c.id)).all()
    return [TokenInfo(r.id, r.label, r.scope or "admin", r.created, r.expires, r.revoked) for r in rows]


def revoke_token(node: Node, user_id: int, token_id: int) -> None:
    """Revoke one of ``user_id``'s tokens; someone else's token is "not found", as if it did not exist."""
    with node.transaction() as tx:
        done = tx.execute(
            update(tokens)
            .where(tokens.c.id == token_id, tokens.c.user_id == user_id, tokens.c.revoked.is_(None))
            .values(revoked=utcnow())
        )
    if done.rowcount != 1:
        raise NotFound(f"you have no active token {token_id}")


def scoped_role(role: Role, scope: str) -> Role:
    """The role a token acts with: its user's, capped by its scope (deposit never administers)."""
    if scope == "deposit" and role in (Role.ADMIN, Role.CURATOR):
        return Role.DEPOSITOR
    return role


def authenticate(node: Node, token: str | None) -> Viewer:
    """The viewer a bearer token stands for; no token is an anonymous reader. A read-scoped token gives a
    read-only viewer (the web edge refuses its writes)."""
    if not token:
        return ANONYMOUS
    with node.engine.connect() as conn:
        row = conn.execute(
            select(users.c.id, users.c.role, users.c.status, tokens.c.scope, tokens.c.expires, tokens.c.revoked)
            .join(tokens, tokens.c.user_id == users.c.id)
            .where(tokens.c.token_hash == _hash(token))
        ).first()
    if row is None or row.revoked is not None or row.status != "active":
        raise Unauthorized("the API token is not valid")
    if row.expires is not None and _aware(row.expires) <= utcnow():
        raise Unauthorized("the API token has expired")
    return Viewer(row.id, scoped_role(Role(row.role), row.scope or ""), read_only=row.scope == "read")


def viewer_for(user: User) -> Viewer:
    return Viewer(user.id, user.role)
