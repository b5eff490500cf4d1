"""The node's software archive: a Software Heritage-compatible graph of what was archived, and the records that
point at it. Each module holds one concern:

- ``ingest``: archiving git repositories, bundles, source archives and trees into the graph tables;
- ``graph_rows``: the rows one archive run adds, and writing them with the visit;
- ``objects``: read queries over the graph and the JSON view of an object;
- ``tarballs``: reproducible downloads of an archived directory;
- ``links``: the link from a record version to what it archived;
- ``software_records``: software records made from an archive run;
- ``swh_deposit``: Software Heritage deposit packages, exported and imported;
- ``visibility``: who may see an archived object (walks up the graph to a readable deposit).

The names callers use are re-exported here, so ``archive.X`` keeps working.
"""

from __future__ import annotations

from .ingest import ArchiveResult, ContentWriters, archive_path, archive_tree
from .links import DepositLink, deposit_for, deposit_link
from .objects import (
    branch_revision,
    content_row,
    directory_entries,
    log,
    lookup_path,
    object_json,
    object_type,
    parents,
    prefill_from_archive,
    read_content,
    release,
    revision,
    snapshot_branches,
)
from .software_records import archive_draft_file, archive_software, attach_archive, software_json
from .swh_deposit import export_deposit, import_deposit, node_sha256
from .tarballs import TARBALL_MTIME, file_chunks, software_tarball_name, tarball, tarball_file, write_tarball
from .visibility import VISIBILITY_WALK_LIMIT, reachable_from, resolve_swhid, visible

__all__ = [
    "TARBALL_MTIME",
    "VISIBILITY_WALK_LIMIT",
    "ArchiveResult",
    "ContentWriters",
    "DepositLink",
    "archive_draft_file",
    "archive_path",
    "archive_software",
    "archive_tree",
    "attach_archive",
    "branch_revision",
    "content_row",
    "deposit_for",
    "deposit_link",
    "directory_entries",
    "export_deposit",
    "file_chunks",
    "import_deposit",
    "log",
    "lookup_path",
    "node_sha256",
    "object_json",
    "object_type",
    "parents",
    "prefill_from_archive",
    "read_content",
    "reachable_from",
    "release",
    "resolve_swhid",
    "revision",
    "snapshot_branches",
    "software_json",
    "software_tarball_name",
    "tarball",
    "tarball_file",
    "visible",
    "write_tarball",
]
