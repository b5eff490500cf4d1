"""Harvesting peers: the node's federation over OAI-PMH, as use cases.

A peer is another repository's OAI-PMH endpoint. Harvesting it is incremental (``from`` the
peer's own ``responseDate`` at the start of the last successful harvest) and resumable: each page
is one transaction that stores its records *and* the resumption token of the next page, so an
interrupted harvest goes on where it stopped, without losing or re-applying a page.

Harvested records are published records of this node with ``origin_node`` set and one
``record_sources`` row per peer that has them (original OAI identifier and datestamp). The same
work reached through two peers (same DOI, else same OAI identifier) is one record with two sources;
a deletion at one peer withdraws the record only when no other source still has it.

The OAI-PMH client itself is an edge (``oaipmh.harvester``); the use cases take a ``connect``
function that makes one for a base URL, so they depend on no HTTP library and tests can hand in
another client.
"""

from __future__ import annotations

import copy
import logging
import multiprocessing
import os
import queue
import re
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import orjson
from sqlalchemy import Connection, Row, and_, delete, func, select, update

from ..domain.errors import Conflict, InvalidInput, NotFound
from ..domain.metadata import Metadata, parse_metadata
from ..domain.moments import as_utc
from ..domain.records import ID_BITS, AccessLevel, State, id_of
from ..storage import search
from ..storage.catalog import EncodedJSON, records, users, versions
from ..storage.peers import harvest_runs, peers, record_sources
from .harvest_limits import Guard, Limits
from .node import Node, failpoint, utcnow
from .peer_errors import PeerError

if TYPE_CHECKING:
    from ..oaipmh.harvester import HarvestedRecord, Page

log = logging.getLogger("osnode.harvest")

OWNER = "osnode-harvester"
FORMATS = ("oai_datacite", "datacite", "oai_dc")
MAX_ERRORS_KEPT = 1000
# Column sizes of record_sources and peers (storage/peers.py).
MAX_IDENTIFIER, MAX_DATESTAMP, MAX_DOI, MAX_URL, MAX_BASE_URL, MAX_SET = 1000, 30, 500, 2000, 1000, 500
UNAVAILABLE = "(:unav)"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,99}$")


class RecordRefused(Exception):
    """One harvested record that cannot be stored; reported, the harvest goes on."""


class Dump(Protocol):
    started: str | None

    def batches(self, lines: int) -> Iterator[bytes]: ...
    def close(self) -> None: ...


class PeerClient(Protocol):
    """A peer, as the harvest needs it. Responses are fetched as bytes and read by plain functions
    (``read_records``, ``read_dump``), which the harvest may run in a worker process."""

    read_records: Callable[[bytes], Page]
    read_dump: Callable[[bytes], Page]
    peek_token: Callable[[bytes], str | None]

    def identify(self) -> Any: ...
    def metadata_formats(self) -> list[str]: ...
    def choose_format(self) -> str: ...
    def fetch_records(
        self,
        metadata_prefix: str | None = None,
        *,
        from_: str | None = None,
        set_spec: str | None = None,
        token: str | None = None,
    ) -> bytes: ...
    def open_dump(self, after: str | None = None) -> Dump | None: ...
    def close(self) -> None: ...


Connect = Callable[[str], PeerClient]


@dataclass
class RunInfo:
    id: int
    peer: str
    started: datetime
    finished: datetime | None
    status: str
    metadata_prefix: str | None
    from_datestamp: str | None
    resumed: bool
    pages: int = 0
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: int = 0
    error_list: list[dict[str, Any]] = field(default_factory=list)
    message: str | None = None
    # Progress only, not stored: what the peer says the whole list holds.
    complete_list_size: int | None = None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["started"] = self.started.isoformat()
        data["finished"] = self.finished.isoformat() if self.finished else None
        return data


@dataclass
class PeerInfo:
    id: int
    name: str
    base_url: str
    set_spec: str | None
    metadata_prefix: str | None
    every_hours: float | None
    next_from: str | None
    resumption_token: str | None
    last_run: RunInfo | None = None
    records: int = 0

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["last_run"] = self.last_run.as_json() if self.last_run else None
        return data


@dataclass(frozen=True)
class Source:
    peer: str
    base_url: str
    oai_identifier: str
    datestamp: str
    deleted: bool
    url: str | None

    @property
    def link(self) -> str:
        """The original record: its landing page when the metadata names one, else GetRecord."""
        if self.url:
            return self.url
        from urllib.parse import urlencode

        query = urlencode({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": self.oai_identifier})
        return f"{self.base_url}?{query}"


# -- peers --------------------------------------------------------------------------------------


def _check_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"'{url}' is not an http(s) URL of an OAI-PMH endpoint")
    if len(url) > MAX_BASE_URL:
        raise InvalidInput(f"the URL is longer than {MAX_BASE_URL} characters")
    if parts.query or parts.fragment:
        raise InvalidInput("give the OAI-PMH base URL without a query (no '?verb=...')")
    return url


def origin_of(base_url: str) -> str:
    """What ``origin_node`` says for a peer: its site, which for an osnode is the base URL less /oai."""
    return base_url.removesuffix("/").removesuffix("/oai")


def add_peer(
    node: Node,
    url: str,
    *,
    name: str | None = None,
    set_spec: str | None = None,
    metadata_prefix: str | None = None,
    every_hours: float | None = None,
    connect: Connect | None = None,
) -> PeerInfo:
    """Register a peer; with ``connect``, first check that it answers Identify and offers the format."""
    url = _check_url(url)
    name = (name or urlsplit(url).hostname or "").strip()
    if not _NAME.match(name):
        raise InvalidInput(f"'{name}' is not a peer name (letters, digits, '.', '_', '-'; at most 100)")
    if metadata_prefix is not None and metadata_prefix not in FORMATS:
        raise InvalidInput(f"format '{metadata_prefix}' is not one this node reads: {', '.join(FORMATS)}")
    if every_hours is not None and not 0 < every_hours <= 24 * 366:
        raise InvalidInput("--every is a number of hours, more than 0 and at most a year")
    set_spec = set_spec.strip() if set_spec else None
    if set_spec is not None and (len(set_spec) > MAX_SET or any(c.isspace() for c in set_spec)):
        raise InvalidInput(f"'{set_spec[:60]}' is not a setSpec (no spaces, at most {MAX_SET} characters)")
    if connect is not None:
        client = connect(url)
        try:
            client.identify()
            if metadata_prefix is not None and metadata_prefix not in client.metadata_formats():
                raise InvalidInput(f"{url} does not offer the format '{metadata_prefix}'")
        except PeerError as exc:
            raise InvalidInput(f"{url} does not answer as an OAI-PMH repository: {exc}") from None
        finally:
            client.close()
    with node.transaction() as tx:
        if tx.execute(select(peers.c.id).where(peers.c.name == name)).first():
            raise Conflict(f"a peer named '{name}' already exists")
        same = tx.execute(select(peers.c.name).where(peers.c.base_url == url)).all()
        if any(row.name for row in same if _set_of(tx, row.name) == set_spec):
            raise Conflict(f"{url} is already a peer{f' for set {set_spec}' if set_spec else ''}")
        tx.execute(
            peers.insert().values(
                name=name,
                base_url=url,
                set_spec=set_spec,
                metadata_prefix=metadata_prefix,
                every_hours=every_hours,
                created=utcnow(),
            )
        )
        return _peer_info(tx, _peer_row(tx, name))


def _set_of(tx: Connection, name: str) -> str | None:
    return tx.execute(select(peers.c.set_spec).where(peers.c.name == name)).scalar()


def _peer_row(conn: Connection, name: str) -> Row:
    row = conn.execute(select(peers).where(peers.c.name == name)).first()
    if row is None:
        raise NotFound(f"no peer named '{name}'")
    return row


def _run_info(row: Row, peer_name: str) -> RunInfo:
    return RunInfo(
        id=row.id,
        peer=peer_name,
        started=as_utc(row.started) or utcnow(),
        finished=as_utc(row.finished),
        status=row.status,
        metadata_prefix=row.metadata_prefix,
        from_datestamp=row.from_datestamp,
        resumed=row.resumed,
        pages=row.pages,
        added=row.added,
        updated=row.updated,
        deleted=row.deleted,
        unchanged=row.unchanged,
        skipped=row.skipped,
        errors=row.errors,
        error_list=list(row.error_list or []),
        message=row.message,
    )


def _peer_info(conn: Connection, row: Row) -> PeerInfo:
    last = conn.execute(
        select(harvest_runs)
        .where(harvest_runs.c.peer_id == row.id)
        .order_by(harvest_runs.c.started.desc(), harvest_runs.c.id.desc())
        .limit(1)
    ).first()
    count = conn.execute(
        select(func.count()).select_from(record_sources).where(record_sources.c.peer_id == row.id)
    ).scalar_one()
    return PeerInfo(
        id=row.id,
        name=row.name,
        base_url=row.base_url,
        set_spec=row.set_spec,
        metadata_prefix=row.metadata_prefix,
        every_hours=row.every_hours,
        next_from=row.next_from,
        resumption_token=row.resumption_token,
        last_run=_run_info(last, row.name) if last else None,
        records=count,
    )


def list_peers(node: Node) -> list[PeerInfo]:
    with node.engine.connect() as conn:
        return [_peer_info(conn, row) for row in conn.execute(select(peers).order_by(peers.c.name)).all()]


def get_peer(node: Node, name: str) -> PeerInfo:
    with node.engine.connect() as conn:
        return _peer_info(conn, _peer_row(conn, name))


def peer_runs(node: Node, name: str, limit: int = 20) -> list[RunInfo]:
    with node.engine.connect() as conn:
        peer = _peer_row(conn, name)
        rows = conn.execute(
            select(harvest_runs)
            .where(harvest_runs.c.peer_id == peer.id)
            .order_by(harvest_runs.c.started.desc(), harvest_runs.c.id.desc())
            .limit(limit)
        ).all()
    return [_run_info(r, name) for r in rows]


def remove_peer(node: Node, name: str) -> int:
    """Forget a peer, its runs and its sources; records only it provided are withdrawn (the node no
    longer mirrors them). Returns how many records were withdrawn."""
    now = utcnow()
    with node.transaction() as tx:
        peer = _peer_row(tx, name)
        held = tx.execute(select(record_sources.c.record_id).where(record_sources.c.peer_id == peer.id)).scalars()
        record_ids = sorted(set(held))
        tx.execute(delete(record_sources).where(record_sources.c.peer_id == peer.id))
        tx.execute(delete(harvest_runs).where(harvest_runs.c.peer_id == peer.id))
        tx.execute(delete(peers).where(peers.c.id == peer.id))
        withdrawn = 0
        for record_id in record_ids:
            if not _live_sources(tx, record_id) and _withdraw(tx, record_id, f"peer {name} was removed", now):
                withdrawn += 1
    return withdrawn


def sources_of(node: Node, record_id: str) -> list[Source]:
    query = (
        select(record_sources, peers.c.name, peers.c.base_url)
        .join(peers, peers.c.id == record_sources.c.peer_id)
        .where(record_sources.c.record_id == record_id)
        .order_by(peers.c.name)
    )
    with node.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [Source(r.name, r.base_url, r.oai_identifier, r.datestamp, r.deleted, r.url) for r in rows]


# -- metadata from a peer -----------------------------------------------------------------------


def _drop(data: Any, path: str) -> bool:
    """Remove the value at ``path`` ("creators.0.orcid"); when it is missing (a required property
    the record lacks), remove the part that needed it. False when nothing could be removed."""
    parts: list[Any] = [int(p) if p.isdigit() else p for p in path.split(".")]
    while parts:
        container = data
        try:
            for part in parts[:-1]:
                container = container[part]
            last = parts[-1]
            if isinstance(container, dict) and last in container:
                del container[last]
                return True
            if isinstance(container, list) and isinstance(last, int) and last < len(container):
                del container[last]
                return True
        except (KeyError, IndexError, TypeError):
            pass
        parts = parts[:-1]
    return False


def coerce_metadata(raw: dict[str, Any], *, publisher: str, datestamp: str) -> tuple[Metadata, list[str]]:
    """Metadata the node can store, from what a peer sent: values that fail the node's checks are
    dropped (and listed), missing mandatory properties filled as DataCite recommends. A record
    without any title is refused: nobody could find or cite it."""
    data = raw
    dropped: list[str] = []
    for _ in range(100):
        try:
            meta = parse_metadata(data)
            break
        except InvalidInput as exc:
            if data is raw:  # copied only when something must go: most records pass as they are
                data = copy.deepcopy(raw)
            error = exc.errors[0] if exc.errors else None
            if error is None or not _drop(data, error.path):
                raise RecordRefused(f"metadata cannot be read: {exc.detail}") from None
            dropped.append(f"{error.path}: {error.message}")
    else:
        raise RecordRefused("metadata has too many invalid values")
    if not meta.titles:
        raise RecordRefused("the record has no title")
    filled: dict[str, Any] = {}
    if not meta.creators:
        filled["creators"] = [{"name": UNAVAILABLE}]
    if meta.publisher is None:
        filled["publisher"] = {"name": publisher}
    if meta.publicationYear is None and datestamp[:4].isdigit():
        filled["publicationYear"] = int(datestamp[:4])
    if meta.resourceType is None:
        filled["resourceType"] = {"resourceTypeGeneral": "Other"}
    if filled:
        meta = parse_metadata(meta.to_json() | filled)
    return meta, dropped


def _landing_url(meta: Metadata) -> str | None:
    for alternate in meta.alternateIdentifiers:
        if alternate.alternateIdentifierType.upper() == "URL":
            return alternate.alternateIdentifier
    return f"https://doi.org/{meta.doi}" if meta.doi else None


# -- checking a page (off the writer's path) ----------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """A harvested record's metadata as the node will store it, with what the writer needs of it."""

    metadata: EncodedJSON
    """Encoded where it was checked: a worker process hands back one string, not a tree of objects."""
    dropped: list[str]
    doi: str | None
    url: str | None
    document: search.Document


@dataclass
class CheckedPage:
    page: Page
    """The page, its records' metadata dropped (what the writer needs of it is in ``checked``)."""
    checked: dict[str, Checked | str]
    """Per identifier of a record that is not deleted: its checked metadata, or why it was refused."""
    echoes: set[str]
    """Identifiers of records whose metadata points at this node: its own, coming back."""


def _points_at(metadata: dict[str, Any] | None, own_url: str) -> bool:
    meta = metadata or {}
    urls = [a.get("alternateIdentifier", "") for a in meta.get("alternateIdentifiers", []) if isinstance(a, dict)]
    urls += [r.get("relatedIdentifier", "") for r in meta.get("relatedIdentifiers", []) if isinstance(r, dict)]
    return any(isinstance(u, str) and u.startswith(own_url) for u in urls)


def check_page(page: Page, publisher: str, own_url: str) -> CheckedPage:
    """Validate every record of a page: the costliest part of storing a record that does not need
    the catalog, so it runs ahead of the writer (in a worker process for long harvests)."""
    checked: dict[str, Checked | str] = {}
    echoes = set()
    for record in page.records:
        if _points_at(record.metadata, own_url):
            echoes.add(record.identifier)
        if record.deleted or record.identifier in checked:
            continue
        try:
            meta, dropped = coerce_metadata(record.metadata or {}, publisher=publisher, datestamp=record.datestamp)
        except RecordRefused as exc:
            checked[record.identifier] = str(exc)
            continue
        url = record.landing or _landing_url(meta)
        checked[record.identifier] = Checked(
            EncodedJSON(orjson.dumps(meta.to_json()).decode()),
            dropped,
            _doi_column(meta),
            url if url and len(url) <= MAX_URL else None,
            search.document_of(meta),
        )
    for record in page.records:
        record.metadata = None
    return CheckedPage(page, checked, echoes)


def read_and_check(read: Callable[[bytes], Page], raw: bytes, publisher: str, own_url: str) -> CheckedPage:
    return check_page(read(raw), publisher, own_url)


# -- one harvest --------------------------------------------------------------------------------


@dataclass
class _Context:
    node: Node
    peer: Row
    owner_id: int
    origin: str
    publisher: str
    own_prefixes: tuple[str, ...]
    own_url: str
    run: RunInfo
    guard: Guard
    """The run's bounds: every request to the peer and every page read go through it."""
    progress: Callable[[RunInfo], None] | None = None


def _owner(tx: Connection) -> int:
    """Harvested records belong to a system account without tokens, so no person can edit them."""
    found = tx.execute(select(users.c.id).where(users.c.name == OWNER)).scalar()
    if found is not None:
        return found
    return tx.execute(users.insert().values(name=OWNER, role="depositor", created=utcnow())).inserted_primary_key[0]


def _is_own(ctx: _Context, page: _Page, record: HarvestedRecord) -> bool:
    """A record of this very node coming back through a peer (an echo)."""
    return record.identifier.startswith(ctx.own_prefixes) or record.identifier in page.echoes


def _live_sources(tx: Connection, record_id: str) -> int:
    return tx.execute(
        select(func.count())
        .select_from(record_sources)
        .where(record_sources.c.record_id == record_id, record_sources.c.deleted.is_(False))
    ).scalar_one()


def _current_version(tx: Connection, record_id: str) -> Row | None:
    return tx.execute(
        select(versions.c.id, versions.c.state)
        .where(versions.c.record_id == record_id)
        .order_by(versions.c.number.desc())
        .limit(1)
    ).first()


def _withdraw(tx: Connection, record_id: str, reason: str, now: datetime) -> bool:
    version = _current_version(tx, record_id)
    if version is None or version.state != State.PUBLISHED.value:
        return False
    tx.execute(
        update(versions)
        .where(versions.c.id == version.id)
        .values(state=State.WITHDRAWN.value, withdrawn_at=now, withdrawal_reason=reason, updated=now)
    )
    tx.execute(update(records).where(records.c.id == record_id).values(latest_published_id=None, updated=now))
    search.index_record(tx, record_id)
    return True


def _store_metadata(tx: Connection, record_id: str, metadata: dict[str, Any], now: datetime) -> None:
    """A harvested record mirrors its origin: new metadata replaces the old in place (the origin
    keeps the version history), and a record that reappears after a deletion is published again."""
    version = _current_version(tx, record_id)
    assert version is not None
    tx.execute(
        update(versions)
        .where(versions.c.id == version.id)
        .values(
            metadata=metadata,
            state=State.PUBLISHED.value,
            withdrawn_at=None,
            withdrawal_reason=None,
            updated=now,
        )
    )
    tx.execute(update(records).where(records.c.id == record_id).values(latest_published_id=version.id, updated=now))
    search.index_record(tx, record_id)


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


def _prefetch(tx: Connection, ctx: _Context, checked: CheckedPage) -> _Page:
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


def _doi_column(meta: Metadata) -> str | None:
    # Over-long values still live in the metadata; only the lookup columns leave them out.
    return meta.doi.lower() if meta.doi and len(meta.doi) <= MAX_DOI else None


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


def _create(ctx: _Context, page: _Page, checked: Checked, now: datetime) -> str:
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
    if page.records:
        tx.execute(records.insert(), page.records)
        tx.execute(versions.insert(), page.versions)
        search.index_new(tx, page.index)
    if page.sources_new:
        tx.execute(record_sources.insert(), page.sources_new)


def _same_work(ctx: _Context, page: _Page, identifier: str, doi: str | None) -> str | None:
    """The record another peer already gave us for this work: same DOI, else same OAI identifier."""
    if doi and doi in page.by_doi:
        return page.by_doi[doi]
    return page.other_peers.get(identifier)


def _apply_deletion(tx: Connection, ctx: _Context, record: HarvestedRecord, source: Row | None, now: datetime) -> str:
    if source is None:
        return "skipped"  # never harvested here: nothing to withdraw
    if source.deleted:
        return "unchanged"
    tx.execute(
        update(record_sources)
        .where(record_sources.c.peer_id == ctx.peer.id, record_sources.c.oai_identifier == record.identifier)
        .values(deleted=True, datestamp=record.datestamp, harvested=now)
    )
    if _live_sources(tx, source.record_id):
        return "unchanged"  # another peer still has the work
    reason = f"deleted at its origin ({ctx.peer.name}: {record.identifier})"
    return "deleted" if _withdraw(tx, source.record_id, reason, now) else "unchanged"


def _apply(tx: Connection, ctx: _Context, page: _Page, record: HarvestedRecord, now: datetime) -> str:
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
        _note(ctx.run, record.identifier, "values dropped: " + "; ".join(checked.dropped), error=False)
    doi = checked.doi
    values = {"datestamp": record.datestamp, "deleted": False, "doi": doi, "url": checked.url, "harvested": now}
    if source is not None:
        tx.execute(
            update(record_sources)
            .where(record_sources.c.peer_id == ctx.peer.id, record_sources.c.oai_identifier == record.identifier)
            .values(**values)
        )
        _store_metadata(tx, source.record_id, checked.metadata, now)
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
        version = _current_version(tx, existing)
        if version is not None and version.state != State.PUBLISHED.value:
            _store_metadata(tx, existing, checked.metadata, now)
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


def _note(run: RunInfo, identifier: str | None, message: str, *, error: bool) -> None:
    if error:
        run.errors += 1
    if len(run.error_list) < MAX_ERRORS_KEPT:
        run.error_list.append({"identifier": identifier, "message": message[:1000], "error": error})


def _save_run(tx: Connection, run: RunInfo) -> None:
    tx.execute(
        update(harvest_runs)
        .where(harvest_runs.c.id == run.id)
        .values(
            finished=run.finished,
            status=run.status,
            metadata_prefix=run.metadata_prefix,
            from_datestamp=run.from_datestamp,
            resumed=run.resumed,
            pages=run.pages,
            added=run.added,
            updated=run.updated,
            deleted=run.deleted,
            unchanged=run.unchanged,
            skipped=run.skipped,
            errors=run.errors,
            error_list=run.error_list,
            message=run.message,
        )
    )


def _store_page(ctx: _Context, checked: CheckedPage, token_state: dict[str, Any]) -> None:
    """One page in one transaction: its records, the run's counts and where to go on from."""
    run = ctx.run
    page = checked.page
    for problem in page.problems:
        _note(run, problem.identifier, problem.message, error=problem.is_error)
    # Not durable: a page lost to a power cut goes back with the token stored beside it, so the
    # next harvest fetches it again; skipping the fsync of each commit makes long harvests faster.
    with ctx.node.transaction(durable=False) as tx:
        now = utcnow()
        batch = _prefetch(tx, ctx, checked)
        for record in page.records:
            try:
                outcome = _apply(tx, ctx, batch, record, now)
            except RecordRefused as exc:
                _note(run, record.identifier, str(exc), error=True)
                continue
            setattr(run, outcome, getattr(run, outcome) + 1)
        _flush(tx, batch)
        run.pages += 1
        tx.execute(update(peers).where(peers.c.id == ctx.peer.id).values(lease_until=now + LEASE, **token_state))
        _save_run(tx, run)


def _start_run(node: Node, peer: Row) -> RunInfo:
    now = utcnow()
    with node.transaction() as tx:
        # A run still 'running' was cut off (the process died): say so rather than leave it hanging.
        tx.execute(
            update(harvest_runs)
            .where(harvest_runs.c.peer_id == peer.id, harvest_runs.c.status == "running")
            .values(status="interrupted", finished=now, message="the harvest stopped before it ended")
        )
        run_id = tx.execute(
            harvest_runs.insert().values(
                peer_id=peer.id,
                started=now,
                status="running",
                resumed=peer.resumption_token is not None,
                pages=0,
                added=0,
                updated=0,
                deleted=0,
                unchanged=0,
                skipped=0,
                errors=0,
                error_list=[],
            )
        ).inserted_primary_key[0]
    return RunInfo(run_id, peer.name, now, None, "running", None, None, peer.resumption_token is not None)


def _hand_on(page: Page, granularity: str, fallback: str | None) -> str | None:
    """The ``from`` of the next harvest: the peer's clock when this one began, at its granularity."""
    moment = page.response_date
    if not moment:
        return fallback
    return moment[:10] if granularity == "YYYY-MM-DD" else moment[:19] + "Z"


def _context(node: Node, peer: Row, run: RunInfo, publisher: str) -> _Context:
    host = (urlsplit(node.settings.public_url).hostname or "localhost").lower()
    with node.transaction() as tx:
        owner_id = _owner(tx)
    return _Context(
        node=node,
        peer=peer,
        owner_id=owner_id,
        origin=origin_of(peer.base_url),
        publisher=publisher,
        # Two nodes on one host (different ports) share the identifier prefix: then it proves nothing.
        own_prefixes=(f"oai:{host}:",) if (urlsplit(peer.base_url).hostname or "").lower() != host else (),
        own_url=node.settings.public_url + "/records/",
        run=run,
        guard=Guard(Limits.of(node.settings)),
    )


def harvest(
    node: Node,
    name: str,
    connect: Connect,
    *,
    progress: Callable[[RunInfo], None] | None = None,
    use_dump: bool = True,
) -> RunInfo:
    """Harvest one peer: go on from an interrupted harvest's token, else ask for what changed since
    the last successful one (the first, full harvest of an osnode peer reads its bulk dump, unless
    ``use_dump`` is false). Never raises for the peer's faults: the run records them."""
    with node.engine.connect() as conn:
        peer = _peer_row(conn, name)
    owner = _take_lease(node, peer)
    run = _start_run(node, peer)
    client: PeerClient | None = None
    try:
        client = connect(peer.base_url)
        _harvest(node, peer, run, client, progress, use_dump)
    except PeerError as exc:
        run.status, run.message = "failed", str(exc)
    except Exception as exc:  # a fault of ours: the run says so, and the log has the traceback
        log.exception("harvesting peer %s failed", name)
        run.status, run.message = "failed", f"internal error: {type(exc).__name__}: {exc}"
    finally:
        if client is not None:
            client.close()
        run.finished = utcnow()
        with node.transaction() as tx:
            _save_run(tx, run)
            tx.execute(
                update(peers)
                .where(peers.c.id == peer.id)
                .values(last_run_at=run.finished, **_released(tx, peer.id, owner))
            )
    return run


# How long a harvest holds its peer without storing a page; renewed with each page. A lease left by
# a harvest that died on this host is taken over at once (its process is gone); one left by a process
# on another host (a shared PostgreSQL catalog) runs out.
LEASE = timedelta(minutes=15)


def _lease_owner() -> str:
    return f"{socket.gethostname()[:200]}/{os.getpid()}/{secrets.token_hex(8)}"


def _dead_here(owner: str | None) -> bool:
    """Whether a lease's owner was a process of this host that no longer runs."""
    host, _, rest = (owner or "").partition("/")
    pid = rest.partition("/")[0]
    if host != socket.gethostname()[:200] or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _take_lease(node: Node, peer: Row) -> str:
    """Claim the peer for this harvest, or raise Conflict when another harvest holds it."""
    owner = _lease_owner()
    now = utcnow()
    with node.transaction() as tx:
        query = select(peers.c.lease_owner, peers.c.lease_until).where(peers.c.id == peer.id).with_for_update()
        held = tx.execute(query).one()
        until = as_utc(held.lease_until)
        if until is not None and until >= now and not _dead_here(held.lease_owner):
            raise Conflict(
                f"peer '{peer.name}' is being harvested already (by another process or the scheduler);"
                f" try again later (its lease runs out at {until:%Y-%m-%d %H:%M} UTC at the latest)"
            )
        # The transaction holds the write lock (SQLite) or the row (PostgreSQL, FOR UPDATE): no
        # other harvest can take the lease between the check and this update.
        tx.execute(update(peers).where(peers.c.id == peer.id).values(lease_owner=owner, lease_until=now + LEASE))
    return owner


def _released(tx: Connection, peer_id: int, owner: str) -> dict[str, Any]:
    """The columns that give the lease back, if this harvest still holds it."""
    held = tx.execute(select(peers.c.lease_owner).where(peers.c.id == peer_id)).scalar() == owner
    return {"lease_owner": None, "lease_until": None} if held else {}


# A harvest longer than this many records checks its pages in a worker process: the writer then
# has a core of its own (starting the process costs about a second, which a short harvest would feel).
WORKER_FROM = 5_000
# A first harvest of an osnode peer's list at least this long reads its bulk dump instead.
DUMP_FROM = 5_000
# Records per batch read from a dump (the dump's pages).
DUMP_BATCH = 1_000
# Pages read and checked ahead of the writer.
AHEAD = 2
_DUMP_TOKEN = "dump:"


class _Checker:
    """Checks pages for the writer: in the reading thread, or in a worker process once a harvest
    turns out to be long (``use_worker``)."""

    def __init__(self, publisher: str, own_url: str) -> None:
        self.publisher = publisher
        self.own_url = own_url
        self.pool: ProcessPoolExecutor | None = None

    def use_worker(self) -> None:
        if self.pool is None:
            # spawn, not fork: the node's process has threads (the server's, the scheduler's).
            self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))

    def check(self, read: Callable[[bytes], Page], raw: bytes) -> CheckedPage:
        if self.pool is None:
            return read_and_check(read, raw, self.publisher, self.own_url)
        return self.pool.submit(read_and_check, read, raw, self.publisher, self.own_url).result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


class _Ahead:
    """The reading side of a harvest, on a thread: fetches and checks pages while the writer
    stores the ones before (``produce`` yields pages; the writer takes them in order)."""

    _END = object()

    def __init__(self, produce: Iterator[CheckedPage]) -> None:
        self._produce = produce
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=AHEAD)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="harvest-reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for item in self._produce:
                if not self._put(item):
                    return
            self._put(self._END)
        except BaseException as exc:  # handed to the writer, which raises it
            self._put(exc)

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[CheckedPage]:
        while True:
            item = self._queue.get()
            if item is self._END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def _fetch_page(client: PeerClient, guard: Guard, token: str) -> bytes:
    guard.request()
    return client.fetch_records(token=token)


def _oai_pages(client: PeerClient, checker: _Checker, first: CheckedPage, guard: Guard) -> Iterator[CheckedPage]:
    """The pages after the first. Each next page is asked for while this one is read and checked,
    with the token ``peek_token`` guesses from its last bytes; the token the reading finds decides
    (a wrong guess is dropped and the page asked for again). The run's guard stops a list that
    loops, stalls or never ends."""
    fetcher = ThreadPoolExecutor(1, thread_name_prefix="harvest-fetch")
    try:
        token = first.page.token
        raw = _fetch_page(client, guard, token) if token is not None else b""
        while token is not None:
            guess = client.peek_token(raw)
            # A guess the run has followed already is a loop: the parse will say so, without a request.
            ahead = fetcher.submit(_fetch_page, client, guard, guess) if guess and not guard.seen_token(guess) else None
            page = checker.check(client.read_records, raw)
            guard.page(page.page)
            token = page.page.token
            yield page
            guard.token(token)
            if token is None:
                break
            # The guessed page if the guess was right, else the one the token names.
            raw = ahead.result() if ahead is not None and guess == token else _fetch_page(client, guard, token)
    finally:
        fetcher.shutdown(wait=False, cancel_futures=True)


def _dump_pages(dump: Dump, client: PeerClient, checker: _Checker, guard: Guard) -> Iterator[CheckedPage]:
    for raw in dump.batches(DUMP_BATCH):
        checked = checker.check(client.read_dump, raw)
        guard.page(checked.page)  # a dump that repeats itself or never ends is stopped too
        yield checked


def _harvest(
    node: Node,
    peer: Row,
    run: RunInfo,
    client: PeerClient,
    progress: Callable[[RunInfo], None] | None,
    use_dump: bool,
) -> None:
    identity = client.identify()
    publisher = getattr(identity, "repository_name", "") or peer.name
    granularity = getattr(identity, "granularity", "YYYY-MM-DDThh:mm:ssZ")
    ctx = _context(node, peer, run, publisher)
    ctx.progress = progress
    checker = _Checker(publisher, ctx.own_url)
    try:
        if not _resume_dump(ctx, client, checker):
            _harvest_oai(ctx, client, checker, granularity, use_dump)
    finally:
        checker.close()
    run.status = "partial" if run.errors else "ok"


def _store_all(ctx: _Context, pages: Iterator[CheckedPage], state: Callable[[CheckedPage], dict[str, Any]]) -> None:
    """The writer: each page stored in its own transaction with where to go on from."""
    for checked in pages:
        ctx.run.complete_list_size = checked.page.complete_list_size or ctx.run.complete_list_size
        _store_page(ctx, checked, state(checked))
        failpoint("harvest.page")  # crash tests stop here, a page stored, to resume from its token
        if ctx.progress is not None:
            ctx.progress(ctx.run)


def _harvest_oai(ctx: _Context, client: PeerClient, checker: _Checker, granularity: str, use_dump: bool) -> None:
    peer, run = ctx.peer, ctx.run
    first: CheckedPage | None = None
    if peer.resumption_token:
        prefix, hand_on = peer.pending_prefix or peer.metadata_prefix, peer.pending_from
        run.metadata_prefix, run.from_datestamp = prefix, hand_on
        ctx.guard.token(peer.resumption_token)
        try:
            first = checker.check(client.read_records, _fetch_page(client, ctx.guard, peer.resumption_token))
        except PeerError as exc:
            if exc.code != "badResumptionToken":
                raise
            # The peer forgot the token (many expire them): start this harvest over.
            _note(run, None, "the peer no longer knows the saved resumption token; harvest restarted", error=False)
            run.resumed = False
    if first is None:
        prefix = peer.metadata_prefix or client.choose_format()
        run.metadata_prefix, run.from_datestamp = prefix, peer.next_from
        ctx.guard.request()
        raw = client.fetch_records(prefix, from_=peer.next_from, set_spec=peer.set_spec)
        first = checker.check(client.read_records, raw)
        hand_on = _hand_on(first.page, granularity, peer.next_from)
        if use_dump and _wants_dump(peer, prefix, first.page):
            run.complete_list_size = first.page.complete_list_size  # the dump holds the same list
            if _harvest_dump(ctx, client, checker, prefix):
                return
    ctx.guard.page(first.page)
    if first.page.token is not None and (first.page.complete_list_size or 0) >= WORKER_FROM:
        checker.use_worker()

    def state(checked: CheckedPage) -> dict[str, Any]:
        # What is stored with a page, and the token saved with it, are exactly as without the
        # reading ahead, so an interruption resumes the same.
        if checked.page.token is None:
            return {"resumption_token": None, "pending_from": None, "pending_prefix": None, "next_from": hand_on}
        return {"resumption_token": checked.page.token, "pending_from": hand_on, "pending_prefix": prefix}

    _store_all(ctx, iter([first]), state)
    ctx.guard.token(first.page.token)
    if first.page.token is None:
        return
    ahead = _Ahead(_oai_pages(client, checker, first, ctx.guard))
    try:
        _store_all(ctx, iter(ahead), state)
    finally:
        ahead.close()


def _wants_dump(peer: Row, prefix: str, first: Page) -> bool:
    """Whether a harvest should read the peer's bulk dump instead: a first, full harvest (nothing
    harvested before, no set) in a DataCite format, of a list long enough to matter."""
    return (
        peer.next_from is None
        and peer.set_spec is None
        and prefix != "oai_dc"
        and first.token is not None
        and (first.complete_list_size or 0) >= DUMP_FROM
    )


def _resume_dump(ctx: _Context, client: PeerClient, checker: _Checker) -> bool:
    """Go on with a dump harvest that was cut; False when there is none to go on with."""
    token = ctx.peer.resumption_token
    if not token or not token.startswith(_DUMP_TOKEN):
        return False
    prefix = ctx.peer.pending_prefix or ctx.peer.metadata_prefix or "oai_datacite"
    if _harvest_dump(ctx, client, checker, prefix, after=token.removeprefix(_DUMP_TOKEN) or None):
        return True
    _note(ctx.run, None, "the peer's dump is gone; harvest restarted over OAI-PMH", error=False)
    ctx.run.resumed = False
    with ctx.node.transaction() as tx:
        tx.execute(update(peers).where(peers.c.id == ctx.peer.id).values(resumption_token=None))
        ctx.peer = _peer_row(tx, ctx.peer.name)
    return False


def _harvest_dump(ctx: _Context, client: PeerClient, checker: _Checker, prefix: str, after: str | None = None) -> bool:
    """Read the peer's bulk dump (from ``after``) instead of paging through OAI-PMH: the same
    records with their OAI identifiers and datestamps, without XML on either side. False when the
    peer has no dump."""
    ctx.guard.request()
    dump = client.open_dump(after)
    if dump is None:
        return False
    run = ctx.run
    hand_on = ctx.peer.pending_from if after else dump.started
    run.metadata_prefix, run.from_datestamp = prefix, None
    _note(run, None, "read from the peer's bulk dump (a first, full harvest)", error=False)
    checker.use_worker()
    cursor = [after or ""]

    def state(checked: CheckedPage) -> dict[str, Any]:
        # A batch whose lines were all unreadable leaves the cursor where it was.
        cursor[0] = checked.page.token or cursor[0]
        return {"resumption_token": _DUMP_TOKEN + cursor[0], "pending_from": hand_on, "pending_prefix": prefix}

    ahead = _Ahead(_dump_pages(dump, client, checker, ctx.guard))
    try:
        _store_all(ctx, iter(ahead), state)
    finally:
        dump.close()
        ahead.close()
    # The whole dump is stored: from now on, OAI-PMH asks for what changed since it began.
    with ctx.node.transaction() as tx:
        tx.execute(
            update(peers)
            .where(peers.c.id == ctx.peer.id)
            .values(resumption_token=None, pending_from=None, pending_prefix=None, next_from=hand_on)
        )
    return True


def due_peers(node: Node, now: datetime | None = None) -> list[str]:
    now = now or utcnow()
    with node.engine.connect() as conn:
        rows = conn.execute(select(peers).where(peers.c.every_hours.is_not(None)).order_by(peers.c.name)).all()
    due = []
    for row in rows:
        last = as_utc(row.last_run_at)
        if last is None or last + timedelta(hours=row.every_hours) <= now:
            due.append(row.name)
    return due


def harvest_due(node: Node, connect: Connect) -> list[RunInfo]:
    """The scheduled harvests: every peer whose interval has passed since its last run (a peer
    being harvested by a command meanwhile is left to it)."""
    runs = []
    for name in due_peers(node):
        try:
            runs.append(harvest(node, name, connect))
        except Conflict as exc:
            log.info("%s", exc)
    return runs


def run_totals(node: Node) -> dict[str, int]:
    """Harvested records and sources, for the admin page's summary."""
    with node.engine.connect() as conn:
        sources = conn.execute(select(func.count()).select_from(record_sources)).scalar_one()
        harvested = conn.execute(
            select(func.count())
            .select_from(versions)
            .where(and_(versions.c.origin_node.is_not(None), versions.c.state == State.PUBLISHED.value))
        ).scalar_one()
    return {"sources": sources, "harvested_records": harvested}
