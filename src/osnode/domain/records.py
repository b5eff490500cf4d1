"""Records, versions and files, and the lifecycle rules that bind them.

A record is the stable concept (what people cite as "the dataset"); each version has its own id,
immutable metadata and files once published. Withdrawal leaves a tombstone, never a hole.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from .duo import DataUse
from .errors import Conflict

_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32: no i, l, o, u


ID_BITS = 50


def new_id() -> str:
    """A short random id such as ``k3x9a-b7q2m``: easy to read aloud, 50 bits of entropy."""
    chars = "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))
    return f"{chars[:5]}-{chars[5:]}"


def id_of(number: int) -> str:
    """The id that spells a number below 2**ID_BITS, most significant character first, so that
    consecutive numbers give ids that sort next to each other (``new_id`` is one drawn at random)."""
    chars = "".join(_ID_ALPHABET[(number >> shift) & 31] for shift in range(ID_BITS - 5, -1, -5))
    return f"{chars[:5]}-{chars[5:]}"


class State(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class AccessLevel(StrEnum):
    OPEN = "open"
    EMBARGOED = "embargoed"
    RESTRICTED = "restricted"
    METADATA_ONLY = "metadata-only"


class Role(StrEnum):
    ADMIN = "admin"
    CURATOR = "curator"
    DEPOSITOR = "depositor"
    READER = "reader"  # signed in, may read what is shared with them, deposits nothing


@dataclass(frozen=True)
class Access:
    level: AccessLevel = AccessLevel.OPEN
    embargo_until: date | None = None
    # GA4GH DUO terms: a restricted version that carries them is under managed access (readers may ask its
    # data access committee for a grant); see docs/governance.md.
    data_use: DataUse | None = None

    @property
    def managed(self) -> bool:
        return self.level is AccessLevel.RESTRICTED and self.data_use is not None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "level": self.level.value,
            "embargo_until": self.embargo_until.isoformat() if self.embargo_until else None,
        }
        if self.data_use is not None:
            out["data_use"] = self.data_use.as_dict()
        return out


@dataclass(frozen=True)
class FileEntry:
    key: str
    sha256: str
    size: int
    mimetype: str
    created: datetime


@dataclass
class Version:
    id: str
    record_id: str
    number: int
    state: State
    metadata: dict[str, Any]
    access: Access
    owner_id: int
    created: datetime
    updated: datetime
    published_at: datetime | None = None
    withdrawn_at: datetime | None = None
    withdrawal_reason: str | None = None
    origin_node: str | None = None
    files: list[FileEntry] = field(default_factory=list)
    # People the record's owner shared it with: they edit drafts and publish new versions as the owner does.
    co_owner_ids: tuple[int, ...] = ()

    def file(self, key: str) -> FileEntry | None:
        return next((f for f in self.files if f.key == key), None)


def ensure_editable(version: Version) -> None:
    """Published bytes and metadata never change: edits go to a new version."""
    if version.state is not State.DRAFT:
        raise Conflict(f"version {version.id} is {version.state.value} and cannot be edited; create a new version")


def ensure_publishable(version: Version) -> None:
    ensure_editable(version)


def ensure_withdrawable(version: Version) -> None:
    if version.state is State.DRAFT:
        raise Conflict(f"version {version.id} is a draft: delete it instead of withdrawing it")
    if version.state is State.WITHDRAWN:
        raise Conflict(f"version {version.id} is already withdrawn")


# Reserved on some file systems, or path separators there.
_FORBIDDEN_KEY_CHARS = set('\\:*?"<>|')
# Characters that change how a name is shown without being seen: controls (Cc), which garble listings,
# terminals and Content-Disposition headers; format characters (Cf) such as the bidirectional override
# U+202E, which shows "report\u202efdp.exe" as "reportexe.pdf"; lone surrogates (Cs), which are no text
# at all; and line and paragraph separators (Zl, Zp). ZWNJ and ZWJ are format characters too, but
# Persian, Indic scripts and emoji sequences need them in ordinary words, so they stay.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_JOINERS = frozenset({"\u200c", "\u200d"})


def _hidden_character(key: str) -> str | None:
    return next(
        (c for c in key if c not in _JOINERS and unicodedata.category(c) in _HIDDEN_CATEGORIES),
        None,
    )


def validate_file_key(key: str) -> str:
    """A file name inside a version: one path segment, no tricks, at most 255 bytes."""
    if not key or key in (".", "..") or "/" in key:
        raise ValueError(f"'{key}' is not a valid file name (one segment, no '/')")
    hidden = _hidden_character(key)
    if hidden is not None:
        # The name itself is not echoed: it is exactly what would be shown misleadingly.
        what = unicodedata.name(hidden, "a control character")
        raise ValueError(f"a file name may not contain U+{ord(hidden):04X} ({what}): it hides or reorders characters")
    if set(key) & _FORBIDDEN_KEY_CHARS or len(key.encode()) > 255 or key != key.strip():
        raise ValueError(f"'{key}' is not a valid file name (reserved characters, or too long)")
    return key
