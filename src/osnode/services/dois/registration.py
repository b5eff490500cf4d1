"""Reserving DOIs at publication and registering them when the registry can be reached.

A record's DOI is ``<prefix>/osn.<record id>``: derived, never drawn at random, so however often a lost answer
makes the job try again it can only ever name one DOI, and the registry's own uniqueness (422 "has already
been taken") tells the job a create it did not hear back from went through. The job walks the rows whose
registry state is behind (``pushed < revision`` or ``state != target``): create the draft if need be, then
one update carrying the metadata and the event that reaches the target state. A refusal of the metadata (422)
marks the row failed with the registry's reasons, shown to admins on the landing page; it is not retried
until the record changes (a new version) or an admin asks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, and_, or_, select, update

from ...domain.access import ANONYMOUS, Viewer
from ...domain.errors import Forbidden, NotFound
from ...domain.records import Role
from ...formats import datacite as datacite_format
from ...storage.catalog import records
from ...storage.dois import dois
from .. import exports
from .. import records as record_reading
from ..jobs import Job
from ..mail import backoff
from ..node import Node, utcnow
from .datacite import Answer, DataCite

log = logging.getLogger("osnode.dois")
PENDING, DRAFT, REGISTERED, FINDABLE, FAILED = "pending", "draft", "registered", "findable", "failed"
BATCH = 200
CHECK_SECONDS = 30.0


class Registrar(Protocol):
    """What the job asks of a registry (DataCite's REST API; a Crossref deposit would answer the same)."""

    def create_draft(self, doi: str) -> Answer: ...

    def update(self, doi: str, attributes: dict[str, Any], event: str) -> Answer: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Doi:
    record_id: str
    doi: str
    state: str
    target: str
    attempts: int
    last_error: str
    next_try: datetime

    @property
    def pending(self) -> bool:
        return self.state != self.target

    @property
    def url(self) -> str:
        return f"https://doi.org/{self.doi}"


def enabled(node: Node) -> bool:
    s = node.settings
    return bool(s.datacite_prefix and s.datacite_user)


def doi_for(node: Node, record_id: str) -> str:
    return f"{node.settings.datacite_prefix}/osn.{record_id.lower()}"


def _bump(conn: Connection, record_id: str, target: str) -> bool:
    row = conn.execute(select(dois).where(dois.c.record_id == record_id)).first()
    if row is None:
        return False
    values: dict[str, Any] = dict(revision=row.revision + 1, target=target, next_try=utcnow(), updated=utcnow())
    if row.state == FAILED:  # the record changed: its metadata may now pass; start over (a create is idempotent)
        values |= dict(state=PENDING, attempts=0)
    conn.execute(update(dois).where(dois.c.record_id == record_id).values(**values))
    return True


def on_published(conn: Connection, node: Node, record_id: str) -> None:
    """In the publishing transaction: reserve the record's DOI, or note that its metadata changed."""
    if not enabled(node) or _bump(conn, record_id, FINDABLE):
        return
    now = utcnow()
    values = dict(record_id=record_id, doi=doi_for(node, record_id), registrar="datacite", state=PENDING)
    values |= dict(target=FINDABLE, revision=1, pushed=0, attempts=0, next_try=now, last_error="", updated=now)
    conn.execute(dois.insert().values(**values))


def on_withdrawn(conn: Connection, node: Node, record_id: str) -> None:
    """In the withdrawing transaction: a record with no published version left is hidden (registered, not
    findable); its DOI keeps resolving to the record's address, which shows the tombstone."""
    still = conn.execute(select(records.c.latest_published_id).where(records.c.id == record_id)).scalar()
    _bump(conn, record_id, FINDABLE if still else REGISTERED)


def _doi(row: Any) -> Doi:
    return Doi(row.record_id, row.doi, row.state, row.target, row.attempts, row.last_error, row.next_try)


def of_record(node: Node, record_id: str) -> Doi | None:
    with node.engine.connect() as conn:
        row = conn.execute(select(dois).where(dois.c.record_id == record_id)).first()
    return _doi(row) if row else None


def listing(node: Node, state: str | None = None, limit: int = 1000) -> list[Doi]:
    query = select(dois).order_by(dois.c.updated.desc()).limit(limit)
    if state:
        query = query.where(dois.c.state == state)
    with node.engine.connect() as conn:
        return [_doi(r) for r in conn.execute(query)]


def retry(node: Node, viewer: Viewer, record_id: str) -> None:
    """An admin sends a failed DOI again (after fixing the record or the account)."""
    if viewer.role is not Role.ADMIN or viewer.read_only:
        raise Forbidden("only administrators may retry a DOI registration")
    with node.transaction() as tx:
        done = tx.execute(
            update(dois)
            .where(dois.c.record_id == record_id, dois.c.state == FAILED)
            .values(state=PENDING, attempts=0, next_try=utcnow(), revision=dois.c.revision + 1)
        )
    if done.rowcount != 1:
        raise NotFound("no failed DOI for this record")


def _client(node: Node) -> Registrar:
    s = node.settings
    return DataCite(s.datacite_url, s.datacite_user, s.datacite_password)


def register_due(node: Node, client: Callable[[Node], Registrar] = _client) -> int:
    """Bring the due DOIs up to date with the registry; how many reached their target."""
    if not enabled(node):
        return 0
    behind = or_(dois.c.pushed < dois.c.revision, dois.c.state != dois.c.target)
    due = and_(dois.c.state != FAILED, behind, dois.c.next_try <= utcnow())
    with node.engine.connect() as conn:
        rows = conn.execute(select(dois).where(due).order_by(dois.c.updated).limit(BATCH)).all()
    if not rows:
        return 0
    registrar = client(node)
    done = 0
    try:
        for row in rows:
            done += _push(node, registrar, row)
    finally:
        registrar.close()
    return done


def _attributes(node: Node, record_id: str, doi: str) -> dict[str, Any]:
    version = record_reading.get_version(node, record_id, ANONYMOUS, allow_withdrawn=True)
    view = exports.record_view(node, version, ANONYMOUS)
    # The DOI resolves to the record's address: its latest version, or its tombstone once withdrawn.
    return datacite_format.to_json(view) | {"doi": doi, "url": node.record_url(record_id)}


def _event(state: str, target: str) -> str:
    if target == FINDABLE:
        return "publish"
    return "hide" if state == FINDABLE else "register"


def _push(node: Node, registrar: Registrar, row: Any) -> int:
    state = row.state
    if state == PENDING:
        made = registrar.create_draft(row.doi)
        if not (made.ok or made.taken):
            _trouble(node, row, made)
            return 0
        state = DRAFT
        _set(node, row.record_id, state=DRAFT)
    answer = registrar.update(row.doi, _attributes(node, row.record_id, row.doi), _event(state, row.target))
    if answer.missing:  # the registry lost (or never kept) the draft: create it again next time
        _set(node, row.record_id, state=PENDING)
        return 0
    if not answer.ok:
        _trouble(node, row, answer)
        return 0
    # pushed takes the revision read before sending: a change made meanwhile is sent at the next turn.
    _set(node, row.record_id, state=row.target, pushed=row.revision, attempts=0, last_error="")
    return 1


def _set(node: Node, record_id: str, **values: Any) -> None:
    with node.transaction() as tx:
        tx.execute(update(dois).where(dois.c.record_id == record_id).values(updated=utcnow(), **values))


def _trouble(node: Node, row: Any, answer: Answer) -> None:
    attempts = row.attempts + 1
    if not answer.retry:
        log.warning("DOI %s refused by the registry: %s", row.doi, answer.error)
        _set(node, row.record_id, state=FAILED, attempts=attempts, last_error=answer.error[:2000])
        return
    wait = timedelta(seconds=answer.wait) if answer.wait is not None else backoff(attempts)
    _set(node, row.record_id, attempts=attempts, last_error=answer.error[:2000], next_try=utcnow() + wait)


JOBS = [Job("dois", lambda node: CHECK_SECONDS if enabled(node) else None, register_due)]
