"""Applying a checked page of harvested records to the catalog, in one transaction: new records,
updated ones, deletions, and the same work reached through two peers kept as one record.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, select, update

from osnode.domain.records import ID_BITS, AccessLevel, State, id_of
from osnode.services.node import utcnow
from osnode.storage import search
from osnode.storage.catalog import records, versions
from osnode.storage.peers import peers, record_sources
from osnode.storage.record_state import add_published

from .checking import Checked, CheckedPage
from .errors import RecordRefused
from .leases import LEASE
from .mirroring import current_version, live_sources, store_metadata, withdraw_mirror
from .runs import Context, note, save_run

if TYPE_CHECKING:
    from .reading import HarvestedRecord


# Column sizes of record_sources (storage/peers.py).
MAX_IDENTIFIER, MAX_DATESTAMP = 1000, 30


def _is_own(ctx: Context, page: _Page, record: HarvestedRecord) -> bool:
    """A record of this very node coming back through a peer (an echo)."""
    return record.identifier.startswith(ctx.own_prefixes) or record.identifier in page.echoes


@dataclass
class _Page:
    """What one page's records need from the catalog, fetched for the whole page in a few queries,
    and the new records it creates, written together at its end."""

    sources: dict[str, Row]
    """This peer's sources of the page's identifiers."""
    other_peers: dict[str, str]
    """Records other peers gave for the page's identifiers (identifier -> record id)."""
    by_doi: dict[str, str] = field(default_factory=dict)
    """Records with the page's DOIs (doi -> record id); updated as the page writes sources."""
    checked: dict[str, Checked | str] = field(default_factory=dict)
    """Each record's metadata as the node stores it, checked ahead (or why it was refused)."""
    echoes: set[str] = field(default_factory=set)
    ids: Iterator[str] = field(default_factory=lambda: iter(()))
    """Ids for the records and versions the page creates (``_id_block``)."""
    created: set[str] = field(default_factory=set)
    records: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)
    sources_new: list[dict[str, Any]] = field(default_factory=list)
    index: list[tuple[Any, search.Document]] = field(default_factory=list)


# Bound parameters per IN list: far below SQLite's and PostgreSQL's limits.
_CHUNK = 500


def _chunks(values: list[str]) -> list[list[str]]:
    return [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]


def _prefetch(tx: Connection, ctx: Context, checked: CheckedPage) -> _Page:
    """The catalog's rows for the page: sources by identifier, then the records that the DOIs of
    the records to store already belong to."""
    batch = checked.page.records
    sources: dict[str, Row] = {}
    other_peers: dict[str, str] = {}
    for chunk in _chunks(sorted({r.identifier for r in batch})):
        for row in tx.execute(select(record_sources).where(record_sources.c.oai_identifier.in_(chunk))).all():
            if row.peer_id == ctx.peer.id:
                sources[row.oai_identifier] = row
            else:
                other_peers.setdefault(row.oai_identifier, row.record_id)
    page = _Page(
        sources, other_peers, checked=checked.checked, echoes=checked.echoes, ids=_id_block(tx, 2 * len(batch) or 1)
    )
    dois = set()
    for record in batch:
        found = page.checked.get(record.identifier)
        if isinstance(found, Checked) and found.doi is not None and not _unchanged(page, record):
            dois.add(found.doi)
    for chunk in _chunks(sorted(dois)):
        query = select(record_sources.c.doi, record_sources.c.record_id).where(record_sources.c.doi.in_(chunk))
        for row in tx.execute(query).all():
            page.by_doi.setdefault(row.doi, row.record_id)
    return page


def _unchanged(page: _Page, record: HarvestedRecord) -> bool:
    source = page.sources.get(record.identifier)
    return source is not None and not source.deleted and source.datestamp == record.datestamp


def _id_block(tx: Connection, count: int) -> Iterator[str]:
    """``count`` consecutive ids for a page's new records and versions, from a random start.

    Ids drawn one by one at random land all over the catalog's id indexes (six of them), so every
    new record dirtied a page of each: a harvest of a million records wrote ~100 KB per record. A
    block lands in a few pages. Its start is random like any id, and it is drawn again in the rare
    case that an id in it is taken."""
    for _ in range(20):
        start = secrets.randbits(ID_BITS - 1)  # half the space: room for the block after its start
        first, last = id_of(start), id_of(start + count - 1)
        taken = [
            tx.execute(select(table.c.id).where(table.c.id.between(first, last)).limit(1)).first()
            for table in (records, versions)
        ]
        if not any(taken):
            return (id_of(start + k) for k in range(count))
    raise RuntimeError("no free block of record ids found")  # 20 misses in a 2**49 space: not chance


def _create(ctx: Context, page: _Page, checked: Checked, now: datetime) -> str:
    record_id, version_id = next(page.ids), next(page.ids)
    page.records.append(
        {"id": record_id, "owner_id": ctx.owner_id, "created": now, "updated": now, "latest_published_id": version_id}
    )
    version = {
        "id": version_id,
        "record_id": record_id,
        "number": 1,
        "state": State.PUBLISHED.value,
        "metadata": checked.metadata,
        "access_level": AccessLevel.METADATA_ONLY.value,
        "owner_id": ctx.owner_id,
        "created": now,
        "updated": now,
        "published_at": now,
        "origin_node": ctx.origin,
    }
    page.versions.append(version)
    page.index.append((SimpleNamespace(**version), checked.document))
    page.created.add(record_id)
    return record_id


def _flush(tx: Connection, page: _Page) -> None:
    """The page's new records, their index documents and sources: a few multi-row statements."""
    add_published(tx, page.records, page.versions, page.index)
    if page.sources_new:
        tx.execute(record_sources.insert(), page.sources_new)


def _same_work(ctx: Context, page: _Page, identifier: str, doi: str | None) -> str | None:
    """The record another peer already gave us for this work: same DOI, else same OAI identifier."""
    if doi and doi in page.by_doi:
        return page.by_doi[doi]
    return page.other_peers.get(identifier)


def _apply_deletion(tx: Connection, ctx: Context, record: HarvestedRecord, source: Row | None, now: datetime) -> str:
    if source is None:
        return "skipped"  # never harvested here: nothing to withdraw
    if source.deleted:
        return "unchanged"
    tx.execute(
        update(record_sources)
        .where(record_sources.c.peer_id == ctx.peer.id, record_sources.c.oai_identifier == record.identifier)
        .values(deleted=True, datestamp=record.datestamp, harvested=now)
    )
    if live_sources(tx, source.record_id):
        return "unchanged"  # another peer still has the work
    reason = f"deleted at its origin ({ctx.peer.name}: {record.identifier})"
    return "deleted" if withdraw_mirror(tx, source.record_id, reason, now) else "unchanged"


def _apply(tx: Connection, ctx: Context, page: _Page, record: HarvestedRecord, now: datetime) -> str:
    """Store one harvested record; returns what happened (a count name) or raises RecordRefused.
    New records only join ``page`` (written by ``_flush``); changes to existing ones are made here:
    they are few, and sources of new records never point at existing records, so the order holds."""
    if _is_own(ctx, page, record):
        return "skipped"
    if len(record.identifier) > MAX_IDENTIFIER or len(record.datestamp) > MAX_DATESTAMP:
        raise RecordRefused(f"identifier or datestamp too long (at most {MAX_IDENTIFIER} and {MAX_DATESTAMP})")
    source = page.sources.get(record.identifier)
    if record.deleted:
        return _apply_deletion(tx, ctx, record, source, now)
    if _unchanged(page, record):
        return "unchanged"
    checked = page.checked[record.identifier]
    if isinstance(checked, str):
        raise RecordRefused(checked)
    if checked.dropped:
        note(ctx.run, record.identifier, "values dropped: " + "; ".join(checked.dropped), error=False)
    doi = checked.doi
    values = {"datestamp": record.datestamp, "deleted": False, "doi": doi, "url": checked.url, "harvested": now}
    if source is not None:
        tx.execute(
            update(record_sources)
            .where(record_sources.c.peer_id == ctx.peer.id, record_sources.c.oai_identifier == record.identifier)
            .values(**values)
        )
        store_metadata(tx, source.record_id, checked.metadata, now)
        _remember_doi(page, doi, source.record_id)
        return "updated"
    existing = _same_work(ctx, page, record.identifier, doi)
    if existing in page.created:
        # A work this very page created (two identifiers with one DOI): one more source of it.
        page.sources_new.append(
            {"peer_id": ctx.peer.id, "oai_identifier": record.identifier, "record_id": existing, **values}
        )
        return "updated"
    if existing is not None:
        tx.execute(
            record_sources.insert().values(
                peer_id=ctx.peer.id, oai_identifier=record.identifier, record_id=existing, **values
            )
        )
        _remember_doi(page, doi, existing)
        version = current_version(tx, existing)
        if version is not None and version.state != State.PUBLISHED.value:
            store_metadata(tx, existing, checked.metadata, now)
        return "updated"
    record_id = _create(ctx, page, checked, now)
    page.sources_new.append(
        {"peer_id": ctx.peer.id, "oai_identifier": record.identifier, "record_id": record_id, **values}
    )
    _remember_doi(page, doi, record_id)
    return "added"


def _remember_doi(page: _Page, doi: str | None, record_id: str) -> None:
    if doi:
        page.by_doi.setdefault(doi, record_id)


def store_page(ctx: Context, checked: CheckedPage, token_state: dict[str, Any]) -> None:
    """One page in one transaction: its records, the run's counts and where to go on from."""
    run = ctx.run
    page = checked.page
    for problem in page.problems:
        note(run, problem.identifier, problem.message, error=problem.is_error)
    # Not durable: a page lost to a power cut goes back with the token stored beside it, so the
    # next harvest fetches it again; skipping the fsync of each commit makes long harvests faster.
    with ctx.node.transaction(durable=False) as tx:
        now = utcnow()
        batch = _prefetch(tx, ctx, checked)
        for record in page.records:
            try:
                outcome = _apply(tx, ctx, batch, record, now)
            except RecordRefused as exc:
                note(run, record.identifier, str(exc), error=True)
                continue
            setattr(run, outcome, getattr(run, outcome) + 1)
        _flush(tx, batch)
        run.pages += 1
        tx.execute(update(peers).where(peers.c.id == ctx.peer.id).values(lease_until=now + LEASE, **token_state))
        save_run(tx, run)
