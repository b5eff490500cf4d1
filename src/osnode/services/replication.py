"""Replication: mirroring the files of records harvested from a peer, by a policy chosen per peer.

Harvesting brings a peer's metadata; a peer whose policy is ``open`` (every open file) or ``sets``
(the open files of records in chosen OAI-PMH sets) also has its files mirrored here. For each
harvested record the origin's JSON API (``/api/records/{id}``, which an osnode peer answers) names
the files with their SHA-256; only blobs this node does not hold are fetched, with ``fetch_blob``
(resumes with Range, verifies every byte before the blob becomes visible). Then one transaction
points the local harvested version at them, makes them downloadable and notes who holds a copy.

A record is all or nothing: if one of its blobs cannot be fetched whole, none of its files is
registered and a re-run picks up from the bytes already fetched. ``replication_state`` remembers
which origin datestamp is in place, so a re-run goes to the network only for records that changed
or whose blobs went missing here (and then moves only those blobs).
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
from sqlalchemy import Connection, Row, delete, select, update

from ..domain import records as rules
from ..domain.access import ANONYMOUS
from ..domain.errors import InvalidInput, NodeError, NotFound
from ..domain.records import AccessLevel, State
from ..storage import search
from ..storage.blobs import SHA256
from ..storage.catalog import files, register_blob, versions
from ..storage.peers import peers, record_sources
from ..storage.replicas import replicas, replication_policies, replication_state
from .harvest import Connect, Guard, Limits, PeerError, origin_of
from .node import Node, utcnow
from .transfer import TransferFailed, fetch_blob, readable_blob

log = logging.getLogger("osnode.replication")

POLICIES = ("metadata", "open", "sets")
MAX_SETS, MAX_SET = 50, 500
MAX_ERRORS_KEPT = 200


# -- policies -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    peer: str
    policy: str
    sets: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"peer": self.peer, "policy": self.policy, "sets": list(self.sets)}


def _peer(conn: Connection, name: str) -> Row:
    row = conn.execute(select(peers).where(peers.c.name == name)).first()
    if row is None:
        raise NotFound(f"no peer named '{name}'")
    return row


def _policy_of(conn: Connection, peer: Row) -> Policy:
    row = conn.execute(select(replication_policies).where(replication_policies.c.peer_id == peer.id)).first()
    if row is None:
        return Policy(peer.name, "metadata")
    return Policy(peer.name, row.policy, tuple(row.sets or ()))


def get_policy(node: Node, name: str) -> Policy:
    with node.engine.connect() as conn:
        return _policy_of(conn, _peer(conn, name))


def list_policies(node: Node) -> list[Policy]:
    with node.engine.connect() as conn:
        return [_policy_of(conn, row) for row in conn.execute(select(peers).order_by(peers.c.name)).all()]


def set_policy(node: Node, name: str, policy: str, sets: Iterable[str] = ()) -> Policy:
    """Choose what is mirrored from peer ``name``: ``metadata`` (nothing more), ``open`` or ``sets``."""
    chosen = tuple(dict.fromkeys(s.strip() for s in sets if s.strip()))
    if policy not in POLICIES:
        raise InvalidInput(f"'{policy}' is not a replication policy: {', '.join(POLICIES)}")
    if policy == "sets" and not chosen:
        raise InvalidInput("the 'sets' policy needs at least one --set")
    if policy != "sets" and chosen:
        raise InvalidInput("--set only goes with the 'sets' policy")
    if len(chosen) > MAX_SETS or any(len(s) > MAX_SET or any(c.isspace() for c in s) for s in chosen):
        raise InvalidInput(f"at most {MAX_SETS} setSpecs, each without spaces and at most {MAX_SET} characters")
    with node.transaction() as tx:
        peer = _peer(tx, name)
        tx.execute(delete(replication_policies).where(replication_policies.c.peer_id == peer.id))
        if policy != "metadata":
            tx.execute(
                replication_policies.insert().values(
                    peer_id=peer.id, policy=policy, sets=list(chosen), updated=utcnow()
                )
            )
        # A new policy means a fresh look at every record on the next run.
        tx.execute(delete(replication_state).where(replication_state.c.peer_id == peer.id))
    return Policy(name, policy, chosen)


# -- who holds a copy ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    url: str
    is_self: bool
    files: int


def holders(node: Node, version_id: str) -> list[Holder]:
    """The nodes known to hold the files of a version (this node first)."""
    with node.engine.connect() as conn:
        rows = conn.execute(
            select(replicas.c.holder, replicas.c.is_self, replicas.c.sha256).where(replicas.c.version_id == version_id)
        ).all()
    counted: dict[tuple[str, bool], int] = {}
    for row in rows:
        counted[(row.holder, row.is_self)] = counted.get((row.holder, row.is_self), 0) + 1
    found = [Holder(url, is_self, n) for (url, is_self), n in counted.items()]
    return sorted(found, key=lambda h: (not h.is_self, h.url))


def blob_holders(node: Node, sha256: str) -> list[str]:
    """Other nodes that hold blob ``sha256`` (fixity repair asks them first), then every peer's site."""
    with node.engine.connect() as conn:
        known = conn.execute(
            select(replicas.c.holder).where(replicas.c.sha256 == sha256, replicas.c.is_self.is_(False)).distinct()
        ).scalars()
        sites = [origin_of(url) for url in conn.execute(select(peers.c.base_url).order_by(peers.c.name)).scalars()]
        return list(dict.fromkeys([*sorted(known), *sites]))


# -- one replication run ------------------------------------------------------------------------


@dataclass
class Report:
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

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RemoteFile:
    key: str
    sha256: str
    size: int
    mimetype: str


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


def _origin_record_id(identifier: str) -> str:
    # osnode identifiers are oai:<host>:<record id>; the id is the last segment.
    return identifier.rsplit(":", 1)[-1]


def _remote_files(http: httpx.Client, site: str, identifier: str) -> tuple[list[RemoteFile] | None, str | None]:
    """The origin's open, published files of a record, or (None, why not)."""
    url = f"{site}/api/records/{_origin_record_id(identifier)}"
    response = http.get(url, headers={"Accept": "application/json"})
    if response.status_code in (404, 410):
        return None, f"the origin has no published record at {url}"
    response.raise_for_status()
    try:
        body = response.json()
    except ValueError:
        return None, f"{url} is not an osnode JSON API"
    if not isinstance(body, dict) or body.get("state") != State.PUBLISHED.value:
        return None, "the origin's record is not published"
    if (body.get("access") or {}).get("level") != AccessLevel.OPEN.value:
        return None, "the origin's files are not open"
    found = [_remote_file(item) for item in body.get("files") or []]
    if len({f.key for f in found}) != len(found):
        raise InvalidInput("the origin lists two files with the same name")
    return found, None


def _remote_file(item: Any) -> RemoteFile:
    """One file entry from a peer, checked: the peer is not trusted with names or hashes."""
    if not isinstance(item, dict):
        raise InvalidInput("the origin's file entry is not an object")
    checksum = str(item.get("checksum") or "")
    sha256 = checksum.removeprefix("sha256:")
    if not checksum.startswith("sha256:") or not SHA256.fullmatch(sha256):
        raise InvalidInput(f"the origin's file has no SHA-256 checksum ('{checksum[:80]}')")
    key = str(item.get("key") or "")
    try:
        rules.validate_file_key(key)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    size = item.get("size")
    if not isinstance(size, int) or size < 0:
        raise InvalidInput(f"the origin's file '{key}' has no valid size")
    mimetype = str(item.get("mimetype") or mimetypes.guess_type(key)[0] or "application/octet-stream")[:200]
    return RemoteFile(key, sha256, size, mimetype)


def _local_files(node: Node, record_id: str) -> tuple[str | None, list[Row]]:
    with node.engine.connect() as conn:
        version = _current(conn, record_id)
        if version is None:
            return None, []
        rows = conn.execute(select(files).where(files.c.version_id == version.id)).all()
    return version.id, list(rows)


def _current(conn: Connection, record_id: str) -> Row | None:
    return conn.execute(
        select(versions.c.id, versions.c.state, versions.c.access_level)
        .where(versions.c.record_id == record_id)
        .order_by(versions.c.number.desc())
        .limit(1)
    ).first()


def _fetch_missing(
    node: Node, http: httpx.Client, sites: list[str], wanted: list[str], attempts: int
) -> tuple[int, int, int]:
    """Fetch the blobs this node lacks, from the first site that has them; (fetched, bytes, present)."""
    fetched = fetched_bytes = present = 0
    for sha256 in dict.fromkeys(wanted):
        # One transfer per blob at a time: two records sharing bytes would share fetch_blob's temp file.
        with _blob_lock(sha256):
            if node.blobs.path(sha256).is_file():
                _check_possession(node, http, sites[0], sha256)
                present += 1
                continue
            fetched_bytes += _fetch_from_any(node, http, sites, sha256, attempts)
            fetched += 1
    return fetched, fetched_bytes, present


def _check_possession(node: Node, http: httpx.Client, site: str, sha256: str) -> None:
    """A blob held here but in no file anyone may download (a restricted record's, say) is not
    simply linked to a peer's record that names its hash: naming a hash is not holding the bytes.
    The peer must send them, and they must hash right."""
    try:
        readable_blob(node, sha256, ANONYMOUS)
        return  # already public here: nothing to prove
    except NotFound:
        pass
    digest = hashlib.sha256()
    with http.stream("GET", f"{site}/api/blobs/{sha256}") as response:
        if response.status_code != 200:
            raise NotFound(f"the peer does not serve blob {sha256} (HTTP {response.status_code})")
        for chunk in response.iter_bytes():
            digest.update(chunk)
    if digest.hexdigest() != sha256:
        raise TransferFailed(f"{site} sent bytes that do not hash to {sha256}")


_locks: dict[str, tuple[threading.Lock, int]] = {}
_locks_guard = threading.Lock()


@contextmanager
def _blob_lock(sha256: str) -> Iterator[None]:
    """A lock per blob, kept only while someone holds or waits for it (counted)."""
    with _locks_guard:
        lock, users = _locks.get(sha256, (threading.Lock(), 0))
        _locks[sha256] = (lock, users + 1)
    try:
        with lock:
            yield
    finally:
        with _locks_guard:
            lock, users = _locks[sha256]
            if users == 1:
                del _locks[sha256]
            else:
                _locks[sha256] = (lock, users - 1)


def _fetch_from_any(node: Node, http: httpx.Client, sites: list[str], sha256: str, attempts: int) -> int:
    """Fetch one blob from the first site that has it; returns its size."""
    last: NodeError = NotFound(f"no peer offers blob {sha256}")
    for site in sites:
        try:
            return fetch_blob(node, site, sha256, attempts=attempts, http=http).size
        except NotFound as exc:
            last = exc
    raise last


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
            lost = [f.sha256 for f in local if not node.blobs.path(f.sha256).is_file()]
            if not lost:
                return Outcome(source, "unchanged", present=len(local), remember=False)
            others = [h for h in blob_holders(node, lost[0]) if h != site]
            fetched, nbytes, present = _fetch_missing(node, http, [site, *others], lost, attempts)
            return Outcome(source, "unchanged", fetched=fetched, fetched_bytes=nbytes, present=len(local) - fetched)
        remote, why = _remote_files(http, site, source.oai_identifier)
        if remote is None:
            return Outcome(source, "skipped", message=why)
        fetched, nbytes, present = _fetch_missing(node, http, [site], [f.sha256 for f in remote], attempts)
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
            version = _current(tx, source.record_id)
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
    for item in wanted:
        if not node.blobs.path(item.sha256).is_file():
            raise NotFound(f"blob {item.sha256} vanished before it was registered")
    tx.execute(delete(files).where(files.c.version_id == version_id))
    holders_here = (node.settings.public_url, site)
    tx.execute(delete(replicas).where(replicas.c.version_id == version_id, replicas.c.holder.in_(holders_here)))
    for item in wanted:
        # The size of the verified bytes, not the one the peer claimed.
        size = node.blobs.path(item.sha256).stat().st_size
        register_blob(tx, item.sha256, size, now)
        tx.execute(
            files.insert().values(
                version_id=version_id,
                key=item.key,
                sha256=item.sha256,
                size=size,
                mimetype=item.mimetype,
                created=now,
            )
        )
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
    tx.execute(update(versions).where(versions.c.id == version_id).values(access_level=level, updated=now))
    search.index_record(tx, record_id)


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
        peer = _peer(conn, name)
        policy = _policy_of(conn, peer)
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
    setattr(report, outcome.status, getattr(report, outcome.status) + 1)
    report.blobs_fetched += outcome.fetched
    report.bytes_fetched += outcome.fetched_bytes
    report.blobs_present += outcome.present
    if outcome.status == "failed" and len(report.errors) < MAX_ERRORS_KEPT:
        report.errors.append({"identifier": outcome.source.oai_identifier, "message": outcome.message or ""})


def replicating_peers(node: Node) -> list[str]:
    with node.engine.connect() as conn:
        return list(
            conn.execute(
                select(peers.c.name)
                .join(replication_policies, replication_policies.c.peer_id == peers.c.id)
                .order_by(peers.c.name)
            ).scalars()
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
