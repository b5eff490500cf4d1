"""Profiles of every table format, and clear refusals of files that are not readable tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.explore.conftest import table_bytes

from osnode.domain.errors import InvalidInput
from osnode.explore import tables


def profile_of(tmp_path: Path, fmt: str, data: bytes, key: str | None = None) -> dict:
    path = tmp_path / "blob"
    path.write_bytes(data)
    source = tables.source_for(path, fmt, tmp_path / "work", "0" * 64)
    result = tables.profile_table(source, tmp_path / "work", key or f"data.{fmt}")
    result["validation"] = tables.validate_table(path, fmt, result.get("encoding"))
    return result


@pytest.mark.parametrize("fmt", ["csv", "tsv", "parquet", "jsonl", "xlsx"])
def test_each_format_is_profiled(tmp_path: Path, fmt: str) -> None:
    profile = profile_of(tmp_path, fmt, table_bytes(fmt))
    assert profile["rows"] == 6
    columns = {c["name"]: c for c in profile["columns"]}
    assert list(columns) == ["id", "city", "rain_mm"]
    assert columns["city"]["nulls"] == 1
    assert columns["rain_mm"]["nulls"] == 1
    assert float(columns["rain_mm"]["min"]) == 2.5 and float(columns["rain_mm"]["max"]) == 30.0
    assert columns["city"]["distinct"] == 3
    assert columns["city"]["top"][0] == {"value": "Luanda", "count": 3}
    assert "INT" in columns["id"]["type"] or columns["id"]["type"] == "DOUBLE"
    assert len(profile["first_rows"]) == 6 and profile["first_rows"][1][1] == "Jakarta"
    assert profile["validation"]["valid"], profile["validation"]


def test_file_format_by_name() -> None:
    assert tables.file_format("a.CSV") == "csv"
    assert tables.file_format("cells.h5ad") == "h5ad"
    assert tables.file_format("data.ndjson") == "jsonl"
    assert tables.file_format("README") is None
    assert tables.file_format(".csv") is None


def test_validation_reports_duplicate_headers_and_missing_cells(tmp_path: Path) -> None:
    data = b"id,name,age,age\n1,a,3,4\n2,b,5,6\n3,c,7\n"
    profile = profile_of(tmp_path, "csv", data)
    report = profile["validation"]
    assert report["valid"] is False
    types = {e["type"] for e in report["errors"]}
    assert "duplicate-label" in types and "missing-cell" in types


def test_validation_reports_wrong_types(tmp_path: Path) -> None:
    # Frictionless infers integers from the first rows; a word further down is a type error.
    rows = "".join(f"{i},{i * 2}\n" for i in range(200))
    data = ("id,value\n" + rows + "201,lots\n").encode()
    report = profile_of(tmp_path, "csv", data)["validation"]
    assert any(e["type"] == "type-error" for e in report["errors"]), report


def test_latin1_file_is_read_with_its_encoding(tmp_path: Path) -> None:
    data = "name,city\nJosé,São Paulo\nAna,Luanda\n".encode("latin-1")
    profile = profile_of(tmp_path, "csv", data)
    assert profile["encoding"] == "latin-1"
    assert profile["first_rows"][0] == ["José", "São Paulo"]


def test_utf16_file_with_bom(tmp_path: Path) -> None:
    data = "a,b\n1,ü\n".encode("utf-16")
    assert profile_of(tmp_path, "csv", data)["first_rows"] == [[1, "ü"]]


@pytest.mark.parametrize(
    ("fmt", "data", "expected"),
    [
        ("csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "binary"),
        ("csv", b"a,b\n1," + b"x" * 3_000_000 + b"\n2,y\n", "cannot be read as CSV"),
        ("parquet", b"a,b\n1,2\n", "cannot be read as PARQUET"),
        ("jsonl", b'{"a": 1}\n{"a": \n', "cannot be read as JSONL"),
        ("xlsx", b"not a zip at all", "not a readable Excel"),
        ("csv", b"", "is empty"),
    ],
    ids=["binary", "enormous-line", "fake-parquet", "broken-jsonl", "fake-excel", "empty"],
)
def test_bad_tables_get_a_clear_message(tmp_path: Path, fmt: str, data: bytes, expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        profile_of(tmp_path, fmt, data)
    assert expected in caught.value.detail
    assert str(tmp_path) not in caught.value.detail  # the node's paths are not shown


def test_large_file_is_validated_on_a_sample(tmp_path: Path) -> None:
    line = b"1,abcdefghijklmnopqrstuvwxyz,3.5\n"
    data = b"a,b,c\n" + line * (tables.VALIDATION_SAMPLE_BYTES // len(line) + 1000)
    profile = profile_of(tmp_path, "csv", data)
    assert profile["rows"] == data.count(b"\n") - 1
    assert profile["validation"]["sampled"] is True
    assert profile["validation"]["rows_checked"] < profile["rows"]


def test_ragged_csv_is_reported_by_validation(tmp_path: Path) -> None:
    # DuckDB reads what it can of a malformed CSV; the validation report says what is wrong with it.
    data = b"a,b\n1,2\n3,4,5,6\n" + b"7,8\n" * 10
    report = profile_of(tmp_path, "csv", data)["validation"]
    assert report["valid"] is False
    assert any(e["type"] == "extra-cell" and e["row"] == 3 for e in report["errors"]), report
