"""Statistics of one image: the center and spread of every per-image mode's row, exact
histograms and percentiles, one overflow policy, one reciprocal-or-zero and one helper per
formula (TF floor, moment combination, power-of-two scaling, the batch as a tall image).

Private; inputs are validated (:mod:`albu_norm._checks`), C-contiguous, of a supported dtype.

* Center and scale of the per-image modes (:func:`per_image_plan`), from the primitives a row
  of :mod:`albu_norm.modes` names: ``mean``/``std`` or ``min``/``range``, over all values or
  per channel, over every pixel or the kept ones, in float64 on the image's own scale.
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
    Masking,
    check_mask,
    check_percentile,
    num_channels,
    raise_not_finite,
)
from albu_norm.modes import Mode

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


_NORMAL_EXPONENTS = {np.dtype(np.float64): (-1022, 1023), np.dtype(np.float32): (-126, 127)}


def times_power_of_two(values: np.ndarray, exponents: Any) -> np.ndarray:
    """``values * 2**exponents`` (one exponent, or one per channel along the last axis), exact
    as ``np.ldexp`` (a power of two only moves the exponent), in ``values``' float dtype: by a
    multiplication (about 10x faster) wherever every ``2**e`` is a normal number of that dtype;
    ``values`` itself when every exponent is 0 (callers never modify it in place)."""
    e = np.asarray(exponents)
    if not e.any():
        return values
    low, high = _NORMAL_EXPONENTS.get(values.dtype, (0, -1))
    if low <= int(e.min()) and int(e.max()) <= high:
        return values * np.ldexp(1.0, e).astype(values.dtype)
    return np.ldexp(values, e).astype(values.dtype, copy=False)


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
    return times_power_of_two(img, -(exponents if img.ndim == 3 else exponents[0])), exponents


def tall(images: np.ndarray) -> np.ndarray:
    """A batch (N, H, W[, C]) as one tall image (N * H, W[, C]): a view, for every operation
    whose result does not depend on which image a pixel belongs to (fixed statistics, checks)."""
    return images.reshape(-1, *images.shape[2:])


def combine_moments(means: np.ndarray, stds: np.ndarray) -> tuple[float, float]:
    """Mean and population std of all values, from those of C groups of equal counts (the
    channels of an image): ``mean = mean(means)``, ``var = mean(std**2 + mean**2) - mean**2``
    (clipped at 0; the exact re-check follows where it could lose digits)."""
    mean = float(means.mean())
    variance = max(float(np.mean(stds * stds + means * means)) - mean * mean, 0.0)
    return mean, math.sqrt(variance)


def tf_floor(spread: np.ndarray, values: int, exponents: np.ndarray) -> np.ndarray:
    """TensorFlow's floor of the spread (``tf.image.per_image_standardization``,
    tensorflow/python/ops/image_ops_impl.py): ``max(spread, 1 / sqrt(values))``, ``values``
    the number of values the spread was taken over (with a mask: the kept ones), in the units
    of a source scaled by ``2**-exponents`` (one per group). A zero spread stays 0: its output
    is exactly 0 either way (``x - mean = 0``). Beyond float64 (tiny values scaled up) the
    floor divides every value to 0, as it does in float32 for the image itself."""
    with np.errstate(over="ignore"):
        floor = np.ldexp(1.0 / math.sqrt(values), -exponents[: len(spread)])
    return np.where(spread == 0, 0.0, np.maximum(spread, floor))


# --------------------------------------------------------------------------------------------
# Center and spread of the per-image modes
# --------------------------------------------------------------------------------------------


class PerImagePlan(NamedTuple):
    """How a per-image mode normalizes an image: ``(source - center) * scale``, computed as
    ``(source - center) / spread`` where the mode's row says ``divide`` (exact 0 and 1 at the
    ends of the min-max modes).

    ``source`` is the image itself, or the image scaled by ``2**-exponents[c]`` (the overflow
    policy); ``center``, ``scale`` and ``spread`` are float64 vectors of length C in the units
    of ``source``; ``exponents`` an int vector of length C.
    """

    source: np.ndarray
    center: np.ndarray
    scale: np.ndarray
    spread: np.ndarray
    exponents: np.ndarray


def per_image_plan(
    img: np.ndarray, mode: Mode, kept: np.ndarray | None = None
) -> PerImagePlan | None:
    """The :class:`PerImagePlan` of a per-image mode's row on ``img``, its statistics over the
    ``kept`` pixels (boolean (H, W); None: every pixel); None when no pixel is kept.

    The row's ``center`` ("mean" or "min"), ``spread`` ("std" or "range"), ``per_channel`` and
    ``floor`` choose the primitives; nothing here looks at the mode's name. The exponents are 0
    and ``source`` is ``img`` except where the statistics would overflow or underflow float64
    (values spanning its whole range; a spread whose reciprocal overflows): then ``source`` is
    the image scaled by exact powers of two (:func:`power_of_two_scaled`), to which every
    per-image mode is invariant. Routing: the reductions run on the bounding rectangle of the
    kept pixels; kept pixels that fill it (the padding and letterbox masks) get the unmasked
    reductions of that view; otherwise OpenCV's masked reductions (``meanStdDev`` and
    ``minMaxLoc``, no copy of the image) up to 128 channels; the kept pixels gathered as one
    (N, 1, C) image above, and wherever the overflow policy is needed.

    Raises:
        ValueError: NaN or Inf in the image (outside the kept pixels too: they are normalized
            or filled, never NaN).
    """
    channels = num_channels(img)
    what = f"normalization={mode.name!r}"
    count = img.shape[0] * img.shape[1]
    region, region_kept = img, kept  # where the statistics are taken
    if kept is not None:
        count = int(np.count_nonzero(kept))
        if count == 0:
            return None
        if img.dtype.kind == "f" and not finite_values(img):
            raise_not_finite(img, what)
        left, top, width, height = cv2.boundingRect(kept.view(np.uint8))
        region = img[top : top + height, left : left + width]  # the reductions skip the rest
        # kept pixels that fill the rectangle (padding, letterbox): the unmasked reductions
        region_kept = (
            None if width * height == count else kept[top : top + height, left : left + width]
        )
    if region_kept is None or channels <= CV_MAX_CHANNELS:
        center, spread = _center_spread(region, mode, region_kept)
        if _all_finite(center, spread) and not _underflowed(region, center, spread):
            return _plan(img, center, spread, _no_exponents(channels), mode, count)
    values = img if kept is None else _gather(img, kept)
    scaled, exponents = power_of_two_scaled(values, True, what, mode.per_channel)
    center, spread = _center_spread(scaled, mode, None)
    source = scaled if kept is None else times_power_of_two(img, -_image_exponents(img, exponents))
    return _plan(source, center, spread, exponents, mode, count)


def _underflowed(region: np.ndarray, center: np.ndarray, spread: np.ndarray) -> bool:
    """True where the statistics of ``region`` may have lost digits to underflow, so that the
    image must be scaled by a power of two first: a spread below ``_TINY`` (the squares of
    the deviations underflowed), or a zero spread of values that are not all equal (a tiny
    center: [0, 2**-1074, 2**-1074] has a std of 0 in float64; a zero center: checked with
    one min/max pass, float images only)."""
    pairs = list(zip(center.tolist(), spread.tolist()))
    if any(0 < s < _TINY or (s == 0 and 0 < abs(c) < _TINY) for c, s in pairs):
        return True
    if region.dtype.kind == "f" and any(s == 0 and c == 0 for c, s in pairs):
        return bool(region.min() != region.max())
    return False


def finite_values(img: np.ndarray) -> bool:
    """No NaN or Inf in a float image: OpenCV's L1 norm (one pass, accumulated in float64,
    which NaN and Inf propagate through) where it applies, confirmed by numpy's max and min
    (which propagate NaN) when the sum overflows or the dtype is not OpenCV's."""
    if img.dtype in (np.float32, np.float64) and math.isfinite(cv2.norm(_as_2d(img), cv2.NORM_L1)):
        return True
    return math.isfinite(float(img.max())) and math.isfinite(float(img.min()))


def _image_exponents(img: np.ndarray, exponents: np.ndarray) -> Any:
    return exponents if img.ndim == 3 else exponents[0]


def _gather(img: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """The kept pixels of an image as one (N, 1, C) image."""
    channels = num_channels(img)
    values = img.reshape(-1, channels)[kept.ravel()]
    return values.reshape(len(values), 1, channels)


def _plan(
    source: np.ndarray,
    center: np.ndarray,
    spread: np.ndarray,
    exponents: np.ndarray,
    mode: Mode,
    pixels: int,
) -> PerImagePlan:
    channels = num_channels(source)
    if mode.floor == "tf":
        spread = tf_floor(spread, pixels * (1 if mode.per_channel else channels), exponents)
    scale = reciprocal_or_zero(spread)
    if len(center) != channels:  # statistics over all channels: the same for each
        center, scale, spread = (v.repeat(channels) for v in (center, scale, spread))
    return PerImagePlan(source, center, scale, spread, exponents)


def _center_spread(
    img: np.ndarray, mode: Mode, kept: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """(center, spread) float64 vectors (length C per channel, 1 pooled) of the row's
    primitives, over the kept pixels (None: all). Non-finite results are the caller's."""
    per_channel = mode.per_channel
    parts: dict[str, np.ndarray] = {}
    with np.errstate(over="ignore", invalid="ignore"):
        if mode.needs_range:
            if kept is None:
                low, high = min_max(img, per_channel)
            else:
                low, high = masked_min_max(img, kept, per_channel)
            parts["min"], parts["range"] = low, high - low
        if mode.needs_moments:
            parts["mean"], parts["std"] = _moments(img, per_channel, kept)
    return parts[mode.center], parts[mode.spread]


def _moments(
    img: np.ndarray, per_channel: bool, kept: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Population mean and std (float64; per channel, or over all values as length-1 vectors)
    of the kept pixels, with the exact two-pass re-check where the one-pass formula could lose
    digits."""
    if kept is None:
        mean, std = _mean_std(img, per_channel)
    else:
        mask = kept.view(np.uint8)
        mean, std = (v.ravel().astype(np.float64) for v in cv2.meanStdDev(img, mask=mask))
        if not per_channel and len(mean) > 1:  # the channels' moments (equal counts) combined
            pooled = combine_moments(mean, std)
            mean, std = np.array(pooled[:1]), np.array(pooled[1:])
    if not _all_finite(mean, std) or not _suspicious(mean, std).any():
        return mean, std
    return _exact_small_std(img if kept is None else _gather(img, kept), per_channel, mean, std)


def _suspicious(mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    # OpenCV's one-pass std errs by about eps64 * (mean/std)^2 relative: below this ratio, or
    # where squares underflow, it is recomputed exactly in two passes
    return (std <= _SMALL_STD * np.abs(mean)) | (std < _TINY)


def kept_pixels(img: np.ndarray, mask: Any, masking: Masking) -> np.ndarray | None:
    """Boolean (H, W): the pixels of a validated image whose values count (mask nonzero, and not
    every channel equal to ``masking.ignore_value``); None when every pixel counts.

    Raises:
        TypeError, ValueError: as :func:`albu_norm._checks.check_mask`; a mask given without
            ``masking.masked`` or missing with it; an ignore_value of the wrong length.
    """
    masking.check_presence(mask is not None)
    kept = None if mask is None else check_mask(mask, img.shape)
    ignore_value = masking.ignore_value
    if ignore_value is not None:
        channels = num_channels(img)
        masking.check_ignore_value_fits(channels, img.shape)
        view = img.reshape(img.shape[0], img.shape[1], channels)
        # floats compare in the image's dtype (0.1 means float32(0.1) in a float32 image);
        # integers in float64 (0.5 matches no uint8 pixel)
        target = np.asarray(
            ignore_value, dtype=view.dtype if view.dtype.kind == "f" else np.float64
        )
        nodata = np.all(view == target, axis=2)
        kept = ~nodata if kept is None else kept & ~nodata
    return kept


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
    pooled_mean, pooled_std = combine_moments(*(v.ravel() for v in cv2.meanStdDev(img)))
    return np.array([pooled_mean]), np.array([pooled_std])


def min_max(img: np.ndarray, per_channel: bool) -> tuple[np.ndarray, np.ndarray]:
    """Minimum and maximum as float64: per channel, or over all values. NaN propagates."""
    if not per_channel or img.ndim == 2:
        return np.array([img.min()], dtype=np.float64), np.array([img.max()], dtype=np.float64)
    _, width, channels = img.shape
    rows = _as_2d(img)  # reduce over rows first (vectorised), then over the W pixels of a row
    low = rows.min(axis=0).reshape(width, channels).min(axis=0)
    high = rows.max(axis=0).reshape(width, channels).max(axis=0)
    return low.astype(np.float64), high.astype(np.float64)


def masked_min_max(
    img: np.ndarray, kept: np.ndarray, per_channel: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Minimum and maximum as float64 vectors (length C per channel, 1 over all values) over
    the ``kept`` pixels (boolean (H, W), at least one True): OpenCV's masked ``minMaxLoc`` up to
    128 channels, which skips NaN (callers check finiteness), numpy above. Over all values: one
    ``minMaxLoc`` of the (H, W * C) view under the mask repeated for each channel."""
    channels = num_channels(img)
    if channels > CV_MAX_CHANNELS:
        values = img.reshape(-1, channels)[kept.ravel()]
        low, high = values.min(axis=0).astype(np.float64), values.max(axis=0).astype(np.float64)
        return (low, high) if per_channel else (low.min(keepdims=True), high.max(keepdims=True))
    mask = kept.view(np.uint8)
    if not per_channel and channels > 1:
        every_channel = cv2.merge([mask] * channels).reshape(mask.shape[0], -1)
        lowest, highest = cv2.minMaxLoc(_as_2d(img), every_channel)[:2]
        return np.array([lowest], np.float64), np.array([highest], np.float64)
    planes = [img] if img.ndim == 2 else [cv2.extractChannel(img, c) for c in range(channels)]
    bounds = np.array([cv2.minMaxLoc(plane, mask)[:2] for plane in planes], np.float64)
    return bounds[:, 0], bounds[:, 1]


def _exact_small_std(
    img: np.ndarray, per_channel: bool, mean: np.ndarray, std: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Recompute small stds exactly: 0 for a uniform channel, two-pass float64 otherwise, on
    the channel scaled by a power of two so that squares of tiny deviations do not underflow."""
    suspicious = _suspicious(mean, std)
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
