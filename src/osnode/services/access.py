"""The one place that decides what a viewer gets: every route serving metadata or bytes calls here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..domain import access as rules
from ..domain.access import Viewer, files_refusal
from ..domain.errors import Forbidden, NotFound
from ..domain.journals import Standing, may_get_file
from ..domain.records import Access, FileEntry, Version
from .journals.submissions import FileDownload, Submission
from .node import Node
from .records import get_version


def readable_version(node: Node, any_id: str, viewer: Viewer) -> Version:
    """The version's metadata, if the viewer may see it (withdrawn ones raise ``Gone``)."""
    return get_version(node, any_id, viewer)


def files_allowed(node: Node, version: Version, viewer: Viewer, today: date | None = None) -> bool:
    """Whether ``viewer`` may download the version's files on ``today`` (by default the node's today)."""
    return files_refusal(version, viewer, today or node.today()) is None


@dataclass(frozen=True)
class Download:
    version: Version
    entry: FileEntry
    size: int  # of the stored bytes


def download(node: Node, any_id: str, key: str, viewer: Viewer) -> Download:
    """A file the viewer may download; its bytes are ``node.blobs``' blob ``entry.sha256``."""
    version = get_version(node, any_id, viewer)
    entry = version.file(key)
    if entry is None:
        raise NotFound(f"version {version.id} has no file named '{key}'")
    refusal = files_refusal(version, viewer, node.today())
    if refusal:
        raise Forbidden(refusal)
    size = node.blobs.size(entry.sha256)
    if size is None:
        raise NotFound(f"the bytes of '{key}' are missing from this node's store (fixity problem)")
    return Download(version, entry, size)


# -- what moves files to new readers: each refusal is a 403 with the rule's reason ---------------


def ensure_may_copy(node: Node, base: Version, viewer: Viewer) -> None:
    """A new version starting from ``base`` carries its files: only their readers may start it."""
    _refuse(rules.copy_refusal(base, viewer, node.today()))


def ensure_may_set_access(node: Node, draft: Version, new: Access, viewer: Viewer) -> None:
    _refuse(rules.access_change_refusal(draft, new, viewer, node.today()))


def ensure_may_publish(node: Node, draft: Version, previous: Version | None, viewer: Viewer) -> None:
    _refuse(rules.publish_refusal(draft, previous, viewer, node.today()))


# -- journals: a submission's files (before publication they are no record's files) --------------------------


def submission_file(node: Node, standing: Standing, submission: Submission, file_id: int) -> FileDownload:
    """A journal submission's file, if ``domain.journals`` lets this standing have it; else 404 (its existence
    is not told). The journal pages serve every submission file through here."""
    found = next((f for f in submission.files if f.id == file_id), None)
    if found is None or not may_get_file(standing, found.kind, submission.stage):
        raise NotFound("no such file")
    path = node.blobs.path(found.sha256)
    if not path.is_file():
        raise NotFound("the bytes of this file are missing from this node's store (fixity problem)")
    return FileDownload(found.name, found.media_type, path)


def _refuse(refusal: str | None) -> None:
    if refusal:
        raise Forbidden(refusal)
