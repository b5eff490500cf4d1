"""Who may see a version's metadata and who may get its files: the rules, decided without I/O.

``services.access`` is the one place that applies them; every route that serves bytes or
metadata goes through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .records import Access, AccessLevel, Role, State, Version


@dataclass(frozen=True)
class Viewer:
    """Who is asking: an anonymous reader has no user id and no role."""

    user_id: int | None = None
    role: Role | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.ADMIN, Role.CURATOR)

    def owns(self, version: Version) -> bool:
        return self.user_id is not None and self.user_id == version.owner_id


ANONYMOUS = Viewer()


def can_see(version: Version, viewer: Viewer) -> bool:
    """Drafts are private to their owner and to staff; published and withdrawn versions are public
    (a withdrawn one as a tombstone)."""
    if version.state is State.DRAFT:
        return viewer.owns(version) or viewer.is_staff
    return True


def level_in_force(access: Access, today: date) -> AccessLevel:
    """The level that applies today: an embargo lifts by itself on its end date (nothing needs to
    run on the day), after which the record is open."""
    if access.level is AccessLevel.EMBARGOED and access.embargo_until is not None and today >= access.embargo_until:
        return AccessLevel.OPEN
    return access.level


def files_refusal(version: Version, viewer: Viewer, today: date) -> str | None:
    """Why ``viewer`` may not get the files of ``version`` today, or ``None`` if they may."""
    if version.state is State.WITHDRAWN:
        return "this version was withdrawn; its files are no longer served"
    if viewer.owns(version) or viewer.role is Role.ADMIN:
        return None
    if version.state is State.DRAFT:
        return None if viewer.is_staff else "draft files are private"
    level = level_in_force(version.access, today)
    if level is AccessLevel.OPEN:
        return None
    if level is AccessLevel.EMBARGOED:
        until = version.access.embargo_until
        return f"the files are under embargo until {until.isoformat() if until else 'further notice'}"
    if level is AccessLevel.RESTRICTED:
        return "the files are restricted to the record's owners and administrators"
    return "this record publishes its metadata only"


def without_content_addresses(metadata: dict[str, Any]) -> dict[str, Any]:
    """The stored metadata as a reader who may not get the files sees it: without the SWHIDs
    archiving adds as related identifiers. Like a checksum, a SWHID is a hash of the content: it
    confirms guesses about it and names it in the archive (docs/security.md, "Who may read what")."""
    related = metadata.get("relatedIdentifiers") or []
    kept = [r for r in related if not (isinstance(r, dict) and r.get("relatedIdentifierType") == "SWHID")]
    return metadata if len(kept) == len(related) else {**metadata, "relatedIdentifiers": kept}
