"""Statistics of one image: the center and spread of every per-image mode, exact histograms and
percentiles, one overflow policy and one reciprocal-or-zero.

Private; inputs are validated (:mod:`albu_norm._checks`), C-contiguous, of a supported dtype.

* Center and scale of the per-image modes (:func:`per_image_plan`), from ``(mean, std)`` or
  ``(min, max - min)`` over all values or per channel, in float64 on the image's own scale.
  ``std`` is the population std (ddof=0): OpenCV's one-pass ``meanStdDev``, recomputed
  exactly in two passes wherever that formula could lose digits (``std <= 1e-3 * |mean|``,
  which includes every uniform channel, or values so small that their squares underflow).
* Overflow policy (:func:`power_of_two_scaled`): where a float image's values would overflow or
  underflow the arithmetic of a statistic, it is computed on the image scaled by an exact power
  of two (one for the image, or one per channel for per-channel statistics); the per-image
  modes are invariant to that scale, so the result is the same as for the image itself.
* :func:`reciprocal_or_zero`: ``1 / spread``, with 0 where the spread is 0 (a uniform image or
  channel normalizes to exact zeros: no epsilon anywhere).
* Histograms (:func:`histogram`) and percentiles from them (:func:`histogram_percentile`):
  exact for uint8/uint16; numpy's default "linear" percentile definition.
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import cv2
import numpy as np

from albu_norm._checks import (
    check_ignore_value,
    check_mask,
    check_outside,
    check_percentile,
    num_channels,
    raise_not_finite,
)

#: OpenCV's most channels per array (CV_CN_MAX, OpenCV 5; 512 in OpenCV 4): above it the
#: statistics and kernels use numpy.
CV_MAX_CHANNELS = 128
#: Bins of an exact histogram per integer dtype.
HISTOGRAM_BINS = {np.dtype(np.uint8): 256, np.dtype(np.uint16): 65536}
_CALCHIST_MAX_PIXELS = 2**24  # calcHist counts in float32: exact below 2**24 per bin

# OpenCV's one-pass std errs by about eps64 * (mean/std)^2 relative: below this ratio std/|mean|
# it is recomputed exactly in two passes.
_SMALL_STD = 1e-3
# Below this magnitude, squares of values (and of deviations) lose digits to underflow.
_TINY = 2.0**-450
# Below this spread, its reciprocal (the scale) would overflow float64.
_TINY_SPREAD = 2.0**-1000
# The range of magnitudes in which float32 arithmetic on values and their squares is safe.
_SAFE_RANGE = (2.0**-40, 2.0**40)


def reciprocal_or_zero(spread: np.ndarray) -> np.ndarray:
    """``1 / spread``, 0 where ``spread`` is 0; float32 for float32 input, float64 otherwise.

    A subnormal spread gives an infinite scale: the results it divides are beyond float32,
    which the kernels' range check reports.
    """
    spread = np.asarray(spread)
    if spread.dtype != np.float32:
        spread = spread.astype(np.float64, copy=False)
        if spread.ndim == 1 and spread.size <= 64:  # per-channel vectors: Python is faster here
            return np.array([0.0 if v == 0 else 1.0 / v for v in spread.tolist()])
    with np.errstate(over="ignore"):
        return np.divide(1.0, spread, out=np.zeros_like(spread), where=spread != 0)


@functools.cache
def _no_exponents(channels: int) -> np.ndarray:
    zeros = np.zeros(channels, dtype=np.int64)
    zeros.flags.writeable = False
    return zeros


def power_of_two_scaled(
    img: np.ndarray,
    always: bool = False,
    what: str = "this normalization",
    per_channel: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The overflow policy: ``(img * 2**-e, e)`` with ``max|img| * 2**-e`` in [0.5, 1), for the
    image or (``per_channel``) for every channel; ``e`` is an int vector of length C.

    Integer images, and float images whose magnitude lies in the safe range [2**-40, 2**40],
    are returned as they are with ``e = 0`` unless ``always``. Scaling by a power of two is
    exact, so statistics of the scaled image, scaled back by ``2**e``, are those of the image.

    Raises:
        ValueError: the image holds NaN or Inf.
    """
    channels = num_channels(img)
    none = _no_exponents(channels)
    if img.dtype.kind != "f":
        return img, none
    low, high = min_max(img, per_channel)  # NaN propagates, no copy
    magnitude = np.maximum(np.abs(low), np.abs(high))
    if not _all_finite(magnitude):
        raise_not_finite(img, what)
    largest = float(magnitude.max())
    if largest == 0 or (not always and _SAFE_RANGE[0] <= largest <= _SAFE_RANGE[1]):
        return img, none
    exponents = np.where(magnitude > 0, np.frexp(magnitude)[1], 0).astype(np.int64)
    exponents = np.broadcast_to(exponents, (channels,)).copy()
    scaled = np.ldexp(img, -(exponents if img.ndim == 3 else exponents[0]))
    return scaled.astype(img.dtype, copy=False), exponents


# --------------------------------------------------------------------------------------------
# Center and spread of the per-image modes
# --------------------------------------------------------------------------------------------


class PerImagePlan(NamedTuple):
    """How a per-image mode normalizes an image: ``(source - center) * scale``, which for the
    min-max modes is computed as ``(source - center) / spread`` (exact 0 and 1 at the ends).

    ``source`` is the image itself, or the image scaled by ``2**-exponents[c]`` (the overflow
    policy); ``center``, ``scale`` and ``spread`` are float64 vectors of length C in the units
    of ``source``; ``exponents`` an int vector of length C.
    """

    source: np.ndarray
    center: np.ndarray
    scale: np.ndarray
    spread: np.ndarray
    exponents: np.ndarray


def per_image_plan(img: np.ndarray, normalization: str) -> PerImagePlan:
    """The :class:`PerImagePlan` of a per-image mode on ``img``.

    The exponents are 0 and ``source`` is ``img`` itself except where the statistics of the
    image would overflow or underflow float64 (values spanning its whole range; a spread so
    small that its reciprocal overflows): then ``source`` is the image scaled by exact powers
    of two (one for the image, or one per channel in the per-channel modes), the overflow
    policy. Every per-image mode is invariant to that scale, so the output is the same.

    Raises:
        ValueError: the image holds NaN or Inf.
    """
    channels = num_channels(img)
    exponents = _no_exponents(channels)
    center, spread = _center_spread(img, normalization)
    if not _all_finite(center, spread) or any(0 < v < _TINY_SPREAD for v in spread.tolist()):
        img, exponents = power_of_two_scaled(
            img, True, f"normalization={normalization!r}", normalization.endswith("per_channel")
        )
        center, spread = _center_spread(img, normalization)
    if normalization == "per_image_standardization":
        # TensorFlow's floor (tensorflow/python/ops/image_ops_impl.py): the std is capped
        # away from zero at 1 / sqrt(number of values), on the image's own scale. A uniform
        # image keeps spread 0: its output is exactly 0 either way (x - mean = 0).
        # on the scaled source's units; beyond float64 (an image of tiny values, scaled up)
        # the floor divides every value to 0, as it does in float32 for the image itself
        with np.errstate(over="ignore"):
            floor = float(np.ldexp(1.0 / math.sqrt(img.size), -int(exponents[0])))
        spread = np.where(spread == 0, 0.0, np.maximum(spread, floor))
    scale = reciprocal_or_zero(spread)
    if len(center) != channels:  # statistics over all channels: the same for each
        center, scale, spread = (v.repeat(channels) for v in (center, scale, spread))
    return PerImagePlan(img, center, scale, spread, exponents)


def kept_pixels(
    img: np.ndarray, mask: np.ndarray | None, ignore_value: tuple[float, ...] | None
) -> np.ndarray | None:
    """Boolean (H, W): the pixels whose values count (mask nonzero, and not every channel equal
    to ``ignore_value``); None when every pixel counts. ``mask`` is checked already."""
    kept = mask
    if ignore_value is not None:
        channels = num_channels(img)
        if len(ignore_value) not in (1, channels):
            raise ValueError(
                f"ignore_value has {len(ignore_value)} values but the image has {channels} "
                "channels; give one value, or one per channel."
            )
        view = img.reshape(img.shape[0], img.shape[1], channels)
        # floats compare in the image's dtype (0.1 means float32(0.1) in a float32 image);
        # integers in float64 (0.5 matches no uint8 pixel)
        target = np.asarray(
            ignore_value, dtype=view.dtype if view.dtype.kind == "f" else np.float64
        )
        nodata = np.all(view == target, axis=2)
        kept = ~nodata if kept is None else kept & ~nodata
    return kept


def masking(
    img: np.ndarray,
    mask: Any,
    ignore_value: Any,
    outside: Any,
    fill: Any,
    *,
    fixed: bool,
) -> tuple[np.ndarray | None, str, float]:
    """The kept pixels (boolean (H, W); None: all) of a validated image, and the checked
    outside/fill. With ``fixed`` statistics a mask or ignore_value matters only with
    ``outside="fill"``.

    Raises:
        TypeError, ValueError: as :func:`albu_norm._checks.check_mask`, ``check_outside`` and
            ``check_ignore_value``; a mask or ignore_value with fixed statistics and
            ``outside="normalize"``.
    """
    outside, fill = check_outside(outside, fill)
    if mask is None and ignore_value is None:
        return None, outside, fill
    if fixed and outside == "normalize":
        raise ValueError(
            "mask and ignore_value choose the pixels to leave out of per-image statistics; "
            "with fixed statistics they would change nothing. Pass outside='fill' to set those "
            "pixels to fill, or drop them."
        )
    checked = None if mask is None else check_mask(mask, img.shape)
    return kept_pixels(img, checked, check_ignore_value(ignore_value)), outside, fill


def masked_plan(img: np.ndarray, normalization: str, kept: np.ndarray) -> PerImagePlan | None:
    """The :class:`PerImagePlan` of a per-image mode whose statistics come from the ``kept``
    pixels only (boolean (H, W)), to apply to the whole image; None when no pixel is kept.

    Every mode's formula, the TF floor (N = the kept values) and the exact small-std re-check
    are the unmasked ones. Routing: OpenCV's masked ``meanStdDev`` / ``minMaxLoc`` (no copy of
    the image) up to 128 channels; otherwise, and wherever the overflow policy is needed, the
    kept pixels gathered as one (N, 1, C) image.

    Raises:
        ValueError: NaN or Inf in the image (outside the kept pixels too: they are normalized
            or filled, never NaN).
    """
    count = int(np.count_nonzero(kept))
    if count == 0:
        return None
    if img.dtype.kind == "f" and not math.isfinite(float(img.max()) + float(img.min())):
        raise_not_finite(img, f"normalization={normalization!r}")  # numpy's max propagates NaN
    channels = num_channels(img)
    if channels <= CV_MAX_CHANNELS:
        center, spread = _masked_center_spread(img, normalization, kept, count)
        if _all_finite(center, spread) and not any(0 < v < _TINY_SPREAD for v in spread.tolist()):
            if normalization == "per_image_standardization":  # N = the kept values
                floor = 1.0 / math.sqrt(count * channels)
                spread = np.where(spread == 0, 0.0, np.maximum(spread, floor))
            scale = reciprocal_or_zero(spread)
            if len(center) != channels:
                center, scale, spread = (v.repeat(channels) for v in (center, scale, spread))
            return PerImagePlan(img, center, scale, spread, _no_exponents(channels))
    values = img.reshape(-1, channels)[kept.ravel()]
    plan = per_image_plan(values.reshape(len(values), 1, channels), normalization)
    source = img
    if any(plan.exponents.tolist()):  # the overflow policy scaled the kept values: the image too
        source = np.ldexp(img, -(plan.exponents if img.ndim == 3 else plan.exponents[0]))
        source = source.astype(img.dtype, copy=False)
    return plan._replace(source=source)


def _masked_center_spread(
    img: np.ndarray, normalization: str, kept: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """(center, spread) of the kept pixels with OpenCV's masked reductions."""
    mask = kept.view(np.uint8)
    per_channel = normalization.endswith("per_channel")
    channels = num_channels(img)
    with np.errstate(over="ignore", invalid="ignore"):  # non-finite results: the caller's
        if normalization.startswith("min_max"):
            low, high = masked_min_max(img, kept)
            if not per_channel:
                low, high = low.min(keepdims=True), high.max(keepdims=True)
            return low, high - low
        means, stds = (v.ravel().astype(np.float64) for v in cv2.meanStdDev(img, mask=mask))
        if not per_channel and channels > 1:  # the channels' moments (equal counts) combined
            mean = means.mean()
            variance = max(float(np.mean(stds * stds + means * means) - mean * mean), 0.0)
            means, stds = np.array([mean]), np.array([math.sqrt(variance)])
        if not _all_finite(means, stds):
            return means, stds
        suspicious = (stds <= _SMALL_STD * np.abs(means)) | (stds < _TINY)
        if not np.any(suspicious):
            return means, stds
    # the exact two-pass re-check, on the kept values
    values = img.reshape(-1, channels)[kept.ravel()]
    return _exact_small_std(values.reshape(count, 1, channels), per_channel, means, stds)


def _center_spread(img: np.ndarray, normalization: str) -> tuple[np.ndarray, np.ndarray]:
    per_channel = normalization.endswith("per_channel")
    with np.errstate(over="ignore", invalid="ignore"):  # non-finite results are handled above
        if normalization.startswith("min_max"):
            low, high = min_max(img, per_channel)
            return low, high - low
        mean, std = _mean_std(img, per_channel)
        if not _all_finite(mean, std):
            return mean, std
        return _exact_small_std(img, per_channel, mean, std)


def _all_finite(*vectors: np.ndarray) -> bool:
    # Python on these length-C vectors is faster than numpy reductions (per-call overhead).
    return all(math.isfinite(v) for vector in vectors for v in vector.tolist())


def _as_2d(img: np.ndarray) -> np.ndarray:
    return img.reshape(img.shape[0], -1)


def _mean_std(img: np.ndarray, per_channel: bool) -> tuple[np.ndarray, np.ndarray]:
    """Population mean and std in float64: per channel, or over all values (length-1 arrays)."""
    channels = num_channels(img)
    if per_channel and channels > CV_MAX_CHANNELS:
        values = img.reshape(-1, channels)
        mean = values.mean(axis=0, dtype=np.float64)
        deviations = values - mean
        return mean, np.sqrt(np.einsum("ij,ij->j", deviations, deviations) / len(values))
    if per_channel or img.dtype == np.uint8 or not 1 < channels <= 4:
        mean, std = cv2.meanStdDev(img if per_channel else _as_2d(img))
        return mean.ravel().astype(np.float64), std.ravel().astype(np.float64)
    # OpenCV is faster on C <= 4 interleaved channels than on the flat view for non-uint8
    # data: combine the channels' moments (equal counts) into the overall ones.
    means, stds = (v.ravel() for v in cv2.meanStdDev(img))
    mean = means.mean()
    variance = max(float(np.mean(stds * stds + means * means) - mean * mean), 0.0)
    return np.array([mean]), np.array([math.sqrt(variance)])


def min_max(img: np.ndarray, per_channel: bool) -> tuple[np.ndarray, np.ndarray]:
    """Minimum and maximum as float64: per channel, or over all values. NaN propagates."""
    if not per_channel or img.ndim == 2:
        return np.array([img.min()], dtype=np.float64), np.array([img.max()], dtype=np.float64)
    _, width, channels = img.shape
    rows = _as_2d(img)  # reduce over rows first (vectorised), then over the W pixels of a row
    low = rows.min(axis=0).reshape(width, channels).min(axis=0)
    high = rows.max(axis=0).reshape(width, channels).max(axis=0)
    return low.astype(np.float64), high.astype(np.float64)


def masked_min_max(img: np.ndarray, kept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel minimum and maximum (float64 vectors of length C) over the ``kept`` pixels
    (boolean (H, W), at least one True): OpenCV's masked ``minMaxLoc`` up to 128 channels, which
    skips NaN (callers check finiteness), numpy above."""
    channels = num_channels(img)
    if channels > CV_MAX_CHANNELS:
        values = img.reshape(-1, channels)[kept.ravel()]
        return values.min(axis=0).astype(np.float64), values.max(axis=0).astype(np.float64)
    mask = kept.view(np.uint8)
    planes = [img] if img.ndim == 2 else [cv2.extractChannel(img, c) for c in range(channels)]
    bounds = np.array([cv2.minMaxLoc(plane, mask)[:2] for plane in planes], np.float64)
    return bounds[:, 0], bounds[:, 1]


def _exact_small_std(
    img: np.ndarray, per_channel: bool, mean: np.ndarray, std: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Recompute small stds exactly: 0 for a uniform channel, two-pass float64 otherwise, on
    the channel scaled by a power of two so that squares of tiny deviations do not underflow."""
    suspicious = (std <= _SMALL_STD * np.abs(mean)) | (std < _TINY)
    if not np.any(suspicious):
        return mean, std
    mean, std = mean.copy(), std.copy()
    values = img.reshape(-1, num_channels(img)) if per_channel else img.reshape(-1, 1)
    for index in np.flatnonzero(suspicious):
        channel = values[:, index]
        if channel.min() == channel.max():
            mean[index], std[index] = float(channel[0]), 0.0
            continue
        scaled, exponents = power_of_two_scaled(channel.astype(np.float64)[:, None], always=True)
        center = float(scaled.mean())
        deviations = scaled - center
        exponent = int(exponents[0])
        mean[index] = math.ldexp(center, exponent)
        std[index] = math.ldexp(math.sqrt(float(np.mean(deviations * deviations))), exponent)
    return mean, std


# --------------------------------------------------------------------------------------------
# Histograms and percentiles
# --------------------------------------------------------------------------------------------


def histogram(view: np.ndarray, bins: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Exact per-channel histogram (C, bins) int64 of an (H, W, C) integer image, over the
    pixels where ``mask`` (uint8 (H, W), optional) is nonzero."""
    height, width, channels = view.shape
    if height * width < _CALCHIST_MAX_PIXELS and channels <= CV_MAX_CHANNELS:
        counts = [
            cv2.calcHist([view], [c], mask, [bins], [0, bins]).ravel() for c in range(channels)
        ]
        return np.rint(np.array(counts)).astype(np.int64)
    flat = view.reshape(-1, channels)
    if mask is not None:
        flat = flat[mask.ravel() != 0]
    return np.stack([np.bincount(flat[:, c], minlength=bins) for c in range(channels)])


def histogram_percentile(histogram: np.ndarray, q: float) -> np.ndarray:
    """``np.percentile(values, q)`` (method "linear") of every channel, from its (C, bins)
    histogram (bin v counts the value v).

    Raises:
        ValueError: q is not in [0, 100].
    """
    q = check_percentile(q)
    levels = np.arange(histogram.shape[1])
    return np.array([weighted_percentile(levels, counts, q) for counts in histogram])


def weighted_percentile(levels: np.ndarray, counts: np.ndarray, q: float) -> float:
    """``np.percentile(np.repeat(levels, counts), q)`` (method "linear") without repeating:
    ``levels`` sorted ascending, ``counts`` their (integer) counts, not all zero."""
    cumulative = np.cumsum(counts)
    position = q / 100 * (cumulative[-1] - 1)
    below = math.floor(position)
    fraction = position - below
    low = levels[int(np.searchsorted(cumulative, below, side="right"))]
    above = min(below + 1, int(cumulative[-1]) - 1)
    high = levels[int(np.searchsorted(cumulative, above, side="right"))]
    return float(low + fraction * (high - low))


def percentiles(img: np.ndarray, q: tuple[float, ...], per_channel: bool) -> np.ndarray:
    """Percentiles of an image, shape (len(q), C) per channel or (len(q), 1) over all values.

    Exact for uint8/uint16 (histograms); ``np.percentile`` (method "linear", float64) for
    floats.

    Raises:
        ValueError: a percentile outside [0, 100]; NaN/Inf in a float image.
    """
    channels = num_channels(img) if per_channel else 1
    view = img.reshape(img.shape[0], -1, channels)  # (H, W*C/channels, channels)
    bins = HISTOGRAM_BINS.get(img.dtype)
    if bins is not None:
        counts = histogram(view, bins)
        return np.stack([histogram_percentile(counts, value) for value in q])
    for value in q:
        check_percentile(value)
    values = view.reshape(-1, channels)
    if not np.all(np.isfinite(values)):
        raise_not_finite(img, "a robust normalization")
    # float64: numpy interpolates with b - a, which overflows float32 near its range limits
    return np.percentile(values.astype(np.float64), list(q), axis=0).reshape(len(q), channels)


# --------------------------------------------------------------------------------------------
# Center and scale of the standard mode (fixed statistics)
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def fixed_center_scale(
    mean: tuple[float, ...], std: tuple[float, ...], max_pixel_value: float, channels: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(img / max_pixel_value - mean) / std`` written as ``(img - center) * scale``:
    ``center = mean * max_pixel_value``, ``scale = 1 / (max_pixel_value * std)``, float64
    read-only vectors of length ``channels`` (mean/std of length 1 or ``channels``, checked)."""
    mean_vector = np.broadcast_to(np.array(mean, dtype=np.float64), (channels,))
    std_vector = np.broadcast_to(np.array(std, dtype=np.float64), (channels,))
    center = mean_vector * max_pixel_value
    scale = 1.0 / (max_pixel_value * std_vector)
    center.flags.writeable = False
    scale.flags.writeable = False
    return center, scale
