"""The affine kernel ``out = (img - center[c]) * scale[c]`` and its backends.

Private; no checks on the hot path: ``img`` is validated and C-contiguous, ``center`` and
``scale`` are float64 vectors of length C (finite), ``out`` is a float32 array of img's shape
(it may be ``img`` itself when img is float32).

Routing (:func:`affine`), first match wins:

============================================  ==============================================
input                                         backend
============================================  ==============================================
uint8 (every mode, fixed or per-image, with   :func:`affine_lut`: 256-entry float32 table
or without a mask)                            per channel computed in float64 (cached when
                                              ``cached``): each output is the float64
                                              formula correctly rounded to float32;
                                              cv2.LUT, or numpy gather above 128 channels
float64, or float32 arithmetic inaccurate     :func:`affine_float64`: float64, then a range
(|offset| > 64, scales beyond float32, or     check (values beyond float32 are a ValueError)
results that could overflow)
uint16/float32, one center and scale, or 1    :func:`affine_opencv`: one cv2.transform pass
channel, or up to 4 channels
uint16/float32, 5+ channels                   :func:`affine_numpy`: broadcasting over C
============================================  ==============================================

Flags: ``cached`` (fixed statistics: reuse lookup tables across calls; per-image statistics
would only evict them) and ``bounded`` (every result is known to be small, z-scores or values
in [0, 1], so no pixel needs the overflow check).
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from albu_norm._checks import num_channels
from albu_norm._statistics import CV_MAX_CHANNELS, finite_values

_FLOAT32_MAX = float(np.finfo(np.float32).max)
_FLOAT32_TINY = float(np.finfo(np.float32).tiny)
# float32 evaluation of x * scale + offset errs by about eps32 * |offset| (cancellation when
# x * scale is close to -offset): above this |offset|, float64 keeps the result accurate.
_MAX_FLOAT32_OFFSET = 64.0
_LEVELS = np.arange(256, dtype=np.float64)


def affine(
    img: np.ndarray,
    center: np.ndarray,
    scale: np.ndarray,
    out: np.ndarray,
    *,
    cached: bool,
    bounded: bool,
    hint: str = "",
    largest: float | None = None,
) -> np.ndarray:
    """Write ``(img - center[c]) * scale[c]`` into ``out`` and return it (routing above).

    ``hint`` ends the message of a result beyond float32 (what to check); the default speaks of
    fixed statistics. ``largest``: the float image's largest magnitude when the caller has
    measured it already (NaN for an image holding NaN), saving the overflow check's pass.

    Raises:
        ValueError: a result beyond float32's range (or NaN/Inf in the image, on the float64
            route).
    """
    if img.dtype == np.uint8:
        return affine_lut(img, center, scale, out, cached=cached)
    uniform = _is_uniform(center, scale)
    if img.dtype == np.float64 or not all(math.isfinite(v) for v in scale.tolist()):
        return affine_float64(img, center, scale, out, bounded=bounded, hint=hint)
    offset = -center * scale
    if not _float32_is_accurate(img, scale, offset, bounded, largest):
        return affine_float64(img, center, scale, out, bounded=bounded, hint=hint)
    if uniform or num_channels(img) <= 4:
        return affine_opencv(img, scale, offset, out, uniform=uniform)
    return affine_numpy(img, scale, offset, out)


def affine_lut(
    img: np.ndarray, center: np.ndarray, scale: np.ndarray, out: np.ndarray, *, cached: bool
) -> np.ndarray:
    """uint8: a float32 table of ``(v - center) * scale`` for v = 0..255, computed in float64
    (each output is the float64 formula rounded to float32)."""
    build = _cached_lookup_table if cached else _lookup_table
    if _is_uniform(center, scale):
        lut = build(float(center[0]), float(scale[0]))
    else:
        lut = build(tuple(center.tolist()), tuple(scale.tolist()))
    return apply_lut(img, lut, out)


def apply_lut(img: np.ndarray, lut: np.ndarray, out: np.ndarray) -> np.ndarray:
    """uint8 through a float32 table: (256,) for every channel, or (256, 1, C) per channel."""
    if lut.ndim == 1:
        _written(cv2.LUT(_as_2d(img), lut, dst=_as_2d(out)), out)
        return out
    channels = num_channels(img)
    if channels > CV_MAX_CHANNELS:  # beyond cv2.LUT's channel limit: gather per channel
        out[...] = lut.reshape(256, channels)[img, np.arange(channels)]
        return out
    _written(cv2.LUT(img, lut, dst=out), out)
    return out


def affine_opencv(
    img: np.ndarray,
    scale: np.ndarray,
    offset: np.ndarray,
    out: np.ndarray,
    *,
    uniform: bool = False,
) -> np.ndarray:
    """uint16/float32: ``img * scale + offset`` in float32 with one cv2.transform pass (one
    scale and offset for all values, ``uniform``, or up to 4 channels)."""
    if uniform or num_channels(img) == 1:
        source, target = _as_2d(img), _as_2d(out)
        matrix = np.array([[scale[0], offset[0]]])
    else:
        source, target = img, out
        matrix = _transform_matrix(tuple(scale.tolist()), tuple(offset.tolist()))
    if source.dtype != np.float32:  # cv2.transform keeps the depth: convert into out first
        np.copyto(target, source, casting="unsafe")
        source = target
    _written(cv2.transform(source, matrix, dst=target), out)
    return out


@functools.lru_cache(maxsize=256)
def _transform_matrix(scale: tuple[float, ...], offset: tuple[float, ...]) -> np.ndarray:
    """cv2.transform's (C, C + 1) matrix of ``x * scale + offset`` per channel, built once per
    set of constants (a fixed spec calls with the same ones every time). Read-only."""
    matrix = np.hstack([np.diag(scale), np.array(offset)[:, None]])
    matrix.flags.writeable = False
    return matrix


def affine_numpy(
    img: np.ndarray, scale: np.ndarray, offset: np.ndarray, out: np.ndarray
) -> np.ndarray:
    """uint16/float32, any channel count: ``img * scale + offset`` by numpy broadcasting."""
    np.copyto(out, img, casting="unsafe")
    out *= scale.astype(np.float32)
    out += offset.astype(np.float32)
    return out


def affine_float64(
    img: np.ndarray,
    center: np.ndarray,
    scale: np.ndarray,
    out: np.ndarray,
    *,
    bounded: bool,
    hint: str = "",
) -> np.ndarray:
    """``(img - center) * scale`` in float64 (one temporary), then a range check.

    Raises:
        ValueError: a result beyond float32's range, or NaN/Inf in the image.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported just below
        values = img.reshape(-1, len(center)) - center  # (H * W, C)
        values *= scale
        if bounded and not math.isfinite(float(np.max(np.abs(values)))):
            # img - center beyond float64 (values spanning its whole range): scale first
            values = img.reshape(-1, len(center)) * scale - center * scale
    check_float32_range(values, hint)
    np.copyto(out, values.reshape(out.shape), casting="same_kind")
    return out


def divide(
    img: np.ndarray, low: np.ndarray, spread: np.ndarray, out: np.ndarray, *, bounded: bool = True
) -> np.ndarray:
    """The min-max modes: ``(img - low[c]) / spread[c]``, with the minimum exactly 0, the
    maximum exactly 1 and every value between (a zero spread gives zeros).

    In float32 for uint16/float32 (``img - low`` is monotonic and the division is correctly
    rounded, so ``x <= max`` gives ``(x - low) / spread <= 1``), in float64 for float64 input
    and for a spread above half float32's maximum; two numpy passes, where a multiplication by
    ``1 / spread`` could leave [0, 1] by an ulp. Float input that is not ``bounded`` (pixels
    left out of the statistics may lie anywhere) gets a range check of the result. The spread
    is finite (the overflow policy scaled the image otherwise).

    uint8 goes through a 256-entry table per channel, the division in float64 correctly
    rounded to float32 (exact 0 and 1 too).

    Raises:
        ValueError: an unbounded result beyond float32's range.
    """
    if img.dtype == np.uint8:
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(spread == 0, 0.0, (_LEVELS[:, None] - low) / spread)
        table = values.astype(np.float32)
        if _is_uniform(low, spread):
            return apply_lut(img, np.ascontiguousarray(table[:, 0]), out)
        return apply_lut(img, table.reshape(256, 1, len(low)), out)
    spreads = np.where(spread == 0, np.inf, spread)  # zero-spread channels: exactly 0 below
    if _is_uniform(low, spreads):
        low, spreads = low[:1], spreads[:1]
    flat_spread = spread[: len(low)]
    if any(v == 0 for v in flat_spread.tolist()):  # a uniform channel (of the kept pixels)
        _divide(img, low, spreads, out, bounded)
        out.reshape(-1, len(low))[:, flat_spread == 0] = 0.0
        return out
    return _divide(img, low, spreads, out, bounded)


def _divide(
    img: np.ndarray, low: np.ndarray, spreads: np.ndarray, out: np.ndarray, bounded: bool
) -> np.ndarray:
    hint = "pixels left out of the statistics lie far outside the kept pixels' range."
    if img.dtype == np.float64 or max(spreads.tolist()) > _FLOAT32_MAX / 2:
        with np.errstate(over="ignore", invalid="ignore"):  # reported just below
            values = (img.reshape(-1, len(low)) - low) / spreads
        if not bounded:
            check_float32_range(values, hint)
        np.copyto(out, values.reshape(out.shape), casting="same_kind")
        return out
    flat = out.reshape(-1, len(low))
    with np.errstate(over="ignore", invalid="ignore"):  # reported just below
        np.subtract(img.reshape(-1, len(low)), low.astype(np.float32), out=flat, dtype=np.float32)
        np.divide(flat, spreads.astype(np.float32), out=flat)
    # one OpenCV L1 norm of the float32 result (see finite_values)
    if not bounded and img.dtype.kind == "f" and not finite_values(out):
        check_float32_range(flat.astype(np.float64), hint)  # raises
    return out


def fill_outside(out: np.ndarray, kept: np.ndarray, fill: float) -> np.ndarray:
    """Set the left-out pixels (every channel) of ``out`` to ``fill``: one masked OpenCV copy
    up to 128 channels, numpy above."""
    channels = 1 if out.ndim == 2 else out.shape[2]
    if channels <= CV_MAX_CHANNELS:
        source = np.full(out.shape, fill, dtype=np.float32)
        _written(cv2.copyTo(source, np.logical_not(kept).view(np.uint8), out), out)
        return out
    out.reshape(kept.size, -1)[~kept.ravel()] = fill
    return out


FIXED_STATISTICS_HINT = (
    "check max_pixel_value and std, which divide the pixels, and the image's values."
)


def check_float32_range(values: np.ndarray, hint: str = "") -> None:
    """Raise unless every float64 result is finite and within float32's range.

    Raises:
        ValueError: a value beyond float32, NaN or Inf; the message ends with ``hint`` (by
            default: check max_pixel_value and std).
    """
    largest = float(np.max(np.abs(values)))  # NaN propagates and fails the test below
    if not largest <= _FLOAT32_MAX:
        raise ValueError(
            "the normalized values exceed the float32 range (or the image holds NaN/Inf): "
            + (hint or FIXED_STATISTICS_HINT)
        )


def _lookup_table(
    center: float | tuple[float, ...], scale: float | tuple[float, ...]
) -> np.ndarray:
    """Read-only float32 table of ``(v - center) * scale`` for v = 0..255, in float64.

    Scalars give a (256,) table for all channels; tuples a (256, 1, C) per-channel table.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # reported just below
        if isinstance(center, tuple):
            values = (_LEVELS[:, None] - np.array(center)) * np.array(scale)
        else:
            values = (_LEVELS - center) * scale
    check_float32_range(values)
    table = values.astype(np.float32)
    if isinstance(center, tuple):
        table = table.reshape(256, 1, len(center))
    table.flags.writeable = False
    return table


# Fixed statistics reuse their table on every call; bounded, and read-only.
_cached_lookup_table = functools.lru_cache(maxsize=64)(_lookup_table)


def _as_2d(img: np.ndarray) -> np.ndarray:
    """(H, W, C) -> (H, W * C) view, for operations that treat every value alike."""
    return img.reshape(img.shape[0], -1)


def _is_uniform(center: np.ndarray, scale: np.ndarray) -> bool:
    # Python on these length-C vectors is faster than numpy reductions (per-call overhead).
    return len(set(center.tolist())) == 1 and len(set(scale.tolist())) == 1


def float32_constants_ok(scale: np.ndarray, offset: np.ndarray) -> bool:
    """True when float32 arithmetic on ``x * scale + offset`` is accurate for these constants
    whatever the data: no |offset| above 64 (cancellation), no scale near float32's maximum or
    below its smallest normal. Shared with the torch module, which cannot look at the data."""
    scales = [abs(v) for v in scale.ravel().tolist()]
    largest_offset = max(abs(v) for v in offset.ravel().tolist())
    if largest_offset > _MAX_FLOAT32_OFFSET or max(scales) >= _FLOAT32_MAX / 4:
        return False
    return not any(0 < v < _FLOAT32_TINY for v in scales)


def _float32_is_accurate(
    img: np.ndarray,
    scale: np.ndarray,
    offset: np.ndarray,
    bounded: bool,
    largest: float | None = None,
) -> bool:
    """True when float32 arithmetic on img * scale + offset is accurate and cannot overflow."""
    scales, offsets = tuple(scale.tolist()), tuple(offset.tolist())
    if not _constants_ok(scales, offsets):
        return False
    if bounded:  # results are z-scores or in [0, 1]: no pixel can overflow
        return True
    if img.dtype.kind == "u":
        largest = float(np.iinfo(img.dtype).max)
    elif largest is None:
        largest = float(cv2.norm(_as_2d(img), cv2.NORM_INF))
    largest_offset = max(abs(v) for v in offsets)
    return largest * max(abs(v) for v in scales) + largest_offset < _FLOAT32_MAX / 4


@functools.lru_cache(maxsize=256)
def _constants_ok(scale: tuple[float, ...], offset: tuple[float, ...]) -> bool:
    """:func:`float32_constants_ok`, once per set of constants."""
    return float32_constants_ok(np.array(scale), np.array(offset))


def _written(result: np.ndarray, out: np.ndarray) -> None:
    """Make sure OpenCV wrote into ``out`` (it allocates a new array when dst does not fit)."""
    if not np.may_share_memory(result, out):  # pragma: no cover - a guard, never expected
        np.copyto(out, result.reshape(out.shape))
