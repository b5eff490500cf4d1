"""The peer registry: add, list, get and remove peers, their runs and the sources of harvested records."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Row, and_, delete, func, select

from osnode.domain import duo
from osnode.domain.errors import Conflict, InvalidInput, NotFound
from osnode.domain.moments import as_utc
from osnode.domain.records import State
from osnode.services.node import Node, utcnow
from osnode.storage.catalog import versions
from osnode.storage.peers import harvest_runs, peers, record_sources

from .errors import PeerError
from .mirroring import live_sources, withdraw_mirror
from .peerclient import Connect
from .reading import PREFERRED_FORMATS
from .runs import RunInfo

FORMATS = PREFERRED_FORMATS
# Column sizes of peers (storage/peers.py).
MAX_BASE_URL, MAX_SET = 1000, 500
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,99}$")


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
    jurisdiction: str | None = None,
) -> PeerInfo:
    """Register a peer; with ``connect``, first check that it answers Identify and offers the format.
    ``jurisdiction``: where the peer keeps what it holds (ISO 3166-1 alpha-2), for the cross-border policy."""
    url = _check_url(url)
    if jurisdiction is not None:
        jurisdiction = jurisdiction.strip().upper()
        if jurisdiction not in duo.countries():
            raise InvalidInput(f"'{jurisdiction[:20]}' is not an ISO 3166-1 alpha-2 country code")
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
                jurisdiction=jurisdiction,
            )
        )
        return _peer_info(tx, peer_row(tx, name))


def _set_of(tx: Connection, name: str) -> str | None:
    return tx.execute(select(peers.c.set_spec).where(peers.c.name == name)).scalar()


def peer_row(conn: Connection, name: str) -> Row:
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
        return _peer_info(conn, peer_row(conn, name))


def peer_runs(node: Node, name: str, limit: int = 20) -> list[RunInfo]:
    with node.engine.connect() as conn:
        peer = peer_row(conn, name)
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
        peer = peer_row(tx, name)
        held = tx.execute(select(record_sources.c.record_id).where(record_sources.c.peer_id == peer.id)).scalars()
        record_ids = sorted(set(held))
        tx.execute(delete(record_sources).where(record_sources.c.peer_id == peer.id))
        tx.execute(delete(harvest_runs).where(harvest_runs.c.peer_id == peer.id))
        tx.execute(delete(peers).where(peers.c.id == peer.id))
        withdrawn = 0
        for record_id in record_ids:
            if not live_sources(tx, record_id) and withdraw_mirror(tx, record_id, f"peer {name} was removed", now):
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
