"""Atom 1.0 (RFC 4287) feeds of records: new records of the whole node, or of any search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from .xmltext import clean

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml"


@dataclass(frozen=True)
class Entry:
    id: str  # an IRI that never changes: the record's concept URL
    title: str
    updated: datetime
    link: str
    authors: Sequence[str] = ()
    summary: str = ""  # plain text
    published: datetime | None = None
    categories: Sequence[str] = field(default_factory=tuple)


def _text(parent: etree._Element, tag: str, value: str, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    element.text = clean(value)
    return element


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def feed(
    feed_id: str, title: str, self_url: str, alternate_url: str, author: str, updated: datetime, entries: list[Entry]
) -> bytes:
    """The feed document. Entries without authors fall back on the feed's author, as RFC 4287 asks."""
    root = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    _text(root, "id", feed_id)
    _text(root, "title", title)
    _text(root, "updated", _stamp(max([updated, *(e.updated for e in entries)])))
    etree.SubElement(root, f"{{{ATOM}}}link", rel="self", href=self_url, type=MEDIA_TYPE)
    etree.SubElement(root, f"{{{ATOM}}}link", rel="alternate", href=alternate_url, type="text/html")
    _text(etree.SubElement(root, f"{{{ATOM}}}author"), "name", author)
    _text(root, "generator", "Open Science Node")
    for item in entries:
        entry = etree.SubElement(root, f"{{{ATOM}}}entry")
        _text(entry, "id", item.id)
        _text(entry, "title", item.title)
        _text(entry, "updated", _stamp(item.updated))
        if item.published:
            _text(entry, "published", _stamp(item.published))
        etree.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=item.link, type="text/html")
        for name in item.authors:
            _text(etree.SubElement(entry, f"{{{ATOM}}}author"), "name", name)
        for term in item.categories:
            etree.SubElement(entry, f"{{{ATOM}}}category", term=clean(term))
        if item.summary:
            _text(entry, "summary", item.summary, type="text")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")
