"""Proactive content negotiation on the Accept header (RFC 9110, section 12.5.1).

Each offered type takes the q-value of the most specific media range that matches it
(``text/html`` beats ``text/*`` beats ``*/*``); the highest q wins and ties go to the server's
order of preference, so ``*/*`` and a missing header get the first offer (the HTML page).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple


class MediaRange(NamedTuple):
    type: str
    subtype: str
    q: float

    @property
    def specificity(self) -> int:
        return (self.type != "*") + (self.subtype != "*")

    def matches(self, media_type: str) -> bool:
        kind, _, sub = media_type.partition("/")
        return self.type in ("*", kind) and self.subtype in ("*", sub)


def _q(value: str) -> float | None:
    try:
        q = float(value)
    except ValueError:
        return None
    return q if 0 <= q <= 1 else None


def parse_accept(header: str) -> list[MediaRange]:
    """The media ranges of an Accept header; a malformed range is left out, not an error."""
    ranges = []
    for part in header.split(","):
        range_, *params = (p.strip() for p in part.split(";"))
        kind, slash, sub = range_.lower().partition("/")
        if not slash or not kind or not sub or (kind == "*" and sub != "*"):
            continue
        q: float | None = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                q = _q(value.strip())
        if q is not None:
            ranges.append(MediaRange(kind, sub, q))
    return ranges


def quality(ranges: Sequence[MediaRange], media_type: str) -> float:
    """How much the client wants ``media_type``: the q of its most specific matching range."""
    best: MediaRange | None = None
    for candidate in ranges:
        if candidate.matches(media_type) and (best is None or candidate.specificity > best.specificity):
            best = candidate
    return best.q if best else 0.0


def choose(header: str | None, offered: Sequence[str]) -> str | None:
    """The offered type to send, or None when the client accepts none of them (406)."""
    if header is None or not header.strip():
        return offered[0]
    ranges = parse_accept(header)
    if not ranges:  # nothing parseable: as if the header were absent (RFC 9110 12.5.1)
        return offered[0]
    best, best_q = None, 0.0
    for media_type in offered:
        q = quality(ranges, media_type)
        if q > best_q:
            best, best_q = media_type, q
    return best
