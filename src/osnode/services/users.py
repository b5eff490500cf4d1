"""Users, roles and API tokens. Tokens are random and only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select

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
        raise InvalidInput(f"unknown role '{role}'; expected one of: admin, curator, depositor") from None


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


def create_token(node: Node, user: User, label: str = "") -> str:
    """Make a new token for ``user`` and return it; it is shown this once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with node.transaction() as tx:
        tx.execute(tokens.insert().values(user_id=user.id, token_hash=_hash(token), label=label, created=utcnow()))
    return token


def authenticate(node: Node, token: str | None) -> Viewer:
    """The viewer a bearer token stands for; no token is an anonymous reader."""
    if not token:
        return ANONYMOUS
    with node.engine.connect() as conn:
        row = conn.execute(
            select(users.c.id, users.c.role)
            .join(tokens, tokens.c.user_id == users.c.id)
            .where(tokens.c.token_hash == _hash(token))
        ).first()
    if row is None:
        raise Unauthorized("the API token is not valid")
    return Viewer(row.id, Role(row.role))


def viewer_for(user: User) -> Viewer:
    return Viewer(user.id, user.role)
