"""One harvest of a peer: the reading side (pages fetched and checked ahead, in a worker process
for long harvests) and the writer storing them in order, over OAI-PMH or from an osnode peer's
bulk dump.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Row, select, update

from osnode.services.node import Node, failpoint, utcnow
from osnode.storage.catalog import users
from osnode.storage.peers import peers

from .checking import CheckedPage, read_and_check
from .errors import PeerError
from .leases import released, take_lease
from .limits import Guard, Limits
from .merging import store_page
from .peerclient import Connect, Dump, PeerClient
from .peers import origin_of, peer_row
from .reading import Page
from .runs import Context, RunInfo, note, save_run, start_run

log = logging.getLogger("osnode.harvest")

OWNER = "osnode-harvester"


def _owner(tx: Connection) -> int:
    """Harvested records belong to a system account without tokens, so no person can edit them."""
    found = tx.execute(select(users.c.id).where(users.c.name == OWNER)).scalar()
    if found is not None:
        return found
    return tx.execute(users.insert().values(name=OWNER, role="depositor", created=utcnow())).inserted_primary_key[0]


def _hand_on(page: Page, granularity: str, fallback: str | None) -> str | None:
    """The ``from`` of the next harvest: the peer's clock when this one began, at its granularity."""
    moment = page.response_date
    if not moment:
        return fallback
    return moment[:10] if granularity == "YYYY-MM-DD" else moment[:19] + "Z"


def _context(node: Node, peer: Row, run: RunInfo, publisher: str) -> Context:
    host = (urlsplit(node.settings.public_url).hostname or "localhost").lower()
    with node.transaction() as tx:
        owner_id = _owner(tx)
    return Context(
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
        peer = peer_row(conn, name)
    owner = take_lease(node, peer)
    run = start_run(node, peer)
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
            save_run(tx, run)
            tx.execute(
                update(peers)
                .where(peers.c.id == peer.id)
                .values(last_run_at=run.finished, **released(tx, peer.id, owner))
            )
    return run


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


def _store_all(ctx: Context, pages: Iterator[CheckedPage], state: Callable[[CheckedPage], dict[str, Any]]) -> None:
    """The writer: each page stored in its own transaction with where to go on from."""
    for checked in pages:
        ctx.run.complete_list_size = checked.page.complete_list_size or ctx.run.complete_list_size
        store_page(ctx, checked, state(checked))
        failpoint("harvest.page")  # crash tests stop here, a page stored, to resume from its token
        if ctx.progress is not None:
            ctx.progress(ctx.run)


def _harvest_oai(ctx: Context, client: PeerClient, checker: _Checker, granularity: str, use_dump: bool) -> None:
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
            note(run, None, "the peer no longer knows the saved resumption token; harvest restarted", error=False)
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


def _resume_dump(ctx: Context, client: PeerClient, checker: _Checker) -> bool:
    """Go on with a dump harvest that was cut; False when there is none to go on with."""
    token = ctx.peer.resumption_token
    if not token or not token.startswith(_DUMP_TOKEN):
        return False
    prefix = ctx.peer.pending_prefix or ctx.peer.metadata_prefix or "oai_datacite"
    if _harvest_dump(ctx, client, checker, prefix, after=token.removeprefix(_DUMP_TOKEN) or None):
        return True
    note(ctx.run, None, "the peer's dump is gone; harvest restarted over OAI-PMH", error=False)
    ctx.run.resumed = False
    with ctx.node.transaction() as tx:
        tx.execute(update(peers).where(peers.c.id == ctx.peer.id).values(resumption_token=None))
        ctx.peer = peer_row(tx, ctx.peer.name)
    return False


def _harvest_dump(ctx: Context, client: PeerClient, checker: _Checker, prefix: str, after: str | None = None) -> bool:
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
    note(run, None, "read from the peer's bulk dump (a first, full harvest)", error=False)
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
