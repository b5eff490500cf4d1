"""What the journal services share: checking text fields, finding a journal, and a viewer's standing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, select

from ...domain.access import Viewer
from ...domain.errors import FieldError, Forbidden, InvalidInput, NotFound, Unauthorized
from ...domain.journals import JournalRole, Standing
from ...domain.records import Role
from ...storage.journals import journal_roles, journals

MAX_LINE = 500
MAX_TEXT = 20_000


def text(value: Any, path: str, errors: list[FieldError], *, limit: int = MAX_TEXT, required: bool = False) -> str:
    """A form field as clean text, or an error for ``path`` (nothing is stored while any error stands)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.append(FieldError(path, "must be text"))
        return ""
    value = value.strip().replace("\r\n", "\n")
    if required and not value:
        errors.append(FieldError(path, "required"))
    elif len(value) > limit:
        errors.append(FieldError(path, f"at most {limit} characters"))
    elif "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value):
        errors.append(FieldError(path, "NUL or unpaired surrogate"))
    return value


MAX_ID = 2_147_483_647  # a database integer; larger numbers from a form are refused before any query


def small_int(value: Any) -> int | None:
    """A form's whole number, or None: ASCII digits only (``"²".isdigit()`` is true, ``int("²")`` fails), at
    most nine of them (PostgreSQL's integer overflows past 2**31)."""
    text_ = str(value if value is not None else "").strip()
    if not text_ or len(text_) > 9 or not text_.isascii() or not text_.isdigit():
        return None
    return int(text_)


def refuse_if(errors: list[FieldError], what: str) -> None:
    if errors:
        raise InvalidInput(what, errors)


def journal_row(conn: Connection, slug: str) -> Any:
    if not isinstance(slug, str) or "\x00" in slug or len(slug) > 64:
        raise NotFound("no such journal")
    row = conn.execute(select(journals).where(journals.c.slug == slug)).first()
    if row is None:
        raise NotFound(f"no journal '{slug[:64]}'")
    return row


def roles_of(conn: Connection, slug: str, user_id: int | None) -> frozenset[JournalRole]:
    if user_id is None:
        return frozenset()
    key = and_(journal_roles.c.journal == slug, journal_roles.c.user_id == user_id)
    return frozenset(JournalRole(r) for r in conn.execute(select(journal_roles.c.role).where(key)).scalars())


def journal_standing(conn: Connection, viewer: Viewer, slug: str) -> Standing:
    if viewer.user_id is None or viewer.read_only:
        return Standing()
    return Standing(admin=viewer.role is Role.ADMIN, roles=roles_of(conn, slug, viewer.user_id))


def signed_in(viewer: Viewer, what: str) -> int:
    if viewer.user_id is None:
        raise Unauthorized(f"{what} needs you to sign in")
    if viewer.read_only:
        raise Forbidden("a read-only token changes nothing")
    return viewer.user_id


def require(allowed: bool, why: str) -> None:
    if not allowed:
        raise Forbidden(why)
