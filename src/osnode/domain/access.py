"""Who may see a version's metadata and who may get its files: the rules, decided without I/O.

``services.access`` is the one place that applies them; every route that serves bytes or
metadata goes through it.

Everything that moves a version's files to new readers (starting a new version, which carries
them over; loosening a draft's access; publishing a draft) follows from one question: may this
viewer read those files now? Editing rights alone never suffice, or a curator refused a
restricted file could copy it into a draft, open the draft and publish it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .records import Access, AccessLevel, Role, State, Version


@dataclass(frozen=True)
class Grant:
    """A data access committee's grant: ``user_id`` may get the files of ``record_id`` through ``expires``
    (inclusive), unless revoked. A grant presented as a visa from another node names no local user."""

    id: int
    record_id: str
    user_id: int | None
    expires: date
    revoked: bool = False
    project: str | None = None

    def refusal(self, record_id: str, today: date) -> str | None:
        if self.record_id != record_id:
            return "the grant is for another record"
        if self.revoked:
            return "the grant was revoked by the data access committee"
        if today > self.expires:
            return f"the grant expired on {self.expires.isoformat()}"
        return None


@dataclass(frozen=True)
class Viewer:
    """Who is asking: an anonymous reader has no user id and no role."""

    user_id: int | None = None
    role: Role | None = None
    # A read-scoped API token: it may read all its user may, and change nothing.
    read_only: bool = False
    # Grants another node issued, presented as verified GA4GH visas (``services.visas``).
    visas: tuple[Grant, ...] = ()

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.ADMIN, Role.CURATOR)

    def owns(self, version: Version) -> bool:
        return self.user_id is not None and (self.user_id == version.owner_id or self.user_id in version.co_owner_ids)


ANONYMOUS = Viewer()


def can_see(version: Version, viewer: Viewer, *, reviewer: bool = False) -> bool:
    """Drafts are private to their owner, to staff, and to the curators of a community the record was
    submitted to (``reviewer``: they must read what they are asked to accept); published and withdrawn
    versions are public (a withdrawn one as a tombstone)."""
    if version.state is State.DRAFT:
        return viewer.owns(version) or viewer.is_staff or reviewer
    return True


def level_in_force(access: Access, today: date) -> AccessLevel:
    """The level that applies today: an embargo lifts by itself on its end date (nothing needs to
    run on the day), after which the record is open."""
    if access.level is AccessLevel.EMBARGOED and access.embargo_until is not None and today >= access.embargo_until:
        return AccessLevel.OPEN
    return access.level


def files_refusal(version: Version, viewer: Viewer, today: date, grant: Grant | None = None) -> str | None:
    """Why ``viewer`` may not get the files of ``version`` today, or ``None`` if they may.

    ``grant``: the viewer's grant for the record, if any. It opens a managed version (restricted with DUO
    terms) while it holds; it never opens a draft, an embargo or a plain restricted version."""
    if version.state is State.WITHDRAWN:
        return "this version was withdrawn; its files are no longer served"
    if viewer.owns(version) or viewer.role is Role.ADMIN:
        return None
    if version.state is State.DRAFT and not viewer.is_staff:
        return "draft files are private"
    # A curator reviews a draft's files only as far as its access setting would let them read
    # them once published: a new version of a restricted record carries its files over.
    refusal = _level_refusal(version.access, today)
    if refusal is None or grant is None or version.state is not State.PUBLISHED:
        return refusal
    if not (version.access.managed or visa_opens(version, grant)):
        return refusal
    return grant.refusal(version.record_id, today)


def visa_opens(version: Version, grant: Grant) -> bool:
    """A visa (a grant the record's origin issued, verified by ``services.visas``) opens the restricted copy of
    a harvested record, whose terms are its origin's to decide."""
    return grant.user_id is None and version.origin_node is not None and version.access.level is AccessLevel.RESTRICTED


def _level_refusal(access: Access, today: date) -> str | None:
    """Why a reader who is neither an owner nor an administrator may not get files under ``access``."""
    level = level_in_force(access, today)
    if level is AccessLevel.OPEN:
        return None
    if level is AccessLevel.EMBARGOED:
        until = access.embargo_until
        return f"the files are under embargo until {until.isoformat() if until else 'further notice'}"
    if level is AccessLevel.RESTRICTED and access.data_use is not None:
        return "the files are restricted: under managed access, ask the record's data access committee for a grant"
    if level is AccessLevel.RESTRICTED:
        return "the files are restricted to the record's owners and administrators"
    return "this record publishes its metadata only"


def _public_from(access: Access, today: date) -> date:
    """The day from which anyone may read files under ``access`` (``date.max``: never)."""
    if _level_refusal(access, today) is None:
        return date.min
    if access.level is AccessLevel.EMBARGOED and access.embargo_until is not None:
        return access.embargo_until
    return date.max  # restricted, metadata-only and undated embargoes: owners and admins only


def opens_up(old: Access, new: Access, today: date) -> bool:
    """Whether ``new`` lets someone read files that ``old`` keeps from them (now or sooner)."""
    return _public_from(new, today) < _public_from(old, today)


def copy_refusal(base: Version, viewer: Viewer, today: date) -> str | None:
    """Why ``viewer`` may not start a new version from ``base``, which carries its files over."""
    refusal = files_refusal(base, viewer, today) if base.files else None
    if refusal is None:
        return None
    return f"a new version carries this record's files, which you may not read ({refusal})"


def access_change_refusal(draft: Version, new: Access, viewer: Viewer, today: date) -> str | None:
    """Why ``viewer`` may not give ``draft`` the access ``new``: only a reader of its files opens them up."""
    if not draft.files or not opens_up(draft.access, new, today):
        return None
    refusal = files_refusal(draft, viewer, today)
    if refusal is None:
        return None
    return f"only someone who may read this draft's files may open them to more readers ({refusal})"


def publish_refusal(draft: Version, previous: Version | None, viewer: Viewer, today: date) -> str | None:
    """Why ``viewer`` may not publish ``draft``, given the record's latest published version.

    Publishing is when a draft's access takes effect, so it is checked again against the version
    the files came from, whatever path set the draft's access: opening up carried-over files is
    for those who may read them.
    """
    if previous is None or not opens_up(previous.access, draft.access, today):
        return None
    if not {f.sha256 for f in previous.files} & {f.sha256 for f in draft.files}:
        return None
    refusal = files_refusal(previous, viewer, today)
    if refusal is None:
        return None
    return f"publishing would open files of the previous version that you may not read ({refusal})"


def crossborder_refusal(
    access: Access, today: date, holder: str | None, managed_jurisdictions: tuple[str, ...]
) -> str | None:
    """Why the bytes under ``access`` may not be copied to a holder in jurisdiction ``holder`` (ISO 3166-1
    alpha-2; ``None``: undeclared), by the node's cross-border policy, or ``None`` if they may."""
    if level_in_force(access, today) is AccessLevel.OPEN or not access.managed:
        return None  # open bytes go anywhere; other closed bytes never reach a peer at all
    use = access.data_use
    assert use is not None
    if holder is None:
        return "managed data goes only to a peer that declared its jurisdiction"
    if "GS" in use.modifiers and holder not in use.countries:
        return f"GS-restricted data never leaves {', '.join(use.countries)} (the peer is in {holder})"
    if holder not in managed_jurisdictions:
        allowed = ", ".join(managed_jurisdictions) or "no jurisdiction but this node's"
        return f"the node's policy keeps managed data in {allowed} (the peer is in {holder})"
    return None


def copies_may_live(access: Access, home: str, managed_jurisdictions: tuple[str, ...]) -> tuple[str, ...] | None:
    """Where copies of the bytes under ``access`` may be kept (``None``: anywhere)."""
    if not access.managed:
        return None
    use = access.data_use
    assert use is not None
    places = tuple(dict.fromkeys(([home] if home else []) + list(managed_jurisdictions)))
    if "GS" in use.modifiers:
        places = tuple(p for p in places if p in use.countries)
    return places


def without_content_addresses(metadata: dict[str, Any]) -> dict[str, Any]:
    """The stored metadata as a reader who may not get the files sees it: without the SWHIDs
    archiving adds as related identifiers. Like a checksum, a SWHID is a hash of the content: it
    confirms guesses about it and names it in the archive (docs/security.md, "Who may read what")."""
    related = metadata.get("relatedIdentifiers") or []
    kept = [r for r in related if not (isinstance(r, dict) and r.get("relatedIdentifierType") == "SWHID")]
    return metadata if len(kept) == len(related) else {**metadata, "relatedIdentifiers": kept}


def may_request_review(version: Version, viewer: Viewer) -> bool:
    """Who may ask a service or another node to review or endorse a record (COAR Notify): its owners and
    admins, for a published version, never with a read-only token."""
    if viewer.read_only or version.state is not State.PUBLISHED:
        return False
    return viewer.owns(version) or viewer.role is Role.ADMIN


def may_answer_requests(viewer: Viewer, curates_a_community: bool) -> bool:
    """Who acts as this node's reviewing side for requests that arrive in its inbox (accept, reject, announce
    a review, undo): admins, curators and community curators, until a journal takes its own requests."""
    if viewer.user_id is None or viewer.read_only:
        return False
    return viewer.is_staff or curates_a_community
