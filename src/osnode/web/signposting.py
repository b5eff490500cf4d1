"""FAIR Signposting levels 1 and 2 (https://signposting.org/FAIR/): typed links from a landing
page to its persistent identifier, metadata, files, licence and authors, and back from each file.

Level 1 goes in HTTP Link headers (RFC 8288); level 2 is the full set as a linkset (RFC 9264),
in JSON and in its text form. Both are built from the viewer's ``RecordView``, so files the
viewer may not download are never announced.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..domain.identifiers import orcid_url
from ..domain.records import Version
from ..formats import RecordView, registry
from ..formats.kinds import kind_of
from ..formats.links import as_uri, rights_url
from ..services import exports
from ..services.node import Node

LINKSET_JSON = "application/linkset+json"
LINKSET_TEXT = "application/linkset"
ABOUT_PAGE = "https://schema.org/AboutPage"


class Link(NamedTuple):
    href: str
    rel: str
    type: str | None = None
    profile: str | None = None
    anchor: str | None = None

    def header_value(self) -> str:
        value = f'<{as_uri(self.href)}> ; rel="{self.rel}"'
        if self.anchor:
            value += f' ; anchor="{as_uri(self.anchor)}"'
        if self.type:
            value += f' ; type="{self.type}"'
        if self.profile:
            value += f' ; profile="{self.profile}"'
        return value


def linkset_url(node: Node, version: Version) -> str:
    return f"{exports.landing_url(node, version)}/linkset"


def landing_links(node: Node, version: Version, view: RecordView) -> list[Link]:
    """The links of a landing page: what level 1 puts in its Link header."""
    links = [Link(view.pid_url, "cite-as")]
    for export in registry.signposted():
        url = exports.export_url(node, version, export.name)
        links.append(Link(url, "describedby", export.media_type, export.profile))
    for f in view.files:
        links.append(Link(f.download_url, "item", f.mimetype or "application/octet-stream"))
    for rights in view.metadata.rightsList:
        url = rights_url(rights)
        if url:
            links.append(Link(url, "license"))
    for creator in view.metadata.creators:
        if creator.orcid:
            links.append(Link(orcid_url(creator.orcid), "author"))
    links.append(Link(f"https://schema.org/{kind_of(view.kind).schema_org}", "type"))
    links.append(Link(ABOUT_PAGE, "type"))
    links.append(Link(linkset_url(node, version), "linkset", LINKSET_JSON))
    links.append(Link(linkset_url(node, version), "linkset", LINKSET_TEXT))
    return _unique(links)


def file_links(node: Node, version: Version) -> list[Link]:
    """The links of a file URL: back to the landing page it belongs to."""
    return [
        Link(exports.landing_url(node, version), "collection", "text/html"),
        Link(linkset_url(node, version), "linkset", LINKSET_JSON),
    ]


def header(links: list[Link]) -> str:
    return ", ".join(link.header_value() for link in links)


def _unique(links: list[Link]) -> list[Link]:
    return list(dict.fromkeys(links))


def _contexts(node: Node, version: Version, view: RecordView) -> dict[str, list[Link]]:
    """Every link of the record, grouped by the resource it starts from (its anchor)."""
    landing = exports.landing_url(node, version)
    contexts: dict[str, list[Link]] = {
        landing: [link for link in landing_links(node, version, view) if link.rel != "linkset"]
    }
    for export in registry.signposted():
        url = exports.export_url(node, version, export.name)
        contexts[url] = [Link(landing, "describes", "text/html")]
    for f in view.files:
        contexts[f.download_url] = [Link(landing, "collection", "text/html")]
    return contexts


def linkset_json(node: Node, version: Version, view: RecordView) -> dict[str, Any]:
    """The record's links as an RFC 9264 JSON linkset."""
    linkset = []
    for anchor, links in _contexts(node, version, view).items():
        context: dict[str, Any] = {"anchor": anchor}
        for link in links:
            target: dict[str, str] = {"href": link.href}
            if link.type:
                target["type"] = link.type
            if link.profile:
                target["profile"] = link.profile
            context.setdefault(link.rel, []).append(target)
        linkset.append(context)
    return {"linkset": linkset}


def linkset_text(node: Node, version: Version, view: RecordView) -> str:
    """The record's links in the RFC 9264 native format: Link header syntax with anchors."""
    links = [link._replace(anchor=anchor) for anchor, found in _contexts(node, version, view).items() for link in found]
    return ",\n".join(link.header_value() for link in links) + "\n"
