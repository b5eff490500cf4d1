"""Local accounts: registration, sign-in with a password, email verification and password reset.

No account enumeration: "no such account" and "wrong password" give the same error after the same argon2
work, registration with a taken email answers like a new one (the owner gets a "you already have an account"
mail instead), and a reset request always answers "if an account exists, we sent a link". Failed sign-ins are
counted in the catalog per account and per client address (``signin_failures``), so the limit holds across
worker processes.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, func, select, update

from ..domain.access import Viewer
from ..domain.errors import Forbidden, InvalidInput, NotFound, TooManyAttempts, Unauthorized
from ..domain.records import Role
from ..storage.accounts import account_links, sessions, signin_failures
from ..storage.catalog import users
from . import passwords
from .node import Node, utcnow

ACTIVE, PENDING, DISABLED = "active", "pending", "disabled"
VERIFY, RESET = "verify", "reset"
LINK_LIFETIME = {VERIFY: timedelta(days=2), RESET: timedelta(hours=1)}
FAILURE_WINDOW = timedelta(minutes=15)
MAX_EMAIL = 254  # RFC 5321's path limit
MAX_NAME = 200
_EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[^@\s<>\"']+\.[^@\s<>\"']+$")
# The messages people see, as constants: the web layer lists them for translation.
BAD_SIGN_IN = "the email or password is not right"
SHORT_PASSWORD = "a password needs at least 10 characters"  # passwords.MIN_LENGTH
LONG_PASSWORD = "a password has at most 1000 characters"  # passwords.MAX_LENGTH
LONG_NAME = "a name has at most 200 characters"  # MAX_NAME
BAD_EMAIL = "enter a valid email address"
BAD_LINK = "this link is not valid: it has expired or was already used; ask for a new one"
TOO_MANY = "too many failed sign-ins; wait 15 minutes and try again"
WAITING = "your account is waiting for an administrator's approval"
DISABLED_ACCOUNT = "this account is disabled"
BY_INVITATION = "registration at this node is by invitation only"


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    email: str | None
    display_name: str
    role: Role
    email_verified: bool
    language: str
    orcid: str | None
    status: str

    @property
    def shown_name(self) -> str:
        return self.display_name or self.name


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _account(row) -> Account:  # type: ignore[no-untyped-def]
    return Account(
        row.id,
        row.name,
        row.email,
        row.display_name or "",
        Role(row.role),
        bool(row.email_verified),
        row.language,
        row.orcid,
        row.status,
    )


def normal_email(email: str) -> str:
    """The stored form: trimmed and lower-cased, so uniqueness is case-insensitive."""
    return email.strip().lower()


def check_email(email: str) -> str:
    email = normal_email(email)
    if len(email) > MAX_EMAIL or not _EMAIL.match(email):
        raise InvalidInput(BAD_EMAIL)
    return email


def check_password(password: str) -> None:
    if len(password) < passwords.MIN_LENGTH:
        raise InvalidInput(SHORT_PASSWORD)
    if len(password) > passwords.MAX_LENGTH:
        raise InvalidInput(LONG_PASSWORD)


def check_name(name: str) -> str:
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise InvalidInput(LONG_NAME)
    return name


def get(node: Node, user_id: int) -> Account | None:
    with node.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.id == user_id)).first()
    return _account(row) if row else None


def by_email(conn: Connection, email: str) -> Account | None:
    row = conn.execute(select(users).where(users.c.email == normal_email(email))).first()
    return _account(row) if row else None


# -- registration --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Registered:
    """What registering did: a new account and its verification link token, or (the email was taken) the
    existing account, told by mail; the page says the same thing in both cases."""

    account: Account
    new: bool
    verify_token: str | None


def register(
    node: Node, email: str, password: str, display_name: str, language: str, invitation: str = ""
) -> Registered:
    """A new local account. In registration mode "invitation" it needs an invitation made for this email."""
    from . import invitations  # which builds on this module

    email = check_email(email)
    check_password(password)
    display_name = check_name(display_name)
    by_invitation = node.settings.registration == "invitation"
    if by_invitation and not invitation:
        raise Forbidden(BY_INVITATION)
    hashed = passwords.hash_password(password)  # before the check, so both answers take the same time
    status = PENDING if node.settings.registration == "approval" else ACTIVE
    with node.transaction() as tx:
        existing = by_email(tx, email)
        if existing is not None:
            return Registered(existing, False, None)
        if by_invitation:
            invitations.spend(tx, invitation, email)
        values = dict(name=_free_name(tx, email), role=Role.DEPOSITOR.value, created=utcnow())
        values |= dict(email=email, display_name=display_name, password_hash=hashed, language=language, status=status)
        user_id = tx.execute(users.insert().values(**values)).inserted_primary_key[0]
        token = make_link(tx, user_id, VERIFY)
        row = tx.execute(select(users).where(users.c.id == user_id)).one()
    return Registered(_account(row), True, token)


def _free_name(conn: Connection, email: str) -> str:
    """The user name of a local account: its email, unless a CLI user already has that name."""
    name = email[:MAX_NAME]
    while conn.execute(select(users.c.id).where(users.c.name == name)).first():
        name = f"{email[:180]}-{secrets.token_hex(3)}"
    return name


# -- sign-in ------------------------------------------------------------------------------------


def _failures(conn: Connection, subject: str) -> int:
    since = utcnow() - FAILURE_WINDOW
    query = select(func.count()).where(signin_failures.c.subject == subject, signin_failures.c.at >= since)
    return conn.execute(query).scalar_one()


def _check_limits(node: Node, subjects: dict[str, int]) -> None:
    with node.engine.connect() as conn:
        for subject, limit in subjects.items():
            if _failures(conn, subject) >= limit:
                seconds = int(FAILURE_WINDOW.total_seconds())
                raise TooManyAttempts(TOO_MANY, seconds)


def _record_failure(node: Node, subjects: list[str]) -> None:
    now = utcnow()
    with node.transaction() as tx:
        tx.execute(delete(signin_failures).where(signin_failures.c.at < now - FAILURE_WINDOW))
        tx.execute(signin_failures.insert(), [{"subject": s, "at": now} for s in subjects])


def sign_in(node: Node, email: str, password: str, address: str) -> Account:
    """The account for these credentials, or ``Unauthorized`` with one message whatever was wrong."""
    email = normal_email(email)[:MAX_EMAIL]
    settings = node.settings
    subjects = {
        f"acct:{email}": settings.signin_failures_per_account,
        f"addr:{address}": settings.signin_failures_per_address,
    }
    _check_limits(node, subjects)
    with node.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.email == email)).first()
    if row is None or len(password) > passwords.MAX_LENGTH:
        passwords.burn_time(password[: passwords.MAX_LENGTH])
        _record_failure(node, list(subjects))
        raise Unauthorized(BAD_SIGN_IN)
    if not passwords.verify(row.password_hash or "", password):
        _record_failure(node, list(subjects))
        raise Unauthorized(BAD_SIGN_IN)
    account = _account(row)
    if account.status == PENDING:
        raise Forbidden(WAITING)
    if account.status == DISABLED:
        raise Forbidden(DISABLED_ACCOUNT)
    if passwords.needs_rehash(row.password_hash or ""):
        set_password(node, account.id, password)
    return account


def set_password(node: Node, user_id: int, password: str) -> None:
    check_password(password)
    with node.transaction() as tx:
        tx.execute(update(users).where(users.c.id == user_id).values(password_hash=passwords.hash_password(password)))


# -- emailed single-use links ---------------------------------------------------------------------


def make_link(conn: Connection, user_id: int, purpose: str) -> str:
    token = secrets.token_urlsafe(32)
    expires = utcnow() + LINK_LIFETIME[purpose]
    conn.execute(
        account_links.insert().values(token_hash=_hash(token), user_id=user_id, purpose=purpose, expires=expires)
    )
    return token


def use_link(conn: Connection, token: str, purpose: str) -> int:
    """Spend a link: the user id it was made for. Unknown, used, expired or other-purpose links all fail alike."""
    row = conn.execute(
        select(account_links).where(
            account_links.c.token_hash == _hash(token[:100]), account_links.c.purpose == purpose
        )
    ).first()
    if row is None or row.used is not None or aware(row.expires) <= utcnow():
        raise InvalidInput(BAD_LINK)
    spent = conn.execute(
        update(account_links)
        .where(account_links.c.token_hash == row.token_hash, account_links.c.used.is_(None))
        .values(used=utcnow())
    )
    if spent.rowcount != 1:  # a concurrent use won the race
        raise InvalidInput(BAD_LINK)
    return row.user_id


def aware(when: datetime) -> datetime:
    """SQLite hands back naive datetimes for UTC ones."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def verify_email(node: Node, token: str) -> Account:
    with node.transaction() as tx:
        user_id = use_link(tx, token, VERIFY)
        tx.execute(update(users).where(users.c.id == user_id).values(email_verified=True))
        row = tx.execute(select(users).where(users.c.id == user_id)).one()
    return _account(row)


def request_reset(node: Node, email: str) -> tuple[Account, str] | None:
    """A reset link for the account with this email, or None (the page says the same either way)."""
    with node.transaction() as tx:
        account = by_email(tx, email[:MAX_EMAIL])
        if account is None or account.status == DISABLED:
            return None
        return account, make_link(tx, account.id, RESET)


def reset_password(node: Node, token: str, password: str) -> Account:
    """Set a new password with a reset link; every session of the account ends (whoever else was in, is out)."""
    check_password(password)
    hashed = passwords.hash_password(password)
    with node.transaction() as tx:
        user_id = use_link(tx, token, RESET)
        # Reading the link proves the mailbox is the account's.
        tx.execute(update(users).where(users.c.id == user_id).values(password_hash=hashed, email_verified=True))
        tx.execute(delete(sessions).where(sessions.c.user_id == user_id))
        row = tx.execute(select(users).where(users.c.id == user_id)).one()
    return _account(row)


def update_profile(node: Node, user_id: int, display_name: str, language: str) -> Account:
    display_name = check_name(display_name)
    with node.transaction() as tx:
        tx.execute(update(users).where(users.c.id == user_id).values(display_name=display_name, language=language))
        row = tx.execute(select(users).where(users.c.id == user_id)).one()
    return _account(row)


def waiting(node: Node) -> list[Account]:
    """Accounts waiting for an administrator's approval (registration mode "approval")."""
    with node.engine.connect() as conn:
        rows = conn.execute(select(users).where(users.c.status == PENDING).order_by(users.c.id)).all()
    return [_account(r) for r in rows]


def set_status(node: Node, viewer: Viewer, user_id: int, status: str) -> Account:
    """Approve (active), or disable, an account: administrators only. Disabling ends its sessions."""
    if viewer.role is not Role.ADMIN or viewer.read_only:
        raise Forbidden("only an administrator approves or disables accounts")
    if status not in (ACTIVE, DISABLED):
        raise InvalidInput("the status is active or disabled")
    with node.transaction() as tx:
        done = tx.execute(update(users).where(users.c.id == user_id).values(status=status))
        if done.rowcount != 1:
            raise NotFound(f"no user {user_id}")
        if status == DISABLED:
            tx.execute(delete(sessions).where(sessions.c.user_id == user_id))
        row = tx.execute(select(users).where(users.c.id == user_id)).one()
    return _account(row)
