"""Metadata in several languages: which title or description a reader sees first.

DataCite lets a record carry the same title or abstract in several languages (``lang`` on each, with
translations marked ``titleType: TranslatedTitle``). A reader in Seoul should see the Korean title first when
there is one; otherwise the record's own main title. Pure functions over Title/Description objects or their
JSON form (mappings), so pages, lists and feeds share one rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
UNTITLED = "(untitled)"


def _get(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


def primary_subtag(tag: str | None) -> str:
    """'pt-BR' -> 'pt', 'zh_Hans' -> 'zh': readers are matched on the language, not the region or script."""
    return (tag or "").replace("_", "-").split("-", 1)[0].strip().lower()


def match_rank(tag: str | None, reader: str | None) -> int:
    """0 exact tag match, 1 same language (other region or script), 2 no match."""
    if not tag or not reader:
        return 2
    if tag.replace("_", "-").lower() == reader.replace("_", "-").lower():
        return 0
    return 1 if primary_subtag(tag) == primary_subtag(reader) else 2


def reader_first(items: Sequence[T], reader: str | None) -> list[T]:
    """``items`` with those in the reader's language first; otherwise the original order is kept (stable)."""
    return sorted(items, key=lambda item: min(match_rank(_get(item, "lang"), reader), 1))


def preferred_title(titles: Sequence[Any], reader: str | None) -> str:
    """The title to show as *the* title: a main or translated title in the reader's language when there is
    one (a main title wins over a translation, an exact tag over a same-language one), else the first main title
    (no titleType), else the first title of any kind."""
    usable = [t for t in titles if _get(t, "title")]
    if not usable:
        return UNTITLED

    def rank(title: Any) -> tuple[int, int]:
        kind = _get(title, "titleType")
        kind_rank = 0 if kind is None else 1 if kind == "TranslatedTitle" else 2
        return match_rank(_get(title, "lang"), reader), kind_rank

    best = min(usable, key=rank)  # min is stable: the first of equals wins
    if match_rank(_get(best, "lang"), reader) < 2 and _get(best, "titleType") in (None, "TranslatedTitle"):
        return _get(best, "title")
    for title in usable:
        if _get(title, "titleType") is None:
            return _get(title, "title")
    return _get(usable[0], "title")


def preferred_title_lang(titles: Sequence[Any], reader: str | None) -> str | None:
    """The ``lang`` of the title :func:`preferred_title` picks (for the ``lang`` attribute around it)."""
    chosen = preferred_title(titles, reader)
    for title in titles:
        if _get(title, "title") == chosen:
            return _get(title, "lang")
    return None
