"""The catalog queries behind OAI-PMH: items, their datestamps and the sets they belong to.

Only this node's own records are items (no echo): a record harvested from a peer
(``versions.origin_node`` set) is never re-exported as this node's own, so two nodes that harvest
each other do not send each other's records back and forth, and an aggregator harvesting both sees
each record once, from its origin.

One OAI item per record: its latest published version, or, when every published version was
withdrawn, its latest withdrawn version (shown as a deleted header). Records that only ever had a
draft are not items. An item's datestamp is ``records.updated``, which publication and withdrawal
move forward, so a harvester asking ``from`` its last harvest sees every change.

Listings are keyset-paginated on ``(records.updated, records.id)``: page 10,000 costs what page 1
does, and a record that changes during a harvest moves behind the cursor and is harvested again
rather than skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, true

from ..domain.moments import as_utc
from ..domain.records import State, Version
from ..storage.catalog import files, records, versions
from ..storage.communities import ACCEPTED, communities, record_communities
from .communities import of_records
from .journals.sets import in_journal, journals_of
from .node import Node
from .records import version_of_row

_withdrawn = versions.alias("withdrawn")

# The version that stands for the record: the latest published one, else the latest withdrawn one.
_LATEST_WITHDRAWN = (
    select(_withdrawn.c.id)
    .where(_withdrawn.c.record_id == records.c.id, _withdrawn.c.state == State.WITHDRAWN.value)
    .order_by(_withdrawn.c.number.desc())
    .limit(1)
    .correlate(records)
    .scalar_subquery()
)
_ITEM_JOIN = records.join(versions, versions.c.id == func.coalesce(records.c.latest_published_id, _LATEST_WITHDRAWN))
# No echo: deposited here. The harvester marks what it stores with the peer it came from; an empty
# string is read as "here" too, so that a loader that writes '' instead of NULL cannot leak records.
OWN = or_(versions.c.origin_node.is_(None), versions.c.origin_node == "")
KIND = versions.c.metadata[("resourceType", "resourceTypeGeneral")].as_string()


def repository_id(node: Node) -> str:
    """The repository identifier of the oai-identifier scheme: the node's host name."""
    return (urlsplit(node.settings.public_url).hostname or "localhost").lower()


def identifier(node: Node, record_id: str) -> str:
    """A record's OAI identifier (the dump gives it too, so harvesters match both)."""
    return f"oai:{repository_id(node)}:{record_id}"


def datestamp(moment: datetime) -> str:
    """An item's datestamp at the seconds granularity the node declares."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


ANY_COMMUNITY = "*"


@dataclass(frozen=True)
class SetFilter:
    """Which of the node's own items a set holds: by kind (resourceTypeGeneral) and by community.

    ``community`` is a community's slug, or ``ANY_COMMUNITY`` for the items in at least one;
    ``nothing`` is a set that exists but holds no item."""

    kind: str | None = None
    community: str | None = None
    journal: str | None = None  # a journal's slug: its published articles
    nothing: bool = False

    def where(self) -> ColumnElement[bool]:
        clauses: list[ColumnElement[bool]] = [OWN]
        if self.kind is not None:
            clauses.append(self.kind == KIND)
        if self.community is not None:
            member = and_(record_communities.c.record_id == records.c.id, record_communities.c.status == ACCEPTED)
            if self.community != ANY_COMMUNITY:
                member = and_(member, record_communities.c.slug == self.community)
            clauses.append(exists().where(member))
        if self.journal is not None:
            clauses.append(in_journal(self.journal))
        if self.nothing:
            clauses.append(~true())
        return and_(*clauses)


@dataclass(frozen=True)
class Window:
    """Selective harvesting: ``start <= datestamp < end`` (either side open) and a set."""

    start: datetime | None = None
    end: datetime | None = None
    sets: SetFilter = SetFilter()

    def where(self) -> ColumnElement[bool]:
        clauses = [self.sets.where()]
        if self.start is not None:
            clauses.append(records.c.updated >= self.start)
        if self.end is not None:
            clauses.append(records.c.updated < self.end)
        return and_(*clauses)


@dataclass(frozen=True)
class Item:
    record_id: str
    datestamp: datetime
    deleted: bool
    kind: str | None
    version: Version | None = None
    """The version with its files, when metadata was asked for."""
    communities: tuple[str, ...] = ()
    journal: str | None = None


def _columns(with_metadata: bool) -> Select:
    if with_metadata:
        return select(versions, records.c.updated.label("datestamp"), KIND.label("kind"))
    return select(
        records.c.id.label("record_id"),
        records.c.updated.label("datestamp"),
        versions.c.state,
        KIND.label("kind"),
    )


def _items(conn, rows, with_metadata: bool) -> list[Item]:  # type: ignore[no-untyped-def]
    file_rows: dict[str, list] = {}
    if with_metadata and rows:
        found = conn.execute(
            select(files).where(files.c.version_id.in_([r.id for r in rows])).order_by(files.c.version_id, files.c.key)
        ).all()
        for f in found:
            file_rows.setdefault(f.version_id, []).append(f)
    memberships = of_records(conn, [row.record_id for row in rows])
    in_journals = journals_of(conn, [row.record_id for row in rows])
    items = []
    for row in rows:
        version = version_of_row(row, file_rows.get(row.id, [])) if with_metadata else None
        items.append(
            Item(
                record_id=row.record_id,
                datestamp=as_utc(row.datestamp),
                deleted=row.state == State.WITHDRAWN.value,
                kind=row.kind,
                version=version,
                communities=tuple(memberships.get(row.record_id, ())),
                journal=in_journals.get(row.record_id),
            )
        )
    return items


def list_items(
    node: Node, window: Window, *, after: tuple[datetime, str] | None, limit: int, with_metadata: bool
) -> list[Item]:
    """Up to ``limit`` items in ``window``, oldest change first, after the ``(datestamp, record id)`` key."""
    query = _columns(with_metadata).select_from(_ITEM_JOIN).where(window.where())
    if after is not None:
        moment, record_id = after
        # ``updated >= moment`` first: it is what lets the engine start the index range at the key.
        # The equivalent ``updated > m OR (updated = m AND id > r)`` alone makes SQLite scan the
        # index from its start, so page N would cost N pages.
        query = query.where(records.c.updated >= moment, or_(records.c.updated > moment, records.c.id > record_id))
    query = query.order_by(records.c.updated, records.c.id).limit(limit)
    with node.engine.connect() as conn:
        return _items(conn, conn.execute(query).all(), with_metadata)


def count_items(node: Node, window: Window) -> int:
    query = select(func.count()).select_from(_ITEM_JOIN).where(window.where())
    with node.engine.connect() as conn:
        return conn.execute(query).scalar_one()


def get_item(node: Node, record_id: str, *, with_metadata: bool) -> Item | None:
    if "\x00" in record_id:  # PostgreSQL refuses text with NUL, and no id holds one
        return None
    query = _columns(with_metadata).select_from(_ITEM_JOIN).where(records.c.id == record_id, OWN)
    with node.engine.connect() as conn:
        found = _items(conn, conn.execute(query).all(), with_metadata)
    return found[0] if found else None


def earliest_datestamp(node: Node) -> datetime | None:
    """A lower bound of every item's datestamp (drafts included: it only has to be a bound)."""
    with node.engine.connect() as conn:
        moment = conn.execute(select(func.min(records.c.updated))).scalar()
    return as_utc(moment) if moment is not None else None


@dataclass(frozen=True)
class CommunitySet:
    slug: str
    title: str
    description: str


def community_sets(node: Node) -> list[CommunitySet]:
    query = select(communities.c.slug, communities.c.title, communities.c.description).order_by(communities.c.slug)
    with node.engine.connect() as conn:
        return [CommunitySet(row.slug, row.title, row.description) for row in conn.execute(query)]


def community_exists(node: Node, slug: str) -> bool:
    with node.engine.connect() as conn:
        return conn.execute(select(communities.c.slug).where(communities.c.slug == slug)).first() is not None
