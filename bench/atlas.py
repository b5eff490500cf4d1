"""Benchmark: embedding plots of big cell atlases, against loading the atlas whole with anndata.

    uv run python bench/atlas.py --cells 1000000 --genes 2000 --big-cells 10000000

Writes two SYNTHETIC atlases into --dir (default bench/out/; deleted afterwards unless --keep):

  sparse  CELLS x GENES, CSR matrix (about 3 % non-zero), obs and X_umap/X_pca (explore/synthetic.py)
  big     BIG_CELLS cells: obs and embeddings only (no matrix)

then, each in a fresh process of its own (so peak RSS is that step's alone):

  summary     ``Atlas.summary()`` (counts per category, embedding bounds): done once per file and cached
  render      ``render_embedding`` of X_umap coloured by cell_type, --repeats times: median, PNG size.
              The cells' pixel positions are computed once first (``offsets_s``, what the node does when it
              profiles the file) and read from their cache file by every plot, as on the node.
  render-filtered   coloured by cluster, only B and NK cells shown
  render-uncached   the same as render without the pixel cache (a first plot at an unusual size)
  render-gene coloured by one gene's expression (a scan of the whole CSR matrix), sparse only
  anndata     ``anndata.read_h5ad(path)``: the whole atlas in memory, for comparison

Peak RSS is the process's high-water mark (``ru_maxrss``), so it includes Python and the imports.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent


def peak_mb() -> float:
    """This process's peak RSS (VmHWM: unlike ru_maxrss, not inherited from the parent across fork+exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(step: str, path: Path, repeats: int) -> dict[str, Any]:
    """One step, in this (fresh) process."""
    started = time.perf_counter()
    if step == "anndata":
        import anndata

        adata = anndata.read_h5ad(path)
        return {"seconds": time.perf_counter() - started, "shape": list(adata.shape), "peak_mb": peak_mb()}
    from osnode.explore import atlas as atlases
    from osnode.explore import render

    with atlases.open_atlas(path) as atlas:
        if step == "summary":
            atlas.summary()
            return {"seconds": time.perf_counter() - started, "peak_mb": peak_mb()}
        bounds = atlas.embedding_bounds("X_umap")  # cached with the summary in real use
        cache = path.with_suffix(".px.npy")  # the node keeps it in its explore folder, made when profiled
        cache.unlink(missing_ok=True)
        t0 = time.perf_counter()
        render.pixel_offsets(atlas, "X_umap", bounds, 512, cache)
        offsets_s = time.perf_counter() - t0
        times, size = [], 0
        for _ in range(repeats):
            t0 = time.perf_counter()
            if step == "render":
                plot = render.render_embedding(atlas, "X_umap", bounds, colour_by="cell_type", cache=cache)
            elif step == "render-filtered":
                plot = render.render_embedding(
                    atlas, "X_umap", bounds, colour_by="cluster", filter_field="cell_type",
                    filter_values=["B cell", "NK cell"], cache=cache,
                )  # fmt: skip
            elif step == "render-uncached":
                plot = render.render_embedding(atlas, "X_umap", bounds, colour_by="cell_type")
            else:
                plot = render.render_embedding(atlas, "X_umap", bounds, gene="LYZ", cache=cache)
            times.append(time.perf_counter() - t0)
            size = len(plot.png)
        cache.unlink(missing_ok=True)
    return {
        "median_s": statistics.median(times),
        "times": times,
        "png_bytes": size,
        "offsets_s": offsets_s,
        "peak_mb": peak_mb(),
    }


def run_step(step: str, path: Path, repeats: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--measure", step, "--file", str(path), "--repeats", str(repeats)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, default=1_000_000)
    parser.add_argument("--genes", type=int, default=2_000)
    parser.add_argument("--big-cells", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=BENCH / "out")
    parser.add_argument("--keep", action="store_true", help="keep the generated atlases")
    parser.add_argument("--skip-anndata", action="store_true")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.file, args.repeats)))
        return

    from osnode.explore.synthetic import write_synthetic_atlas

    args.dir.mkdir(parents=True, exist_ok=True)
    renders = ["render", "render-filtered", "render-uncached"]
    plans = [
        ("sparse", args.cells, args.genes, True, ["summary", *renders, "render-gene", "anndata"]),
        ("big", args.big_cells, 50, False, ["summary", *renders, "anndata"]),
    ]
    results: list[dict[str, Any]] = []
    for name, cells, genes, matrix, steps in plans:
        if cells <= 0:
            continue
        path = args.dir / f"atlas-{name}-{cells}.h5ad"
        t0 = time.perf_counter()
        write_synthetic_atlas(path, cells, genes, seed=1, with_matrix=matrix)
        made = time.perf_counter() - t0
        row: dict[str, Any] = {"atlas": name, "cells": cells, "genes": genes if matrix else 0}
        row["file_mb"] = path.stat().st_size / 1e6
        row["write_s"] = made
        for step in steps:
            if step == "anndata" and args.skip_anndata:
                continue
            row[step] = run_step(step, path, args.repeats)
            print(name, step, json.dumps(row[step]), flush=True)
        results.append(row)
        if not args.keep:
            path.unlink()
    (args.dir / "atlas.json").write_text(json.dumps(results, indent=1))
    print()
    nan = float("nan")
    print(
        "| atlas | file | pixel positions (once) | render median | filtered | uncached | PNG | render peak RSS "
        "| gene render | anndata.read_h5ad | anndata peak RSS |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        render_, gene, whole = r.get("render", {}), r.get("render-gene", {}), r.get("anndata", {})
        filtered, uncached = r.get("render-filtered", {}), r.get("render-uncached", {})
        print(
            f"| {r['cells']:,} cells x {r['genes']:,} genes | {r['file_mb']:,.0f} MB "
            f"| {render_.get('offsets_s', nan):.2f} s | {render_.get('median_s', nan):.2f} s "
            f"| {filtered.get('median_s', nan):.2f} s | {uncached.get('median_s', nan):.2f} s "
            f"| {render_.get('png_bytes', 0) / 1024:.0f} KB "
            f"| {max(render_.get('peak_mb', nan), filtered.get('peak_mb', nan)):,.0f} MB "
            f"| {gene.get('median_s', nan):.2f} s "
            f"| {whole.get('seconds', nan):.1f} s | {whole.get('peak_mb', nan):,.0f} MB |"
        )


if __name__ == "__main__":
    main()
