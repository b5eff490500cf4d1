"""A record version in each standard format, as the viewer may see it.

Every route that hands out metadata (landing pages, content negotiation, export links, FAIR
Signposting) builds its ``RecordView`` here (the formats themselves are declared once, in
``formats.registry``), so a reader who may not download the files never
finds their URLs in any format.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from ..domain.access import Viewer, without_content_addresses
from ..domain.records import FileEntry, Version
from ..formats import RecordView
from ..formats.articles import ARTICLE
from ..formats.registry import FORMATS
from . import access, records
from .harvest.peers import sources_of
from .journals import publishing
from .node import Node

EXPORTS = FORMATS
"""What ``/records/{id}/export/{name}`` serves: every format of the registry, by name."""


def landing_url(node: Node, version: Version) -> str:
    return node.record_url(version.id)


def file_url(node: Node, version: Version, entry: FileEntry) -> str:
    return f"{landing_url(node, version)}/files/{quote(entry.key, safe='')}"


def export_url(node: Node, version: Version, name: str) -> str:
    return f"{landing_url(node, version)}/export/{name}"


def record_view(
    node: Node, version: Version, viewer: Viewer, *, today: date | None = None, stored: bool = False
) -> RecordView:
    """The version as ``viewer`` sees it on ``today`` (by default the node's): files (and content
    addresses) only when the viewer may download them. The one place a ``RecordView`` is built: pages,
    content negotiation, Signposting, feeds and the OAI-PMH provider all come here. ``stored``: the
    metadata is read back as publication stored it, without validating it again (OAI-PMH pages)."""
    today = today or node.today()
    if not access.files_allowed(node, version, viewer, today):
        version = dataclasses.replace(version, metadata=without_content_addresses(version.metadata), files=[])
    view = RecordView.from_version(
        version,
        identifier=landing_url(node, version),
        record_url=node.record_url(version.record_id),
        file_url=lambda entry: file_url(node, version, entry),
        node_name=node.settings.node_name,
        today=today,
        stored=stored,
    )
    if version.origin_node:
        return dataclasses.replace(view, origin_url=origin_url(node, version))
    if view.kind == ARTICLE:  # only articles pay the query (OAI-PMH pages stay fast)
        facts = publishing.journal_of(node, version.record_id)
        return dataclasses.replace(view, journal=facts) if facts else view
    return view


def origin_url(node: Node, version: Version) -> str | None:
    """Where a harvested copy's original lives: the landing page the peer named for it, else the URL its
    metadata gives as an alternate identifier (None for this node's own records)."""
    if not version.origin_node:
        return None
    for source in sources_of(node, version.record_id):
        if source.url:
            return source.url
    for alternate in version.metadata.get("alternateIdentifiers") or []:
        if isinstance(alternate, dict) and str(alternate.get("alternateIdentifierType", "")).upper() == "URL":
            return str(alternate.get("alternateIdentifier") or "") or None
    return None


def render(view: RecordView, name: str) -> bytes:
    return FORMATS[name].write(view)


@dataclass(frozen=True)
class CatalogPage:
    views: list[RecordView]
    next_cursor: str | None


def catalog_page(node: Node, viewer: Viewer, *, size: int, cursor: str | None) -> CatalogPage:
    """One page of the published records, newest first, each as ``viewer`` sees it."""
    page = records.list_records(node, viewer, size=size, cursor=cursor)
    views = [record_view(node, records.get_version(node, item["id"], viewer), viewer) for item in page.items]
    return CatalogPage(views, page.next_cursor)
