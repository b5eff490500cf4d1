"""The one place that decides what a viewer gets: every route serving metadata or bytes calls here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..domain.access import Viewer, files_refusal
from ..domain.errors import Forbidden, NotFound
from ..domain.records import FileEntry, Version
from .node import Node
from .records import get_version


def readable_version(node: Node, any_id: str, viewer: Viewer) -> Version:
    """The version's metadata, if the viewer may see it (withdrawn ones raise ``Gone``)."""
    return get_version(node, any_id, viewer)


def files_allowed(node: Node, version: Version, viewer: Viewer) -> bool:
    return files_refusal(version, viewer, node.today()) is None


@dataclass(frozen=True)
class Download:
    version: Version
    entry: FileEntry
    path: Path


def download(node: Node, any_id: str, key: str, viewer: Viewer) -> Download:
    """A file the viewer may download, with where its bytes are."""
    version = get_version(node, any_id, viewer)
    entry = version.file(key)
    if entry is None:
        raise NotFound(f"version {version.id} has no file named '{key}'")
    refusal = files_refusal(version, viewer, node.today())
    if refusal:
        raise Forbidden(refusal)
    path = node.blobs.path(entry.sha256)
    if not path.is_file():
        raise NotFound(f"the bytes of '{key}' are missing from this node's store (fixity problem)")
    return Download(version, entry, path)
