"""Cell atlases in both on-disk layouts, dense and sparse X: summary, genes, plots, subsets."""

from __future__ import annotations

import io
from pathlib import Path

import anndata
import h5py
import numpy as np
import pytest
from PIL import Image
from tests.explore.conftest import CELL_TYPES, GENES, atlas_data, write_current, write_legacy

from osnode.domain.errors import InvalidInput
from osnode.explore import atlas as atlases
from osnode.explore import render, subset

LAYOUTS = ["current-dense", "current-csr", "current-csc", "legacy-csr", "legacy-dense"]


def make(path_dir: Path, layout: str) -> Path:
    path = path_dir / f"{layout}.h5ad"
    kind, encoding = layout.split("-")
    if kind == "current":
        return write_current(path, encoding)
    return write_legacy(path, sparse=encoding == "csr")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_summary(tmp_path: Path, layout: str) -> None:
    with atlases.open_atlas(make(tmp_path, layout)) as atlas:
        summary = atlas.summary()
    assert summary["n_obs"] == 300 and summary["n_vars"] == len(GENES)
    assert summary["layout"].startswith("legacy" if layout.startswith("legacy") else "current")
    expected_x = {"dense": "dense", "csr": "csr_matrix", "csc": "csc_matrix"}[layout.split("-")[1]]
    assert summary["x"]["encoding"] == expected_x
    fields = {f["name"]: f for f in summary["obs"]}
    assert fields["cell_type"]["kind"] == "categorical"
    assert fields["cell_type"]["categories"] == [{"name": c, "count": 100} for c in CELL_TYPES]
    assert fields["n_counts"]["kind"] == "numeric" and fields["n_counts"]["max"] > 0
    names = [e["name"] for e in summary["embeddings"]]
    assert names[0] == "X_umap"
    xmin, xmax, ymin, ymax = summary["embeddings"][0]["bounds"]
    assert xmin < 0 < 7 < xmax and ymin < 0 < 6 < ymax
    assert summary["genes_sample"] == GENES


@pytest.mark.parametrize("layout", LAYOUTS)
def test_gene_values_match_the_matrix(tmp_path: Path, layout: str) -> None:
    expected = atlas_data()["x"]
    with atlases.open_atlas(make(tmp_path, layout)) as atlas:
        values = atlas.gene_values(atlas.gene_indices(["LYZ", "cd3e", "ACTB"]))  # names are case-insensitive
    np.testing.assert_allclose(values, expected[:, [2, 0, 4]])


def test_gene_values_read_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tiny chunks: the chunked readers must give the same answer as one read.
    monkeypatch.setattr(atlases, "CHUNK_ROWS", 37)
    expected = atlas_data()["x"]
    for layout in ("current-dense", "current-csr"):
        with atlases.open_atlas(make(tmp_path, layout)) as atlas:
            np.testing.assert_allclose(atlas.gene_values([1, 3]), expected[:, [1, 3]])
            codes, _ = atlas.codes("cell_type")
            assert (codes == atlas_data()["types"]).all()


@pytest.mark.parametrize("layout", ["current-csr", "legacy-csr"])
def test_expression_by_category(tmp_path: Path, layout: str) -> None:
    with atlases.open_atlas(make(tmp_path, layout)) as atlas:
        result = atlases.expression_by_category(atlas, "cell_type", ["MS4A1"])
    rows = {r["category"]: r for r in result["genes"][0]["by_category"]}
    assert rows["B cell"]["fraction_expressing"] == 1.0 and rows["B cell"]["mean"] > 1
    assert rows["T cell"]["fraction_expressing"] == 0.0 and rows["T cell"]["mean"] == 0.0
    assert rows["Monocyte"]["cells"] == 100


def test_gene_search(tmp_path: Path) -> None:
    with atlases.open_atlas(make(tmp_path, "current-csr")) as atlas:
        assert atlas.search_genes("cd") == ["CD3E"]
        found = atlas.search_genes("a")
        assert found[0] == "ACTB" and set(found) == {"ACTB", "MS4A1", "GAPDH"}  # prefix matches first
        with pytest.raises(InvalidInput, match="no gene named 'NOPE'"):
            atlas.gene_indices(["NOPE"])


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


@pytest.mark.parametrize("layout", ["current-csc", "legacy-dense"])
def test_render_by_category_gene_and_filter(tmp_path: Path, layout: str) -> None:
    with atlases.open_atlas(make(tmp_path, layout)) as atlas:
        bounds = atlas.embedding_bounds("X_umap")
        by_type = render.render_embedding(atlas, "X_umap", bounds, colour_by="cell_type")
        by_gene = render.render_embedding(atlas, "X_umap", bounds, gene="LYZ")
        only_b = render.render_embedding(
            atlas, "X_umap", bounds, colour_by="cell_type", filter_field="cell_type", filter_values=["B cell"]
        )
    for plot in (by_type, by_gene, only_b):
        assert len(plot.png) <= render.MAX_PNG_BYTES
        assert decode(plot.png).size == (512, 512)
    assert by_type.cells_drawn == 300 and only_b.cells_drawn == 100
    assert [entry["category"] for entry in by_type.legend] == CELL_TYPES
    assert [entry["category"] for entry in only_b.legend] == ["B cell"]
    colours = {entry["category"]: entry["colour"] for entry in by_type.legend}
    used = {"#{:02x}{:02x}{:02x}".format(*rgb) for _, rgb in decode(by_type.png).convert("RGB").getcolors(1000)}
    assert set(colours.values()) <= used
    only_used = {"#{:02x}{:02x}{:02x}".format(*rgb) for _, rgb in decode(only_b.png).convert("RGB").getcolors(1000)}
    assert colours["B cell"] in only_used and colours["T cell"] not in only_used
    assert by_gene.png != by_type.png and by_gene.scale and by_gene.scale["max"] > 0


@pytest.mark.parametrize("layout", LAYOUTS)
def test_subset_reads_back_with_anndata(tmp_path: Path, layout: str) -> None:
    source = make(tmp_path, layout)
    out = tmp_path / "subset.h5ad"
    with atlases.open_atlas(source) as atlas:
        mask = atlases.category_mask(atlas, "cell_type", ["B cell", "Monocyte"])
        assert subset.write_subset(atlas, mask, out, max_cells=1000) == 200
    adata = anndata.read_h5ad(out)
    data = atlas_data()
    keep = data["types"] != 0
    assert adata.shape == (200, len(GENES))
    assert list(adata.var_names) == GENES
    assert set(adata.obs["cell_type"].unique()) == {"B cell", "Monocyte"}
    assert list(adata.obs_names[:2]) == ["cell1", "cell2"]
    matrix = adata.X.toarray() if hasattr(adata.X, "toarray") else np.asarray(adata.X)
    np.testing.assert_allclose(matrix, data["x"][keep])
    np.testing.assert_allclose(adata.obsm["X_umap"], data["umap"][keep])


def test_subset_limits(tmp_path: Path) -> None:
    with atlases.open_atlas(make(tmp_path, "current-csr")) as atlas:
        mask = atlases.category_mask(atlas, "cell_type", ["B cell"])
        with pytest.raises(InvalidInput, match="at most 10 can be downloaded"):
            subset.write_subset(atlas, mask, tmp_path / "x.h5ad", max_cells=10)
        with pytest.raises(InvalidInput, match="no category 'Neuron'"):
            atlases.category_mask(atlas, "cell_type", ["Neuron"])


def test_corrupt_and_foreign_hdf5_are_refused(tmp_path: Path) -> None:
    good = write_current(tmp_path / "good.h5ad")
    truncated = tmp_path / "truncated.h5ad"
    truncated.write_bytes(good.read_bytes()[:2000])
    garbage = tmp_path / "garbage.h5ad"
    garbage.write_bytes(b"this is not HDF5 at all" * 100)
    with pytest.raises(InvalidInput, match="not a readable HDF5"):
        atlases.open_atlas(truncated)
    with pytest.raises(InvalidInput, match="not a readable HDF5"):
        atlases.open_atlas(garbage)
    foreign = tmp_path / "foreign.h5ad"
    with h5py.File(foreign, "w") as f:
        f.create_dataset("something", data=np.arange(10))
    with pytest.raises(InvalidInput, match="not an AnnData"):
        atlases.open_atlas(foreign)


def test_unknown_embedding_and_field(tmp_path: Path) -> None:
    with atlases.open_atlas(make(tmp_path, "legacy-csr")) as atlas:
        with pytest.raises(InvalidInput, match="no embedding 'X_tsne'"):
            list(atlas.embedding_chunks("X_tsne"))
        with pytest.raises(InvalidInput, match="no column 'tissue'"):
            atlas.codes("tissue")


def test_pixel_cache_gives_the_same_plot(tmp_path: Path) -> None:
    cache = tmp_path / "offsets.npy"
    with atlases.open_atlas(make(tmp_path, "current-csr")) as atlas:
        bounds = atlas.embedding_bounds("X_umap")
        fresh = render.render_embedding(atlas, "X_umap", bounds, colour_by="batch")
        first = render.render_embedding(atlas, "X_umap", bounds, colour_by="batch", cache=cache)
        assert cache.is_file()
        again = render.render_embedding(atlas, "X_umap", bounds, colour_by="batch", cache=cache)
        cache.write_bytes(b"damaged")  # a broken cache file is rebuilt, not trusted
        rebuilt = render.render_embedding(atlas, "X_umap", bounds, colour_by="batch", cache=cache)
    assert fresh.png == first.png == again.png == rebuilt.png


def test_synthetic_atlas_is_deterministic_and_readable(tmp_path: Path) -> None:
    from osnode.explore.synthetic import DESCRIPTION, write_synthetic_atlas

    a = write_synthetic_atlas(tmp_path / "a.h5ad", 3000, 60, seed=3, chunk=1000)
    b = write_synthetic_atlas(tmp_path / "b.h5ad", 3000, 60, seed=3, chunk=1000)
    assert a.read_bytes() == b.read_bytes()
    adata = anndata.read_h5ad(a)
    assert adata.shape == (3000, 60) and adata.uns["description"] == DESCRIPTION
    t_cells = adata[adata.obs["cell_type"] == "CD8 T cell"]
    b_cells = adata[adata.obs["cell_type"] == "B cell"]
    cd8 = list(adata.var_names).index("CD8A")
    assert (t_cells.X[:, cd8] > 0).mean() > 0.7 > 0.2 > (b_cells.X[:, cd8] > 0).mean()
