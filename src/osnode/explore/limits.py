"""Bounds on the work of reading one user file: what a profile, preview or plot may produce before it is refused.

A small file can stand for a great deal of work (a 130 KB workbook of two million cells, a Parquet file of a
hundred million identical rows, a zip whose members inflate a thousandfold), so the bounds are on what the
reader produces — cells, rows, decompressed bytes — and are checked as cheaply as possible before the costly
library (pandas, DuckDB) is given the file. Time and memory are bounded separately, by the child process the
work runs in (``services.explore_worker``).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..domain.errors import InvalidInput

CHUNK = 1024 * 1024
# The start of a cell element in a worksheet's XML, with or without a namespace prefix: <c r="A1" ...>, <c/>,
# <x:c ...>. Other elements starting with "c" (<col>, <cols>, <cfRule>) do not match.
_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")


@dataclass(frozen=True)
class Limits:
    """The bounds of one job; plain values, so they travel to the child process."""

    seconds: int
    cpu_seconds: int
    memory_bytes: int
    max_cells: int
    max_rows: int
    max_unpacked_bytes: int
    max_atlas_cells: int


def _count(number: int) -> str:
    return f"{number:,}"


def check_workbook(path: Path, limits: Limits, name: str) -> int:
    """The cells of an Excel workbook, counted by streaming its XML; refuses past ``max_cells`` cells or
    ``max_unpacked_bytes`` decompressed bytes. The zip's own sizes are not trusted: a crafted archive can lie."""
    cells = 0
    unpacked = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                sheet = info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
                with archive.open(info) as member:
                    pending = b""
                    while chunk := member.read(CHUNK):
                        unpacked += len(chunk)
                        if unpacked > limits.max_unpacked_bytes:
                            raise InvalidInput(
                                f"{name} unpacks to more than {limits.max_unpacked_bytes // 2**20} MB, the most this "
                                "node reads from one workbook (setting explore_max_unpacked_mb); download it instead"
                            )
                        if not sheet:
                            continue
                        # Count up to the last "<" only, so that a tag cut between two chunks is counted once.
                        data = pending + chunk
                        cut = data.rfind(b"<")
                        cut = len(data) if cut < 0 else cut
                        cells += len(_CELL.findall(data, 0, cut))
                        pending = data[cut:]
                        if cells > limits.max_cells:
                            raise InvalidInput(
                                f"{name} has more than {_count(limits.max_cells)} cells, the most this node profiles "
                                "in a workbook (setting explore_max_cells); download it or publish it as CSV or "
                                "Parquet"
                            )
                    cells += len(_CELL.findall(pending))
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        raise InvalidInput(f"{name} is not a readable Excel (.xlsx) workbook: {exc}") from None
    if cells > limits.max_cells:
        raise InvalidInput(
            f"{name} has more than {_count(limits.max_cells)} cells, the most this node profiles in a workbook "
            "(setting explore_max_cells); download it or publish it as CSV or Parquet"
        )
    return cells


def check_parquet(path: Path, limits: Limits, name: str) -> int:
    """The rows a Parquet file declares in its footer (read without decoding any page); refuses past
    ``max_rows``. A footer that understates its rows is caught by the row bound of the profile itself."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        rows = pq.ParquetFile(path).metadata.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInput(f"{name} is not a readable Parquet file: {str(exc)[:200]}") from None
    if rows > limits.max_rows:
        raise too_many_rows(name, limits.max_rows)
    return rows


def too_many_rows(name: str, max_rows: int) -> InvalidInput:
    return InvalidInput(
        f"{name} has more than {_count(max_rows)} rows, the most this node profiles in one table "
        "(setting explore_max_rows); download it instead"
    )


def check_atlas_cells(n_obs: int, limits: Limits, name: str) -> None:
    if n_obs > limits.max_atlas_cells:
        raise InvalidInput(
            f"{name} has {_count(n_obs)} cells, more than the {_count(limits.max_atlas_cells)} this node explores "
            "in one atlas (setting explore_max_atlas_cells); download it instead"
        )
