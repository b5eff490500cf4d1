"""Software records: a record whose version points at what was archived, with metadata prefilled from the
archived tree (codemeta.json, CITATION.cff) and the tree itself as a tarball file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...domain.access import Viewer
from ...domain.errors import InvalidInput, NotFound, Unauthorized
from ...domain.records import Version
from ...software.archives import Limits, is_archive
from ...software.gitrepo import is_bundle
from .. import deposit, records
from ..node import Node
from .ingest import ArchiveResult, archive_path
from .links import link_version
from .objects import log, prefill_from_archive
from .tarballs import file_chunks, software_tarball_name, tarball_file


def _merge_metadata(node: Node, result: ArchiveResult, given: dict[str, Any] | None) -> dict[str, Any]:
    meta = prefill_from_archive(node, result.root_directory)
    meta.update(given or {})
    if not meta.get("creators") and result.head_revision:
        # Neither codemeta.json, CITATION.cff nor the caller names anyone: the people who wrote the commits do.
        meta["creators"] = commit_authors(node, result.head_revision)
    meta["resourceType"] = {"resourceTypeGeneral": "Software"} | (meta.get("resourceType") or {})
    if not meta.get("titles"):
        meta["titles"] = [{"title": Path(result.origin.rstrip("/")).name or "software"}]
    related = [r for r in meta.get("relatedIdentifiers", []) if r.get("relatedIdentifierType") != "SWHID"]
    related.append(
        {"relatedIdentifier": result.swhid, "relatedIdentifierType": "SWHID", "relationType": "IsIdenticalTo"}
    )
    meta["relatedIdentifiers"] = related
    return meta


COMMITS_READ = 5_000  # enough history to rank the authors of any project a person would archive by hand
MAX_AUTHORS = 100


def commit_authors(node: Node, head: str) -> list[dict[str, Any]]:
    """The distinct authors of the commits behind ``head`` (by name), most commits first, as creators."""
    counts: dict[str, int] = {}
    with node.engine.connect() as conn:
        for row in log(conn, head, COMMITS_READ):
            raw = row.author.decode("utf-8", "replace") if isinstance(row.author, bytes) else str(row.author or "")
            name = raw.split(" <")[0].strip()
            if name:
                counts[name] = counts.get(name, 0) + 1
    # sorted() is stable: equal counts keep the order met in the history, newest first.
    ranked = sorted(counts, key=lambda name: -counts[name])[:MAX_AUTHORS]
    return [{"name": name, "nameType": "Personal"} for name in ranked]


def software_json(node: Node, version: Version, result: ArchiveResult, viewer: Viewer) -> dict[str, Any]:
    """What ``osnode archive --json`` and the API answer."""
    body = records.describe(node, version, viewer)
    body.update(result.as_json())
    body["browse"] = f"{node.settings.public_url}/software/{version.id}"
    return body


def archive_software(
    node: Node,
    viewer: Viewer,
    path: Path,
    refs: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    access: Any = None,
    origin: str | None = None,
    publish: bool = False,
    limits: Limits | None = None,
) -> tuple[Version, ArchiveResult]:
    """Archive ``path`` and make a Software record whose version points at what was archived."""
    if viewer.user_id is None:
        raise Unauthorized("archiving software needs an API token")
    result = archive_path(node, path, refs, origin, limits)
    return attach_archive(node, viewer, result, metadata, access, publish)


def attach_archive(
    node: Node,
    viewer: Viewer,
    result: ArchiveResult,
    metadata: dict[str, Any] | None = None,
    access: Any = None,
    publish: bool = False,
) -> tuple[Version, ArchiveResult]:
    meta = _merge_metadata(node, result, metadata)
    draft = deposit.create_draft(node, viewer, meta, access)
    try:
        name = software_tarball_name(meta, result)
        with tarball_file(node, result.root_directory, name.removesuffix(".tar.gz")) as data:
            deposit.add_file(node, draft.id, name, file_chunks(data), viewer, "application/gzip")
        with node.transaction() as tx:
            link_version(tx, draft.id, result)
        version = deposit.publish(node, draft.id, viewer) if publish else records.get_version(node, draft.id, viewer)
    except BaseException:
        deposit.delete_draft(node, draft.id, viewer)
        raise
    return version, result


def archive_draft_file(node: Node, viewer: Viewer, version_id: str, key: str) -> tuple[Version, ArchiveResult]:
    """Archive a source archive or git bundle already uploaded to a draft, and make the draft point at it."""
    deposit.check_draft_for_upload(node, version_id, key, viewer)
    version = records.get_version(node, version_id, viewer)
    entry = version.file(key)
    if entry is None:
        raise NotFound(f"draft {version_id} has no file named '{key}'")
    # Unpacking reads a file on disk: the blob itself, or its verified copy from the object store.
    with node.blobs.local_path(entry.sha256) as path:
        if not (is_bundle(path) or is_archive(path)):
            raise InvalidInput(f"'{key}' is neither a tar or zip archive nor a git bundle")
        result = archive_path(node, path, origin=f"{node.record_url(version.record_id)}/files/{key}")
    meta = _merge_metadata(node, result, None)
    meta.update({k: v for k, v in version.metadata.items() if k != "relatedIdentifiers"})
    deposit.update_draft(node, version_id, viewer, metadata=meta)
    with node.transaction() as tx:
        link_version(tx, version_id, result)
    return records.get_version(node, version_id, viewer), result
