"""Summary statistics of Anscombe's quartet: the same numbers for four very different data sets."""

from __future__ import annotations

import csv
from statistics import correlation, fmean, linear_regression, variance

__version__ = "1.0.0"


def summarize(xs: list[float], ys: list[float]) -> dict[str, float]:
    slope, intercept = linear_regression(xs, ys)
    return {
        "mean_x": fmean(xs),
        "mean_y": fmean(ys),
        "var_x": variance(xs),
        "var_y": variance(ys),
        "r": correlation(xs, ys),
        "slope": slope,
        "intercept": intercept,
    }


def load(path: str) -> dict[int, tuple[list[float], list[float]]]:
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {n: ([float(r[f"x{n}"]) for r in rows], [float(r[f"y{n}"]) for r in rows]) for n in (1, 2, 3, 4)}
