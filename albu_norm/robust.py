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

from albu_norm._checks import (
    Masking,
    Values,
    check_channel_count,
    check_image,
    check_max_pixel_value,
    check_mean_std,
    check_percentiles,
    check_range,
    default_max_pixel_value,
    num_channels,
)
from albu_norm._kernels import affine, divide, fill_outside
from albu_norm._statistics import (
    fixed_center_scale,
    kept_pixels,
    min_max,
    per_image_plan,
    power_of_two_scaled,
    reciprocal_or_zero,
)
from albu_norm._statistics import percentiles as _percentiles
from albu_norm.modes import FIXED, z_score

__all__ = [
    "ROBUST_METHODS",
    "check_robust_method",
    "image_percentiles",
    "normalize_clipped",
    "normalize_robust",
]

ROBUST_METHODS = ("percentile_zscore", "percentile_min_max", "median_iqr")
DEFAULT_PERCENTILES = {
    "percentile_zscore": (0.5, 99.5),
    "percentile_min_max": (0.5, 99.5),
    "median_iqr": (25.0, 75.0),
}


def check_robust_method(
    method: object, percentiles: object = None
) -> tuple[str, tuple[float, float]]:
    """Check a per-image robust method and its percentiles; returns (method, (low, high)) with
    the method's default percentiles filled in.

    Raises:
        ValueError: unknown method; percentiles not 0 <= low < high <= 100.
    """
    if method not in ROBUST_METHODS:
        raise ValueError(f"method must be one of {ROBUST_METHODS}, got {method!r}.")
    chosen = DEFAULT_PERCENTILES[method] if percentiles is None else percentiles
    return str(method), check_percentiles(chosen)


def image_percentiles(img: np.ndarray, q: Sequence[float], per_channel: bool) -> np.ndarray:
    """Percentiles of an image, shape (len(q), C) per channel or (len(q), 1) over all values.

    Exact for uint8/uint16 (histograms); ``np.percentile`` (method "linear") for floats.

    Raises:
        ValueError: a percentile outside [0, 100]; NaN/Inf in a float image.
    """
    return _percentiles(check_image(img), tuple(float(v) for v in q), per_channel)


def normalize_robust(
    img: np.ndarray,
    method: str = "percentile_zscore",
    percentiles: Sequence[float] | None = None,
    per_channel: bool = False,
    *,
    mask: np.ndarray | None = None,
    ignore_value: Values | None = None,
    outside: str = "normalize",
    fill: float = 0.0,
) -> np.ndarray:
    """Per-image robust normalization (see the module docstring for the formulas).

    Args:
        img: image, shape (H, W) or (H, W, C); uint8, uint16, float32 or float64, finite.
        method: "percentile_zscore" (default), "percentile_min_max" or "median_iqr".
        percentiles: (low, high) in [0, 100]; default (0.5, 99.5), or (25, 75) for median_iqr.
        per_channel: statistics per channel (True) or over all channels (False).
        mask: (H, W), nonzero where the pixel counts: percentiles, median and IQR of the kept
            pixels only, as in :func:`albu_norm.functional.normalize_per_image` (no kept pixel:
            every value is ``fill``).
        ignore_value: nodata (one number, or one per channel) left out of the statistics.
        outside: "normalize" (default) or "fill": what the left-out pixels become.
        fill: their value with ``outside="fill"``.
    Returns:
        a new float32 array, same shape as img.
    Raises:
        TypeError, ValueError: bad image (as :func:`albu_norm.functional.normalize`); unknown
            method; percentiles not 0 <= low < high <= 100; NaN/Inf; a bad mask.
    Example:
        >>> import numpy as np
        >>> img = np.array([[0, 10, 20, 30, 250]], dtype=np.uint8)
        >>> normalize_robust(img, "median_iqr").round(6)
        array([[-1. , -0.5,  0. ,  0.5, 11.5]], dtype=float32)
    """
    method, (low_q, high_q) = check_robust_method(method, percentiles)
    img = check_image(img)
    masking = Masking(mask is not None, ignore_value, outside, fill)
    kept, outside, fill = kept_pixels(img, mask, masking), masking.outside, masking.fill
    channels = num_channels(img)
    out = np.empty(img.shape, dtype=np.float32)
    counted = img
    if kept is not None:  # the statistics of the kept pixels, gathered as an (N, 1, C) image
        values = img.reshape(-1, channels)[kept.ravel()]
        if len(values) == 0:
            out.fill(fill)
            return out
        counted = values.reshape(len(values), 1, channels)
    # every method here is invariant to the image's scale: the overflow policy applies
    counted, exponents = power_of_two_scaled(counted, False, f"method={method!r}", per_channel)
    if any(exponents.tolist()):
        img = np.ldexp(img, -(exponents if img.ndim == 3 else exponents[0])).astype(img.dtype)
    if method == "median_iqr":
        low, median, high = _percentiles(counted, (low_q, 50.0, high_q), per_channel)
        spread = high - low
        if np.any(spread == 0):  # more than half the values equal: use the full range
            low_all, high_all = min_max(counted, per_channel)
            spread = np.where(spread == 0, high_all - low_all, spread)
        # (img - median) / IQR is unbounded (an outlier far beyond the IQR): check for overflow
        center = _per_channel(median, channels)
        scale = _per_channel(reciprocal_or_zero(spread), channels)
        hint = (
            "a value lies more than float32's maximum interquartile ranges from the median "
            "(an extreme outlier); clip the image first, e.g. method='percentile_zscore'."
        )
        affine(img, center, scale, out, cached=False, bounded=False, hint=hint)
        return fill_outside(out, kept, fill) if kept is not None and outside == "fill" else out
    low, high = _percentiles(counted, (low_q, high_q), per_channel)
    _clip_into(img, _per_channel(low, channels), _per_channel(high, channels), out)
    if method == "percentile_min_max":
        # the bounds as clipped (float32): the clipped minimum maps to exactly 0, the maximum
        # to exactly 1 (the min-max kernel)
        low32, high32 = (_per_channel(v, channels).astype(np.float32) for v in (low, high))
        low64 = low32.astype(np.float64)
        divide(out, low64, high32.astype(np.float64) - low64, out)
    else:
        plan = per_image_plan(out, z_score(per_channel), kept)
        if plan is None:  # pragma: no cover - pixels are kept (checked above)
            raise ValueError("no pixel is kept: there are no statistics.")
        affine(plan.source, plan.center, plan.scale, out, cached=False, bounded=True)
    return fill_outside(out, kept, fill) if kept is not None and outside == "fill" else out


def normalize_clipped(
    img: np.ndarray,
    clip_range: tuple[float, float],
    mean: Values,
    std: Values,
    max_pixel_value: float | None = 1.0,
    *,
    mask: np.ndarray | None = None,
    ignore_value: Values | None = None,
    outside: str = "normalize",
    fill: float = 0.0,
) -> np.ndarray:
    """Dataset-level robust normalization: ``(clip(img, low, high) - mean) / std``.

    The nnU-Net CT scheme: ``clip_range`` are the 0.5 / 99.5 percentiles of the training set's
    (foreground) intensities and ``mean``/``std`` their mean and std, all in raw units (e.g.
    Hounsfield units), with no rescaling by a max_pixel_value: the standard affine of
    :func:`albu_norm.functional.normalize` with ``max_pixel_value=1`` after clipping.

    Args:
        img: image, shape (H, W) or (H, W, C); uint8, uint16, float32 or float64.
        clip_range: (low, high) with low < high, raw units.
        mean: raw units; one value or one per channel.
        std: raw units; one value or one per channel; finite and > 0.
        max_pixel_value: the clipped values are divided by it first (1.0, the default, keeps
            raw units; None follows the dtype); mean/std are then on that scale.
        mask: (H, W), nonzero where the pixel counts; with ``outside="fill"`` the others become
            ``fill`` (nnU-Net sets the background to 0); see
            :func:`albu_norm.functional.normalize`.
        ignore_value: nodata, as ``mask``.
        outside: "fill" sets the left-out pixels to ``fill``; "normalize" (default) leaves
            every pixel to the affine.
        fill: the value of the left-out pixels.
    Returns:
        a new float32 array, same shape as img.
    Raises:
        ValueError: low >= high; std not finite and > 0; mean/std lengths fit neither 1 nor C.
    """
    clip = check_range(clip_range)
    mean_values, std_values = check_mean_std(mean, std)
    img = check_image(img)
    masking = Masking(mask is not None, ignore_value, outside, fill)
    masking.check_for(FIXED)
    kept = kept_pixels(img, mask, masking)
    for name, values in (("mean", mean_values), ("std", std_values)):
        check_channel_count(len(values), num_channels(img), img.shape, origin=name)
    scale_max = None if max_pixel_value is None else check_max_pixel_value(max_pixel_value)
    out = np.empty(img.shape, dtype=np.float32)
    return apply_clipped(img, clip, mean_values, std_values, scale_max, kept, masking.fill, out)


def apply_clipped(
    img: np.ndarray,
    clip_range: tuple[float, float],
    mean: tuple[float, ...],
    std: tuple[float, ...],
    max_pixel_value: float | None,
    kept: np.ndarray | None,
    fill: float,
    out: np.ndarray,
) -> np.ndarray:
    """:func:`normalize_clipped` on checked arguments, into ``out`` (float32, img's shape)."""
    channels = num_channels(img)
    low, high = clip_range
    _clip_into(img, np.full(channels, low), np.full(channels, high), out)
    scale_max = default_max_pixel_value(img.dtype) if max_pixel_value is None else max_pixel_value
    center, scale = fixed_center_scale(mean, std, scale_max, channels)
    affine(out, center, scale, out, cached=True, bounded=False)
    return fill_outside(out, kept, fill) if kept is not None else out


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
