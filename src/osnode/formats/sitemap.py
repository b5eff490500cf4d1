"""Sitemaps (sitemaps.org protocol 0.9): every published landing page, for search engines."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from lxml import etree

NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
MAX_URLS = 50_000  # the protocol's limit per sitemap file
MEDIA_TYPE = "application/xml"


def _w3c(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def urlset(entries: Iterable[tuple[str, datetime | None]]) -> bytes:
    root = etree.Element(f"{{{NS}}}urlset", nsmap={None: NS})
    for loc, lastmod in entries:
        url = etree.SubElement(root, f"{{{NS}}}url")
        etree.SubElement(url, f"{{{NS}}}loc").text = loc
        if lastmod is not None:
            etree.SubElement(url, f"{{{NS}}}lastmod").text = _w3c(lastmod)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def index(sitemaps: Iterable[str]) -> bytes:
    """A sitemap index, for nodes with more pages than one sitemap may list."""
    root = etree.Element(f"{{{NS}}}sitemapindex", nsmap={None: NS})
    for loc in sitemaps:
        etree.SubElement(etree.SubElement(root, f"{{{NS}}}sitemap"), f"{{{NS}}}loc").text = loc
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")
