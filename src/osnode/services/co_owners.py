"""A record's co-owners: invited by email, accepted by the invitee, removed by an owner.

Inviting never tells the inviter whether an account has the address: the same answer comes back and an email
goes out either way (to an account holder, in their language; to anyone else, with a way to register first).
The emailed code (stored only as its SHA-256) makes the signed-in account with that address a co-owner, once,
within ``LIFETIME``. A record's depositor (``records.owner_id``) cannot be removed, so a record never loses its
last owner; any owner may remove a co-owner, and a co-owner may leave.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, delete, insert, select, update

from ..domain.access import Viewer
from ..domain.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, Unauthorized
from ..storage.catalog import records, users
from ..storage.drafts import co_owner_invitations, record_owners
from . import accounts
from .node import Node, utcnow

LIFETIME = timedelta(days=14)
BAD_INVITATION = "this invitation is not valid: it has expired, was already used, or is for another email address"
LAST_OWNER = "the record's depositor stays an owner: a record always keeps one"


@dataclass(frozen=True)
class Invitation:
    """What the web layer needs to write the email: the code (shown once), and the account, if any, whose
    language it is written in. Never shown to the inviter."""

    token: str
    email: str
    record_id: str
    account: accounts.Account | None


@dataclass(frozen=True)
class CoOwner:
    record_id: str
    user_id: int
    name: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _owners(conn, record_id: str) -> tuple[int, set[int]]:  # type: ignore[no-untyped-def]
    """The record's depositor and its co-owners (a missing record is a 404)."""
    if not isinstance(record_id, str) or "\x00" in record_id or len(record_id) > 40:
        raise NotFound("no such record")
    owner = conn.execute(select(records.c.owner_id).where(records.c.id == record_id)).scalar_one_or_none()
    if owner is None:
        raise NotFound(f"no record {record_id}")
    shared = set(conn.execute(select(record_owners.c.user_id).where(record_owners.c.record_id == record_id)).scalars())
    return owner, shared


def _ensure_owner(viewer: Viewer, owner: int, shared: set[int]) -> None:
    if viewer.user_id is None:
        raise Unauthorized("sharing a record needs you to sign in")
    if viewer.read_only or not (viewer.user_id == owner or viewer.user_id in shared or viewer.is_staff):
        raise Forbidden("only a record's owners may change who co-owns it")


def invite(node: Node, viewer: Viewer, record_id: str, email: str) -> Invitation:
    """An owner invites ``email`` to co-own the record; the same whether or not the address has an account."""
    if not isinstance(email, str):
        raise InvalidInput(accounts.BAD_EMAIL, [FieldError("email", accounts.BAD_EMAIL)])
    try:
        address = accounts.check_email(email)
    except InvalidInput as bad:
        raise InvalidInput(bad.detail, [FieldError("email", bad.detail)]) from None
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with node.transaction() as tx:
        owner, shared = _owners(tx, record_id)
        _ensure_owner(viewer, owner, shared)
        # Sweep the expired while we are here (as sessions do): nothing else ever reads them again.
        tx.execute(delete(co_owner_invitations).where(co_owner_invitations.c.expires < now))
        values = dict(token_hash=_hash(token), record_id=record_id, email=address, invited_by=viewer.user_id)
        tx.execute(insert(co_owner_invitations).values(**values, created=now, expires=now + LIFETIME))
        account = accounts.by_email(tx, address)
    return Invitation(token, address, record_id, account)


def pending(node: Node, token: str) -> str:
    """The record an unused, unexpired invitation is for (the accept page shows it before asking)."""
    with node.engine.connect() as conn:
        row = _valid(conn, token)
    return row.record_id


def _valid(conn, token: str):  # type: ignore[no-untyped-def]
    if not isinstance(token, str) or not token or len(token) > 100:
        raise InvalidInput(BAD_INVITATION)
    row = conn.execute(select(co_owner_invitations).where(co_owner_invitations.c.token_hash == _hash(token))).first()
    if row is None or row.used is not None or accounts.aware(row.expires) <= utcnow():
        raise InvalidInput(BAD_INVITATION)
    return row


def accept(node: Node, viewer: Viewer, token: str) -> str:
    """The signed-in invitee (whose account has the invited address) becomes a co-owner; the record's id."""
    if viewer.user_id is None:
        raise Unauthorized("accepting an invitation needs you to sign in")
    with node.transaction() as tx:
        row = _valid(tx, token)
        email = tx.execute(select(users.c.email).where(users.c.id == viewer.user_id)).scalar()
        if not email or accounts.normal_email(email) != row.email:
            raise InvalidInput(BAD_INVITATION)
        spent = tx.execute(
            update(co_owner_invitations)
            .where(co_owner_invitations.c.token_hash == row.token_hash, co_owner_invitations.c.used.is_(None))
            .values(used=utcnow())
        )
        if spent.rowcount != 1:
            raise InvalidInput(BAD_INVITATION)
        owner, shared = _owners(tx, row.record_id)
        if viewer.user_id != owner and viewer.user_id not in shared:
            tx.execute(insert(record_owners).values(record_id=row.record_id, user_id=viewer.user_id, added=utcnow()))
    return str(row.record_id)


def remove(node: Node, viewer: Viewer, record_id: str, user_id: int) -> None:
    """An owner removes a co-owner (or a co-owner leaves); the depositor is never removed."""
    with node.transaction() as tx:
        owner, shared = _owners(tx, record_id)
        if viewer.user_id is not None and viewer.user_id == user_id and user_id in shared and not viewer.read_only:
            pass  # a co-owner may always leave
        else:
            _ensure_owner(viewer, owner, shared)
        if user_id == owner:
            raise Conflict(LAST_OWNER)
        key = and_(record_owners.c.record_id == record_id, record_owners.c.user_id == user_id)
        if tx.execute(delete(record_owners).where(key)).rowcount == 0:
            raise NotFound("this account does not co-own this record")


def of_records(node: Node, record_ids: list[str]) -> dict[str, list[CoOwner]]:
    """The co-owners of each of these records (the workspace lists them beside each record)."""
    if not record_ids:
        return {}
    query = (
        select(record_owners.c.record_id, users.c.id, users.c.display_name, users.c.name)
        .join(users, users.c.id == record_owners.c.user_id)
        .where(record_owners.c.record_id.in_(record_ids))
        .order_by(record_owners.c.added, users.c.id)
    )
    found: dict[str, list[CoOwner]] = {}
    with node.engine.connect() as conn:
        for row in conn.execute(query):
            found.setdefault(row.record_id, []).append(CoOwner(row.record_id, row.id, row.display_name or row.name))
    return found
