"""Communities: curated collections of records.

Curators and administrators create communities and decide what belongs in them. A depositor may
ask for their own record to be included; the request waits until a curator accepts it (by
including the record too). Only accepted memberships are public.

Changing a record's communities moves its ``records.updated`` forward: its OAI-PMH set membership
changed, and a harvester asking ``from`` its last harvest must see the record again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, update

from ..domain.access import Viewer
from ..domain.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, Unauthorized
from ..storage import search as search_index
from ..storage.catalog import records, users, versions
from ..storage.communities import ACCEPTED, REQUESTED, communities, record_communities
from . import curation
from .node import Node, utcnow

# Lower-case letters, digits and inner hyphens: fits URLs and OAI-PMH setSpecs as it is.
SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
MAX_TITLE = 500
MAX_DESCRIPTION = 10_000


@dataclass(frozen=True)
class Community:
    slug: str
    title: str
    description: str
    created: datetime
    records: int = 0
    """Accepted records."""
    logo: str = ""
    """Where its logo is served (``/site/logo-<hash>.png``), or empty."""

    def as_dict(self, node: Node) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "title": self.title,
            "description": self.description,
            "created": self.created.isoformat(),
            "records": self.records,
            "links": {
                "self": node.api_url(f"/communities/{self.slug}"),
                "oai_set": f"{node.settings.public_url}/oai?verb=ListRecords&metadataPrefix=oai_dc"
                f"&set=community:{self.slug}",
            },
        }


@dataclass(frozen=True)
class Membership:
    record_id: str
    slug: str
    status: str

    def as_dict(self) -> dict[str, str]:
        return {"record_id": self.record_id, "community": self.slug, "status": self.status}


def _text(value: Any, path: str, limit: int, errors: list[FieldError], *, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.append(FieldError(path, "must be text"))
        return ""
    value = value.strip()
    if required and not value:
        errors.append(FieldError(path, "required"))
    elif len(value) > limit:
        errors.append(FieldError(path, f"at most {limit} characters"))
    elif "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value):
        errors.append(FieldError(path, "NUL or unpaired surrogate"))
    return value


def _require_staff(viewer: Viewer, what: str) -> None:
    if viewer.user_id is None:
        raise Unauthorized(f"{what} needs an API token")
    if not viewer.is_staff:
        raise Forbidden(f"only curators and administrators may {what}")


def _counts() -> Any:
    return (
        select(record_communities.c.slug, func.count().label("n"))
        .where(record_communities.c.status == ACCEPTED)
        .group_by(record_communities.c.slug)
        .subquery()
    )


def _community(row: Any) -> Community:
    return Community(row.slug, row.title, row.description, row.created, row.n or 0, row.logo or "")


def create(node: Node, viewer: Viewer, slug: Any, title: Any, description: Any = "") -> Community:
    """A new, empty community (curators and administrators)."""
    _require_staff(viewer, "create communities")
    errors: list[FieldError] = []
    if not isinstance(slug, str) or not SLUG.fullmatch(slug):
        errors.append(FieldError("slug", "1-64 lower-case letters, digits and inner hyphens"))
    title = _text(title, "title", MAX_TITLE, errors, required=True)
    description = _text(description, "description", MAX_DESCRIPTION, errors, required=False)
    if errors:
        raise InvalidInput("the community cannot be created", errors)
    now = utcnow()
    with node.transaction() as tx:
        if tx.execute(select(communities.c.slug).where(communities.c.slug == slug)).first():
            raise Conflict(f"a community '{slug}' exists already")
        tx.execute(insert(communities).values(slug=slug, title=title, description=description, created=now))
        assert viewer.user_id is not None  # _require_staff
        curation.add_curator(tx, slug, viewer.user_id)  # who creates a community curates it
    return Community(slug, title, description, now)


def list_all(node: Node) -> list[Community]:
    counts = _counts()
    query = (
        select(communities, counts.c.n)
        .select_from(communities.outerjoin(counts, counts.c.slug == communities.c.slug))
        .order_by(communities.c.slug)
    )
    with node.engine.connect() as conn:
        return [_community(row) for row in conn.execute(query)]


def get(node: Node, slug: str) -> Community:
    if not SLUG.fullmatch(slug):  # no community has such a slug; and a NUL must not reach PostgreSQL
        raise NotFound(f"no community '{slug[:80]}'")
    counts = _counts()
    query = (
        select(communities, counts.c.n)
        .select_from(communities.outerjoin(counts, counts.c.slug == communities.c.slug))
        .where(communities.c.slug == slug)
    )
    with node.engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"no community '{slug}'")
    return _community(row)


def requests(node: Node, viewer: Viewer, slug: str) -> list[str]:
    """Records waiting for a curator's decision (curators and administrators)."""
    _require_staff(viewer, "see inclusion requests")
    query = (
        select(record_communities.c.record_id)
        .where(record_communities.c.slug == slug, record_communities.c.status == REQUESTED)
        .order_by(record_communities.c.created, record_communities.c.record_id)
    )
    with node.engine.connect() as conn:
        return list(conn.execute(query).scalars())


def _record_owner(tx: Connection, record_id: str) -> int:
    """The owner of a record that has been published (drafts are in no community)."""
    if "\x00" in record_id:
        raise NotFound("no record has an id with a NUL character")
    row = tx.execute(select(records.c.owner_id, records.c.latest_published_id).where(records.c.id == record_id)).first()
    if row is None:
        raise NotFound(f"no record '{record_id}' (give the record id, not a version id)")
    if row.latest_published_id is None:
        raise Conflict(f"record {record_id} has no published version; only published records join communities")
    return row.owner_id


def _ensure_community(tx: Connection, slug: str) -> None:
    if "\x00" in slug or tx.execute(select(communities.c.slug).where(communities.c.slug == slug)).first() is None:
        raise NotFound(f"no community '{slug}'")


def _touch(tx: Connection, record_id: str, now: datetime) -> None:
    """Its accepted communities changed: OAI-PMH datestamp and the search index's ``community`` facet follow."""
    tx.execute(update(records).where(records.c.id == record_id).values(updated=now))
    search_index.index_record(tx, record_id)


def include(node: Node, viewer: Viewer, slug: str, record_id: str) -> Membership:
    """Put a record in a community. Staff include it (accepting a pending request); the record's
    owner asks for it to be included."""
    if viewer.user_id is None:
        raise Unauthorized("including a record in a community needs an API token")
    now = utcnow()
    with node.transaction() as tx:
        _ensure_community(tx, slug)
        owner = _record_owner(tx, record_id)
        curator = curation.curates(tx, viewer, slug)
        if not curator and viewer.user_id != owner:
            raise Forbidden("only the community's curators, administrators and the record's owner may include it")
        key = and_(record_communities.c.record_id == record_id, record_communities.c.slug == slug)
        current = tx.execute(select(record_communities.c.status).where(key)).scalar()
        wanted = ACCEPTED if curator else REQUESTED
        if current in (ACCEPTED, wanted):
            return Membership(record_id, slug, current)
        if current is None:
            tx.execute(
                insert(record_communities).values(
                    record_id=record_id, slug=slug, status=wanted, requested_by=viewer.user_id, created=now
                )
            )
        else:
            tx.execute(update(record_communities).where(key).values(status=wanted))
        if wanted == ACCEPTED:
            _touch(tx, record_id, now)
    return Membership(record_id, slug, wanted)


def remove(node: Node, viewer: Viewer, slug: str, record_id: str) -> None:
    """Take a record out of a community, or withdraw a request. Staff may remove any record; an
    owner may take their own record out."""
    if viewer.user_id is None:
        raise Unauthorized("removing a record from a community needs an API token")
    with node.transaction() as tx:
        _ensure_community(tx, slug)
        owner = tx.execute(select(records.c.owner_id).where(records.c.id == record_id)).scalar()
        key = and_(record_communities.c.record_id == record_id, record_communities.c.slug == slug)
        current = tx.execute(select(record_communities.c.status).where(key)).scalar()
        if current is None:
            raise NotFound(f"record '{record_id}' is not in community '{slug}'")
        if not curation.curates(tx, viewer, slug) and viewer.user_id != owner:
            raise Forbidden("only the community's curators, administrators and the record's owner may remove it")
        tx.execute(delete(record_communities).where(key))
        if current == ACCEPTED:
            _touch(tx, record_id, utcnow())


def of_records(conn: Connection, record_ids: list[str]) -> dict[str, list[str]]:
    """The communities (accepted) of each record, in slug order: one query for a whole page."""
    found: dict[str, list[str]] = {}
    if not record_ids:
        return found
    query = (
        select(record_communities.c.record_id, record_communities.c.slug)
        .where(record_communities.c.record_id.in_(record_ids), record_communities.c.status == ACCEPTED)
        .order_by(record_communities.c.record_id, record_communities.c.slug)
    )
    for row in conn.execute(query):
        found.setdefault(row.record_id, []).append(row.slug)
    return found


# -- reading, for the public pages ---------------------------------------------------------------

PAGE_RECORDS = 50


def records_in(node: Node, slug: str, limit: int = PAGE_RECORDS) -> list[dict[str, Any]]:
    """The newest accepted records of a community: id, metadata and publication date of their latest
    published version (what a list on a page shows)."""
    query = (
        select(records.c.id, versions.c.metadata, versions.c.published_at)
        .select_from(
            record_communities.join(records, records.c.id == record_communities.c.record_id).join(
                versions, versions.c.id == records.c.latest_published_id
            )
        )
        .where(record_communities.c.slug == slug, record_communities.c.status == ACCEPTED)
        .order_by(versions.c.published_at.desc(), records.c.id)
        .limit(limit)
    )
    with node.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [{"record_id": r.id, "metadata": r.metadata or {}, "published_at": r.published_at} for r in rows]


def curators(node: Node) -> list[str]:
    """Who decides what belongs in the communities: the node's curators (administrators may too)."""
    query = select(users.c.name).where(users.c.role == "curator").order_by(users.c.name)
    with node.engine.connect() as conn:
        return list(conn.execute(query).scalars())


def of_record(node: Node, record_id: str) -> list[Community]:
    """The communities a record belongs to (accepted), for its landing page."""
    with node.engine.connect() as conn:
        slugs = of_records(conn, [record_id]).get(record_id, [])
    return [c for c in list_all(node) if c.slug in slugs] if slugs else []
