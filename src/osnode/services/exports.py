"""A record version in each standard format, as the viewer may see it.

Every route that hands out metadata (landing pages, content negotiation, export links, FAIR
Signposting) builds its ``RecordView`` here, so a reader who may not download the files never
finds their URLs in any format.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ..domain.access import Viewer, without_content_addresses
from ..domain.records import FileEntry, Version
from ..formats import RecordView, citation, datacite, dublincore, schemaorg
from . import access
from .node import Node


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1).encode()


@dataclass(frozen=True)
class Export:
    name: str
    """The path segment under ``/records/{id}/export/``."""
    media_type: str
    label: str
    extension: str
    render: Callable[[RecordView], bytes]
    profile: str | None = None

    @property
    def content_type(self) -> str:
        """The media type with a charset where the type does not imply UTF-8 itself."""
        if self.media_type.endswith(("json", "+xml")) or self.media_type == "application/xml":
            return self.media_type
        return f"{self.media_type}; charset=utf-8"


EXPORTS: dict[str, Export] = {
    e.name: e
    for e in (
        Export(
            "datacite-xml",
            "application/vnd.datacite.datacite+xml",
            "DataCite XML",
            "xml",
            datacite.to_xml,
            "http://datacite.org/schema/kernel-4",
        ),
        Export(
            "datacite-json",
            "application/vnd.datacite.datacite+json",
            "DataCite JSON",
            "json",
            lambda v: _json(datacite.to_json(v)),
        ),
        Export("json-ld", "application/ld+json", "JSON-LD", "jsonld", lambda v: _json(schemaorg.to_json_ld(v))),
        Export("bibtex", "application/x-bibtex", "BibTeX", "bib", lambda v: citation.to_bibtex(v).encode()),
        Export(
            "csl-json",
            "application/vnd.citationstyles.csl+json",
            "CSL-JSON",
            "json",
            lambda v: _json(citation.to_csl_json(v)),
        ),
        Export("ris", "application/x-research-info-systems", "RIS", "ris", lambda v: citation.to_ris(v).encode()),
        Export(
            "oai_dc",
            "application/xml",
            "Dublin Core",
            "xml",
            dublincore.to_xml,
            "http://www.openarchives.org/OAI/2.0/oai_dc/",
        ),
    )
}


def landing_url(node: Node, version: Version) -> str:
    return node.record_url(version.id)


def file_url(node: Node, version: Version, entry: FileEntry) -> str:
    return f"{landing_url(node, version)}/files/{quote(entry.key, safe='')}"


def export_url(node: Node, version: Version, name: str) -> str:
    return f"{landing_url(node, version)}/export/{name}"


def record_view(node: Node, version: Version, viewer: Viewer) -> RecordView:
    """The version as ``viewer`` sees it: files (and content addresses) only when the viewer may
    download them."""
    if not access.files_allowed(node, version, viewer):
        version = dataclasses.replace(version, metadata=without_content_addresses(version.metadata), files=[])
    return RecordView.from_version(
        version,
        identifier=landing_url(node, version),
        record_url=node.record_url(version.record_id),
        file_url=lambda entry: file_url(node, version, entry),
        node_name=node.settings.node_name,
        today=node.today(),
    )


def render(view: RecordView, name: str) -> bytes:
    return EXPORTS[name].render(view)
