"""Read-only SQL over one record's tables with DuckDB, fenced in by DuckDB's own settings.

Each query gets a fresh in-memory DuckDB whose only views are the record's tables (named after the files).
Before the reader's SQL runs, the connection is locked down: no file access except the record's own blobs
(``enable_external_access=false`` with ``allowed_paths``), no extension install or autoload, and the whole
configuration locked so the SQL cannot undo any of it. A statement check adds a second fence: exactly one
SELECT, and no table functions that read files. A watchdog thread interrupts a query that runs past its time
limit; DuckDB releases the GIL while it works, so the rest of the node keeps answering meanwhile.
"""

from __future__ import annotations

import io
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import duckdb

from ..domain.errors import InvalidInput
from .tables import TableSource, clean_error, jsonable, quote_ident

MAX_SQL_CHARS = 20_000
# Table functions that reach files, the network or other statements: the views are the only way in.
_FORBIDDEN_CALLS = re.compile(
    r"\b(read_\w+|glob|query|query_table|sniff_csv|parquet_\w+|iceberg_\w+|delta_scan|sqlite_\w+|postgres_\w+|"
    r"mysql_\w+|httpfs\w*|from_json\w*|getenv|load_\w+|install_\w+)\s*\(",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Limits:
    seconds: float = 10.0
    rows: int = 1000
    memory: str = "256MB"
    threads: int = 1


@dataclass
class QueryResult:
    columns: list[str]
    types: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool
    seconds: float
    arrow: Any = field(default=None, repr=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "columns": [{"name": n, "type": t} for n, t in zip(self.columns, self.types, strict=True)],
            "rows": [[jsonable(v) for v in row] for row in self.rows],
            "row_count": len(self.rows),
            "truncated": self.truncated,
            "seconds": round(self.seconds, 3),
        }


def view_names(keys: list[str]) -> dict[str, str]:
    """File key -> SQL view name: the name without its extension, lower case, letters, digits and _."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for key in keys:
        stem = key.rsplit(".", 1)[0] if "." in key[1:] else key
        base = re.sub(r"[^a-z0-9_]+", "_", stem.lower()).strip("_") or "t"
        if base[0].isdigit():
            base = f"t_{base}"
        name, n = base, 2
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        taken.add(name)
        names[key] = name
    return names


def check_statement(con: Any, sql: str) -> None:
    """One read-only SELECT, nothing else; refused before anything runs."""
    if len(sql) > MAX_SQL_CHARS:
        raise InvalidInput(f"the query is longer than {MAX_SQL_CHARS} characters")
    if not sql.strip():
        raise InvalidInput("the query is empty")
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise InvalidInput(f"the query is not valid SQL: {clean_error(exc)}") from None
    if len(statements) != 1:
        raise InvalidInput("send exactly one SQL statement")
    if statements[0].type != duckdb.StatementType.SELECT:
        kind = str(statements[0].type).rsplit(".", 1)[-1]
        raise InvalidInput(f"only SELECT queries are allowed here, not {kind}")
    found = _FORBIDDEN_CALLS.search(sql)
    if found:
        raise InvalidInput(f"'{found.group(1)}' is not allowed: query the record's tables through their views instead")


def _connect(sources: dict[str, TableSource], limits: Limits) -> Any:
    config = {
        "threads": limits.threads,
        "memory_limit": limits.memory,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
        "temp_directory": "",
    }
    con = duckdb.connect(":memory:", config=config)
    con.execute("SET enable_progress_bar = false")
    for name, source in sources.items():
        con.execute(f"CREATE VIEW {quote_ident(name)} AS SELECT * FROM {source.scan()}")
    paths = ", ".join("'" + str(s.path).replace("'", "''") + "'" for s in sources.values())
    con.execute(f"SET allowed_paths = [{paths}]")
    con.execute("SET allowed_directories = []")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def run_query(
    sources: dict[str, TableSource], sql: str, limits: Limits = Limits(), as_arrow: bool = False
) -> QueryResult:
    """Run one SELECT over the views; at most ``limits.rows`` rows come back (``truncated`` says if more)."""
    names = {str(s.path): name for name, s in sources.items()}
    try:
        con = _connect(sources, limits)
    except duckdb.Error as exc:
        raise InvalidInput(f"the record's tables cannot be opened for querying: {clean_error(exc)}") from None
    started = time.monotonic()
    timer = threading.Timer(limits.seconds, con.interrupt)
    timer.daemon = True
    try:
        check_statement(con, sql)
        timer.start()
        relation = con.sql(sql).limit(limits.rows + 1)
        columns, types = list(relation.columns), [str(t) for t in relation.types]
        if as_arrow:
            table = relation.to_arrow_table()
            truncated = table.num_rows > limits.rows
            table = table.slice(0, limits.rows)
            return QueryResult(columns, types, [], truncated, time.monotonic() - started, arrow=table)
        rows = relation.fetchall()
        truncated = len(rows) > limits.rows
        return QueryResult(columns, types, rows[: limits.rows], truncated, time.monotonic() - started)
    except duckdb.InterruptException:
        raise InvalidInput(f"the query ran longer than {limits.seconds:g} s and was stopped") from None
    except duckdb.OutOfMemoryException:
        raise InvalidInput(f"the query needs more than {limits.memory} of memory and was stopped") from None
    except duckdb.Error as exc:
        message = clean_error(exc)
        for path, name in names.items():
            message = message.replace(path, name)
        raise InvalidInput(f"the query failed: {message}") from None
    finally:
        timer.cancel()
        con.close()


def to_csv(result: QueryResult) -> bytes:
    import pyarrow.csv as pacsv

    buffer = io.BytesIO()
    pacsv.write_csv(result.arrow, buffer)
    return buffer.getvalue()


def to_parquet(result: QueryResult) -> bytes:
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(result.arrow, buffer)
    return buffer.getvalue()
