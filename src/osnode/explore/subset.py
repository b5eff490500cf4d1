"""A subset of an atlas's cells written as a new, valid .h5ad (current layout), streamed chunk by chunk.

The output is written with h5py in the AnnData on-disk format (encoding-type attributes), whichever layout
the source has, so any recent anndata reads it. Rows are copied in chunks: memory stays bounded by one chunk
of the matrix, never the whole of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..domain.errors import InvalidInput
from .atlas import CHUNK_ROWS, Atlas

STR = h5py.string_dtype("utf-8")


def _enc(node: Any, kind: str, version: str) -> None:
    node.attrs["encoding-type"] = kind
    node.attrs["encoding-version"] = version


def _strings(group: h5py.Group, name: str, values: list[str]) -> None:
    ds = group.create_dataset(name, data=np.array(values, dtype=object), dtype=STR)
    _enc(ds, "string-array", "0.2.0")


def _array(group: h5py.Group, name: str, values: np.ndarray) -> None:
    ds = group.create_dataset(name, data=values)
    _enc(ds, "array", "0.2.0")


def _frame(atlas: Atlas, out: h5py.File, frame: str, mask: np.ndarray | None) -> None:
    group = out.create_group(frame)
    _enc(group, "dataframe", "0.2.0")
    group.attrs["_index"] = "_index"
    index = atlas.index(frame)
    length = atlas.n_obs if frame == "obs" else atlas.n_vars
    if not index:
        index = [str(i) for i in range(length)]
    if mask is not None:
        index = [name for name, keep in zip(index, mask, strict=True) if keep]
    _strings(group, "_index", index)
    written = []
    for name in atlas.column_names(frame):
        col = atlas.column(name, frame)
        if col.kind == "text":
            continue  # free text columns are left out rather than read whole
        if col.categories is not None:
            codes, categories = atlas.codes(name, frame)
            if categories == ["False", "True"] and col.name not in _categorical_names(atlas, frame):
                _array(group, name, (codes[mask] if mask is not None else codes).astype(bool))
            else:
                cat = group.create_group(name)
                _enc(cat, "categorical", "0.2.0")
                cat.attrs["ordered"] = False
                small = np.int8 if len(categories) < 127 else np.int16 if len(categories) < 32_000 else np.int32
                _array(cat, "codes", (codes[mask] if mask is not None else codes).astype(small))
                _strings(cat, "categories", categories)
        else:
            values = atlas.numeric(name, frame)
            _array(group, name, values[mask] if mask is not None else values)
        written.append(name)
    group.attrs["column-order"] = np.array(written, dtype=object) if written else np.array([], dtype="float64")


def _categorical_names(atlas: Atlas, frame: str) -> set[str]:
    """Columns stored as true categoricals (a boolean column also reports False/True categories)."""
    node = atlas.file[frame]
    if isinstance(node, h5py.Dataset):
        return {n for n in atlas.column_names(frame) if f"uns/{n}_categories" in atlas.file}
    return {n for n in atlas.column_names(frame) if isinstance(node[n], h5py.Group) or "categories" in node[n].attrs}


def _empty(out: h5py.File, name: str) -> None:
    _enc(out.create_group(name), "dict", "0.1.0")


def _matrix(atlas: Atlas, out: h5py.File, mask: np.ndarray) -> None:
    if atlas.x_encoding is None:
        return
    x = atlas.file["X"]
    kept = np.nonzero(mask)[0]
    if atlas.x_encoding == "dense":
        ds = out.create_dataset("X", shape=(len(kept), atlas.n_vars), dtype=x.dtype, chunks=True)
        _enc(ds, "array", "0.2.0")
        done = 0
        step = max(1, CHUNK_ROWS // 10)
        for start in range(0, atlas.n_obs, step):
            local = kept[(kept >= start) & (kept < start + step)] - start
            if len(local):
                block = x[start : min(start + step, atlas.n_obs)][local]
                ds[done : done + len(local)] = block
                done += len(local)
        return
    group = out.create_group("X")
    _enc(group, atlas.x_encoding, "0.1.0")
    data_dtype, index_dtype = x["data"].dtype, x["indices"].dtype
    data = group.create_dataset("data", shape=(0,), maxshape=(None,), dtype=data_dtype, chunks=(65536,))
    indices = group.create_dataset("indices", shape=(0,), maxshape=(None,), dtype=index_dtype, chunks=(65536,))
    if atlas.x_encoding == "csr_matrix":
        pointers = _csr_rows(x, kept, data, indices)
    else:
        pointers = _csc_columns(x, mask, atlas.n_vars, data, indices)
    group.create_dataset("indptr", data=np.asarray(pointers, dtype=np.int64))
    group.attrs["shape"] = np.array([len(kept), atlas.n_vars], dtype=np.int64)


def _append(ds: h5py.Dataset, values: np.ndarray) -> None:
    end = ds.shape[0]
    ds.resize((end + len(values),))
    ds[end:] = values


def _csr_rows(x: h5py.Group, kept: np.ndarray, data: h5py.Dataset, indices: h5py.Dataset) -> list[int]:
    indptr = x["indptr"][:]
    pointers = [0]
    step = 100_000
    for first in range(0, len(kept), step):
        rows = kept[first : first + step]
        a, b = int(indptr[rows[0]]), int(indptr[rows[-1] + 1])
        block_data, block_idx = x["data"][a:b], x["indices"][a:b]
        starts, ends = indptr[rows] - a, indptr[rows + 1] - a
        take = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)]) if len(rows) else []
        take = np.asarray(take, dtype=np.int64)
        _append(data, block_data[take])
        _append(indices, block_idx[take])
        pointers.extend((pointers[-1] + np.cumsum(ends - starts)).tolist())
    return pointers


def _csc_columns(x: h5py.Group, mask: np.ndarray, n_vars: int, data: h5py.Dataset, indices: h5py.Dataset) -> list[int]:
    indptr = x["indptr"][:]
    new_row = np.cumsum(mask) - 1  # old row -> new row, for kept rows
    pointers = [0]
    for j in range(n_vars):
        a, b = int(indptr[j]), int(indptr[j + 1])
        rows = x["indices"][a:b]
        keep = mask[rows]
        _append(data, x["data"][a:b][keep])
        _append(indices, new_row[rows[keep]].astype(indices.dtype))
        pointers.append(pointers[-1] + int(keep.sum()))
    return pointers


def write_subset(atlas: Atlas, mask: np.ndarray, out_path: Path, max_cells: int) -> int:
    """Write the cells in ``mask`` to ``out_path``; returns how many cells were written."""
    count = int(mask.sum())
    if count == 0:
        raise InvalidInput("the chosen categories hold no cells")
    if count > max_cells:
        raise InvalidInput(f"the subset has {count} cells; at most {max_cells} can be downloaded at once")
    with h5py.File(out_path, "w") as out:
        _enc(out, "anndata", "0.1.0")
        _frame(atlas, out, "obs", mask)
        _frame(atlas, out, "var", None)
        _matrix(atlas, out, mask)
        obsm = out.create_group("obsm")
        _enc(obsm, "dict", "0.1.0")
        for basis in atlas.embeddings():
            full = atlas.file["obsm"]
            parts = []
            for rows, _ in atlas.embedding_chunks(basis):
                block = full.fields(basis)[rows] if isinstance(full, h5py.Dataset) else full[basis][rows]
                parts.append(np.asarray(block)[mask[rows]])
            _array(obsm, basis, np.concatenate(parts))
        for name in ("uns", "layers", "varm", "obsp", "varp"):
            _empty(out, name)
    return count
