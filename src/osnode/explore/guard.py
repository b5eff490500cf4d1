"""Containment: a reader of a user's file reaches no byte outside that one file. Decided here, for every format.

Every reader in ``osnode.explore`` calls ``check_file`` before it opens a stored file; the check refuses, with
one clear message, whatever in the file could make a library read somewhere else:

- HDF5 (.h5ad): external links, soft links (none in AnnData; a soft link is how a crafted file redirects a
  name), user-defined links, virtual datasets (VDS: data mapped from other files) and datasets with external
  storage (raw data in another file). The whole link graph is walked with the low-level API (``H5Lvisit``),
  which visits link *records* and never follows a soft or external link.
- Excel (.xlsx, a zip): the zip is checked by the archive member rule shared with source archives (no absolute
  paths, no ``..``, no links, bounded sizes and expansion), then external workbook links and XML document type
  declarations (entities, external DTDs) are refused.
- CSV, TSV, JSON Lines and Parquet hold no references that DuckDB follows; DuckDB itself is confined to the one
  path (``duckdb_lockdown``), so a Parquet file whose column chunks name another file fails to read instead.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import h5py

from ..domain.errors import InvalidInput
from ..software import archives

MAX_HDF5_LINKS = 200_000
# An .xlsx is a zip of XML: generous for real workbooks, far below what a zip bomb would expand to.
XLSX_LIMITS = archives.Limits(
    max_files=10_000, max_total_bytes=512 * 1024**2, max_file_bytes=256 * 1024**2, max_ratio=200
)
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_SCAN_CHUNK = 1024 * 1024


class Uncontained(InvalidInput):
    """The file refers to bytes outside itself; it is refused before any reader follows the reference."""


def check_file(path: Path, fmt: str, name: str = "this file") -> None:
    """Refuse a stored file that could make its reader reach anything outside it (see the module docs)."""
    if fmt == "h5ad":
        check_hdf5(path, name)
    elif fmt == "xlsx":
        check_xlsx(path, name)


# -- HDF5 --------------------------------------------------------------------------------------------


def check_hdf5(path: Path, name: str = "this file") -> None:
    try:
        with h5py.File(path, "r") as handle:
            check_hdf5_handle(handle, name)
    except OSError:
        raise InvalidInput(f"{name} is not a readable HDF5 (.h5ad) file; it may be corrupt or truncated") from None


def check_hdf5_handle(handle: h5py.File, name: str = "this file") -> None:
    """Walk every link of an open HDF5 file without following any but hard links, then every dataset's layout."""
    hard: list[bytes] = []
    refused: list[str] = []

    def visit(link: bytes, info: Any) -> int | None:
        if info.type != h5py.h5l.TYPE_HARD:
            kind = {h5py.h5l.TYPE_SOFT: "a soft link", h5py.h5l.TYPE_EXTERNAL: "an external link"}
            refused.append(f"'{link.decode('utf-8', 'replace')}' is {kind.get(info.type, 'a user-defined link')}")
            return 1  # stop the walk
        hard.append(link)
        return 1 if len(hard) > MAX_HDF5_LINKS else None

    handle.id.links.visit(visit, info=True)
    if refused:
        raise Uncontained(f"{name} is refused: {refused[0]}, which could read data from outside the file")
    if len(hard) > MAX_HDF5_LINKS:
        raise InvalidInput(f"{name} holds more than {MAX_HDF5_LINKS} HDF5 objects, more than this node reads")
    for link in hard:  # every link on the way is hard: opening by name follows nothing else
        obj = h5py.h5o.open(handle.id, link)
        if isinstance(obj, h5py.h5d.DatasetID):
            plist = obj.get_create_plist()
            where = link.decode("utf-8", "replace")
            if plist.get_layout() == h5py.h5d.VIRTUAL:
                raise Uncontained(f"{name} is refused: '{where}' is a virtual dataset, which maps other files' data")
            if plist.get_external_count() > 0:
                raise Uncontained(f"{name} is refused: '{where}' keeps its data in an external file")


# -- Excel --------------------------------------------------------------------------------------------


def check_xlsx(path: Path, name: str = "this file") -> None:
    if not zipfile.is_zipfile(path):
        raise InvalidInput(f"{name} is not a readable Excel (.xlsx) workbook: it is not a zip package")
    try:
        members = archives.inspect(path, XLSX_LIMITS)
    except archives.UnsafeArchive as exc:
        raise Uncontained(f"{name} is refused as an Excel workbook: {exc}") from None
    for member in members:
        if member.kind == "link":
            raise Uncontained(f"{name} is refused: the package member '{member.name}' is a link")
        if member.name.lower().startswith("xl/externallinks/"):
            raise Uncontained(f"{name} is refused: it links to other workbooks ('{member.name}')")
    with zipfile.ZipFile(path) as package:
        for info in package.infolist():
            if info.filename.lower().endswith((".xml", ".rels", ".vml")):
                _refuse_doctype(package, info, name)


def _refuse_doctype(package: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> None:
    tail = b""
    with package.open(info) as stream:
        while chunk := stream.read(_SCAN_CHUNK):
            if _DOCTYPE.search(tail + chunk):
                raise Uncontained(
                    f"{name} is refused: '{info.filename}' declares a document type (entities can read other files)"
                )
            tail = chunk[-16:]


# -- DuckDB -------------------------------------------------------------------------------------------


def duckdb_lockdown(con: Any, paths: list[Path], directories: tuple[Path, ...] = ()) -> None:
    """Confine a DuckDB connection to the given files (and spill directories), then lock its configuration."""
    files = ", ".join(_literal(str(p)) for p in paths)
    folders = ", ".join(_literal(str(d).rstrip("/") + "/") for d in directories)
    con.execute(f"SET allowed_paths = [{files}]")
    con.execute(f"SET allowed_directories = [{folders}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# Absolute paths in a message (the node's data folder, the server's home folder): never shown to a reader.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])(?:~|/)(?:[^\s'\"/,;:()\[\]]+/)*[^\s'\"/,;:()\[\]]*")


def scrub_paths(text: str) -> str:
    """A message with every absolute path replaced by ``<path>``."""
    return _ABSOLUTE_PATH.sub(lambda m: "<path>" if len(m.group(0)) > 1 else m.group(0), text)
