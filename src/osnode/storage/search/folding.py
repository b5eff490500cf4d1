"""How the index reads text, the same on both engines: words (letters and digits, case and accents folded),
the key a facet value is stored under, and the markers the engines put around matched words, turned into HTML."""

from __future__ import annotations

import html
import re
import unicodedata

VALUE_MAX = 500
# Markers put around matched words by the engines, turned into <mark> after HTML escaping.
START, STOP = "\ue000", "\ue001"
_WORD = re.compile(r"[^\W_]+")


def words(value: str) -> list[str]:
    """The searchable words of ``value``: letters and digits only, lower case, accents removed."""
    folded = unicodedata.normalize("NFKD", value)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    return _WORD.findall(folded)


def mark(raw: str) -> str:
    """HTML for a snippet: the text escaped, the engine's match markers as <mark>."""
    escaped = html.escape(raw, quote=False)
    return escaped.replace(START, "<mark>").replace(STOP, "</mark>")


def fold(facet: str, value: str) -> str:
    """The key a facet value is stored and filtered under: subjects are case-folded, so
    "Statistics" and "statistics" are one facet value; other facets keep their values."""
    return value.casefold()[:VALUE_MAX] if facet == "subject" else value[:VALUE_MAX]


def shorten(value: str, limit: int = 240) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[:limit].rsplit(" ", 1)[0] + " …"
