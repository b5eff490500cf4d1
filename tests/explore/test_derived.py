"""Derived Parquet copies of text tables: written while the profile loads the file, made on demand when missing,
read by queries with the same answers as the text, remembered when a file cannot be copied, and still behind
the access rules and the query fence."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from tests.conftest import Account
from tests.explore.conftest import publish, table_bytes

from osnode.domain.errors import InvalidInput
from osnode.explore import query as queries
from osnode.explore import tables
from osnode.services import explore
from osnode.services.node import Node
from osnode.storage import profiles

SQL = "SELECT city, count(*) AS n, sum(rain_mm) AS mm FROM people GROUP BY city ORDER BY city NULLS LAST"


def _sha(node: Node, vid: str, key: str, account: Account) -> str:
    version = explore.access.readable_version(node, vid, account.viewer)
    return next(e.sha256 for e in version.files if e.key == key)


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl"])
def test_profile_writes_the_copy_and_queries_read_it(
    node: Node, client: TestClient, depositor: Account, fmt: str
) -> None:
    key = f"people.{fmt}"
    vid = publish(node, depositor, {key: table_bytes(fmt)})
    got = client.get(f"/api/records/{vid}/query", params={"sql": SQL}).json()  # first query: the copy on demand
    sha = _sha(node, vid, key, depositor)
    copy = tables.derived_path(explore.work_dir(node), sha, fmt)
    assert copy.is_file()
    assert pq.ParquetFile(copy).metadata.num_rows == 6
    with node.engine.connect() as conn:
        row = profiles.get_derived(conn, sha, fmt)
    assert row is not None and row.status == "ok" and row.bytes == copy.stat().st_size
    sources = explore.query_sources(node, explore.access.readable_version(node, vid, depositor.viewer))
    assert sources["people"].fmt == "parquet" and sources["people"].path == copy
    # The same answer, column types included, as reading the text itself.
    text = tables.source_for(node.blobs.path(sha), fmt, explore.work_dir(node), sha, derived=False)
    from_text = queries.run_query({"people": text}, SQL).as_json()
    assert got["rows"] == from_text["rows"]
    assert got["rows"] == [["Jakarta", 1, 30.0], ["Lima", 1, None], ["Luanda", 3, 37.5], [None, 1, 2.5]]
    assert got["columns"] == from_text["columns"]
    # The profile of a file whose copy exists is the same as the text's (types, counts, encoding).
    profile = client.get(f"/api/records/{vid}/files/{key}/profile").json()
    assert profile["rows"] == 6 and profile["format"] == fmt


def test_the_profile_job_makes_the_copy_after_publication(node: Node, depositor: Account) -> None:
    vid = publish(node, depositor, {"people.csv": table_bytes("csv")})
    sha = _sha(node, vid, "people.csv", depositor)
    copy = tables.derived_path(explore.work_dir(node), sha, "csv")
    assert not copy.exists()
    assert explore.profile_pending(node) == 1
    assert copy.is_file()
    with node.engine.connect() as conn:
        assert profiles.get_derived(conn, sha, "csv").status == "ok"


def test_a_lost_copy_is_made_again_on_demand(node: Node, client: TestClient, depositor: Account) -> None:
    vid = publish(node, depositor, {"people.csv": table_bytes("csv")})
    explore.profile_pending(node)
    sha = _sha(node, vid, "people.csv", depositor)
    copy = tables.derived_path(explore.work_dir(node), sha, "csv")
    copy.unlink()
    with node.transaction() as tx:
        tx.execute(delete(profiles.derived_copies))
    got = client.get(f"/api/records/{vid}/query", params={"sql": "SELECT count(*) FROM people"})
    assert got.status_code == 200 and got.json()["rows"] == [[6]]
    assert copy.is_file()


def test_a_file_that_cannot_be_copied_is_remembered_and_still_refused_clearly(
    node: Node, client: TestClient, depositor: Account
) -> None:
    bad = b"PK\x03\x04" + bytes(64)  # a zip named .csv: binary, not a text table
    vid = publish(node, depositor, {"bad.csv": bad})
    got = client.get(f"/api/records/{vid}/query", params={"sql": "SELECT * FROM bad"})
    assert 400 <= got.status_code < 500
    sha = _sha(node, vid, "bad.csv", depositor)
    with node.engine.connect() as conn:
        row = profiles.get_derived(conn, sha, "csv")
    assert row is not None and row.status == "error" and "/" not in (row.error or "").replace("<path>", "")
    assert not tables.derived_path(explore.work_dir(node), sha, "csv").exists()
    assert explore.ensure_derived(node, sha, "csv", node.blobs.path(sha), "bad.csv", None) is False


def test_the_copy_keeps_the_row_bound(tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "big.csv"
    source.write_text("n\n" + "".join(f"{i}\n" for i in range(50)))
    out = tmp_path / "derived" / "big.csv.parquet"
    with pytest.raises(InvalidInput):
        tables.derive_parquet(tables.TableSource("csv", source), out, tmp_path, max_rows=10)
    assert not out.exists()
    assert tables.derive_parquet(tables.TableSource("csv", source), out, tmp_path, max_rows=100) > 0
    assert pq.ParquetFile(out).metadata.num_rows == 50


def test_a_restricted_record_is_not_queried_through_its_copy(
    node: Node, client: TestClient, depositor: Account
) -> None:
    vid = publish(node, depositor, {"people.csv": table_bytes("csv")}, access={"level": "restricted"})
    explore.profile_pending(node)
    got = client.get(f"/api/records/{vid}/query", params={"sql": "SELECT count(*) FROM people"})
    assert got.status_code in (401, 403, 404)
    assert "Luanda" not in got.text
