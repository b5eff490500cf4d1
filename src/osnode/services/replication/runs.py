"""One replication run of a peer: the network work per record in worker threads (``fetching``), then
one transaction per record, in order, that points the local harvested version at the fetched blobs
(through ``storage.record_state``), makes them downloadable and notes who holds a copy."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import Connection, Row, delete, select

from ...domain.errors import InvalidInput, NodeError, NotFound
from ...domain.records import AccessLevel, State
from ...storage.catalog import files
from ...storage.peers import record_sources
from ...storage.record_state import add_file, remove_files, set_access_level
from ...storage.replicas import replicas, replication_state
from .. import audit
from ..harvest import Connect, Guard, Limits, PeerError, origin_of
from ..harvest.mirroring import current_version
from ..node import Node, utcnow
from ..runs import Tally, keep
from .fetching import MANAGED, RemoteFile, fetch_missing, remote_files
from .holders import blob_holders
from .policies import peer_named, policy_of, replicating_peers

log = logging.getLogger("osnode.replication")

MAX_ERRORS_KEPT = 200


@dataclass
class Report(Tally):
    peer: str
    policy: str
    records: int = 0
    replicated: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    blobs_fetched: int = 0
    bytes_fetched: int = 0
    blobs_present: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    message: str | None = None


@dataclass
class Outcome:
    """What the fetch phase found for one record, handed to the (serial) commit phase."""

    source: Row
    status: str  # replicated, unchanged, skipped, failed
    files: list[RemoteFile] = field(default_factory=list)
    fetched: int = 0
    fetched_bytes: int = 0
    present: int = 0
    message: str | None = None
    # False: nothing to note (unchanged, or outside the chosen sets, which may change): no write.
    remember: bool = True


Progress = Callable[[Report, int], None]


def _local_files(node: Node, record_id: str) -> tuple[str | None, list[Row]]:
    with node.engine.connect() as conn:
        version = current_version(conn, record_id)
        if version is None:
            return None, []
        rows = conn.execute(select(files).where(files.c.version_id == version.id)).all()
    return version.id, list(rows)


def _prepare(
    node: Node, http: httpx.Client, site: str, source: Row, state: Row | None, attempts: int, members: set[str] | None
) -> Outcome:
    """Network work for one record (runs in a worker thread): learn its files, fetch what is missing."""
    try:
        if members is not None and source.oai_identifier not in members:
            return Outcome(source, "skipped", message="not in the chosen sets", remember=False)
        version_id, local = _local_files(node, source.record_id)
        if version_id is None:
            return Outcome(source, "skipped", message="no local version", remember=False)
        if state is not None and state.status == "skipped" and state.datestamp == source.datestamp:
            # Not open at the origin, and unchanged since.
            return Outcome(source, "skipped", message=state.message, remember=False)
        if state is not None and state.status == "ok" and state.datestamp == source.datestamp:
            # In place already: only blobs lost since (fixity, a wiped disk) travel again.
            lost = [f.sha256 for f in local if not node.blobs.exists(f.sha256)]
            if not lost:
                return Outcome(source, "unchanged", present=len(local), remember=False)
            others = [h for h in blob_holders(node, lost[0]) if h != site]
            fetched, nbytes, present = fetch_missing(node, http, [site, *others], lost, attempts)
            return Outcome(source, "unchanged", fetched=fetched, fetched_bytes=nbytes, present=len(local) - fetched)
        remote, why = remote_files(http, site, source.oai_identifier, node.settings.jurisdiction, node.today())
        if remote is None:
            if why and why.startswith(MANAGED):  # every cross-border refusal is audited with its reason
                audit.record(
                    node,
                    "crossborder-refused",
                    record_id=source.record_id,
                    detail={"peer": site, "oai_identifier": source.oai_identifier, "reason": why},
                )
            return Outcome(source, "skipped", message=why)
        fetched, nbytes, present = fetch_missing(node, http, [site], [f.sha256 for f in remote], attempts)
        return Outcome(source, "replicated", remote, fetched, nbytes, present)
    except NodeError as exc:
        return Outcome(source, "failed", message=exc.detail)
    except (httpx.HTTPError, OSError) as exc:
        return Outcome(source, "failed", message=f"{type(exc).__name__}: {exc}")


def _upsert_state(tx: Connection, peer_id: int, source: Row, status: str, message: str | None, now: Any) -> None:
    # A failure keeps no datestamp, so the next run asks the origin again.
    done = source.datestamp if status in ("ok", "skipped") else None
    key = (replication_state.c.peer_id == peer_id) & (replication_state.c.oai_identifier == source.oai_identifier)
    tx.execute(delete(replication_state).where(key))
    tx.execute(
        replication_state.insert().values(
            peer_id=peer_id,
            oai_identifier=source.oai_identifier,
            record_id=source.record_id,
            datestamp=done,
            replicated=now,
            status=status,
            message=(message or "")[:1000] or None,
        )
    )


def _commit(node: Node, peer_id: int, site: str, outcome: Outcome) -> None:
    """One transaction per record: its files, its access, who holds them and the replication state."""
    if not outcome.remember:
        return
    source, now = outcome.source, utcnow()
    with node.transaction() as tx:
        if outcome.status == "replicated":
            version = current_version(tx, source.record_id)
            if version is None or version.state != State.PUBLISHED.value:
                outcome.status, outcome.message = "skipped", "the local copy is no longer published"
            else:
                _mirror(tx, node, version.id, source.record_id, site, outcome.files, now)
        status = {"replicated": "ok", "unchanged": "ok"}.get(outcome.status, outcome.status)
        _upsert_state(tx, peer_id, source, status, outcome.message, now)


def _mirror(
    tx: Connection, node: Node, version_id: str, record_id: str, site: str, wanted: list[RemoteFile], now: Any
) -> None:
    # Every blob is in the store and verified (the fetch phase); a blob lost since fails the record.
    sizes: dict[str, int] = {}
    for item in wanted:
        size = node.blobs.size(item.sha256)
        if size is None:
            raise NotFound(f"blob {item.sha256} vanished before it was registered")
        sizes[item.sha256] = size
    remove_files(tx, version_id)
    holders_here = (node.settings.public_url, site)
    tx.execute(delete(replicas).where(replicas.c.version_id == version_id, replicas.c.holder.in_(holders_here)))
    for item in wanted:
        # The size of the verified bytes, not the one the peer claimed.
        add_file(tx, version_id, item.key, item.sha256, sizes[item.sha256], item.mimetype, now)
    for sha256 in dict.fromkeys(item.sha256 for item in wanted):
        for holder, is_self in zip(holders_here, (True, False), strict=True):
            tx.execute(
                replicas.insert().values(
                    version_id=version_id,
                    sha256=sha256,
                    holder=holder,
                    record_id=record_id,
                    is_self=is_self,
                    reported=now,
                )
            )
    # Harvested versions are metadata-only until their files are here; now they are served from here.
    level = AccessLevel.OPEN.value if wanted else AccessLevel.METADATA_ONLY.value
    set_access_level(tx, record_id, version_id, level, now)


def _set_members(connect: Connect | None, base_url: str, sets: tuple[str, ...], limits: Limits) -> set[str]:
    """The OAI identifiers in the chosen sets, asked of the peer's OAI-PMH endpoint (within the
    bounds of a harvest run: a set listing that loops or never ends is stopped)."""
    if connect is None:
        raise InvalidInput("replicating chosen sets needs an OAI-PMH client")
    members: set[str] = set()
    guard = Guard(limits)
    client = connect(base_url)
    try:
        for set_spec in sets:
            guard.request()
            page = client.list_records("oai_dc", set_spec=set_spec)
            while True:
                guard.page(page)
                members.update(r.identifier for r in page.records if not r.deleted)
                guard.token(page.token)
                if page.token is None:
                    break
                guard.request()
                page = client.list_records(token=page.token)
    finally:
        client.close()
    return members


def _sources(node: Node, peer_id: int) -> tuple[list[Row], dict[str, Row]]:
    with node.engine.connect() as conn:
        sources = conn.execute(
            select(record_sources)
            .where(record_sources.c.peer_id == peer_id, record_sources.c.deleted.is_(False))
            .order_by(record_sources.c.oai_identifier)
        ).all()
        states = conn.execute(select(replication_state).where(replication_state.c.peer_id == peer_id)).all()
    return list(sources), {s.oai_identifier: s for s in states}


def replicate(
    node: Node,
    name: str,
    *,
    connect: Connect | None = None,
    progress: Progress | None = None,
    workers: int = 4,
    attempts: int = 6,
) -> Report:
    """Mirror the files of peer ``name``'s records as its policy says; never raises for the peer's faults."""
    with node.engine.connect() as conn:
        peer = peer_named(conn, name)
        policy = policy_of(conn, peer)
    report = Report(name, policy.policy)
    if policy.policy == "metadata":
        report.message = "metadata only: no files are replicated from this peer"
        return report
    site = origin_of(peer.base_url)
    try:
        members = (
            _set_members(connect, peer.base_url, policy.sets, Limits.of(node.settings))
            if policy.policy == "sets"
            else None
        )
    except PeerError as exc:
        report.message = f"could not list the chosen sets: {exc}"
        return report
    sources, states = _sources(node, peer.id)
    report.records = len(sources)
    if progress is not None:
        progress(report, 0)
    with httpx.Client(timeout=30.0, follow_redirects=True) as http, ThreadPoolExecutor(max(1, workers)) as pool:
        jobs = pool.map(
            lambda s: _prepare(node, http, site, s, states.get(s.oai_identifier), attempts, members), sources
        )
        for done, outcome in enumerate(jobs, 1):
            try:
                _commit(node, peer.id, site, outcome)
            except NodeError as exc:
                outcome.status, outcome.message = "failed", exc.detail
            _count(report, outcome)
            if progress is not None:
                progress(report, done)
    return report


def _count(report: Report, outcome: Outcome) -> None:
    report.add(outcome.status)
    report.add("blobs_fetched", outcome.fetched)
    report.add("bytes_fetched", outcome.fetched_bytes)
    report.add("blobs_present", outcome.present)
    if outcome.status == "failed":
        keep(
            report.errors,
            {"identifier": outcome.source.oai_identifier, "message": outcome.message or ""},
            MAX_ERRORS_KEPT,
        )


def replicate_all(node: Node, connect: Connect | None = None) -> list[Report]:
    """The scheduled job: every peer with a files policy (after its harvests have brought records)."""
    reports = []
    for name in replicating_peers(node):
        try:
            reports.append(replicate(node, name, connect=connect))
        except Exception:  # one peer's trouble must not stop the others
            log.exception("replicating from peer %s failed", name)
    return reports
