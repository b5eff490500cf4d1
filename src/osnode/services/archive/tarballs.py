"""Downloads of an archived directory: reproducible tar.gz files, and the name a software record gives its own."""

from __future__ import annotations

import gzip
import io
import tarfile
import tempfile
from collections.abc import Iterator
from typing import Any, BinaryIO

from sqlalchemy import Connection

from ...software.swhid import PERM_DIR, PERM_EXEC, PERM_LINK
from ..node import Node
from .ingest import ArchiveResult
from .objects import content_row, directory_entries

TARBALL_MTIME = 1_700_000_000  # a fixed time for every member of a downloaded tarball (reproducible)


def write_tarball(node: Node, directory: str, prefix: str, out: BinaryIO) -> None:
    """A reproducible tar.gz of an archived directory: sorted members, fixed times, owners and modes."""
    with (
        gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
        node.engine.connect() as conn,
    ):
        _add_tree(node, conn, tar, directory, prefix)


def tarball(node: Node, directory: str, prefix: str) -> bytes:
    buffer = io.BytesIO()
    write_tarball(node, directory, prefix, buffer)
    return buffer.getvalue()


def tarball_file(node: Node, directory: str, prefix: str) -> BinaryIO:
    """The tarball in a temporary file (trees can be big), positioned at its start; the caller closes it."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, who closes it
    write_tarball(node, directory, prefix, spool)
    spool.seek(0)
    return spool


def file_chunks(handle: BinaryIO) -> Iterator[bytes]:
    yield from iter(lambda: handle.read(1024 * 1024), b"")


def _tarinfo(name: str, kind: bytes, mode: int, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size, info.mtime = kind, mode, size, TARBALL_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _add_tree(node: Node, conn: Connection, tar: tarfile.TarFile, directory: str, prefix: str) -> None:
    tar.addfile(_tarinfo(prefix + "/", tarfile.DIRTYPE, 0o755))
    for entry in sorted(directory_entries(conn, directory), key=lambda e: e.name):
        name = f"{prefix}/{entry.name.decode('utf-8', 'surrogateescape')}"
        if entry.perms == PERM_DIR:
            _add_tree(node, conn, tar, entry.target, name)
        elif entry.kind == "cnt":
            row = content_row(conn, entry.target)
            if row is None:
                continue
            if entry.perms == PERM_LINK:
                info = _tarinfo(name, tarfile.SYMTYPE, 0o777)
                info.linkname = node.blobs.read_bytes(row.sha256).decode("utf-8", "surrogateescape")
                tar.addfile(info)
            else:
                mode = 0o755 if entry.perms == PERM_EXEC else 0o644
                with node.blobs.open(row.sha256) as handle:
                    tar.addfile(_tarinfo(name, tarfile.REGTYPE, mode, row.length), handle)


def software_tarball_name(meta: dict[str, Any], result: ArchiveResult) -> str:
    title = (meta.get("titles") or [{"title": "software"}])[0]["title"]
    stem = "".join(c if c.isalnum() or c in "-_." else "-" for c in title.split(":")[0].strip())[:80] or "software"
    return f"{stem}-{result.root_directory[:12]}.tar.gz"
