"""Embedding plots rendered on the server as small palette PNGs, so a reader on 2G sees millions of cells.

Points are rasterised straight into a size x size canvas of palette indices, one chunk of cells at a time:
the cost grows with the number of cells, the picture does not. A categorical colouring draws the category's
index (the last cell drawn on a pixel wins); a gene colouring averages the expression of the cells on each
pixel and maps it through a viridis-like ramp. The legend is returned as data and drawn in HTML.
"""

from __future__ import annotations

import colorsys
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..domain.errors import InvalidInput
from .atlas import Atlas, category_mask

MAX_PNG_BYTES = 150 * 1024
BACKGROUND = (255, 255, 255)
UNCOLOURED = (90, 110, 140)
NOT_EXPRESSED = (215, 215, 215)
# Tableau-like categorical colours, then evenly spread hues for the rest.
_BASE = [
    "1f77b4", "ff7f0e", "2ca02c", "d62728", "9467bd", "8c564b", "e377c2", "7f7f7f", "bcbd22", "17becf",
    "aec7e8", "ffbb78", "98df8a", "ff9896", "c5b0d5", "c49c94", "f7b6d2", "c7c7c7", "dbdb8d", "9edae5",
]  # fmt: skip
_VIRIDIS = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]


def category_colours(n: int) -> list[tuple[int, int, int]]:
    colours = [tuple(int(h[i : i + 2], 16) for i in (0, 2, 4)) for h in _BASE]
    extra = max(0, n - len(colours))
    for k in range(extra):
        r, g, b = colorsys.hsv_to_rgb((k * 0.618034) % 1.0, 0.65, 0.85)
        colours.append((int(r * 255), int(g * 255), int(b * 255)))
    return [colours[i] for i in range(n)]  # type: ignore[misc]


def _ramp(levels: int) -> list[tuple[int, int, int]]:
    stops = np.linspace(0, 1, len(_VIRIDIS))
    xs = np.linspace(0, 1, levels)
    return [tuple(int(np.interp(x, stops, [c[i] for c in _VIRIDIS])) for i in range(3)) for x in xs]  # type: ignore[misc]


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


@dataclass
class Plot:
    png: bytes
    cells_drawn: int
    legend: list[dict[str, Any]] = field(default_factory=list)
    scale: dict[str, Any] | None = None


NO_PIXEL = np.uint32(0xFFFFFFFF)


def _offsets(block: np.ndarray, bounds: list[float], size: int) -> np.ndarray:
    """Canvas offsets (y * size + x) of the points in ``block``; NO_PIXEL for points without coordinates."""
    xmin, xmax, ymin, ymax = bounds
    margin = 4
    span = size - 1 - 2 * margin
    x = (block[:, 0] - np.float32(xmin)) * np.float32(span / ((xmax - xmin) or 1.0)) + np.float32(margin)
    y = (np.float32(ymax) - block[:, 1]) * np.float32(span / ((ymax - ymin) or 1.0)) + np.float32(margin)
    # NaN fails every comparison, so cells without coordinates drop out here.
    ok = (x >= 0) & (x < size) & (y >= 0) & (y < size)
    out = np.full(len(block), NO_PIXEL, dtype=np.uint32)
    out[ok] = y[ok].astype(np.uint32) * np.uint32(size) + x[ok].astype(np.uint32)
    return out


def pixel_offsets(atlas: Atlas, basis: str, bounds: list[float], size: int, cache: Path | None = None) -> np.ndarray:
    """Every cell's canvas offset. An embedding never changes, so the offsets are worth keeping: with a
    ``cache`` file they are computed once per (blob, embedding, size) and later plots only read them."""
    if cache is not None and cache.is_file():
        try:
            found = np.load(cache, mmap_mode="r")
            if found.shape == (atlas.n_obs,):
                return found
        except (OSError, ValueError):
            pass  # a damaged cache file is rebuilt below
    out = np.empty(atlas.n_obs, dtype=np.uint32)
    for rows, block in atlas.embedding_chunks(basis, np.float32):
        out[rows] = _offsets(block, bounds, size)
    if cache is not None:
        tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp.npy")
        np.save(tmp, out)
        os.replace(tmp, cache)
    return out


def _dilate(offsets: np.ndarray, size: int, radius: int) -> np.ndarray:
    if radius == 0:
        return offsets
    shifted = [offsets]
    for dy in range(radius + 1):
        for dx in range(radius + 1):
            if dx or dy:
                shifted.append(np.minimum(offsets + np.uint32(dy * size + dx), np.uint32(size * size - 1)))
    return np.concatenate(shifted)


def render_embedding(
    atlas: Atlas,
    basis: str,
    bounds: list[float],
    colour_by: str | None = None,
    gene: str | None = None,
    filter_field: str | None = None,
    filter_values: list[str] | None = None,
    size: int = 512,
    cache: Path | None = None,
) -> Plot:
    """The embedding as a PNG, coloured by an obs category or a gene, cells optionally filtered by category."""
    if not 64 <= size <= 1024:
        raise InvalidInput("size must be between 64 and 1024 pixels")
    if colour_by and gene:
        raise InvalidInput("colour by a category or by a gene, not both")
    keep = category_mask(atlas, filter_field, filter_values) if filter_field and filter_values else None
    codes = categories = None
    if colour_by:
        codes, categories = atlas.codes(colour_by)
        if len(categories) > 250:
            raise InvalidInput(f"'{colour_by}' has {len(categories)} categories; colour by one with at most 250")
    expression = atlas.gene_values(atlas.gene_indices([gene]))[:, 0] if gene else None
    offsets = pixel_offsets(atlas, basis, bounds, size, cache)
    chosen = offsets != NO_PIXEL
    if keep is not None:
        chosen &= keep
    where = _dilate(offsets[chosen], size, 1 if atlas.n_obs <= 100_000 else 0)
    reps = len(where) // max(1, int(chosen.sum())) if len(where) else 1
    drawn = int(chosen.sum())
    canvas = np.zeros(size * size, dtype=np.uint8)
    if expression is not None:
        values = np.tile(expression[chosen], reps)
        sums = np.bincount(where, values, minlength=size * size)
        counts = np.bincount(where, minlength=size * size)
        return _gene_plot(sums, counts, size, drawn, gene or "", expression)
    if codes is not None:
        picked = codes[chosen]
        canvas[where] = np.tile(np.where(picked >= 0, picked + 2, 1).astype(np.uint8), reps)
    else:
        canvas[where] = 1
    palette = [BACKGROUND, UNCOLOURED]
    legend: list[dict[str, Any]] = []
    if categories is not None and codes is not None:
        colours = category_colours(len(categories))
        palette += colours
        shown = codes[keep] if keep is not None else codes
        counts_by = np.bincount(shown[shown >= 0], minlength=len(categories))
        legend = [
            {"category": c, "colour": hex_colour(colours[i]), "cells": int(counts_by[i])}
            for i, c in enumerate(categories)
            if counts_by[i]
        ]
    return Plot(_png(canvas, palette, size), drawn, legend)


def _gene_plot(sums: Any, counts: Any, size: int, drawn: int, gene: str, expression: np.ndarray) -> Plot:
    top = float(np.nanmax(expression)) if len(expression) else 0.0
    for levels in (250, 64, 16):
        canvas = np.zeros(size * size, dtype=np.uint8)
        hit = counts > 0
        mean = np.divide(sums, counts, out=np.zeros_like(sums), where=hit)
        canvas[hit] = 1
        positive = hit & (mean > 0)
        if top > 0:
            canvas[positive] = 2 + np.minimum((mean[positive] / top * (levels - 1)).astype(np.int64), levels - 1)
        png = _png(canvas, [BACKGROUND, NOT_EXPRESSED, *_ramp(levels)], size)
        if len(png) <= MAX_PNG_BYTES:
            break
    return Plot(png, drawn, [], {"gene": gene, "min": 0.0, "max": top, "low": "#440154", "high": "#fde725"})


def _png(canvas: np.ndarray, palette: list[tuple[int, int, int]], size: int) -> bytes:
    image = Image.frombuffer("P", (size, size), canvas.tobytes(), "raw", "P", 0, 1)
    flat = [channel for colour in palette[:256] for channel in colour]
    image.putpalette(flat + [0] * (768 - len(flat)))
    buffer = io.BytesIO()
    # No ``optimize``: it tries every filter and costs more than the plot itself on a big atlas.
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()
