"""Exact per-channel histograms of integer images, and exact percentiles from them.

Shared by the dataset statistics (:mod:`albu_norm.stats`) and the robust normalizations
(:mod:`albu_norm.robust`).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

#: Bins of an exact histogram per integer dtype.
HISTOGRAM_BINS = {np.dtype(np.uint8): 256, np.dtype(np.uint16): 65536}
_CALCHIST_MAX_PIXELS = 2**24  # calcHist counts in float32: exact below 2**24 per bin


def histogram(view: np.ndarray, bins: int) -> np.ndarray:
    """Exact per-channel histogram (C, bins) of an (H, W, C) integer image."""
    height, width, channels = view.shape
    if height * width < _CALCHIST_MAX_PIXELS:
        counts = [
            cv2.calcHist([view], [c], None, [bins], [0, bins]).ravel() for c in range(channels)
        ]
        return np.rint(np.array(counts)).astype(np.int64)
    flat = view.reshape(-1, channels)
    return np.stack([np.bincount(flat[:, c], minlength=bins) for c in range(channels)])


def histogram_percentile(histogram: np.ndarray, q: float) -> np.ndarray:
    """np.percentile(values, q) (method 'linear') of every channel, from its histogram."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentiles must be in [0, 100], got {q}.")
    values = []
    for counts in histogram:
        cumulative = np.cumsum(counts)
        position = q / 100 * (cumulative[-1] - 1)
        below = math.floor(position)
        fraction = position - below
        low = int(np.searchsorted(cumulative, below, side="right"))
        high = int(np.searchsorted(cumulative, min(below + 1, cumulative[-1] - 1), side="right"))
        values.append(low + fraction * (high - low))
    return np.array(values)
