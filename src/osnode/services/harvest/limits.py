"""The bounds of one run that follows a peer's pages: every loop that asks a peer for page after
page (resumption tokens, a dump's batches) goes through a ``Guard``.

A peer that hands back the same resumptionToken, pages that bring nothing new, or a list that never
ends would otherwise keep a harvest asking forever (an audit saw 45,934 requests in 300 s, the run
left "running"). The guard stops such a run with ``RunawayHarvest`` - a ``PeerError``, so the run
is recorded as failed with the reason - after a repeated token, after ``idle_pages`` pages in a row
with no record not seen before in the run, or past ``max_requests`` requests or ``max_seconds``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import PeerError

if TYPE_CHECKING:
    from osnode.config import Settings

    from .reading import Page


class RunawayHarvest(PeerError):
    """A run stopped because the peer would keep it going forever (or past its limits)."""


@dataclass(frozen=True)
class Limits:
    max_requests: int
    max_seconds: float
    idle_pages: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(settings.harvest_max_requests, settings.harvest_max_seconds, settings.harvest_idle_pages)


def _fingerprint(identifier: str | None, datestamp: str, deleted: bool) -> int:
    # 8 bytes a record, not its identifier: a run of millions of records stays small in memory.
    digest = hashlib.blake2b(f"{identifier}\x00{datestamp}\x00{deleted}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


class Guard:
    """One run's counters. Thread-safe: a harvest fetches the next page on one thread while it
    reads this one on another."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self.started = clock()
        self.requests = 0
        self.idle = 0
        self._tokens: set[str] = set()
        self._seen: set[int] = set()
        self._lock = threading.Lock()

    def request(self) -> None:
        """Before each request to the peer: refuse one past the limits."""
        with self._lock:
            self.requests += 1
            if self.requests > self.limits.max_requests:
                raise RunawayHarvest(
                    f"stopped after {self.limits.max_requests} requests to the peer in one run"
                    " (harvest_max_requests); the next run goes on from the last page stored"
                )
        self.check_time()

    def check_time(self) -> None:
        elapsed = self.clock() - self.started
        if elapsed > self.limits.max_seconds:
            raise RunawayHarvest(
                f"stopped after {elapsed:.0f} s, longer than harvest_max_seconds ({self.limits.max_seconds:.0f} s);"
                " the next run goes on from the last page stored"
            )

    def seen_token(self, token: str | None) -> bool:
        with self._lock:
            return token is not None and token in self._tokens

    def token(self, token: str | None) -> None:
        """Each resumptionToken the peer hands on (and the one a run resumes with)."""
        if token is None:
            return
        with self._lock:
            if token in self._tokens:
                raise RunawayHarvest(
                    f"the peer sent the resumptionToken '{token[:100]}' a second time in one run:"
                    " its list goes round in a loop; stopped"
                )
            self._tokens.add(token)

    def page(self, page: Page) -> None:
        """After each page: count it idle when it holds no record (nor refused record) the run has
        not seen, yet says the list goes on (a token); refuse the run after ``idle_pages`` idle
        pages in a row. A last page may be empty: an incremental harvest with nothing new."""
        keys: Iterable[int] = [_fingerprint(r.identifier, r.datestamp, r.deleted) for r in page.records] + [
            _fingerprint(p.identifier, "", True) for p in page.problems if p.identifier is not None
        ]
        with self._lock:
            before = len(self._seen)
            self._seen.update(keys)
            self.idle = 0 if len(self._seen) > before or page.token is None else self.idle + 1
            idle = self.idle
        if idle >= self.limits.idle_pages:
            raise RunawayHarvest(
                f"{idle} pages in a row brought no record not seen before in this run (harvest_idle_pages);"
                " the peer's list does not move on; stopped"
            )
        self.check_time()
