"""Medians with their spread, and a least-squares slope: the arithmetic every bench figure uses."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence


def spread(values: Iterable[float | None], digits: int = 3) -> dict | None:
    """{"median", "min", "max", "n"} of the values that are not None (None when there are none):
    a median alone hides how far the repeats were apart."""
    present = [float(v) for v in values if v is not None]
    if not present:
        return None
    return {"median": round(statistics.median(present), digits), "min": round(min(present), digits),
            "max": round(max(present), digits), "n": len(present)}


def median(values: Iterable[float | None], digits: int = 3) -> float | None:
    found = spread(values, digits)
    return None if found is None else found["median"]


def slope(points: Sequence[tuple[float, float]]) -> float | None:
    """Ordinary least-squares slope of (t, value) points, per unit of t (None below two distinct t).

    Uses every sample of a window rather than its two ends, so one sample caught at a peak or a
    trough of a periodic pattern (offset commits, batches) moves it little."""
    if len(points) < 2:
        return None
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var_t = sum((t - mean_t) ** 2 for t, _ in points)
    if var_t <= 0:
        return None
    return sum((t - mean_t) * (v - mean_v) for t, v in points) / var_t
