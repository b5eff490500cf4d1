"""Managed access: data access committees, access requests, votes, decisions and grants.

A committee (the node's, or a community's) has members, one or more chairs, a quorum and a data access
agreement; it governs records (one committee per record). A signed-in reader asks for a managed record (a
restricted version with DUO terms): the node pre-checks the request against the terms and shows each
mismatch to the committee. Members comment and vote; when as many members as the quorum approve, the request
is approved and a grant issued (its expiry the shortest an approving member chose, never beyond the TS
modifier's months); as many rejections reject it with their reasons; any member may ask for more
information, after which the requester edits the request and the votes start again. The committee (or an
administrator) may revoke a grant at any time; a job notes expired ones. Every step is in the audit log.

Emails: each function returns who should hear of what (``Notice``); the web layer writes them in each
recipient's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from ..domain import duo
from ..domain.access import Grant, Viewer
from ..domain.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, Unauthorized
from ..domain.records import Role, State, Version
from ..storage.catalog import records, users
from ..storage.governance import (
    APPROVED,
    INFO,
    PENDING,
    REJECTED,
    access_requests,
    committee_members,
    committee_records,
    committees,
    grants,
    request_comments,
    request_votes,
)
from . import accounts, audit
from .jobs import Job
from .node import Node, utcnow
from .records import get_version

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
MAX_TEXT = 5000
MAX_ETHICS_BYTES = 20 * 1024 * 1024
DEFAULT_DAYS = 365
MAX_DAYS = 3650


@dataclass(frozen=True)
class Member:
    user_id: int
    name: str
    orcid: str | None
    chair: bool


@dataclass(frozen=True)
class Committee:
    slug: str
    name: str
    community: str | None
    quorum: int
    agreement: str
    members: tuple[Member, ...] = ()
    record_ids: tuple[str, ...] = ()

    def member(self, user_id: int | None) -> Member | None:
        return next((m for m in self.members if m.user_id == user_id), None)


@dataclass(frozen=True)
class Notice:
    """Someone to email about a step: ``event`` is a key of ``web.access_mail.EVENTS``."""

    account: accounts.Account
    event: str
    request_id: int
    reason: str = ""
    until: date | None = None


@dataclass(frozen=True)
class Vote:
    voter_id: int
    voter: str
    approve: bool
    reason: str
    days: int | None
    created: datetime


@dataclass(frozen=True)
class Comment:
    author_id: int
    author: str
    body: str
    created: datetime


@dataclass
class AccessRequest:
    id: int
    record_id: str
    version_id: str
    title: str
    requester_id: int
    requester: str
    requester_orcid: str | None
    purpose: duo.Purpose
    purpose_text: str
    institution: str
    agreement_accepted: bool
    ethics_name: str | None
    state: str
    decision_reason: str
    created: datetime
    updated: datetime
    committee: Committee
    data_use: duo.DataUse | None
    precheck: duo.Precheck
    votes: list[Vote] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    grant: dict[str, Any] | None = None
    ethics_sha256: str | None = None

    def as_json(self) -> dict[str, Any]:
        p = self.purpose
        return {
            "id": self.id,
            "record_id": self.record_id,
            "version_id": self.version_id,
            "state": self.state,
            "requester": {"id": self.requester_id, "name": self.requester, "orcid": self.requester_orcid},
            "purpose": {
                "code": p.code,
                "disease": p.disease,
                "text": self.purpose_text,
                "methods": p.methods,
                "commercial": p.commercial,
            },
            "project": p.project,
            "institution": {"name": self.institution, "ror": p.institution_ror, "not_for_profit": p.not_for_profit},
            "country": p.country,
            "collaborates": p.collaborates,
            "ethics_document": self.ethics_name,
            "agreement_accepted": self.agreement_accepted,
            "committee": self.committee.slug,
            "quorum": self.committee.quorum,
            "precheck": {
                "ok": self.precheck.ok,
                "mismatches": [{"code": m.code, "message": m.message} for m in self.precheck.mismatches],
                "conditions": [t.shorthand for t in self.precheck.conditions],
            },
            "votes": [{"voter": v.voter, "approve": v.approve, "reason": v.reason, "days": v.days} for v in self.votes],
            "comments": [{"author": c.author, "body": c.body, "created": c.created.isoformat()} for c in self.comments],
            "decision_reason": self.decision_reason or None,
            "grant": self.grant,
            "created": self.created.isoformat(),
            "updated": self.updated.isoformat(),
        }


# -- committees ----------------------------------------------------------------------------------


def _text(value: Any, path: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{path} must be text", [FieldError(path, "expected text")])
    if "\x00" in text or len(text) > limit:
        raise InvalidInput(f"{path} is too long", [FieldError(path, f"at most {limit} characters")])
    if required and not text:
        raise InvalidInput(f"{path} is required", [FieldError(path, "required")])
    return text


def _flag(value: Any) -> bool:
    return value in (True, "true", "on", "1", "yes", 1)


def _ensure_admin(viewer: Viewer) -> None:
    if viewer.user_id is None:
        raise Unauthorized("managing committees needs you to sign in")
    if viewer.role is not Role.ADMIN or viewer.read_only:
        raise Forbidden("only an administrator may create committees")


def _quorum(value: Any) -> int:
    try:
        quorum = int(value)
        if not 1 <= quorum <= 50:
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidInput("the quorum is a number of votes", [FieldError("quorum", "from 1 to 50")]) from None
    return quorum


def create_committee(
    node: Node, viewer: Viewer, slug: Any, name: Any, quorum: Any = 2, agreement: Any = "", community: Any = None
) -> Committee:
    _ensure_admin(viewer)
    slug_text = _text(slug, "slug", required=True, limit=64).lower()
    if not SLUG.fullmatch(slug_text):
        raise InvalidInput("invalid slug", [FieldError("slug", "lowercase letters, digits and hyphens")])
    row = dict(
        slug=slug_text,
        name=_text(name, "name", required=True, limit=500),
        quorum=_quorum(quorum),
        agreement=_text(agreement, "agreement"),
        community=_text(community, "community", limit=64) or None,
        created=utcnow(),
    )
    with node.transaction() as tx:
        if tx.execute(select(committees.c.slug).where(committees.c.slug == slug_text)).first():
            raise Conflict(f"a committee '{slug_text}' exists already")
        tx.execute(insert(committees).values(**row))
        audit.append(tx, "committee-created", actor_id=viewer.user_id, detail={"committee": slug_text})
    return get_committee(node, slug_text)


def _committee(conn: Connection, slug: str) -> Committee:
    if not SLUG.fullmatch(slug):
        raise NotFound(f"no committee '{slug[:80]}'")
    row = conn.execute(select(committees).where(committees.c.slug == slug)).first()
    if row is None:
        raise NotFound(f"no committee '{slug}'")
    query = (
        select(
            committee_members.c.user_id, committee_members.c.chair, users.c.name, users.c.display_name, users.c.orcid
        )
        .select_from(committee_members.join(users, users.c.id == committee_members.c.user_id))
        .where(committee_members.c.slug == slug)
        .order_by(committee_members.c.chair.desc(), users.c.name)
    )
    members = tuple(Member(m.user_id, m.display_name or m.name, m.orcid, m.chair) for m in conn.execute(query))
    governed = conn.execute(select(committee_records.c.record_id).where(committee_records.c.slug == slug)).scalars()
    return Committee(row.slug, row.name, row.community, row.quorum, row.agreement, members, tuple(sorted(governed)))


def get_committee(node: Node, slug: str) -> Committee:
    with node.engine.connect() as conn:
        return _committee(conn, slug)


def list_committees(node: Node) -> list[Committee]:
    with node.engine.connect() as conn:
        slugs = conn.execute(select(committees.c.slug).order_by(committees.c.slug)).scalars().all()
        return [_committee(conn, s) for s in slugs]


def _ensure_chair(conn: Connection, viewer: Viewer, committee: Committee) -> None:
    if viewer.user_id is None:
        raise Unauthorized("managing a committee needs you to sign in")
    member = committee.member(viewer.user_id)
    if viewer.read_only or not (viewer.role is Role.ADMIN or (member and member.chair)):
        raise Forbidden("only the committee's chair or an administrator may change it")


def set_member(node: Node, viewer: Viewer, slug: str, email_or_id: Any, chair: Any = False) -> Committee:
    """Add (or re-add, as chair or not) a member by email address or user id."""
    with node.transaction() as tx:
        committee = _committee(tx, slug)
        _ensure_chair(tx, viewer, committee)
        key = _text(email_or_id if isinstance(email_or_id, str) else str(email_or_id), "member", required=True)
        if key.isdigit():
            found = tx.execute(select(users.c.id).where(users.c.id == int(key))).scalar()
        else:
            account = accounts.by_email(tx, key)
            found = account.id if account else None
        if found is None:
            raise InvalidInput("no such account", [FieldError("member", "no account has this email address")])
        tx.execute(
            delete(committee_members).where(committee_members.c.slug == slug, committee_members.c.user_id == found)
        )
        tx.execute(insert(committee_members).values(slug=slug, user_id=found, chair=_flag(chair), added=utcnow()))
        audit.append(
            tx,
            "member-added",
            actor_id=viewer.user_id,
            detail={"committee": slug, "user": found, "chair": _flag(chair)},
        )
    return get_committee(node, slug)


def remove_member(node: Node, viewer: Viewer, slug: str, user_id: int) -> Committee:
    with node.transaction() as tx:
        committee = _committee(tx, slug)
        _ensure_chair(tx, viewer, committee)
        tx.execute(
            delete(committee_members).where(committee_members.c.slug == slug, committee_members.c.user_id == user_id)
        )
        audit.append(tx, "member-removed", actor_id=viewer.user_id, detail={"committee": slug, "user": user_id})
    return get_committee(node, slug)


def update_committee(node: Node, viewer: Viewer, slug: str, quorum: Any, agreement: Any) -> Committee:
    with node.transaction() as tx:
        committee = _committee(tx, slug)
        _ensure_chair(tx, viewer, committee)
        values = {"quorum": _quorum(quorum), "agreement": _text(agreement, "agreement")}
        tx.execute(update(committees).where(committees.c.slug == slug).values(**values))
        audit.append(tx, "committee-changed", actor_id=viewer.user_id, detail={"committee": slug, **values})
    return get_committee(node, slug)


def govern(node: Node, viewer: Viewer, slug: str, record_id: str) -> Committee:
    """Put ``record_id`` under committee ``slug``: its owner (or an administrator) chooses, with the chair's or
    an administrator's consent implied by membership of the committee."""
    if viewer.user_id is None:
        raise Unauthorized("sign in first")
    with node.transaction() as tx:
        committee = _committee(tx, slug)
        owner = tx.execute(select(records.c.owner_id).where(records.c.id == record_id)).scalar()
        if owner is None or "\x00" in record_id:
            raise NotFound(f"no record '{record_id[:40]}' (give the record id, not a version id)")
        member = committee.member(viewer.user_id)
        if viewer.read_only or not (viewer.role is Role.ADMIN or owner == viewer.user_id or (member and member.chair)):
            raise Forbidden("only the record's owner, the committee's chair or an administrator may do this")
        tx.execute(delete(committee_records).where(committee_records.c.record_id == record_id))
        tx.execute(insert(committee_records).values(record_id=record_id, slug=slug))
        audit.append(tx, "record-governed", actor_id=viewer.user_id, record_id=record_id, detail={"committee": slug})
    return get_committee(node, slug)


def committee_of(conn: Connection, record_id: str) -> Committee | None:
    slug = conn.execute(select(committee_records.c.slug).where(committee_records.c.record_id == record_id)).scalar()
    return _committee(conn, slug) if slug else None


def is_member(conn: Connection, viewer: Viewer, record_id: str) -> bool:
    committee = committee_of(conn, record_id)
    return bool(viewer.user_id and committee and committee.member(viewer.user_id))


# -- requests ------------------------------------------------------------------------------------


def _purpose(form: dict[str, Any]) -> tuple[duo.Purpose, dict[str, Any]]:
    """The requester's answers, checked; the columns to store."""
    errors: list[FieldError] = []
    code = str(form.get("purpose_code") or "").strip().upper()
    if code not in duo.PURPOSES:
        errors.append(FieldError("purpose_code", f"one of {', '.join(duo.PURPOSES)}"))
    texts = {}
    for name, required, limit in (
        ("purpose", True, MAX_TEXT),
        ("project", True, 500),
        ("institution", True, 500),
        ("disease", False, 500),
        ("institution_ror", False, 100),
    ):
        try:
            texts[name] = _text(form.get(name), name, required=required, limit=limit)
        except InvalidInput as exc:
            errors += exc.errors
    if code == "DS" and not texts.get("disease") and not any(e.path == "disease" for e in errors):
        errors.append(FieldError("disease", "disease-specific research names its disease"))
    ror = None
    if texts.get("institution_ror"):
        ror = duo.ror_id(texts["institution_ror"])
        if ror is None:
            errors.append(FieldError("institution_ror", "not a ROR id (https://ror.org/…)"))
    country = str(form.get("country") or "").strip().upper()
    if country not in duo.countries():
        errors.append(FieldError("country", "an ISO 3166-1 alpha-2 country code"))
    if not _flag(form.get("agreement_accepted")):
        errors.append(FieldError("agreement_accepted", "the data access agreement must be accepted"))
    if errors:
        raise InvalidInput(f"the request has {len(errors)} error(s)", errors)
    flags = {k: _flag(form.get(k)) for k in ("not_for_profit", "commercial", "methods", "collaborates")}
    columns = dict(
        purpose_code=code,
        disease=texts["disease"] or None if code == "DS" else None,
        purpose=texts["purpose"],
        project=texts["project"],
        institution=texts["institution"],
        institution_ror=ror,
        country=country,
        agreement_accepted=True,
        **flags,
    )
    purpose = duo.Purpose(
        code,
        columns["disease"],
        flags["methods"],
        flags["commercial"],
        flags["not_for_profit"],
        country,
        ror,
        texts["project"],
        False,
        flags["collaborates"],
    )
    return purpose, columns


def _managed_version(node: Node, record_id: str, viewer: Viewer) -> Version:
    version = get_version(node, record_id, viewer)
    if version.state is not State.PUBLISHED or not version.access.managed:
        raise Conflict(f"record {record_id} is not under managed access: there is nothing to request")
    return version


def submit(
    node: Node, viewer: Viewer, record_id: str, form: dict[str, Any], ethics: tuple[str, bytes] | None = None
) -> tuple[AccessRequest, list[Notice]]:
    """A signed-in reader asks for the files of a managed record."""
    if viewer.user_id is None:
        raise Unauthorized("asking for access needs you to sign in")
    if viewer.read_only:
        raise Forbidden("a read-only token cannot ask for access")
    version = _managed_version(node, record_id, viewer)
    _, columns = _purpose(form)
    ethics_columns = _store_ethics(node, ethics)
    now = utcnow()
    with node.transaction() as tx:
        committee = committee_of(tx, version.record_id)
        if committee is None:
            raise Conflict("no data access committee governs this record yet; contact its owner")
        open_states = (PENDING, INFO)
        existing = tx.execute(
            select(access_requests.c.id).where(
                access_requests.c.record_id == version.record_id,
                access_requests.c.requester_id == viewer.user_id,
                access_requests.c.state.in_(open_states),
            )
        ).scalar()
        if existing:
            raise Conflict(f"you have an open request for this record already (request {existing})")
        request_id = tx.execute(
            insert(access_requests).values(
                record_id=version.record_id,
                requester_id=viewer.user_id,
                state=PENDING,
                created=now,
                updated=now,
                **columns,
                **ethics_columns,
            )
        ).inserted_primary_key[0]
        audit.append(
            tx,
            "request",
            actor_id=viewer.user_id,
            record_id=version.record_id,
            detail={"request": request_id, "purpose": columns["purpose_code"]},
        )
    found = get_request(node, viewer, request_id)
    return found, _to_committee(node, found, "new-request")


def _store_ethics(node: Node, ethics: tuple[str, bytes] | None) -> dict[str, Any]:
    if not ethics or not ethics[1]:
        return {}
    name, data = ethics
    if len(data) > MAX_ETHICS_BYTES:
        raise InvalidInput("the ethics document is too large", [FieldError("ethics", "at most 20 MB")])
    if not data.startswith(b"%PDF-"):
        raise InvalidInput("the ethics document must be a PDF", [FieldError("ethics", "a PDF file")])
    stored = node.blobs.put_stream([data], max_bytes=MAX_ETHICS_BYTES).sha256
    safe = re.sub(r"[^\w.\- ]", "_", name)[:200] or "ethics.pdf"
    return {"ethics_sha256": stored, "ethics_name": safe}


def update_request(
    node: Node, viewer: Viewer, request_id: int, form: dict[str, Any], ethics: tuple[str, bytes] | None = None
) -> tuple[AccessRequest, list[Notice]]:
    """The requester changes an open request (after being asked for more information, say): the votes start
    again, since they were cast on what it said before."""
    current = get_request(node, viewer, request_id)
    if viewer.user_id != current.requester_id:
        raise Forbidden("only the requester may change a request")
    if current.state not in (PENDING, INFO):
        raise Conflict(f"request {request_id} is {current.state} and can no longer change")
    _, columns = _purpose(form)
    ethics_columns = _store_ethics(node, ethics)
    with node.transaction() as tx:
        tx.execute(
            update(access_requests)
            .where(access_requests.c.id == request_id)
            .values(state=PENDING, updated=utcnow(), **columns, **ethics_columns)
        )
        tx.execute(delete(request_votes).where(request_votes.c.request_id == request_id))
        audit.append(
            tx,
            "request-changed",
            actor_id=viewer.user_id,
            record_id=current.record_id,
            detail={"request": request_id, "purpose": columns["purpose_code"]},
        )
    found = get_request(node, viewer, request_id)
    return found, _to_committee(node, found, "request-changed")


def _load(conn: Connection, request_id: int) -> Any:
    row = conn.execute(select(access_requests).where(access_requests.c.id == request_id)).first()
    if row is None:
        raise NotFound(f"no access request {request_id}")
    return row


def _names(conn: Connection, ids: set[int]) -> dict[int, tuple[str, str | None]]:
    if not ids:
        return {}
    rows = conn.execute(
        select(users.c.id, users.c.name, users.c.display_name, users.c.orcid).where(users.c.id.in_(ids))
    )
    return {r.id: (r.display_name or r.name, r.orcid) for r in rows}


def get_request(node: Node, viewer: Viewer, request_id: int) -> AccessRequest:
    """A request, for its requester, the committee's members and administrators (others: not found)."""
    if viewer.user_id is None:
        raise Unauthorized("sign in to see access requests")
    with node.engine.connect() as conn:
        row = _load(conn, request_id)
        committee = committee_of(conn, row.record_id)
        member = committee is not None and committee.member(viewer.user_id) is not None
        if not (viewer.user_id == row.requester_id or member or viewer.role is Role.ADMIN):
            raise NotFound(f"no access request {request_id}")
        votes = conn.execute(
            select(request_votes).where(request_votes.c.request_id == request_id).order_by(request_votes.c.created)
        ).all()
        comments = conn.execute(
            select(request_comments).where(request_comments.c.request_id == request_id).order_by(request_comments.c.id)
        ).all()
        grant = conn.execute(select(grants).where(grants.c.request_id == request_id)).first()
        names = _names(conn, {row.requester_id, *(v.voter_id for v in votes), *(c.author_id for c in comments)})
    version = get_version(node, row.record_id, Viewer(viewer.user_id, viewer.role))
    data_use = version.access.data_use
    purpose = duo.Purpose(
        row.purpose_code,
        row.disease,
        row.methods,
        row.commercial,
        row.not_for_profit,
        row.country,
        row.institution_ror,
        row.project,
        row.ethics_sha256 is not None,
        row.collaborates,
    )
    title = next((t.get("title", "") for t in version.metadata.get("titles") or [] if isinstance(t, dict)), "")
    unknown = ("?", None)
    return AccessRequest(
        id=row.id,
        record_id=row.record_id,
        version_id=version.id,
        title=title,
        requester_id=row.requester_id,
        requester=names.get(row.requester_id, unknown)[0],
        requester_orcid=names.get(row.requester_id, unknown)[1],
        purpose=purpose,
        purpose_text=row.purpose,
        institution=row.institution,
        agreement_accepted=row.agreement_accepted,
        ethics_name=row.ethics_name,
        state=row.state,
        decision_reason=row.decision_reason or "",
        created=row.created,
        updated=row.updated,
        committee=committee or Committee("", "", None, 1, ""),
        data_use=data_use,
        precheck=duo.precheck(data_use, purpose) if data_use else duo.Precheck(),
        votes=[
            Vote(v.voter_id, names.get(v.voter_id, unknown)[0], v.approve, v.reason or "", _days(v.reason), v.created)
            for v in votes
        ],
        comments=[Comment(c.author_id, names.get(c.author_id, unknown)[0], c.body, c.created) for c in comments],
        grant=_grant_json(grant) if grant else None,
        ethics_sha256=row.ethics_sha256,
    )


def _days(reason: str | None) -> int | None:
    """An approving vote stores its chosen expiry as ``days:N`` before its reason (see ``vote``)."""
    if reason and reason.startswith("days:"):
        head = reason.split("\n", 1)[0]
        return int(head[5:]) if head[5:].isdigit() else None
    return None


def _grant_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "record_id": row.record_id,
        "issued": row.issued.isoformat(),
        "expires": row.expires.isoformat(),
        "revoked": row.revoked_at is not None,
        "revoke_reason": row.revoke_reason,
        "project": row.project,
    }


def ethics_document(node: Node, viewer: Viewer, request_id: int) -> tuple[str, str]:
    """The ethics document's name and blob: for the committee, administrators and the requester only."""
    found = get_request(node, viewer, request_id)
    if not found.ethics_sha256:
        raise NotFound("this request has no ethics document")
    return found.ethics_name or "ethics.pdf", found.ethics_sha256


def _ensure_member(viewer: Viewer, found: AccessRequest) -> None:
    if viewer.read_only or found.committee.member(viewer.user_id) is None:
        raise Forbidden("only members of the record's data access committee may do this")


def comment(node: Node, viewer: Viewer, request_id: int, body: Any) -> tuple[AccessRequest, list[Notice]]:
    found = get_request(node, viewer, request_id)
    if viewer.user_id != found.requester_id:
        _ensure_member(viewer, found)
    text = _text(body, "body", required=True)
    with node.transaction() as tx:
        tx.execute(
            insert(request_comments).values(
                request_id=request_id, author_id=viewer.user_id, body=text, created=utcnow()
            )
        )
        audit.append(tx, "comment", actor_id=viewer.user_id, record_id=found.record_id, detail={"request": request_id})
    found = get_request(node, viewer, request_id)
    if viewer.user_id == found.requester_id:
        return found, _to_committee(node, found, "comment")
    return found, _to_requester(node, found, "comment")


def vote(
    node: Node, viewer: Viewer, request_id: int, approve: Any, reason: Any = "", days: Any = None
) -> tuple[AccessRequest, list[Notice]]:
    """A member's one vote; the vote that reaches the quorum decides (approving issues the grant)."""
    found = get_request(node, viewer, request_id)
    _ensure_member(viewer, found)
    if found.state != PENDING:
        raise Conflict(f"request {request_id} is {found.state}: votes are cast on pending requests")
    approving = _flag(approve)
    text = _text(reason, "reason")
    if not approving and not text:
        raise InvalidInput("a rejection gives its reasons", [FieldError("reason", "required to reject")])
    chosen = None
    if approving:
        chosen = _expiry_days(days, found.data_use)
        text = f"days:{chosen}\n{text}"
    with node.transaction() as tx:
        already = tx.execute(
            select(request_votes.c.voter_id).where(
                request_votes.c.request_id == request_id, request_votes.c.voter_id == viewer.user_id
            )
        )
        if already.first():
            raise Conflict("you have voted on this request already")
        state = tx.execute(select(access_requests.c.state).where(access_requests.c.id == request_id)).scalar()
        if state != PENDING:
            raise Conflict(f"request {request_id} is {state}: votes are cast on pending requests")
        tx.execute(
            insert(request_votes).values(
                request_id=request_id, voter_id=viewer.user_id, approve=approving, reason=text, created=utcnow()
            )
        )
        audit.append(
            tx,
            "vote",
            actor_id=viewer.user_id,
            record_id=found.record_id,
            detail={"request": request_id, "approve": approving, "days": chosen},
        )
        decided = _decide_if_quorum(tx, found, viewer)
    found = get_request(node, viewer, request_id)
    if decided == APPROVED:
        until = date.fromisoformat(found.grant["expires"]) if found.grant else None
        return found, _to_requester(node, found, "approved", until=until) + _to_committee(node, found, "approved")
    if decided == REJECTED:
        return found, _to_requester(node, found, "rejected", found.decision_reason)
    return found, []


def _expiry_days(days: Any, data_use: duo.DataUse | None) -> int:
    if days in (None, ""):
        chosen = DEFAULT_DAYS
    else:
        try:
            chosen = int(days)
            if not 1 <= chosen <= MAX_DAYS:
                raise ValueError
        except (TypeError, ValueError):
            raise InvalidInput("invalid expiry", [FieldError("days", f"days from 1 to {MAX_DAYS}")]) from None
    if data_use and data_use.months:
        today = utcnow().date()
        cap = (duo.add_months(today, data_use.months) - today).days
        chosen = min(chosen, cap)
    return chosen


def _tally(conn: Connection, request_id: int) -> tuple[list[int], list[str]]:
    rows = conn.execute(select(request_votes).where(request_votes.c.request_id == request_id)).all()
    approve_days = [_days(r.reason) or DEFAULT_DAYS for r in rows if r.approve]
    reasons = [r.reason or "" for r in rows if not r.approve]
    return approve_days, reasons


def _decide_if_quorum(conn: Connection, found: AccessRequest, viewer: Viewer) -> str | None:
    approve_days, reasons = _tally(conn, found.id)
    quorum = found.committee.quorum
    now = utcnow()
    if len(approve_days) >= quorum:
        expires = now.date() + timedelta(days=min(approve_days))
        conn.execute(
            update(access_requests)
            .where(access_requests.c.id == found.id)
            .values(state=APPROVED, decided_at=now, updated=now, decision_reason="")
        )
        project = found.purpose.project if found.data_use and "PS" in found.data_use.modifiers else None
        grant_id = conn.execute(
            insert(grants).values(
                request_id=found.id,
                record_id=found.record_id,
                user_id=found.requester_id,
                project=project,
                issued=now,
                expires=expires,
            )
        ).inserted_primary_key[0]
        audit.append(
            conn,
            "approved",
            actor_id=viewer.user_id,
            record_id=found.record_id,
            grant_id=grant_id,
            detail={"request": found.id, "expires": expires.isoformat(), "user": found.requester_id},
        )
        return APPROVED
    if len(reasons) >= quorum:
        joined = "\n".join(reasons)
        conn.execute(
            update(access_requests)
            .where(access_requests.c.id == found.id)
            .values(state=REJECTED, decided_at=now, updated=now, decision_reason=joined)
        )
        audit.append(
            conn,
            "rejected",
            actor_id=viewer.user_id,
            record_id=found.record_id,
            detail={"request": found.id, "reasons": joined},
        )
        return REJECTED
    return None


def decide(
    node: Node, viewer: Viewer, request_id: int, decision: Any, reason: Any = ""
) -> tuple[AccessRequest, list[Notice]]:
    """A member records a decision: ``info`` (ask for more information) at any time while pending; ``approve``
    or ``reject`` only as the votes already stand at the quorum (they decide on their own when cast)."""
    found = get_request(node, viewer, request_id)
    _ensure_member(viewer, found)
    if found.state != PENDING:
        raise Conflict(f"request {request_id} is {found.state} already")
    text = _text(reason, "reason")
    if decision == "info":
        if not text:
            raise InvalidInput("say what information is needed", [FieldError("reason", "required")])
        with node.transaction() as tx:
            tx.execute(
                update(access_requests)
                .where(access_requests.c.id == request_id)
                .values(state=INFO, updated=utcnow(), decision_reason=text)
            )
            tx.execute(
                insert(request_comments).values(
                    request_id=request_id, author_id=viewer.user_id, body=text, created=utcnow()
                )
            )
            audit.append(
                tx,
                "info-requested",
                actor_id=viewer.user_id,
                record_id=found.record_id,
                detail={"request": request_id, "reason": text},
            )
        found = get_request(node, viewer, request_id)
        return found, _to_requester(node, found, "info", text)
    if decision not in ("approve", "reject"):
        raise InvalidInput("unknown decision", [FieldError("decision", "approve, reject or info")])
    with node.engine.connect() as conn:
        approve_days, reasons = _tally(conn, request_id)
    have = len(approve_days) if decision == "approve" else len(reasons)
    raise Conflict(f"no quorum: {have} of the {found.committee.quorum} votes needed to {decision}")


def revoke(node: Node, viewer: Viewer, grant_id: int, reason: Any) -> tuple[AccessRequest, list[Notice]]:
    if viewer.user_id is None:
        raise Unauthorized("sign in first")
    with node.engine.connect() as conn:
        row = conn.execute(select(grants).where(grants.c.id == grant_id)).first()
    if row is None:
        raise NotFound(f"no grant {grant_id}")
    found = get_request(node, viewer, row.request_id)
    if viewer.role is not Role.ADMIN:
        _ensure_member(viewer, found)
    text = _text(reason, "reason", required=True)
    with node.transaction() as tx:
        done = tx.execute(
            update(grants)
            .where(grants.c.id == grant_id, grants.c.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_by=viewer.user_id, revoke_reason=text)
        )
        if done.rowcount == 0:
            raise Conflict(f"grant {grant_id} was revoked already")
        audit.append(
            tx, "revoked", actor_id=viewer.user_id, record_id=row.record_id, grant_id=grant_id, detail={"reason": text}
        )
    found = get_request(node, viewer, row.request_id)
    return found, _to_requester(node, found, "revoked", text)


def expire_grants(node: Node) -> int:
    """Note the grants whose last day has passed (the access rule already refuses them): the audit log and
    the committee's pages say so from then on."""
    today = node.today()
    count = 0
    with node.transaction() as tx:
        due = tx.execute(
            select(grants.c.id, grants.c.record_id).where(
                grants.c.expires < today, grants.c.expired_at.is_(None), grants.c.revoked_at.is_(None)
            )
        ).all()
        for grant in due:
            tx.execute(update(grants).where(grants.c.id == grant.id).values(expired_at=utcnow()))
            audit.append(tx, "grant-expired", record_id=grant.record_id, grant_id=grant.id)
            count += 1
    return count


JOBS: list[Job] = [Job("expire-grants", lambda node: 3600.0, expire_grants)]


# -- listings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    id: int
    record_id: str
    requester: str
    state: str
    purpose_code: str
    created: datetime


def _listing(conn: Connection, where: Any) -> list[Listed]:
    query = (
        select(
            access_requests.c.id,
            access_requests.c.record_id,
            access_requests.c.state,
            access_requests.c.purpose_code,
            access_requests.c.created,
            users.c.name,
            users.c.display_name,
        )
        .select_from(access_requests.join(users, users.c.id == access_requests.c.requester_id))
        .where(where)
        .order_by(access_requests.c.id.desc())
        .limit(500)
    )
    return [
        Listed(r.id, r.record_id, r.display_name or r.name, r.state, r.purpose_code, r.created)
        for r in conn.execute(query)
    ]


def queue(node: Node, viewer: Viewer, slug: str) -> tuple[Committee, list[Listed]]:
    with node.engine.connect() as conn:
        committee = _committee(conn, slug)
        if viewer.user_id is None:
            raise Unauthorized("sign in first")
        if committee.member(viewer.user_id) is None and viewer.role is not Role.ADMIN:
            raise Forbidden("only the committee's members and administrators see its requests")
        return committee, _listing(conn, access_requests.c.record_id.in_(committee.record_ids))


def mine(node: Node, viewer: Viewer) -> list[Listed]:
    if viewer.user_id is None:
        raise Unauthorized("sign in first")
    with node.engine.connect() as conn:
        return _listing(conn, access_requests.c.requester_id == viewer.user_id)


def committee_audit(node: Node, viewer: Viewer, slug: str) -> list[audit.Entry]:
    """The audit entries of the records a committee governs: for its members and administrators."""
    committee, _ = queue(node, viewer, slug)
    with node.engine.connect() as conn:
        return list(audit.entries(conn, list(committee.record_ids)))


def grant_for(node: Node, grant_id: int) -> Grant | None:
    with node.engine.connect() as conn:
        row = conn.execute(select(grants).where(grants.c.id == grant_id)).first()
    if row is None:
        return None
    return Grant(row.id, row.record_id, row.user_id, row.expires, row.revoked_at is not None, row.project)


def revoked_since(node: Node, since: datetime | None, limit: int = 1000) -> list[tuple[int, datetime]]:
    """Revoked grants (id, when), oldest first: the feed replicas harvest to refuse revoked visas."""
    query = select(grants.c.id, grants.c.revoked_at).where(grants.c.revoked_at.is_not(None))
    if since is not None:
        query = query.where(grants.c.revoked_at > since)
    with node.engine.connect() as conn:
        return [(r.id, r.revoked_at) for r in conn.execute(query.order_by(grants.c.revoked_at).limit(limit))]


def _to_committee(node: Node, found: AccessRequest, event: str) -> list[Notice]:
    out = []
    for member in found.committee.members:
        account = accounts.get(node, member.user_id)
        if account and account.email and account.id != found.requester_id:
            out.append(Notice(account, event, found.id))
    return out


def _to_requester(
    node: Node, found: AccessRequest, event: str, reason: str = "", until: date | None = None
) -> list[Notice]:
    account = accounts.get(node, found.requester_id)
    return [Notice(account, event, found.id, reason, until)] if account and account.email else []


def count_open(node: Node) -> int:
    with node.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(access_requests).where(access_requests.c.state == PENDING)
            ).scalar()
            or 0
        )
