"""Robust normalization: percentile clipping, median/IQR scaling, and dataset clip + z-score.

Core functions (numpy + OpenCV, no Albumentations); every formula here, once. Percentiles use
numpy's default definition (method "linear") and are exact for uint8/uint16 images, which go
through histograms.

* ``"percentile_zscore"``: ``y = clip(img, P_low, P_high)``, then ``(y - mean(y)) / std(y)``;
* ``"percentile_min_max"``: ``(clip(img, P_low, P_high) - P_low) / (P_high - P_low)``, in [0, 1];
* ``"median_iqr"``: ``(img - median) / (P_75 - P_25)`` (scikit-learn's ``RobustScaler`` on one
  image); an IQR of 0 (more than half the pixels equal) falls back to ``max - min``;
* :func:`normalize_clipped`: ``(clip(img, low, high) - mean) / std`` with *dataset* values, the
  CT scheme of nnU-Net (clip to the 0.5 / 99.5 percentiles of the training foreground, then its
  mean and std; MIC-DKFZ/nnUNet ``documentation/explanation_normalization.md``,
  ``nnunetv2/preprocessing/normalization/default_normalization_schemes.py``, CTNormalization).

Statistics are per image (``per_channel=False``: over all channels) or per channel. A uniform
image or channel gives exact zeros, as everywhere in albu_norm.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from albu_norm._core import (
    Values,
    _affine,
    _as_key,
    _raise_channel_mismatch,
    _raise_not_finite,
    _statistics,
    check_image,
    num_channels,
)
from albu_norm._histogram import HISTOGRAM_BINS, histogram, histogram_percentile

__all__ = ["ROBUST_METHODS", "image_percentiles", "normalize_clipped", "normalize_robust"]

ROBUST_METHODS = ("percentile_zscore", "percentile_min_max", "median_iqr")
DEFAULT_PERCENTILES = {
    "percentile_zscore": (0.5, 99.5),
    "percentile_min_max": (0.5, 99.5),
    "median_iqr": (25.0, 75.0),
}


def image_percentiles(img: np.ndarray, q: Sequence[float], per_channel: bool) -> np.ndarray:
    """Percentiles of an image, shape (len(q), C) per channel or (len(q), 1) over all values.

    Exact for uint8/uint16 (histograms); ``np.percentile`` (method "linear") for floats.

    Raises:
        ValueError: a percentile outside [0, 100]; NaN/Inf in a float image.
    """
    img = check_image(img)
    channels = num_channels(img) if per_channel else 1
    view = img.reshape(img.shape[0], -1, channels)  # (H, W*C/channels, channels)
    bins = HISTOGRAM_BINS.get(img.dtype)
    if bins is not None:
        counts = histogram(view, bins)
        return np.stack([histogram_percentile(counts, value) for value in q])
    for value in q:
        if not 0 <= value <= 100:
            raise ValueError(f"percentiles must be in [0, 100], got {value}.")
    values = view.reshape(-1, channels)
    if not np.all(np.isfinite(values)):
        _raise_not_finite(img, "robust")
    # float64: numpy interpolates with b - a, which overflows float32 near its range limits
    return np.percentile(values.astype(np.float64), list(q), axis=0).reshape(len(q), channels)


def normalize_robust(
    img: np.ndarray,
    method: str = "percentile_zscore",
    percentiles: Sequence[float] | None = None,
    per_channel: bool = False,
) -> np.ndarray:
    """Per-image robust normalization (see the module docstring for the formulas).

    Args:
        img: image, shape (H, W) or (H, W, C); uint8, uint16, float32 or float64, finite.
        method: "percentile_zscore" (default), "percentile_min_max" or "median_iqr".
        percentiles: (low, high) in [0, 100]; default (0.5, 99.5), or (25, 75) for median_iqr.
        per_channel: statistics per channel (True) or over all channels (False).
    Returns:
        a new float32 array, same shape as img.
    Raises:
        TypeError, ValueError: bad image (as :func:`albu_norm.functional.normalize`); unknown
            method; percentiles not 0 <= low < high <= 100; NaN/Inf.
    Example:
        >>> import numpy as np
        >>> img = np.array([[0, 10, 20, 30, 250]], dtype=np.uint8)
        >>> normalize_robust(img, "median_iqr").round(6)
        array([[-1. , -0.5,  0. ,  0.5, 11.5]], dtype=float32)
    """
    if method not in ROBUST_METHODS:
        raise ValueError(f"method must be one of {ROBUST_METHODS}, got {method!r}.")
    low_q, high_q = _check_percentiles(percentiles or DEFAULT_PERCENTILES[method])
    img = _within_float32(check_image(img))
    channels = num_channels(img)
    out = np.empty(img.shape, dtype=np.float32)
    if method == "median_iqr":
        low, median, high = image_percentiles(img, (low_q, 50.0, high_q), per_channel)
        spread = high - low
        if np.any(spread == 0):  # more than half the values equal: use the full range
            _, full = _statistics(img, "min_max_per_channel" if per_channel else "min_max")
            spread = np.where(spread == 0, full, spread)
        center, scale = median, _inverse(spread)
        # (img - median) / IQR is unbounded (an outlier far beyond the IQR): check for overflow
        return _affine(
            img,
            _per_channel(center, channels),
            _per_channel(scale, channels),
            out,
            per_image=True,
            bounded=False,
        )
    low, high = image_percentiles(img, (low_q, high_q), per_channel)
    _clip_into(img, _per_channel(low, channels), _per_channel(high, channels), out)
    if method == "percentile_min_max":
        center, scale = low, _inverse(high - low)
    else:
        center, spread = _statistics(out, "image_per_channel" if per_channel else "image")
        scale = _inverse(spread)
    return _affine(
        out, _per_channel(center, channels), _per_channel(scale, channels), out, per_image=True
    )


def normalize_clipped(
    img: np.ndarray,
    clip_range: tuple[float, float],
    mean: Values,
    std: Values,
) -> np.ndarray:
    """Dataset-level robust normalization: ``(clip(img, low, high) - mean) / std``.

    The nnU-Net CT scheme: ``clip_range`` are the 0.5 / 99.5 percentiles of the training set's
    (foreground) intensities and ``mean``/``std`` their mean and std, all in raw units (e.g.
    Hounsfield units), with no rescaling by a max_pixel_value.

    Args:
        img: image, shape (H, W) or (H, W, C); uint8, uint16, float32 or float64.
        clip_range: (low, high) with low < high, raw units.
        mean: raw units; one value or one per channel.
        std: raw units; one value or one per channel; > 0.
    Returns:
        a new float32 array, same shape as img.
    Raises:
        ValueError: low >= high; std <= 0; mean/std lengths fit neither 1 nor C.
    """
    low, high = (float(v) for v in clip_range)
    if not low < high:
        raise ValueError(f"clip_range must be (low, high) with low < high, got {clip_range}.")
    img = check_image(img)
    channels = num_channels(img)
    mean_key, std_key = _as_key(mean), _as_key(std)
    for name, key in (("mean", mean_key), ("std", std_key)):
        if len(key) not in (1, channels):
            _raise_channel_mismatch(name, len(key), channels, img.shape)
    if not all(v > 0 for v in std_key):
        raise ValueError(f"std must be > 0, got {std_key}.")
    out = np.empty(img.shape, dtype=np.float32)
    _clip_into(img, np.full(channels, low), np.full(channels, high), out)
    center = _per_channel(np.array(mean_key), channels)
    scale = _per_channel(1.0 / np.array(std_key), channels)
    return _affine(out, center, scale, out, per_image=False)


def _within_float32(img: np.ndarray) -> np.ndarray:
    """Float64 values beyond float32's range, scaled into it (every per-image method here is
    invariant to the image's scale); anything else unchanged."""
    if img.dtype != np.float64:
        return img
    magnitude = float(np.max(np.abs(img)))
    if not np.isfinite(magnitude):
        _raise_not_finite(img, "robust")
    return img / magnitude if magnitude > 1e30 else img


def _check_percentiles(percentiles: Sequence[float]) -> tuple[float, float]:
    values = tuple(float(v) for v in percentiles)
    if len(values) != 2 or not 0 <= values[0] < values[1] <= 100:
        raise ValueError(
            f"percentiles must be (low, high) with 0 <= low < high <= 100, got {percentiles}."
        )
    return values[0], values[1]


def _inverse(spread: np.ndarray) -> np.ndarray:
    spread = np.asarray(spread, dtype=np.float64)
    return np.divide(1.0, spread, out=np.zeros_like(spread), where=spread != 0)


def _per_channel(values: np.ndarray, channels: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(values, dtype=np.float64).ravel(), (channels,)).copy()


def _clip_into(img: np.ndarray, low: np.ndarray, high: np.ndarray, out: np.ndarray) -> None:
    """out (float32) = clip(img, low[c], high[c]); one conversion pass and one clip pass."""
    if img.dtype == np.float64:  # clip first: values beyond float32 must not overflow the cast
        values = np.clip(img.reshape(-1, len(low)), low, high)
        np.copyto(out, values.reshape(out.shape), casting="same_kind")
        return
    np.copyto(out, img, casting="unsafe")
    view = out.reshape(-1, len(low))
    np.clip(view, low.astype(np.float32), high.astype(np.float32), out=view)
