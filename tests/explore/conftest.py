"""Sample tables and atlases for the explore tests, written for real in every format and layout."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import anndata
import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from tests.conftest import Account, minimal_metadata

from osnode.services import deposit
from osnode.services.node import Node

CELL_TYPES = ["T cell", "B cell", "Monocyte"]
GENES = ["CD3E", "MS4A1", "LYZ", "GAPDH", "ACTB"]


def people_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "city": ["Luanda", "Jakarta", "Luanda", "Lima", None, "Luanda"],
            "rain_mm": [12.5, 30.0, 11.0, None, 2.5, 14.0],
        }
    )


def table_bytes(fmt: str) -> bytes:
    frame = people_frame()
    if fmt == "csv":
        return frame.to_csv(index=False).encode()
    if fmt == "tsv":
        return frame.to_csv(index=False, sep="\t").encode()
    if fmt == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    if fmt == "jsonl":
        rows = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        return "".join(json.dumps(r) + "\n" for r in rows).encode()
    if fmt == "xlsx":
        buffer = io.BytesIO()
        frame.to_excel(buffer, index=False, engine="openpyxl")
        return buffer.getvalue()
    raise ValueError(fmt)


def atlas_data(n: int = 300) -> dict[str, Any]:
    """Three clusters in 2-D, a cell type per cluster, and marker genes expressed in their own cluster."""
    rng = np.random.default_rng(7)
    types = np.arange(n) % 3
    centres = np.array([[0.0, 0.0], [8.0, 1.0], [3.0, 7.0]])
    umap = (centres[types] + rng.normal(0, 0.6, (n, 2))).astype(np.float32)
    x = np.zeros((n, len(GENES)), dtype=np.float32)
    for t in range(3):
        x[types == t, t] = rng.uniform(1, 5, (types == t).sum())  # CD3E in T, MS4A1 in B, LYZ in monocytes
    x[:, 3] = rng.uniform(0.5, 2, n)
    x[::5, 4] = 1.0
    return {"types": types, "umap": umap, "x": x, "n": n, "batch": (np.arange(n) % 2).astype(np.int8)}


def write_current(path: Path, encoding: str = "csr", n: int = 300) -> Path:
    """The current layout, written by anndata itself."""
    data = atlas_data(n)
    matrix = {"dense": data["x"], "csr": sp.csr_matrix(data["x"]), "csc": sp.csc_matrix(data["x"])}[encoding]
    obs = pd.DataFrame(
        {
            "cell_type": pd.Categorical.from_codes(data["types"], CELL_TYPES),
            "batch": pd.Categorical.from_codes(data["batch"], ["b1", "b2"]),
            "n_counts": data["x"].sum(axis=1),
            "is_doublet": np.arange(n) % 50 == 0,
        },
        index=[f"cell{i}" for i in range(n)],
    )
    adata = anndata.AnnData(X=matrix, obs=obs, var=pd.DataFrame(index=GENES))
    adata.obsm["X_umap"] = data["umap"]
    adata.obsm["X_pca"] = np.hstack([data["umap"], data["umap"][:, :1] * 0.5]).astype(np.float32)
    adata.write_h5ad(path)
    return path


def write_legacy(path: Path, sparse: bool = True, n: int = 300) -> Path:
    """The anndata < 0.7 layout, by hand: compound obs/var/obsm datasets, categories under uns."""
    data = atlas_data(n)
    with h5py.File(path, "w") as f:
        obs_type = np.dtype([("index", "S10"), ("cell_type", "i1"), ("n_counts", "f4")])
        obs = np.zeros(n, dtype=obs_type)
        obs["index"] = [f"cell{i}".encode() for i in range(n)]
        obs["cell_type"] = data["types"]
        obs["n_counts"] = data["x"].sum(axis=1)
        f.create_dataset("obs", data=obs)
        var = np.zeros(len(GENES), dtype=[("index", "S10")])
        var["index"] = [g.encode() for g in GENES]
        f.create_dataset("var", data=var)
        obsm = np.zeros(n, dtype=[("X_umap", "f4", (2,))])
        obsm["X_umap"] = data["umap"]
        f.create_dataset("obsm", data=obsm)
        f.create_dataset("uns/cell_type_categories", data=np.array([c.encode() for c in CELL_TYPES]))
        if sparse:
            m = sp.csr_matrix(data["x"])
            g = f.create_group("X")
            g.attrs["h5sparse_format"] = "csr"
            g.attrs["h5sparse_shape"] = np.array(m.shape)
            g.create_dataset("data", data=m.data)
            g.create_dataset("indices", data=m.indices)
            g.create_dataset("indptr", data=m.indptr)
        else:
            f.create_dataset("X", data=data["x"])
    return path


def publish(node: Node, account: Account, files: dict[str, bytes], access: dict[str, Any] | None = None) -> str:
    """A published version holding ``files``; returns its id."""
    draft = deposit.create_draft(node, account.viewer, minimal_metadata(), access)
    for key, data in files.items():
        deposit.add_file(node, draft.id, key, [data], account.viewer)
    return deposit.publish(node, draft.id, account.viewer).id


@pytest.fixture
def sample_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "samples"
    folder.mkdir()
    return folder
