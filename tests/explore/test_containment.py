"""No reader of a user's file reaches a byte outside it (SQLite and PostgreSQL, through the real HTTP routes).

A restricted record holds an atlas, a CSV and a Parquet file, each carrying distinctive markers. A depositor
then publishes, as open, files crafted to point at those restricted blobs by every means the formats offer
(HDF5 external links by relative and absolute path, soft links, virtual datasets, external storage; Parquet
column chunks in another file; an Excel workbook with external links or entities; SQL naming files, settings
and the catalog). Every route answers a clear 4xx and no answer holds a marker or a server path.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anndata
import h5py
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from tests.conftest import Account
from tests.explore.conftest import publish, table_bytes, write_current

from osnode.services.node import Node

PROBLEM = "application/problem+json"
SECRET_CATEGORY = "LEAKED-CATEGORY-Q7Z"
SECRET_GENE = "LEAKGENEQ7Z"
SECRET_CELL = "leakcellq7z"
SECRET_TEXT = "LEAKED-TEXT-Q7Z"
SECRET_VALUE = 987654.25
MARKERS = [SECRET_CATEGORY, SECRET_GENE, SECRET_CELL, SECRET_TEXT, "987654"]


def secret_atlas(path: Path) -> Path:
    """A dense atlas whose names and values are all markers."""
    n = 30
    obs = pd.DataFrame(
        {"cell_type": pd.Categorical([SECRET_CATEGORY] * n), "n_counts": np.full(n, SECRET_VALUE)},
        index=[f"{SECRET_CELL}{i}" for i in range(n)],
    )
    x = np.full((n, 2), SECRET_VALUE, dtype=np.float32)
    adata = anndata.AnnData(X=x, obs=obs, var=pd.DataFrame(index=[SECRET_GENE, "GAPDH"]))
    adata.obsm["X_umap"] = np.full((n, 2), SECRET_VALUE, dtype=np.float32)
    adata.write_h5ad(path)
    return path


def secret_parquet() -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"secret": [SECRET_TEXT] * 3, "value": [SECRET_VALUE] * 3}), buffer)
    return buffer.getvalue()


@dataclass
class Secrets:
    vid: str
    atlas: Path
    csv: Path
    parquet: Path
    parquet_bytes: bytes


@pytest.fixture
def secrets(node: Node, depositor: Account, tmp_path: Path) -> Secrets:
    atlas = secret_atlas(tmp_path / "secret.h5ad").read_bytes()
    csv = f"secret,value\n{SECRET_TEXT},{SECRET_VALUE}\n".encode()
    parquet = secret_parquet()
    files = {"secret.h5ad": atlas, "secret.csv": csv, "secret.parquet": parquet}
    vid = publish(node, depositor, files, access={"level": "restricted"})

    def blob(data: bytes) -> Path:
        path = node.blobs.path(hashlib.sha256(data).hexdigest())
        assert path.is_file()
        return path

    return Secrets(vid, blob(atlas), blob(csv), blob(parquet), parquet)


def relative_from_blob(node: Node, target: Path) -> str:
    """The path of ``target`` relative to where any blob is stored (every blob is at the same depth)."""
    return os.path.relpath(target, node.blobs.path("0" * 64).parent)


# -- crafted atlases ------------------------------------------------------------------------------------------


def _external(path: Path, target: str) -> None:
    with h5py.File(path, "w") as f:
        for name in ("obs", "var", "X", "obsm"):
            f[name] = h5py.ExternalLink(target, f"/{name}")


def external_relative(node: Node, s: Secrets, path: Path) -> None:
    _external(path, relative_from_blob(node, s.atlas))


def external_absolute(node: Node, s: Secrets, path: Path) -> None:
    _external(path, str(s.atlas))


def soft_link_to_external(node: Node, s: Secrets, path: Path) -> None:
    """The names AnnData reads are soft links, to an external link tucked away under another name."""
    with h5py.File(path, "w") as f:
        f["hidden"] = h5py.ExternalLink(str(s.atlas), "/")
        for name in ("obs", "var", "X", "obsm"):
            f[name] = h5py.SoftLink(f"/hidden/{name}")


def soft_link_inside(node: Node, s: Secrets, path: Path) -> None:
    """A soft link that stays inside the file: refused too, as no AnnData file needs one."""
    write_current(path, "dense")
    with h5py.File(path, "a") as f:
        f["alias"] = h5py.SoftLink("/obs")


def virtual_dataset(node: Node, s: Secrets, path: Path) -> None:
    """An ordinary atlas whose matrix is a virtual dataset mapping the restricted atlas's matrix."""
    write_current(path, "dense", n=30)
    with h5py.File(s.atlas, "r") as source:
        shape, dtype = source["X"].shape, source["X"].dtype
    layout = h5py.VirtualLayout(shape=(30, 5), dtype=dtype)
    layout[:, : shape[1]] = h5py.VirtualSource(str(s.atlas), "X", shape=shape)
    with h5py.File(path, "a") as f:
        attrs = dict(f["X"].attrs)
        del f["X"]
        x = f.create_virtual_dataset("X", layout, fillvalue=0)
        x.attrs.update(attrs)


def external_storage(node: Node, s: Secrets, path: Path) -> None:
    """An atlas whose matrix's raw bytes are stored in another file: the restricted atlas."""
    write_current(path, "dense", n=30)
    with h5py.File(path, "a") as f:
        attrs = dict(f["X"].attrs)
        del f["X"]
        x = f.create_dataset("X", shape=(30, 5), dtype="u1", external=[(str(s.atlas), 0, 150)])
        x.attrs.update(attrs)


ATLASES: dict[str, Callable[[Node, Secrets, Path], None]] = {
    "external link, relative path": external_relative,
    "external link, absolute path": external_absolute,
    "soft link to an external link": soft_link_to_external,
    "soft link inside the file": soft_link_inside,
    "virtual dataset": virtual_dataset,
    "external storage": external_storage,
}

ATLAS_ROUTES = [
    "/api/records/{v}/files/crafted.h5ad/atlas",
    "/api/records/{v}/files/crafted.h5ad/atlas/plot.png",
    "/api/records/{v}/files/crafted.h5ad/atlas/genes?q=LEAK",
    f"/api/records/{{v}}/files/crafted.h5ad/atlas/expression?field=cell_type&gene={SECRET_GENE}",
    "/api/records/{v}/files/crafted.h5ad/atlas/expression?field=cell_type&gene=CD3E",
    f"/api/records/{{v}}/files/crafted.h5ad/atlas/subset.h5ad?field=cell_type&value={SECRET_CATEGORY}",
    "/api/records/{v}/files/crafted.h5ad/atlas/subset.h5ad?field=cell_type&value=T%20cell",
]


def _no_leak(node: Node, response_body: bytes) -> None:
    for marker in MARKERS:
        assert marker.encode() not in response_body, marker
    assert str(node.settings.data_dir).encode() not in response_body
    assert str(Path.home()).encode() not in response_body


def _refused(node: Node, response: object) -> None:
    status, headers, body = response.status_code, response.headers, response.content  # type: ignore[attr-defined]
    assert 400 <= status < 500, (status, body[:300])
    assert headers["content-type"].startswith(PROBLEM), headers["content-type"]
    _no_leak(node, body)


@pytest.mark.parametrize("case", list(ATLASES))
def test_crafted_atlas_reveals_nothing(
    case: str, node: Node, client: TestClient, depositor: Account, secrets: Secrets, tmp_path: Path
) -> None:
    crafted = tmp_path / "crafted.h5ad"
    ATLASES[case](node, secrets, crafted)
    vid = publish(node, depositor, {"crafted.h5ad": crafted.read_bytes()})
    for route in ATLAS_ROUTES:
        response = client.get(route.format(v=vid))
        _refused(node, response)
        assert "refused" in response.json()["detail"] or "soft link" in response.json()["detail"], route
    page = client.get(f"/records/{vid}/files/crafted.h5ad/explore")
    assert 400 <= page.status_code < 500 and page.headers["content-type"].startswith("text/html")
    _no_leak(node, page.content)
    landing = client.get(f"/records/{vid}")
    assert landing.status_code == 200
    _no_leak(node, landing.content)


def test_the_secret_atlas_itself_is_readable_by_its_owner(
    client: TestClient, depositor: Account, secrets: Secrets
) -> None:
    """The markers are really there: had the crafted files been followed, the tests above would have seen them."""
    summary = client.get(f"/api/records/{secrets.vid}/files/secret.h5ad/atlas", headers=depositor.headers)
    assert summary.status_code == 200 and SECRET_CATEGORY in summary.text
    assert client.get(f"/api/records/{secrets.vid}/files/secret.h5ad/atlas").status_code == 403


# -- tables and SQL ---------------------------------------------------------------------------------------------


def parquet_pointing_at(target: Path, data: bytes) -> bytes:
    """A Parquet footer whose column chunks live in ``target`` (the ``_metadata`` summary-file layout)."""
    metadata = pq.read_metadata(io.BytesIO(data))
    metadata.set_file_path(str(target))
    buffer = io.BytesIO()
    pq.write_metadata(pq.read_schema(io.BytesIO(data)), buffer, metadata_collector=[metadata])
    return buffer.getvalue()


def _xlsx_with(extra: dict[str, bytes], replace: dict[str, bytes] | None = None) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(table_bytes("xlsx")))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for info in source.infolist():
            package.writestr(info.filename, (replace or {}).get(info.filename, source.read(info)))
        for name, data in extra.items():
            package.writestr(name, data)
    return out.getvalue()


def xlsx_external_link(s: Secrets) -> bytes:
    link = (
        b'<?xml version="1.0" encoding="UTF-8"?><externalLink xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><externalBook r:id="rId1"/></externalLink>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'relationships/externalLinkPath" Target="file://{s.csv}" TargetMode="External"/></Relationships>'
    ).encode()
    return _xlsx_with(
        {"xl/externalLinks/externalLink1.xml": link, "xl/externalLinks/_rels/externalLink1.xml.rels": rels}
    )


def xlsx_entity(s: Secrets) -> bytes:
    sheet = zipfile.ZipFile(io.BytesIO(table_bytes("xlsx"))).read("xl/worksheets/sheet1.xml").decode()
    declaration = f'<!DOCTYPE worksheet [<!ENTITY leak SYSTEM "file://{s.csv}">]>'
    head, rest = sheet.split("?>", 1) if sheet.startswith("<?xml") else ("", sheet)
    crafted = (head + "?>" if head else "") + declaration + rest.replace(">Luanda<", ">&leak;<", 1)
    return _xlsx_with({}, {"xl/worksheets/sheet1.xml": crafted.encode()})


def xlsx_bomb(s: Secrets) -> bytes:
    return _xlsx_with({"xl/media/padding.bin": b"\0" * (600 * 1024**2 // 100)})


TABLES: dict[str, tuple[str, Callable[[Secrets], bytes]]] = {
    "parquet with column chunks in another file": (
        "crafted.parquet",
        lambda s: parquet_pointing_at(s.parquet, s.parquet_bytes),
    ),
    "xlsx with an external workbook link": ("crafted.xlsx", xlsx_external_link),
    "xlsx with an external entity": ("crafted.xlsx", xlsx_entity),
    "xlsx that expands far beyond its size": ("crafted.xlsx", xlsx_bomb),
}


@pytest.mark.parametrize("case", list(TABLES))
def test_crafted_table_reveals_nothing(
    case: str, node: Node, client: TestClient, depositor: Account, secrets: Secrets
) -> None:
    key, build = TABLES[case]
    vid = publish(node, depositor, {key: build(secrets)})
    _refused(node, client.get(f"/api/records/{vid}/files/{key}/profile"))
    query = client.get(f"/api/records/{vid}/query", params={"sql": "SELECT * FROM crafted"})
    _refused(node, query)
    page = client.get(f"/records/{vid}/files/{key}/explore")
    assert 400 <= page.status_code < 500
    _no_leak(node, page.content)
    landing = client.get(f"/records/{vid}")
    assert landing.status_code == 200
    _no_leak(node, landing.content)


SQL_ESCAPES = [
    "SELECT * FROM read_csv('{csv}')",
    "SELECT * FROM \"READ_CSV\"('{csv}')",
    "SELECT * FROM Read_Parquet('{parquet}')",
    "SELECT * FROM main.read_csv_auto('{csv}')",
    "SELECT * FROM '{csv}'",
    "SELECT * FROM '{csv_relative}'",
    "SELECT * FROM glob('{blobs}/*/*/*')",
    "SELECT * FROM read_text('{csv}')",
    "SELECT * FROM query('SELECT * FROM read_csv(''{csv}'')')",
    "SELECT * FROM rain AS r, read_blob('{csv}') AS b",
    "WITH t AS (SELECT * FROM read_csv('{csv}')) SELECT * FROM t",
    "SELECT current_setting('home_directory') AS h",
    "SELECT \"CURRENT_SETTING\"('temp_directory') AS h",
    "SELECT main.Current_Setting('allowed_paths') AS h",
    "SELECT getvariable('x') AS h",
    "SELECT sql FROM duckdb_views()",
    "SELECT * FROM duckdb_settings()",
    "SELECT * FROM information_schema.views",
    "SELECT pg_get_viewdef(oid) FROM rain",
    "SELECT current_query() AS q",
    "DESCRIBE rain",
    "SHOW ALL TABLES",
    "SELECT * FROM rain; SELECT * FROM read_csv('{csv}')",
    "COPY (SELECT 1) TO '{blobs}/x.csv'",
    "ATTACH '{blobs}/x.db' AS x",
    "SET enable_external_access = true",
]


@pytest.mark.parametrize("sql", SQL_ESCAPES)
def test_sql_cannot_reach_other_files_settings_or_paths(
    sql: str, node: Node, client: TestClient, depositor: Account, secrets: Secrets
) -> None:
    vid = publish(node, depositor, {"rain.csv": table_bytes("csv")})
    text = sql.format(
        csv=secrets.csv,
        parquet=secrets.parquet,
        csv_relative=relative_from_blob(node, secrets.csv),
        blobs=node.blobs.root,
    )
    for response in (
        client.get(f"/api/records/{vid}/query", params={"sql": text}),
        client.post(f"/api/records/{vid}/query", json={"sql": text, "format": "csv"}),
    ):
        _refused(node, response)
    assert not (node.blobs.root / "x.csv").exists() and not (node.blobs.root / "x.db").exists()


def test_allowed_sql_still_works_with_quotes_case_and_ctes(node: Node, client: TestClient, depositor: Account) -> None:
    vid = publish(node, depositor, {"rain.csv": table_bytes("csv")})
    sql = 'WITH "Wet" AS (SELECT City, "RAIN_MM" FROM "Rain" WHERE rain_mm > 12) SELECT upper(city) FROM wet ORDER BY 1'
    response = client.get(f"/api/records/{vid}/query", params={"sql": sql})
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == [["JAKARTA"], ["LUANDA"], ["LUANDA"]]


def test_query_errors_show_no_server_path(node: Node, client: TestClient, depositor: Account) -> None:
    vid = publish(node, depositor, {"rain.csv": table_bytes("csv")})
    for fmt in ("json", "csv", "parquet"):
        response = client.post(
            f"/api/records/{vid}/query", json={"sql": "SELECT no_such_column FROM rain", "format": fmt}
        )
        _refused(node, response)
        assert "no_such_column" in response.json()["detail"]
