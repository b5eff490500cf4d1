"""Read-only SQL over one record's tables with DuckDB, fenced in by DuckDB's own settings.

Each query gets a fresh in-memory DuckDB whose only views are the record's tables (named after the files).
Before the reader's SQL runs, the connection is locked down: no file access except the record's own blobs
(``enable_external_access=false`` with ``allowed_paths``), no extension install or autoload, and the whole
configuration locked so the SQL cannot undo any of it. A statement check, taken on DuckDB's own parse tree
(so quoting, case and schema names cannot disguise a name), adds a second fence: exactly one SELECT whose only
tables are the record's views, no table functions, and no function that reads settings, variables or the
catalog. Error messages never carry a server path. A watchdog thread interrupts a query that runs past its time
limit; DuckDB releases the GIL while it works, so the rest of the node keeps answering meanwhile.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import duckdb

from ..domain.errors import InvalidInput
from .guard import duckdb_lockdown, scrub_paths
from .tables import TableSource, clean_error, jsonable, quote_ident

MAX_SQL_CHARS = 20_000
# Scalar functions that read the node's settings, variables or the query text (which names the blob paths).
_DENIED_FUNCTIONS = frozenset({"current_setting", "getvariable", "getenv", "current_query", "pg_get_viewdef"})
# Parse-tree node types a query may hold besides plain references to the record's views.
_TABLE_REFS_REFUSED = {"TABLE_FUNCTION": "table functions", "SHOW_REF": "SHOW and DESCRIBE"}
# Table functions that compute rows from their arguments alone, reading nothing.
SAFE_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})


def _macros_reading_catalog() -> frozenset[str]:
    """Built-in macros whose body runs a query (over DuckDB's catalog, e.g. view definitions holding paths):
    the parse tree shows only the macro's name, so these are refused by name."""
    con = duckdb.connect(":memory:")
    try:
        rows = con.execute(
            "SELECT DISTINCT lower(function_name) FROM duckdb_functions() WHERE function_type = 'macro' "
            "AND regexp_matches(lower(macro_definition), '\\bselect\\b|current_query|current_setting|duckdb_')"
        ).fetchall()
    finally:
        con.close()
    return frozenset(name for (name,) in rows)


DENIED_FUNCTIONS = _DENIED_FUNCTIONS | _macros_reading_catalog()


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


_parsers = threading.local()


def _parser() -> Any:
    """This thread's empty DuckDB, used only to parse: it holds no table and runs none of the reader's SQL
    (the text is a parameter of ``json_serialize_sql``), so it is kept rather than opened for every query,
    which cost as much as the query itself on a small table."""
    con = getattr(_parsers, "con", None)
    if con is None:
        con = _parsers.con = duckdb.connect(":memory:")
    return con


def check_statement(sql: str, views: set[str]) -> None:
    """One read-only SELECT over the record's views, nothing else; refused before anything runs.

    The decision is taken on DuckDB's own parse tree (``json_serialize_sql``), where quoting, case and
    qualification are already resolved: ``"READ_CSV"(...)``, ``main.Current_Setting(...)`` and ``FROM '/x.csv'``
    all arrive as the plain names they stand for. Only references to the views (or the query's own CTEs) are
    allowed as tables; table functions (but ``SAFE_TABLE_FUNCTIONS``), SHOW/DESCRIBE and the functions in
    ``DENIED_FUNCTIONS`` are refused.
    """
    if len(sql) > MAX_SQL_CHARS:
        raise InvalidInput(f"the query is longer than {MAX_SQL_CHARS} characters")
    if not sql.strip():
        raise InvalidInput("the query is empty")
    con = _parser()
    try:
        statements = con.extract_statements(sql)
        if len(statements) != 1:
            raise InvalidInput("send exactly one SQL statement")
        if statements[0].type != duckdb.StatementType.SELECT:
            kind = str(statements[0].type).rsplit(".", 1)[-1]
            raise InvalidInput(f"only SELECT queries are allowed here, not {kind}")
        tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    except duckdb.Error as exc:
        raise InvalidInput(f"the query is not valid SQL: {clean_error(exc)}") from None
    if tree.get("error") or len(tree.get("statements", ())) != 1:
        raise InvalidInput("only plain SELECT queries over the record's tables are allowed here")
    allowed = {v.lower() for v in views} | _cte_names(tree)
    _walk(tree["statements"][0], allowed)


def _cte_names(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for entry in (node.get("cte_map") or {}).get("map", []):
            found.add(str(entry.get("key", "")).lower())
        for value in node.values():
            found |= _cte_names(value)
    elif isinstance(node, list):
        for value in node:
            found |= _cte_names(value)
    return found


def _walk(node: Any, allowed: set[str]) -> None:
    if isinstance(node, list):
        for value in node:
            _walk(value, allowed)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    called = str((node.get("function") or {}).get("function_name", "")).lower() if kind == "TABLE_FUNCTION" else ""
    if kind in _TABLE_REFS_REFUSED and called not in SAFE_TABLE_FUNCTIONS:
        raise InvalidInput(
            f"{_TABLE_REFS_REFUSED[kind]} are not allowed here: query the record's tables through their views"
        )
    if kind == "BASE_TABLE":
        table = str(node.get("table_name", ""))
        if node.get("schema_name") or node.get("catalog_name") or table.lower() not in allowed:
            shown = ".".join(str(p) for p in (node.get("qualified_name") or {}).get("path", [table]))
            raise InvalidInput(
                f"'{scrub_paths(shown)}' is not one of this record's tables ({', '.join(sorted(allowed)) or 'none'})"
            )
    if "function_name" in node and str(node["function_name"]).lower() in DENIED_FUNCTIONS:
        raise InvalidInput(f"the function '{node['function_name']}' is not allowed here")
    for value in node.values():
        _walk(value, allowed)


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
    duckdb_lockdown(con, [s.path for s in sources.values()])
    return con


def run_query(
    sources: dict[str, TableSource], sql: str, limits: Limits = Limits(), as_arrow: bool = False
) -> QueryResult:
    """Run one SELECT over the views; at most ``limits.rows`` rows come back (``truncated`` says if more)."""
    names = {str(s.path): name for name, s in sources.items()}
    check_statement(sql, set(sources))
    try:
        con = _connect(sources, limits)
    except duckdb.Error as exc:
        raise InvalidInput(
            f"the record's tables cannot be opened for querying: {clean_error(exc, names=names)}"
        ) from None
    started = time.monotonic()
    timer = threading.Timer(limits.seconds, con.interrupt)
    timer.daemon = True
    try:
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
        message = clean_error(exc, names=names)
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
