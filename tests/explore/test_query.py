"""Read-only SQL over one record's tables: what it may do, and everything it may not."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tests.explore.conftest import table_bytes

from osnode.domain.errors import InvalidInput
from osnode.explore import query, tables


@pytest.fixture
def sources(tmp_path: Path) -> dict[str, tables.TableSource]:
    found = {}
    for fmt in ("csv", "parquet"):
        path = tmp_path / f"blob-{fmt}"
        path.write_bytes(table_bytes(fmt))
        found[f"people_{fmt}"] = tables.source_for(path, fmt, tmp_path, "0" * 64)
    (tmp_path / "secret.csv").write_text("password\nhunter2\n")
    return found


def test_select_join_and_limits(sources: dict[str, tables.TableSource]) -> None:
    result = query.run_query(
        sources,
        "SELECT c.city, count(*) AS n FROM people_csv c JOIN people_parquet p USING (id) "
        "WHERE c.city IS NOT NULL GROUP BY c.city ORDER BY n DESC, c.city",
    )
    assert result.as_json()["rows"] == [["Luanda", 3], ["Jakarta", 1], ["Lima", 1]]
    limited = query.run_query(sources, "SELECT * FROM range(5000)", query.Limits(rows=100))
    assert len(limited.rows) == 100 and limited.truncated
    exported = query.run_query(sources, "SELECT id, city FROM people_csv ORDER BY id", as_arrow=True)
    assert query.to_csv(exported).decode().splitlines()[:2] == ['"id","city"', '1,"Luanda"']
    assert pq.read_table(io.BytesIO(query.to_parquet(exported))).num_rows == 6


def test_view_names() -> None:
    assert query.view_names(["Rain 2020.csv", "rain_2020.parquet", "2021.tsv", "ü.csv"]) == {
        "Rain 2020.csv": "rain_2020",
        "rain_2020.parquet": "rain_2020_2",
        "2021.tsv": "t_2021",
        "ü.csv": "t",
    }


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM read_csv('/etc/passwd')", "not allowed"),
        ("SELECT * FROM read_csv_auto('SECRET')", "not allowed"),
        ("SELECT * FROM glob('/etc/*')", "not allowed"),
        ("SELECT * FROM 'SECRET'", "not one of this record's tables"),
        ("SELECT * FROM '/etc/passwd'", "not one of this record's tables"),
        ("SELECT * FROM read_parquet('https://example.org/x.parquet')", "not allowed"),
        ("ATTACH '/tmp/other.duckdb' AS other", "only SELECT"),
        ("INSTALL httpfs", "only SELECT"),
        ("LOAD httpfs", "only SELECT"),
        ("COPY people_csv TO '/tmp/stolen.csv'", "only SELECT"),
        ("SET enable_external_access = true", "only SELECT"),
        ("PRAGMA enable_profiling", "only SELECT"),
        ("CREATE TABLE x AS SELECT 1", "only SELECT"),
        ("SELECT 1; SELECT 2", "exactly one"),
        ("SELEC nonsense", "not valid SQL"),
        ("", "empty"),
        ("SELECT * FROM query('SELECT 1')", "not allowed"),
        ("SELECT * FROM no_such_table", "not one of this record's tables"),
    ],
)
def test_refused(sources: dict[str, tables.TableSource], tmp_path: Path, sql: str, expected: str) -> None:
    sql = sql.replace("SECRET", str(tmp_path / "secret.csv"))
    with pytest.raises(InvalidInput) as caught:
        query.run_query(sources, sql)
    assert expected in caught.value.detail
    assert "hunter2" not in caught.value.detail


def test_duckdb_itself_refuses_files_when_the_statement_check_is_bypassed(
    sources: dict[str, tables.TableSource], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Second fence: with the statement check switched off, DuckDB's own settings still hold.
    monkeypatch.setattr(query, "check_statement", lambda sql, views: None)
    secret = tmp_path / "secret.csv"
    for sql in (
        f"SELECT * FROM read_csv('{secret}')",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM glob('/etc/*')",
    ):
        with pytest.raises(InvalidInput, match="Permission|disabled"):
            query.run_query(sources, sql)
    for sql in ("SET enable_external_access = true", "SET threads = 8", "RESET lock_configuration"):
        with pytest.raises(InvalidInput, match="locked"):
            query.run_query(sources, sql)
    for sql in (f"ATTACH '{tmp_path / 'other.duckdb'}' AS other", f"COPY people_csv TO '{tmp_path / 'out.csv'}'"):
        with pytest.raises(InvalidInput, match="Permission|disabled"):
            query.run_query(sources, sql)
    assert not (tmp_path / "other.duckdb").exists() and not (tmp_path / "out.csv").exists()
    # The views' own files stay readable.
    assert query.run_query(sources, "SELECT count(*) FROM people_parquet").rows == [(6,)]


@pytest.mark.parametrize(
    "sql",
    [
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
        "SELECT count(*) FROM range(100000000) a, range(100000000) b",
    ],
    ids=["recursive-cte", "cross-join"],
)
def test_run_forever_queries_are_stopped(sources: dict[str, tables.TableSource], sql: str) -> None:
    # Stopped by the watchdog, or by the memory limit first (DuckDB materialises a cross join).
    with pytest.raises(InvalidInput, match="longer than 1 s|more than 256MB"):
        query.run_query(sources, sql, query.Limits(seconds=1))


def test_memory_limit(sources: dict[str, tables.TableSource]) -> None:
    sql = "SELECT list(range) FROM range(50000000)"
    with pytest.raises(InvalidInput, match="memory|longer than"):
        query.run_query(sources, sql, query.Limits(seconds=20, memory="64MB"))
