"""Profiles of tabular files (CSV, TSV, Parquet, JSON Lines, Excel) with DuckDB, validated with Frictionless.

A profile is what a reader needs before downloading: the columns and their types, the row count, per-column
statistics (nulls, min/max, approximate distinct count, top values), the first rows, and a validation report.
The file is loaded once into a DuckDB temporary table (spilling to disk when large) and every statistic is an
aggregate over that table, so profiling costs about one read of the file. Frictionless checks only a bounded
sample: its row-by-row Python validation would be far slower than the profile on a large file.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from ..domain.errors import InvalidInput
from .guard import check_file, duckdb_lockdown, scrub_paths
from .limits import too_many_rows

# File name endings -> the format a file is read as. The key's ending decides: blobs have no names.
EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xlsx": "xlsx",
    ".h5ad": "h5ad",
}
TABLE_FORMATS = ("csv", "tsv", "parquet", "jsonl", "xlsx")
TEXT_FORMATS = ("csv", "tsv", "jsonl")

FIRST_ROWS = 20
TOP_VALUES = 5
VALIDATION_SAMPLE_BYTES = 1024 * 1024
VALIDATION_ERRORS = 50
MAX_LINE_BYTES = 2 * 1024 * 1024
MAX_EXCEL_BYTES = 50 * 1024 * 1024
_SCALAR = re.compile(
    r"^(BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|U\w*INT|FLOAT|DOUBLE|DECIMAL|DATE|TIME|TIMESTAMP|VARCHAR|"
    r"UUID|INTERVAL)"
)


def file_format(key: str) -> str | None:
    """The format a file is explored as, from its name; None when it is not explorable."""
    dot = key.rfind(".")
    return EXTENSIONS.get(key[dot:].lower()) if dot > 0 else None


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class TableSource:
    """How DuckDB reads one file: the format, the path of the bytes, and what sniffing decided."""

    fmt: str
    path: Path
    encoding: str = "utf-8"

    def scan(self) -> str:
        """The DuckDB table function reading this file (paths are the node's own, never user input)."""
        path = quote_literal(str(self.path))
        if self.fmt in ("csv", "tsv"):
            delim = ", delim='\\t'" if self.fmt == "tsv" else ""
            return (
                f"read_csv({path}, header=true{delim}, encoding={quote_literal(self.encoding)}, "
                f"max_line_size={MAX_LINE_BYTES}, sample_size=20480)"
            )
        if self.fmt == "jsonl":
            return f"read_json({path}, format='newline_delimited', maximum_object_size={MAX_LINE_BYTES})"
        return f"read_parquet({path})"  # parquet, and Excel once converted to Parquet


def clean_error(
    exc: BaseException, path: Path | None = None, name: str = "the file", names: dict[str, str] | None = None
) -> str:
    """DuckDB's message without the node's internal paths, cut to what a reader can act on."""
    text = str(exc)
    for known, shown in {**(names or {}), **({str(path): name} if path is not None else {})}.items():
        text = text.replace(known, shown)
    text = scrub_paths(text)  # any other path (the data folder, the server's home folder) is never shown
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("LINE ")][:3]
    short = " ".join(lines)
    return short if len(short) <= 400 else short[:400] + "..."


def _head(path: Path, size: int = 65536) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def sniff_text(path: Path, fmt: str) -> str:
    """The text encoding of a CSV/TSV/JSON Lines file (utf-8, utf-16 or latin-1); refuses binary files."""
    head = _head(path)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\x89HDF") or b"\x00" in head:
        raise InvalidInput(f"this file is binary, not a {fmt.upper()} text table")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A character cut at the end of the sample is not an encoding problem.
        if exc.start < len(head) - 4:
            return "latin-1"
    return "utf-8"


def excel_to_parquet(path: Path, out: Path) -> Path:
    """The first sheet of an Excel workbook as Parquet, so DuckDB (without its excel extension) can read it."""
    import zipfile

    import pandas as pd

    if path.stat().st_size > MAX_EXCEL_BYTES:
        raise InvalidInput(
            f"Excel files larger than {MAX_EXCEL_BYTES // 2**20} MB are not profiled; use CSV or Parquet"
        )
    if out.is_file():
        return out
    try:
        frame = pd.read_excel(path, sheet_name=0, engine="openpyxl")
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InvalidInput(f"this file is not a readable Excel (.xlsx) workbook: {exc}") from None
    frame.columns = [str(c) for c in frame.columns]
    for column in frame.columns:
        if frame[column].dtype == object:
            # Mixed cells (numbers and text) become text: Parquet needs one type per column.
            frame[column] = frame[column].map(lambda v: None if v is None or v != v else str(v))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".{uuid.uuid4().hex}.tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(out)
    return out


def derived_path(work_dir: Path, sha256: str, fmt: str) -> Path:
    """Where the Parquet copy of a text table is kept: named by the source's SHA-256 and the format it was read
    as, so it is valid for as long as the bytes are (published bytes never change)."""
    return work_dir / "derived" / f"{sha256}.{fmt}.parquet"


def source_for(
    path: Path, fmt: str, work_dir: Path, sha256: str, encoding: str | None = None, derived: bool = True
) -> TableSource:
    """A readable source for a stored file: a text table's Parquet copy when there is one (``derived``), Excel
    through a cached Parquet copy in ``work_dir``, else the file itself."""
    check_file(path, fmt)
    if fmt == "xlsx":
        return TableSource("parquet", excel_to_parquet(path, work_dir / f"{sha256}.xlsx.parquet"))
    if fmt in TEXT_FORMATS:
        copy = derived_path(work_dir, sha256, fmt)
        if derived and copy.is_file():
            return TableSource("parquet", copy)
        return TableSource(fmt, path, encoding or sniff_text(path, fmt))
    return TableSource(fmt, path)


def _write_copy(con: Any, select_sql: str, out: Path) -> int:
    """Write a query's rows as Parquet to ``out`` (atomically: a reader sees the whole copy or none); its size.
    Snappy, not zstd: on a 50 MB CSV it scans about twice as fast (one thread, as queries run) for a copy of
    about a third of the CSV's size instead of a fifth."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.name}.{uuid.uuid4().hex}.tmp")
    try:
        con.execute(f"COPY ({select_sql}) TO {quote_literal(str(tmp))} (FORMAT parquet, COMPRESSION snappy)")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out.stat().st_size


def derive_parquet(source: TableSource, out: Path, work_dir: Path, max_rows: int | None = None) -> int:
    """Rewrite a text table as Parquet at ``out`` in one read of it, with the types the profile and the
    queries read it with; refused past ``max_rows`` rows. Returns the copy's size in bytes."""
    if source.fmt not in TEXT_FORMATS:
        raise InvalidInput(f"only text tables get a Parquet copy, not {source.fmt.upper()}")
    with profiling_connection(work_dir / "duckdb-tmp") as con:
        duckdb_lockdown(con, [source.path], (work_dir / "duckdb-tmp", out.parent))
        bound = f" LIMIT {max_rows + 1}" if max_rows is not None else ""
        try:
            size = _write_copy(con, f"SELECT * FROM {source.scan()}{bound}", out)
        except duckdb.Error as exc:
            raise InvalidInput(f"the file cannot be read as {source.fmt.upper()}: {clean_error(exc)}") from None
    if max_rows is not None:
        import pyarrow.parquet as pq

        if pq.ParquetFile(out).metadata.num_rows > max_rows:
            out.unlink(missing_ok=True)
            raise too_many_rows("the file", max_rows)
    return size


def jsonable(value: Any) -> Any:
    """A cell as JSON: numbers and text as they are, dates in ISO 8601, anything else as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)


@contextmanager
def profiling_connection(temp_dir: Path, memory_limit: str = "1GB", threads: int = 2) -> Iterator[Any]:
    temp_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "threads": threads,
        "memory_limit": memory_limit,
        "temp_directory": str(temp_dir),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    con = duckdb.connect(":memory:", config=config)
    con.execute("SET enable_progress_bar = false")  # it would write to the server's stdout
    try:
        yield con
    finally:
        con.close()


# Top values: exact GROUP BY for columns with few distinct values (a small hash table), approximate top-k
# then exact counts for middling ones, none for columns that are mostly unique (ids, free text).
EXACT_TOP_DISTINCT = 100_000
MOSTLY_UNIQUE = 0.1


def _column_stats(con: Any, columns: list[tuple[str, str]], rows: int) -> list[dict[str, Any]]:
    exprs: list[str] = []
    scalar = [_SCALAR.match(t) is not None for _, t in columns]
    for (name, _), is_scalar in zip(columns, scalar, strict=True):
        col = quote_ident(name)
        exprs.append(f"count({col})")
        if is_scalar:
            exprs += [f"min({col})::VARCHAR", f"max({col})::VARCHAR", f"approx_count_distinct({col})"]
    values = list(con.execute(f"SELECT {', '.join(exprs)} FROM t").fetchone()) if exprs else []
    stats: list[dict[str, Any]] = []
    for (name, typ), is_scalar in zip(columns, scalar, strict=True):
        entry: dict[str, Any] = {"name": name, "type": typ, "nulls": rows - values.pop(0)}
        if is_scalar:
            entry["min"], entry["max"], entry["distinct"] = (values.pop(0) for _ in range(3))
            entry["top"] = []
        stats.append(entry)
    _top_values(con, stats, rows)
    return stats


def _top_values(con: Any, stats: list[dict[str, Any]], rows: int) -> None:
    middling = []
    for entry in stats:
        distinct = entry.get("distinct")
        if not distinct or (distinct > EXACT_TOP_DISTINCT and distinct > MOSTLY_UNIQUE * rows):
            continue
        col = quote_ident(entry["name"])
        if distinct <= EXACT_TOP_DISTINCT:
            found = con.execute(
                f"SELECT {col}::VARCHAR, count(*) AS n FROM t WHERE {col} IS NOT NULL "
                f"GROUP BY {col} ORDER BY n DESC, 1 LIMIT {TOP_VALUES}"
            ).fetchall()
            entry["top"] = [{"value": v, "count": n} for v, n in found]
        else:
            middling.append(entry)
    if not middling:
        return
    # Approximate top-k on the native type, then the exact count of each candidate, all in two passes.
    tops = con.execute(
        "SELECT " + ", ".join(f"approx_top_k({quote_ident(e['name'])}, {TOP_VALUES})" for e in middling) + " FROM t"
    ).fetchone()
    exprs, params, slots = [], [], []
    for entry, candidates in zip(middling, tops, strict=True):
        for value in candidates or []:
            if value is not None:
                exprs.append(f"count(*) FILTER (WHERE {quote_ident(entry['name'])} = ?)")
                params.append(value)
                slots.append((entry, value))
    counts = con.execute(f"SELECT {', '.join(exprs)} FROM t", params).fetchone() if exprs else []
    for (entry, value), count in zip(slots, counts, strict=True):
        entry["top"].append({"value": str(jsonable(value)), "count": count})
    for entry in middling:
        entry["top"].sort(key=lambda item: -item["count"])


def profile_table(
    source: TableSource,
    work_dir: Path,
    name: str = "the file",
    max_rows: int | None = None,
    derive_to: Path | None = None,
) -> dict[str, Any]:
    """Columns, row count, per-column statistics and first rows, in one load of the file; a table of more
    than ``max_rows`` rows is refused after reading one row past the bound (``explore.limits``). With
    ``derive_to``, the loaded table is also written there as Parquet (``derive_parquet`` without a second read)."""
    if source.path.stat().st_size == 0:
        raise InvalidInput(f"{name} is empty: there is no table to read")
    with profiling_connection(work_dir / "duckdb-tmp") as con:
        allowed = (work_dir / "duckdb-tmp",) + ((derive_to.parent,) if derive_to is not None else ())
        if derive_to is not None:
            derive_to.parent.mkdir(parents=True, exist_ok=True)
        duckdb_lockdown(con, [source.path], allowed)
        try:
            bound = f" LIMIT {max_rows + 1}" if max_rows is not None else ""
            con.execute(f"CREATE TEMP TABLE t AS SELECT * FROM {source.scan()}{bound}")
        except duckdb.Error as exc:
            if source.encoding == "utf-8" and "unicode" in str(exc).lower():
                # A file that is UTF-8 at its start only: read it as Latin-1, which accepts every byte.
                latin = TableSource(source.fmt, source.path, "latin-1")
                return profile_table(latin, work_dir, name, max_rows, derive_to)
            reason = clean_error(exc, source.path, name)
            raise InvalidInput(f"{name} cannot be read as {source.fmt.upper()}: {reason}") from None
        columns = [(row[0], row[1]) for row in con.execute("DESCRIBE t").fetchall()]
        if not columns:
            raise InvalidInput(f"{name} holds no columns")
        rows = con.execute("SELECT count(*) FROM t").fetchone()[0]  # kept by DuckDB: no scan
        if max_rows is not None and rows > max_rows:
            raise too_many_rows(name, max_rows)
        stats = _column_stats(con, columns, rows)
        first = con.execute(f"SELECT * FROM t LIMIT {FIRST_ROWS}").fetchall()
        if derive_to is not None and source.fmt in TEXT_FORMATS:
            _write_copy(con, "SELECT * FROM t", derive_to)
    return {
        "kind": "table",
        "format": source.fmt,
        "encoding": source.encoding if source.fmt in TEXT_FORMATS else None,
        "rows": rows,
        "columns": stats,
        "first_rows": [[jsonable(v) for v in row] for row in first],
    }


def _sample_copy(path: Path, out: Path) -> bool:
    """The first lines of a large text file (whole lines only); True when the sample is the whole file."""
    with path.open("rb") as handle:
        data = handle.read(VALIDATION_SAMPLE_BYTES + 1)
    whole = len(data) <= VALIDATION_SAMPLE_BYTES
    if not whole:
        cut = data.rfind(b"\n", 0, VALIDATION_SAMPLE_BYTES)
        data = data[: cut + 1] if cut > 0 else data[:VALIDATION_SAMPLE_BYTES]
    out.write_bytes(data)
    return whole


def _jsonl_resource(path: Path, encoding: str | None) -> Any:
    """JSON Lines as inline rows (Frictionless reads .jsonl only with extra packages): one column per key."""
    import json

    from frictionless import Resource

    objects = []
    for number, line in enumerate(path.read_text(encoding=encoding or "utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"line {number} is not JSON: {exc}") from None
        if not isinstance(item, dict):
            raise ValueError(f"line {number} is not a JSON object")
        objects.append(item)
    header = list(dict.fromkeys(k for item in objects for k in item))
    rows = [[item.get(k) for k in header] for item in objects]
    return Resource(data=[header, *rows])


def validate_table(path: Path, fmt: str, encoding: str | None = None) -> dict[str, Any]:
    """A Frictionless validation report (wrong types, missing cells, duplicate labels...) of a bounded sample."""
    import frictionless.formats  # the submodule is not imported by frictionless itself
    from frictionless import Resource, system

    check_file(path, fmt)
    if fmt == "parquet":
        return {"valid": True, "sampled": False, "errors": [], "note": "Parquet files carry their own schema"}
    with tempfile.TemporaryDirectory(prefix="osnode-validate-") as tmp:
        whole = True
        target = path
        if fmt in TEXT_FORMATS:
            target = Path(tmp) / f"sample.{fmt}"
            whole = _sample_copy(path, target)
        options: dict[str, Any] = {"format": fmt}
        if encoding and fmt in TEXT_FORMATS:
            options["encoding"] = encoding
        if fmt == "tsv":
            options = {"format": "csv", "control": frictionless.formats.CsvControl(delimiter="\t")}
            if encoding:
                options["encoding"] = encoding
        resource = Resource(str(target), **options) if fmt != "jsonl" else _jsonl_resource(target, encoding)
        try:
            with system.use_context(trusted=True):
                report = frictionless.validate(resource, limit_errors=VALIDATION_ERRORS)
        except Exception as exc:  # frictionless raises many kinds; each is a reason the file is not valid
            return {"valid": False, "sampled": not whole, "errors": [{"type": "error", "message": str(exc)[:300]}]}
    task = report.tasks[0] if report.tasks else None
    errors = [
        {
            "type": e.type,
            "message": e.message[:300],
            "row": getattr(e, "row_number", None),
            "field": getattr(e, "field_name", None),
        }
        for e in (task.errors if task else report.errors)
    ]
    return {
        "valid": report.valid,
        "sampled": not whole,
        "errors": errors,
        "rows_checked": task.stats.get("rows") if task else None,
    }
