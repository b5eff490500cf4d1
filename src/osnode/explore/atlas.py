"""Cell atlases (.h5ad, AnnData on HDF5) read lazily with h5py, in both on-disk layouts.

The current layout (anndata >= 0.7) marks every element with ``encoding-type`` attributes: ``obs`` is a group
of columns, a categorical column a group of ``codes`` and ``categories``, ``X`` a dense dataset or a
``csr_matrix``/``csc_matrix`` group. The old layout (anndata < 0.7) stores ``obs``, ``var`` and ``obsm`` as
compound datasets (one field per column) and a categorical column's categories in ``uns/<column>_categories``.
An atlas can hold millions of cells: nothing here reads the whole matrix; the matrix, embeddings and columns
are read in row chunks, and only the columns (genes) asked for are kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..domain.errors import InvalidInput
from .guard import check_hdf5_handle

CHUNK_ROWS = 1_000_000
MAX_CATEGORIES = 1000
MAX_GENES = 20
EMBEDDING_NAMES = ("X_umap", "X_tsne", "X_pca", "X_draw_graph_fa", "X_phate", "X_diffmap", "X_spatial")


def _text(values: Any) -> list[str]:
    return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in values]


def _attr(node: Any, name: str, default: Any = None) -> Any:
    value = node.attrs.get(name, default)
    return value.decode() if isinstance(value, bytes) else value


@dataclass(frozen=True)
class Column:
    """One obs (or var) column: ``categories`` is set for categorical (and boolean) columns."""

    name: str
    kind: str  # "categorical", "numeric" or "text"
    categories: list[str] | None = None


class Atlas:
    """An open .h5ad file; use as a context manager so the HDF5 handle is closed."""

    def __init__(self, path: Path) -> None:
        try:
            self.file = h5py.File(path, "r")
        except OSError:
            raise InvalidInput(
                "this file is not a readable HDF5 (.h5ad) file; it may be corrupt or truncated"
            ) from None
        try:
            # Before any name is read: a link or mapping out of the file would be followed by h5py.
            check_hdf5_handle(self.file)
            self._check()
        except InvalidInput:
            self.file.close()
            raise
        except (KeyError, ValueError, OSError, TypeError, IndexError) as exc:
            self.file.close()
            raise InvalidInput(f"this .h5ad file does not have the AnnData structure: {exc}") from None

    def __enter__(self) -> Atlas:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.file.close()

    # -- structure ------------------------------------------------------------------------------------

    def _check(self) -> None:
        f = self.file
        if "obs" not in f or "var" not in f:
            raise InvalidInput("this HDF5 file is not an AnnData (.h5ad) file: it has no obs and var")
        self.legacy = isinstance(f["obs"], h5py.Dataset)
        self.n_obs, self.n_vars = self._shape()
        self.x_encoding = self._x_encoding()

    def _shape(self) -> tuple[int, int]:
        f = self.file
        if "X" in f:
            x = f["X"]
            if isinstance(x, h5py.Dataset):
                return int(x.shape[0]), int(x.shape[1]) if x.ndim > 1 else 1
            shape = x.attrs.get("shape", x.attrs.get("h5sparse_shape"))
            if shape is not None:
                return int(shape[0]), int(shape[1])
        return self._frame_length("obs"), self._frame_length("var")

    def _frame_length(self, frame: str) -> int:
        node = self.file[frame]
        if isinstance(node, h5py.Dataset):
            return int(node.shape[0])
        return int(node[_attr(node, "_index", "_index")].shape[0])

    def _x_encoding(self) -> str | None:
        if "X" not in self.file:
            return None
        x = self.file["X"]
        if isinstance(x, h5py.Dataset):
            return "dense"
        kind = _attr(x, "encoding-type") or (_attr(x, "h5sparse_format", "") + "_matrix")
        if kind not in ("csr_matrix", "csc_matrix"):
            raise InvalidInput(f"X is stored as '{kind}', which this node cannot read")
        return kind

    # -- data frames (obs, var) ----------------------------------------------------------------------

    def column_names(self, frame: str = "obs") -> list[str]:
        node = self.file[frame]
        if isinstance(node, h5py.Dataset):
            return [n for n in (node.dtype.names or ()) if n != "index"]
        order = node.attrs.get("column-order", [])
        return _text(np.atleast_1d(order)) if len(np.atleast_1d(order)) else []

    def index(self, frame: str = "obs", rows: Any = slice(None)) -> list[str]:
        node = self.file[frame]
        if isinstance(node, h5py.Dataset):
            return _text(node.fields("index")[rows]) if "index" in (node.dtype.names or ()) else []
        return self._strings(node[_attr(node, "_index", "_index")], rows)

    def _strings(self, ds: h5py.Dataset, rows: Any = slice(None)) -> list[str]:
        if ds.dtype.kind == "O":
            return list(ds.asstr()[rows])
        return _text(ds[rows])

    def column(self, name: str, frame: str = "obs") -> Column:
        node = self.file[frame]
        if name not in self.column_names(frame):
            raise InvalidInput(f"{frame} has no column '{name}'")
        if isinstance(node, h5py.Dataset):
            cats_key = f"uns/{name}_categories"
            if cats_key in self.file:
                return Column(name, "categorical", _text(self.file[cats_key][:]))
            dtype = node.dtype[name]
        else:
            item = node[name]
            if isinstance(item, h5py.Group):
                if _attr(item, "encoding-type") != "categorical":
                    return Column(name, "text")
                return Column(name, "categorical", self._strings(item["categories"]))
            if "categories" in item.attrs:  # anndata 0.7: codes with a reference to their categories
                return Column(name, "categorical", self._strings(self.file[item.attrs["categories"]]))
            dtype = item.dtype
        if dtype.kind == "b":
            return Column(name, "categorical", ["False", "True"])
        return Column(name, "numeric" if dtype.kind in "iuf" else "text")

    def _raw_column(self, name: str, frame: str, rows: slice) -> np.ndarray:
        node = self.file[frame]
        if isinstance(node, h5py.Dataset):
            return node.fields(name)[rows]
        item = node[name]
        return item["codes"][rows] if isinstance(item, h5py.Group) else item[rows]

    def codes(self, name: str, frame: str = "obs") -> tuple[np.ndarray, list[str]]:
        """A categorical column as integer codes (-1 = missing) and its categories."""
        col = self.column(name, frame)
        if col.categories is None:
            raise InvalidInput(f"column '{name}' is not categorical")
        length = self.n_obs if frame == "obs" else self.n_vars
        out = np.empty(length, dtype=np.int32)
        for start in range(0, length, CHUNK_ROWS):
            chunk = slice(start, min(start + CHUNK_ROWS, length))
            out[chunk] = self._raw_column(name, frame, chunk).astype(np.int32)
        return out, col.categories

    def numeric(self, name: str, frame: str = "obs", rows: Any = slice(None)) -> np.ndarray:
        return np.asarray(self._raw_column(name, frame, rows))

    # -- embeddings ----------------------------------------------------------------------------------

    def embeddings(self) -> list[str]:
        if "obsm" not in self.file:
            return []
        obsm = self.file["obsm"]
        if isinstance(obsm, h5py.Dataset):
            names = [n for n in (obsm.dtype.names or ()) if obsm.dtype[n].shape and obsm.dtype[n].shape[0] >= 2]
        else:
            names = [n for n, d in obsm.items() if isinstance(d, h5py.Dataset) and d.ndim == 2 and d.shape[1] >= 2]
        return sorted(names, key=lambda n: (EMBEDDING_NAMES.index(n) if n in EMBEDDING_NAMES else 99, n))

    def embedding_chunks(self, basis: str, dtype: Any = np.float64) -> Iterator[tuple[slice, np.ndarray]]:
        """The first two dimensions of an embedding, in row chunks."""
        if basis not in self.embeddings():
            raise InvalidInput(
                f"this atlas has no embedding '{basis}'; it has {', '.join(self.embeddings()) or 'none'}"
            )
        obsm = self.file["obsm"]
        for start in range(0, self.n_obs, CHUNK_ROWS):
            rows = slice(start, min(start + CHUNK_ROWS, self.n_obs))
            legacy = isinstance(obsm, h5py.Dataset)
            block = obsm.fields(basis)[rows][:, :2] if legacy else obsm[basis][rows, :2]
            yield rows, np.asarray(block, dtype=dtype)

    def embedding_bounds(self, basis: str) -> list[float]:
        lo = np.array([np.inf, np.inf])
        hi = -lo
        for _, block in self.embedding_chunks(basis):
            finite = block[np.isfinite(block).all(axis=1)]
            if len(finite):
                lo, hi = np.minimum(lo, finite.min(axis=0)), np.maximum(hi, finite.max(axis=0))
        if not np.isfinite(lo).all():
            return [0.0, 1.0, 0.0, 1.0]
        return [float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])]

    # -- genes and the matrix ------------------------------------------------------------------------

    def var_names(self) -> list[str]:
        return self.index("var")

    def gene_indices(self, genes: list[str]) -> list[int]:
        names = {name: i for i, name in enumerate(self.var_names())}
        lower = {name.lower(): i for name, i in names.items()}
        missing = [g for g in genes if g not in names and g.lower() not in lower]
        if missing:
            raise InvalidInput(f"this atlas has no gene named {', '.join(repr(g) for g in missing)}")
        return [names.get(g, lower.get(g.lower(), 0)) for g in genes]

    def search_genes(self, query: str, limit: int = 50) -> list[str]:
        needle = query.strip().lower()
        names = self.var_names()
        starts = [n for n in names if n.lower().startswith(needle)]
        inside = [n for n in names if needle in n.lower() and not n.lower().startswith(needle)]
        return (starts + inside)[:limit]

    def gene_values(self, columns: list[int]) -> np.ndarray:
        """Expression of the given genes for every cell (cells x genes, float32), read chunk by chunk."""
        if self.x_encoding is None:
            raise InvalidInput("this atlas has no expression matrix X")
        if len(columns) > MAX_GENES:
            raise InvalidInput(f"ask for at most {MAX_GENES} genes at a time")
        out = np.zeros((self.n_obs, len(columns)), dtype=np.float32)
        x = self.file["X"]
        if self.x_encoding == "dense":
            # HDF5 selections need increasing, distinct columns: read those, then put them in the asked order.
            distinct = sorted(set(columns))
            back = [distinct.index(j) for j in columns]
            step = max(1, CHUNK_ROWS // 10)
            for start in range(0, self.n_obs, step):
                rows = slice(start, min(start + step, self.n_obs))
                out[rows] = x[rows, distinct][:, back]
        elif self.x_encoding == "csc_matrix":
            indptr = x["indptr"]
            for k, j in enumerate(columns):
                a, b = int(indptr[j]), int(indptr[j + 1])
                out[x["indices"][a:b], k] = x["data"][a:b]
        else:
            self._csr_columns(x, columns, out)
        return out

    def _csr_columns(self, x: h5py.Group, columns: list[int], out: np.ndarray) -> None:
        indptr = x["indptr"][:]
        wanted = np.asarray(columns)
        position = {j: k for k, j in enumerate(columns)}
        step = 8_000_000  # stored values per chunk
        total = int(indptr[-1])
        for a in range(0, total, step):
            b = min(a + step, total)
            indices = x["indices"][a:b]
            hit = np.isin(indices, wanted)
            if not hit.any():
                continue
            where = np.nonzero(hit)[0]
            rows = np.searchsorted(indptr, where + a, side="right") - 1
            data = x["data"][a:b][where]
            cols = np.array([position[int(j)] for j in indices[where]])
            out[rows, cols] = data

    def nnz(self) -> int | None:
        if self.x_encoding in ("csr_matrix", "csc_matrix"):
            return int(self.file["X"]["data"].shape[0])
        return None

    # -- summary -------------------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        fields = []
        for name in self.column_names("obs"):
            col = self.column(name)
            entry: dict[str, Any] = {"name": name, "kind": col.kind}
            if col.categories is not None:
                codes, cats = self.codes(name)
                counts = np.bincount(codes[codes >= 0], minlength=len(cats))
                entry["n_categories"] = len(cats)
                entry["categories"] = [
                    {"name": c, "count": int(n)} for c, n in list(zip(cats, counts, strict=False))[:MAX_CATEGORIES]
                ]
            elif col.kind == "numeric":
                values = self.numeric(name).astype(np.float64)
                finite = values[np.isfinite(values)]
                entry["min"] = float(finite.min()) if len(finite) else None
                entry["max"] = float(finite.max()) if len(finite) else None
            fields.append(entry)
        x = self.file.get("X")
        return {
            "kind": "atlas",
            "layout": "legacy (anndata < 0.7)" if self.legacy else "current",
            "n_obs": self.n_obs,
            "n_vars": self.n_vars,
            "x": {
                "encoding": self.x_encoding,
                "dtype": str(x.dtype if isinstance(x, h5py.Dataset) else x["data"].dtype) if x is not None else None,
                "nnz": self.nnz(),
            },
            "obs": fields,
            "embeddings": [{"name": b, "bounds": self.embedding_bounds(b)} for b in self.embeddings()],
            "genes_sample": self.var_names()[:20],
        }


def open_atlas(path: Path) -> Atlas:
    return Atlas(path)


def expression_by_category(atlas: Atlas, field: str, genes: list[str]) -> dict[str, Any]:
    """Mean expression and fraction of cells expressing (> 0), per gene and category."""
    codes, categories = atlas.codes(field)
    columns = atlas.gene_indices(genes)
    values = atlas.gene_values(columns)
    valid = codes >= 0
    cells = np.bincount(codes[valid], minlength=len(categories)).astype(np.float64)
    result = []
    for k in range(len(genes)):
        v = values[valid, k].astype(np.float64)
        sums = np.bincount(codes[valid], weights=v, minlength=len(categories))
        expressing = np.bincount(codes[valid], weights=(v > 0).astype(np.float64), minlength=len(categories))
        with np.errstate(invalid="ignore", divide="ignore"):
            means, fractions = sums / cells, expressing / cells
        result.append(
            {
                "gene": atlas.var_names()[columns[k]],
                "by_category": [
                    {
                        "category": c,
                        "cells": int(n),
                        "mean": round(float(m), 6) if n else None,
                        "fraction_expressing": round(float(f), 6) if n else None,
                    }
                    for c, n, m, f in zip(categories, cells, means, fractions, strict=True)
                ],
            }
        )
    return {"field": field, "genes": result}


def category_mask(atlas: Atlas, field: str, chosen: list[str]) -> np.ndarray:
    codes, categories = atlas.codes(field)
    unknown = [c for c in chosen if c not in categories]
    if unknown:
        raise InvalidInput(f"column '{field}' has no category {', '.join(repr(c) for c in unknown)}")
    wanted = [categories.index(c) for c in chosen]
    return np.isin(codes, wanted)
