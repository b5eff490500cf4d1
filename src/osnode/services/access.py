"""The one place that decides what a viewer gets: every route serving metadata or bytes calls here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, select

from ..domain import access as rules
from ..domain.access import Grant, Viewer, files_refusal
from ..domain.errors import Forbidden, NotFound
from ..domain.journals import Standing, may_get_file
from ..domain.records import Access, FileEntry, Role, Version
from ..storage.governance import grants
from . import audit
from .journals.submissions import FileDownload, Submission
from .node import Node
from .records import get_version


def readable_version(node: Node, any_id: str, viewer: Viewer) -> Version:
    """The version's metadata, if the viewer may see it (withdrawn ones raise ``Gone``)."""
    return get_version(node, any_id, viewer)


def _grant_row(row) -> Grant:  # type: ignore[no-untyped-def]
    return Grant(row.id, row.record_id, row.user_id, row.expires, row.revoked_at is not None, row.project)


def grant_of(conn: Connection, version: Version, viewer: Viewer, today: date) -> Grant | None:
    """The grant that decides for ``viewer`` on a managed version: one that holds today, else their latest
    (whose refusal says why it no longer does), else a visa the viewer presented from the record's origin."""
    if not (version.access.managed or viewer.visas) or viewer.user_id is None and not viewer.visas:
        return None
    if viewer.owns(version) or viewer.role is Role.ADMIN:
        return None
    held: list[Grant] = list(v for v in viewer.visas if v.record_id == version.record_id)
    if viewer.user_id is not None:
        query = select(grants).where(grants.c.record_id == version.record_id, grants.c.user_id == viewer.user_id)
        held += [_grant_row(r) for r in conn.execute(query.order_by(grants.c.issued.desc()))]
    return next((g for g in held if g.refusal(version.record_id, today) is None), held[0] if held else None)


def refusal(
    node: Node, version: Version, viewer: Viewer, today: date | None = None, conn: Connection | None = None
) -> str | None:
    """Why ``viewer`` may not get the files of ``version`` (by default on the node's today), or ``None``:
    the domain's rule, given the viewer's grant for a managed record."""
    today = today or node.today()
    if not version.access.managed and not viewer.visas:
        return files_refusal(version, viewer, today)
    if conn is None:
        with node.engine.connect() as own:
            return files_refusal(version, viewer, today, grant_of(own, version, viewer, today))
    return files_refusal(version, viewer, today, grant_of(conn, version, viewer, today))


def files_allowed(node: Node, version: Version, viewer: Viewer, today: date | None = None) -> bool:
    """Whether ``viewer`` may download the version's files on ``today`` (by default the node's today)."""
    return refusal(node, version, viewer, today) is None


def log_use(node: Node, version: Version, viewer: Viewer, action: str, detail: dict[str, object]) -> None:
    """Audit a download or query of managed data (who, what, under which grant); nothing for other data."""
    if not version.access.managed and not viewer.visas:
        return
    today = node.today()
    with node.transaction() as tx:
        grant = grant_of(tx, version, viewer, today)
        detail = {"version": version.id, **detail}
        if grant is not None and grant.user_id is None:
            detail["visa"] = True
        audit.append(
            tx,
            action,
            actor_id=viewer.user_id,
            record_id=version.record_id,
            grant_id=grant.id if grant else None,
            detail=detail,
        )


@dataclass(frozen=True)
class Download:
    version: Version
    entry: FileEntry
    size: int  # of the stored bytes


def download(node: Node, any_id: str, key: str, viewer: Viewer, use: str = "download") -> Download:
    """A file the viewer may download; its bytes are ``node.blobs``' blob ``entry.sha256``. A managed file's use
    (``download``, or ``explore`` for profiles, plots and subsets) is written to the audit log before a byte is
    served."""
    version = get_version(node, any_id, viewer)
    entry = version.file(key)
    if entry is None:
        raise NotFound(f"version {version.id} has no file named '{key}'")
    refused = refusal(node, version, viewer)
    if refused:
        raise Forbidden(refused)
    size = node.blobs.size(entry.sha256)
    if size is None:
        raise NotFound(f"the bytes of '{key}' are missing from this node's store (fixity problem)")
    log_use(node, version, viewer, use, {"file": key})
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
    size = node.blobs.size(found.sha256)
    if size is None:
        raise NotFound("the bytes of this file are missing from this node's store (fixity problem)")
    return FileDownload(found.name, found.media_type, found.sha256, size)


def _refuse(refusal: str | None) -> None:
    if refusal:
        raise Forbidden(refusal)
