"""Curation: a depositor submits a record (draft or published) to a community; the community's curators
(and the node's administrators) review it and accept or decline it with a message.

Who curates a community is ``community_curators`` (plus every administrator): a curator of one community has no
say in another. The emails (to the curators on a new request, to the depositor on a decision) are written by
the web layer in each recipient's language; this module says who they go to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, exists, func, insert, select, update

from ..domain.access import Viewer
from ..domain.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, Unauthorized
from ..domain.records import Role
from ..storage import search as search_index
from ..storage.accounts import community_curators
from ..storage.catalog import records, users, versions
from ..storage.communities import ACCEPTED, DECLINED, REQUESTED, communities, record_communities
from . import accounts, images
from .node import Node, utcnow

MAX_MESSAGE = 5000


@dataclass(frozen=True)
class Submission:
    """A record's request to join a community, as the review queue shows it."""

    record_id: str
    slug: str
    status: str
    version_id: str
    """The version a curator reviews: the record's latest (a draft until it is published)."""
    metadata: dict[str, Any]
    state: str
    depositor: str
    depositor_id: int | None
    created: datetime
    message: str
    decided_at: datetime | None = None
    decision_message: str = ""


def curates_query(user_id: int, slug: Any) -> Any:
    return exists().where(community_curators.c.slug == slug, community_curators.c.user_id == user_id)


def curates(conn: Connection, viewer: Viewer, slug: str) -> bool:
    """Whether ``viewer`` decides what belongs in community ``slug``: its curators and every administrator."""
    if viewer.user_id is None or viewer.read_only:
        return False
    if viewer.role is Role.ADMIN:
        return True
    return bool(conn.execute(select(curates_query(viewer.user_id, slug))).scalar())


def reviews(conn: Connection, viewer: Viewer, record_id: str) -> bool:
    """Whether ``viewer`` curates a community this record asks to join (they may then see its draft)."""
    if viewer.user_id is None:
        return False
    pending = and_(record_communities.c.record_id == record_id, record_communities.c.status == REQUESTED)
    query = select(record_communities.c.slug).where(pending, curates_query(viewer.user_id, record_communities.c.slug))
    return conn.execute(query.limit(1)).first() is not None


def ensure_curates(conn: Connection, viewer: Viewer, slug: str) -> None:
    if viewer.user_id is None:
        raise Unauthorized("curating a community needs you to sign in")
    if not curates(conn, viewer, slug):
        raise Forbidden(f"only the curators of community '{slug}' and administrators may do this")


def add_curator(conn: Connection, slug: str, user_id: int) -> None:
    key = and_(community_curators.c.slug == slug, community_curators.c.user_id == user_id)
    if conn.execute(select(community_curators.c.slug).where(key)).first() is None:
        conn.execute(insert(community_curators).values(slug=slug, user_id=user_id))


def _message(value: Any, path: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput("the message must be text", [FieldError(path, "must be text")])
    value = value.strip()
    if len(value) > MAX_MESSAGE:
        raise InvalidInput("the message is too long", [FieldError(path, f"at most {MAX_MESSAGE} characters")])
    if "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value):
        raise InvalidInput("the message has a NUL or unpaired surrogate", [FieldError(path, "invalid character")])
    return value


def _community_exists(conn: Connection, slug: str) -> None:
    if not isinstance(slug, str) or "\x00" in slug:
        raise NotFound("no such community")
    if conn.execute(select(communities.c.slug).where(communities.c.slug == slug)).first() is None:
        raise NotFound(f"no community '{slug[:80]}'")


def submit(node: Node, viewer: Viewer, slug: str, record_id: str, message: Any = "") -> Submission:
    """The record's owner asks for it (a draft or a published record) to join community ``slug``."""
    if viewer.user_id is None:
        raise Unauthorized("submitting a record to a community needs you to sign in")
    text = _message(message, "message")
    now = utcnow()
    with node.transaction() as tx:
        _community_exists(tx, slug)
        if "\x00" in record_id:
            raise NotFound("no such record")
        owner = tx.execute(select(records.c.owner_id).where(records.c.id == record_id)).first()
        if owner is None:
            raise NotFound(f"no record '{record_id[:40]}' (give the record id, not a version id)")
        if owner.owner_id != viewer.user_id:
            raise Forbidden("only the record's owner may submit it to a community")
        key = and_(record_communities.c.record_id == record_id, record_communities.c.slug == slug)
        current = tx.execute(select(record_communities.c.status).where(key)).scalar()
        if current == ACCEPTED:
            raise Conflict(f"record {record_id} is already in community '{slug}'")
        fresh = dict(status=REQUESTED, message=text, requested_by=viewer.user_id, created=now)
        fresh |= dict(decided_by=None, decided_at=None, decision_message="")
        if current is None:
            tx.execute(insert(record_communities).values(record_id=record_id, slug=slug, **fresh))
        else:  # a declined request may be made again (with a new message)
            tx.execute(update(record_communities).where(key).values(**fresh))
    return get(node, viewer, slug, record_id, as_owner=True)


def _latest_version() -> Any:
    """Each record's newest version (its draft, if it has one): what the queue shows."""
    top = select(versions.c.record_id, func.max(versions.c.number).label("number")).group_by(versions.c.record_id)
    top = top.subquery()
    return (
        select(versions.c.record_id, versions.c.id, versions.c.metadata, versions.c.state)
        .join(top, and_(top.c.record_id == versions.c.record_id, top.c.number == versions.c.number))
        .subquery()
    )


def _select(where: Any) -> Any:
    latest = _latest_version()
    rc = record_communities
    return (
        select(
            rc, latest.c.id.label("version_id"), latest.c.metadata, latest.c.state, users.c.display_name, users.c.name
        )
        .select_from(
            rc.join(latest, latest.c.record_id == rc.c.record_id).outerjoin(users, users.c.id == rc.c.requested_by)
        )
        .where(where)
        .order_by(rc.c.created, rc.c.record_id)
    )


def _submission(row: Any) -> Submission:
    return Submission(
        record_id=row.record_id,
        slug=row.slug,
        status=row.status,
        version_id=row.version_id,
        metadata=row.metadata or {},
        state=row.state,
        depositor=row.display_name or row.name or "",
        depositor_id=row.requested_by,
        created=row.created,
        message=row.message or "",
        decided_at=row.decided_at,
        decision_message=row.decision_message or "",
    )


def queue(node: Node, viewer: Viewer, slug: str) -> list[Submission]:
    """The requests waiting for a decision in community ``slug``, oldest first (its curators and admins)."""
    with node.engine.connect() as conn:
        _community_exists(conn, slug)
        ensure_curates(conn, viewer, slug)
        rc = record_communities
        rows = conn.execute(_select(and_(rc.c.slug == slug, rc.c.status == REQUESTED))).all()
    return [_submission(r) for r in rows]


def get(node: Node, viewer: Viewer, slug: str, record_id: str, *, as_owner: bool = False) -> Submission:
    """One request: for the community's curators, or (``as_owner``) for the record's depositor."""
    rc = record_communities
    with node.engine.connect() as conn:
        _community_exists(conn, slug)
        if not as_owner:
            ensure_curates(conn, viewer, slug)
        row = conn.execute(_select(and_(rc.c.slug == slug, rc.c.record_id == record_id))).first()
    if row is None or (as_owner and row.requested_by != viewer.user_id):
        raise NotFound(f"record '{record_id[:40]}' has not been submitted to community '{slug}'")
    return _submission(row)


@dataclass(frozen=True)
class Decision:
    submission: Submission
    accepted: bool
    depositor: accounts.Account | None


def decide(node: Node, viewer: Viewer, slug: str, record_id: str, accept: bool, message: Any = "") -> Decision:
    """A curator of ``slug`` (or an admin) accepts or declines a waiting request, with a message for the depositor."""
    text = _message(message, "message")
    now = utcnow()
    rc = record_communities
    key = and_(rc.c.record_id == record_id, rc.c.slug == slug)
    with node.transaction() as tx:
        _community_exists(tx, slug)
        ensure_curates(tx, viewer, slug)
        current = tx.execute(select(rc.c.status).where(key)).scalar()
        if current is None:
            raise NotFound(f"record '{record_id[:40]}' has not been submitted to community '{slug}'")
        if current != REQUESTED:
            raise Conflict(f"this request was already decided ({current})")
        status = ACCEPTED if accept else DECLINED
        tx.execute(
            update(rc)
            .where(key)
            .values(status=status, decided_by=viewer.user_id, decided_at=now, decision_message=text)
        )
        if accept:  # its OAI-PMH sets and search facets changed (harvesters asking "from" must see it again)
            tx.execute(update(records).where(records.c.id == record_id).values(updated=now))
            search_index.index_record(tx, record_id)
    submission = get(node, viewer, slug, record_id)
    depositor = accounts.get(node, submission.depositor_id) if submission.depositor_id else None
    return Decision(submission, accept, depositor)


def curator_accounts(node: Node, slug: str) -> list[accounts.Account]:
    """Who hears of a new request: the community's curators (or, if it has none, the node's administrators)."""
    with node.engine.connect() as conn:
        ids = list(
            conn.execute(select(community_curators.c.user_id).where(community_curators.c.slug == slug)).scalars()
        )
        if not ids:
            ids = list(conn.execute(select(users.c.id).where(users.c.role == Role.ADMIN.value)).scalars())
    found = [accounts.get(node, i) for i in ids]
    return [a for a in found if a is not None and a.email]


def mine(node: Node, viewer: Viewer, record_id: str) -> list[Submission]:
    """The requests the viewer made for one record (the record page shows them to its owner)."""
    if viewer.user_id is None:
        return []
    rc = record_communities
    with node.engine.connect() as conn:
        rows = conn.execute(_select(and_(rc.c.record_id == record_id, rc.c.requested_by == viewer.user_id))).all()
    return [_submission(r) for r in rows]


def requests_of(node: Node, viewer: Viewer, limit: int = 200) -> list[Submission]:
    """Every request the viewer made, newest first, whatever its state (the workspace lists them)."""
    if viewer.user_id is None:
        return []
    rc = record_communities
    query = _select(rc.c.requested_by == viewer.user_id).order_by(None).order_by(rc.c.created.desc(), rc.c.slug)
    with node.engine.connect() as conn:
        rows = conn.execute(query.limit(limit)).all()
    return [_submission(r) for r in rows]


# -- managing a community: its text and its curators (its curators and admins) ---------------------------


@dataclass(frozen=True)
class Curator:
    user_id: int
    name: str
    email: str


def curators_of(node: Node, slug: str) -> list[Curator]:
    query = (
        select(users.c.id, users.c.display_name, users.c.name, users.c.email)
        .join(community_curators, community_curators.c.user_id == users.c.id)
        .where(community_curators.c.slug == slug)
        .order_by(users.c.id)
    )
    with node.engine.connect() as conn:
        return [Curator(r.id, r.display_name or r.name, r.email or "") for r in conn.execute(query)]


def edit(node: Node, viewer: Viewer, slug: str, title: Any, description: Any) -> None:
    from .communities import MAX_DESCRIPTION, MAX_TITLE, _text

    errors: list[FieldError] = []
    title = _text(title, "title", MAX_TITLE, errors, required=True)
    description = _text(description, "description", MAX_DESCRIPTION, errors, required=False)
    with node.transaction() as tx:
        _community_exists(tx, slug)
        ensure_curates(tx, viewer, slug)
        if errors:
            raise InvalidInput("the community cannot be changed", errors)
        tx.execute(update(communities).where(communities.c.slug == slug).values(title=title, description=description))


def set_logo(node: Node, viewer: Viewer, slug: str, data: bytes | None) -> str:
    """A community's curators (and admins) give it a logo (re-encoded by ``services.images``), or remove it
    (``data`` None); the path it is served at, or empty."""
    with node.engine.connect() as conn:  # who may, before any image is decoded
        _community_exists(conn, slug)
        ensure_curates(conn, viewer, slug)
    path = images.store_logo(node, data) if data is not None else ""
    with node.transaction() as tx:
        tx.execute(update(communities).where(communities.c.slug == slug).values(logo=path or None))
    return path


def add_curator_by_email(node: Node, viewer: Viewer, slug: str, email: Any) -> None:
    """Make the account with this email a curator of ``slug``. An unknown email is a plain 404 for a curator,
    who may already see the node's accounts through their communities; nothing is created."""
    if not isinstance(email, str) or not email.strip() or len(email) > 320:
        raise InvalidInput("give the email address of an account", [FieldError("email", "required")])
    with node.transaction() as tx:
        _community_exists(tx, slug)
        ensure_curates(tx, viewer, slug)
        account = accounts.by_email(tx, email.strip())
        if account is None:
            raise NotFound("no account has this email address")
        add_curator(tx, slug, account.id)


def remove_curator(node: Node, viewer: Viewer, slug: str, user_id: int) -> None:
    with node.transaction() as tx:
        _community_exists(tx, slug)
        ensure_curates(tx, viewer, slug)
        key = and_(community_curators.c.slug == slug, community_curators.c.user_id == user_id)
        if tx.execute(delete(community_curators).where(key)).rowcount == 0:
            raise NotFound("this account does not curate this community")
