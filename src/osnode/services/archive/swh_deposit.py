"""Forwarding to Software Heritage: export a record's archived software as a deposit package, and import one."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ...domain.access import Viewer
from ...domain.errors import InvalidInput, Unauthorized
from ...domain.records import Version
from ...software import swhdeposit
from ...software.archives import Limits, Unpacked
from ...software.disk import scan_tree
from .. import package_paths
from ..node import Node
from .ingest import ArchiveResult, archive_tree
from .links import DepositLink, deposit_for
from .software_records import attach_archive
from .tarballs import software_tarball_name, write_tarball


def export_deposit(node: Node, viewer: Viewer, any_id: str, out: Path) -> dict[str, Any]:
    """Write a Software Heritage deposit package of a record's archived software into the folder ``out``."""
    version, link = deposit_for(node, any_id, viewer)
    if out.exists() and any(out.iterdir()):
        raise InvalidInput(f"{out} is not empty; choose a new folder for the package")
    out.mkdir(parents=True, exist_ok=True)
    prefix = software_tarball_name(version.metadata, _link_result(link)).removesuffix(".tar.gz")
    with (out / swhdeposit.ARCHIVE_FILE).open("wb") as handle:
        write_tarball(node, link.root_directory, prefix, handle)
    entry = swhdeposit.build_entry(version.metadata, link.origin, node.record_url(version.id), link.swhid)
    archive_file = out / swhdeposit.ARCHIVE_FILE
    manifest = {
        "format": "swh-deposit/1",
        "record": node.record_url(version.id),
        "swhid": link.swhid,
        "root_directory": f"swh:1:dir:{link.root_directory}",
        "head_revision": f"swh:1:rev:{link.head_revision}" if link.head_revision else None,
        "origin": link.origin,
        "files": {
            swhdeposit.ARCHIVE_FILE: {"sha256": node_sha256(archive_file), "size": archive_file.stat().st_size},
            swhdeposit.METADATA_FILE: {"sha256": hashlib.sha256(entry).hexdigest(), "size": len(entry)},
        },
    }
    (out / swhdeposit.METADATA_FILE).write_bytes(entry)
    (out / swhdeposit.MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _link_result(link: DepositLink) -> ArchiveResult:
    return ArchiveResult(link.swhid, link.origin, link.visit, "", link.root_directory, link.head_revision)


def import_deposit(
    node: Node, viewer: Viewer, folder: Path, publish: bool = False, limits: Limits | None = None
) -> tuple[Version, ArchiveResult]:
    """Archive a deposit package (ours, or any ``metadata.xml`` + archive pair) as a Software record."""
    if viewer.user_id is None:
        raise Unauthorized("importing software needs an API token")
    metadata_path, archive_file = folder / swhdeposit.METADATA_FILE, folder / swhdeposit.ARCHIVE_FILE
    if not metadata_path.is_file() or not archive_file.is_file():
        raise InvalidInput(f"{folder} is not a deposit package: it needs {swhdeposit.METADATA_FILE} and an archive")
    # Every file read is one of the package's own, not a link to a file of this machine.
    metadata_path = package_paths.inside(folder, swhdeposit.METADATA_FILE)
    archive_file = package_paths.inside(folder, swhdeposit.ARCHIVE_FILE)
    manifest = _read_manifest(folder)
    files = manifest.get("files") or {}
    if not isinstance(files, dict):
        raise InvalidInput(f"{swhdeposit.MANIFEST_FILE} must map file names to checksums")
    for name, expected in files.items():
        path = package_paths.inside(folder, name)
        if not isinstance(expected, dict) or node_sha256(path) != expected.get("sha256"):
            raise InvalidInput(f"{name} in the package does not match its manifest checksum (damaged in transit?)")
    try:
        meta, origin = swhdeposit.parse_entry(metadata_path.read_bytes())
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    with Unpacked(archive_file, limits) as unpacked:
        tree = scan_tree(unpacked.root)
        expected_dir = manifest.get("root_directory")
        if expected_dir and expected_dir != f"swh:1:dir:{tree.root}":
            raise InvalidInput(f"the package's tree hashes to swh:1:dir:{tree.root}, not the declared {expected_dir}")
        result = archive_tree(
            node, tree, origin or manifest.get("origin") or archive_file.resolve().as_uri(), "deposit"
        )
    return attach_archive(node, viewer, result, meta, None, publish)


def node_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_manifest(folder: Path) -> dict[str, Any]:
    if not (folder / swhdeposit.MANIFEST_FILE).is_file():
        return {}
    path = package_paths.inside(folder, swhdeposit.MANIFEST_FILE)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(f"{path.name} is not valid JSON") from None
    if not isinstance(manifest, dict):
        raise InvalidInput(f"{path.name} must hold an object")
    return manifest
