"""The machinery under :mod:`albu_norm.functional`: validation, the affine kernel, statistics.

Private to the package (the public functions live in :mod:`albu_norm.functional`, the robust and
spatial families in :mod:`albu_norm.robust` and :mod:`albu_norm.spatial`). Validation runs once
in the public functions; the kernels assume their preconditions. Where each formula lives:

* fixed statistics: :func:`_fixed_plan` (``center = mean * max_pixel_value``,
  ``scale = 1 / (max_pixel_value * std)``);
* the per-image modes' statistics (center and spread of every mode): :func:`_statistics`;
* applying ``(img - center) * scale``: :func:`_affine`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Literal, Union

import numpy as np

try:
    import cv2
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "albu_norm needs OpenCV (the cv2 module), which was not found. Install it with "
        "`pip install 'albu_norm[albumentations]'` (Albumentations brings opencv-python-headless), "
        "or `pip install 'albu_norm[opencv]'` for the core functions alone."
    ) from error

Values = Union[float, Sequence[float]]
PerImageMode = Literal[
    "image", "image_per_channel", "min_max", "min_max_per_channel", "per_image_standardization"
]

#: Modes whose statistics come from the image itself.
PER_IMAGE_NORMALIZATIONS: tuple[str, ...] = (
    "image",
    "image_per_channel",
    "min_max",
    "min_max_per_channel",
    "per_image_standardization",
)
#: Every value of ``normalization`` the package accepts; "standard" uses fixed mean/std.
NORMALIZATIONS: tuple[str, ...] = ("standard", *PER_IMAGE_NORMALIZATIONS)

#: Input dtypes the core accepts.
SUPPORTED_DTYPES: tuple[np.dtype, ...] = tuple(
    np.dtype(t) for t in (np.uint8, np.uint16, np.float32, np.float64)
)

_MAX_VALUES = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}

# OpenCV's cv2.transform handles at most 4 channels; cv2.LUT and the reductions handle 512.
_CV_TRANSFORM_MAX_CHANNELS = 4
_CV_MAX_CHANNELS = 512


# --------------------------------------------------------------------------------------------
# Validation (done once, in the public functions)
# --------------------------------------------------------------------------------------------


def check_image(img: object, *, name: str = "img") -> np.ndarray:
    """Validate an image and return it as a C-contiguous array (a copy only when needed).

    Args:
        img: image, shape (H, W) or (H, W, C) with C >= 1; uint8, uint16, float32 or float64.
        name: how the image is called in error messages.
    Returns:
        the same data as a C-contiguous array (the input itself when it already is one).
    Raises:
        TypeError: img is not a numpy array, or has an unsupported dtype.
        ValueError: img is not 2- or 3-dimensional, or is empty.
    """
    if not isinstance(img, np.ndarray):
        raise TypeError(
            f"{name} must be a numpy array of shape (H, W) or (H, W, C), got {type(img).__name__}. "
            "Convert it with np.asarray(...)."
        )
    if img.dtype not in SUPPORTED_DTYPES:
        supported = ", ".join(str(d) for d in SUPPORTED_DTYPES)
        raise TypeError(
            f"{name} has dtype {img.dtype}, which albu_norm does not support; expected one of "
            f"{supported}. Convert it first, e.g. {name}.astype(np.float32)."
        )
    if img.ndim not in (2, 3):
        raise ValueError(
            f"{name} must have shape (H, W) or (H, W, C), got shape {img.shape} ({img.ndim} "
            "dimensions). Pass batches of shape (N, H, W, C) through a transform's images= "
            "argument, one image at a time to the core functions."
        )
    if img.size == 0:
        raise ValueError(f"{name} is empty (shape {img.shape}); there is nothing to normalize.")
    if img.ndim == 3 and img.shape[2] > _CV_MAX_CHANNELS:
        raise ValueError(
            f"{name} has {img.shape[2]} channels (shape {img.shape}); at most {_CV_MAX_CHANNELS} "
            "are supported. Is the channel axis first? albu_norm expects (H, W, C)."
        )
    return np.ascontiguousarray(img)


def num_channels(img: np.ndarray) -> int:
    """Number of channels of an (H, W) or (H, W, C) image: 1 for (H, W)."""
    return 1 if img.ndim == 2 else int(img.shape[2])


def default_max_pixel_value(dtype: np.dtype | type) -> float:
    """The value that maps to 1.0 on the 0-1 scale when ``max_pixel_value`` is not given.

    255 for uint8, 65535 for uint16, 1.0 for float32 and float64 (float images are taken to be
    on the 0-1 scale already).
    """
    return _MAX_VALUES.get(np.dtype(dtype), 1.0)


def _raise_channel_mismatch(name: str, count: int, channels: int, shape: tuple[int, ...]) -> None:
    raise ValueError(
        f"{name} has {count} values but the image has {channels} channel"
        f"{'s' if channels != 1 else ''} (shape {shape}). Pass {name} with {channels} values, "
        "or one value for all channels."
    )


def check_mean_std(mean: Values, std: Values) -> None:
    """Check that mean is finite and std is finite and strictly positive.

    Raises:
        ValueError: mean has a non-finite value; std has a value that is not finite and > 0.
    """
    mean_array = np.atleast_1d(np.asarray(mean, dtype=np.float64))
    std_array = np.atleast_1d(np.asarray(std, dtype=np.float64))
    if not np.all(np.isfinite(mean_array)):
        raise ValueError(f"mean must be finite, got {tuple(mean_array.tolist())}.")
    if not np.all(np.isfinite(std_array) & (std_array > 0)):
        raise ValueError(
            f"std must be finite and > 0 for every channel, got {tuple(std_array.tolist())}. "
            "A zero std would divide by zero; check the statistics you passed."
        )


def _check_max_pixel_value(max_pixel_value: float) -> float:
    value = float(max_pixel_value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(
            f"max_pixel_value must be a finite number > 0, got {max_pixel_value!r}. Leave it as "
            "None to follow the dtype (255 for uint8, 65535 for uint16, 1.0 for floats)."
        )
    return value


# --------------------------------------------------------------------------------------------
# Kernels (no checks: inputs are validated, C-contiguous, of a supported dtype)
# --------------------------------------------------------------------------------------------


def _as_2d(img: np.ndarray) -> np.ndarray:
    """(H, W, C) -> (H, W * C) view, for operations that treat every value alike."""
    return img.reshape(img.shape[0], -1)


def _affine(
    img: np.ndarray,
    center: np.ndarray,
    scale: np.ndarray,
    out: np.ndarray,
    *,
    per_image: bool,
    bounded: bool | None = None,
) -> np.ndarray:
    """Write ``(img - center[c]) * scale[c]`` into the float32 array ``out`` (img's shape).

    ``center`` and ``scale`` are float64 vectors of length C. ``per_image`` says they come from
    the image itself (the uint8 lookup table is then not cached: it would only evict the fixed
    statistics' tables). ``bounded`` (default: ``per_image``) says every result is known to be
    small (z-scores, [0, 1]), so the pixels need no overflow check.

    Routes: uint8 with fixed statistics through a cached 256-entry lookup table computed in
    float64 (each output within one float32 ulp of the float64 formula); uint8 with per-image
    statistics shared by all channels through one OpenCV convertTo pass
    (:func:`_affine_uint8_convert`) and with per-channel ones through a lookup table; uint16 and
    float32 through one OpenCV ``transform`` pass
    (``img * scale - center * scale`` in float32); float64 input, large offsets (where float32
    would cancel) and coefficients or results beyond float32's range in float64, with a range
    check.
    """
    if img.dtype == np.uint8:
        if per_image and _is_uniform(center, scale):
            return _affine_uint8_convert(img, float(center[0]), float(scale[0]), out)
        table = _build_lookup_table if per_image else _cached_lookup_table
        if _is_uniform(center, scale):
            lut = table(float(center[0]), float(scale[0]))
            _written(cv2.LUT(_as_2d(img), lut, dst=_as_2d(out)), out)
        else:
            lut = table(tuple(center.tolist()), tuple(scale.tolist()))
            _written(cv2.LUT(img, lut, dst=out), out)
        return out
    offset = -center * scale
    bounded = per_image if bounded is None else bounded
    if img.dtype == np.float64 or not _float32_is_accurate(img, scale, offset, bounded):
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported just below
            values = img.reshape(-1, len(center)) - center  # one float64 temporary, (H * W, C)
            values *= scale
            if bounded and not math.isfinite(float(np.max(np.abs(values)))):
                # img - center beyond float64 (values spanning its whole range): scale first
                values = img.reshape(-1, len(center)) * scale - center * scale
        _check_float32_range(values)
        np.copyto(out, values.reshape(out.shape), casting="same_kind")
        return out
    channels = num_channels(img)
    if _is_uniform(center, scale) or channels == 1:
        source, target = _as_2d(img), _as_2d(out)
        matrix = np.array([[scale[0], offset[0]]])
    elif channels <= _CV_TRANSFORM_MAX_CHANNELS:
        source, target = img, out
        matrix = np.hstack([np.diag(scale), offset[:, None]])
    else:  # many channels with different values: numpy broadcasting over the channel axis
        np.copyto(out, img, casting="unsafe")
        out *= scale.astype(np.float32)
        out += offset.astype(np.float32)
        return out
    if source.dtype != np.float32:  # cv2.transform keeps the depth: convert into out first
        np.copyto(target, source, casting="unsafe")
        source = target
    _written(cv2.transform(source, matrix, dst=target), out)
    return out


def _affine_uint8_convert(
    img: np.ndarray, center: float, scale: float, out: np.ndarray
) -> np.ndarray:
    """``(img - center) * scale`` for uint8 in one OpenCV convertTo pass (per-image statistics).

    ``cv2.normalize(NORM_MINMAX)`` maps the image's min m and max M linearly onto [a, b]; with
    ``a = (m - center) * scale`` and ``b = (M - center) * scale`` that line is exactly the wanted
    one. It is about 3x faster than the lookup table on uint8 and exact to a few float32 ulps of
    the terms (fixed statistics keep the correctly rounded, cached lookup table).
    """
    flat, target = _as_2d(img), _as_2d(out)
    low, high = (float(v) for v in cv2.minMaxLoc(flat)[:2])
    if low == high or scale == 0:
        target.fill((low - center) * scale)
        return out
    a, b = (low - center) * scale, (high - center) * scale
    _written(cv2.normalize(flat, target, a, b, cv2.NORM_MINMAX, cv2.CV_32F), out)
    return out


_LEVELS = np.arange(256, dtype=np.float64)


def _build_lookup_table(
    center: float | tuple[float, ...], scale: float | tuple[float, ...]
) -> np.ndarray:
    """float32 table of ``(v - center) * scale`` for v = 0..255, computed in float64.

    Scalars give a (256,) table for all channels; tuples a (256, 1, C) per-channel table.
    """
    if isinstance(center, tuple):
        values = (_LEVELS[:, None] - np.array(center)) * np.array(scale)
    else:
        values = (_LEVELS - center) * scale
    _check_float32_range(values)
    table = values.astype(np.float32)
    if isinstance(center, tuple):
        table = table.reshape(256, 1, len(center))
    table.flags.writeable = False
    return table


# Fixed statistics reuse their table on every call.
_cached_lookup_table = functools.lru_cache(maxsize=64)(_build_lookup_table)


def _is_uniform(center: np.ndarray, scale: np.ndarray) -> bool:
    # Python on these length-C vectors is faster than numpy reductions (per-call overhead).
    return len(set(center.tolist())) == 1 and len(set(scale.tolist())) == 1


_FLOAT32_MAX = float(np.finfo(np.float32).max)
_FLOAT32_TINY = float(np.finfo(np.float32).tiny)
# float32 evaluation of x * scale + offset errs by about eps32 * |offset| (cancellation when
# x * scale is close to -offset): above this |offset|, float64 keeps the result accurate.
_MAX_FLOAT32_OFFSET = 64.0


def _float32_is_accurate(
    img: np.ndarray, scale: np.ndarray, offset: np.ndarray, bounded: bool
) -> bool:
    """True when float32 arithmetic on img * scale + offset is accurate and cannot overflow."""
    scales = [abs(v) for v in scale.tolist()]
    largest_offset = max(abs(v) for v in offset.tolist())
    largest_scale = max(scales)
    if largest_offset > _MAX_FLOAT32_OFFSET or largest_scale >= _FLOAT32_MAX / 4:
        return False
    if any(0 < v < _FLOAT32_TINY for v in scales):
        return False
    if bounded:  # results are z-scores or in [0, 1]: no pixel can overflow
        return True
    if img.dtype.kind == "u":
        largest = float(np.iinfo(img.dtype).max)
    else:
        largest = float(cv2.norm(_as_2d(img), cv2.NORM_INF))
    return largest * largest_scale + largest_offset < _FLOAT32_MAX / 4


def _check_float32_range(values: np.ndarray) -> None:
    """Raise unless every float64 result is finite and within float32's range."""
    largest = float(np.max(np.abs(values)))  # NaN propagates and fails the test below
    if not largest <= _FLOAT32_MAX:
        raise ValueError(
            "the normalized values exceed the float32 range (or the image holds NaN/Inf): "
            "check max_pixel_value and std, which divide the pixels, and the image's values."
        )


def _written(result: np.ndarray, out: np.ndarray) -> None:
    """Make sure OpenCV wrote into ``out`` (it allocates a new array when dst does not fit)."""
    if not np.may_share_memory(result, out):  # pragma: no cover - a guard, never expected
        np.copyto(out, result.reshape(out.shape))


def _raise_not_finite(img: np.ndarray, normalization: str) -> None:
    raise ValueError(
        f"img contains NaN or Inf (shape {img.shape}, dtype {img.dtype}); the statistics of "
        f"normalization={normalization!r} would be NaN. Clean the image first, e.g. "
        "np.nan_to_num(img), or use fixed statistics (normalization='standard')."
    )


def _mean_std(img: np.ndarray, per_channel: bool) -> tuple[np.ndarray, np.ndarray]:
    """Population mean and std in float64: per channel, or over all values (length-1 arrays)."""
    if per_channel or img.dtype == np.uint8 or not 1 < num_channels(img) <= 4:
        mean, std = cv2.meanStdDev(img if per_channel else _as_2d(img))
        return mean.ravel().astype(np.float64), std.ravel().astype(np.float64)
    # OpenCV is faster on C <= 4 interleaved channels than on the flat view for non-uint8
    # data: combine the channels' moments (equal counts) into the overall ones.
    means, stds = (v.ravel() for v in cv2.meanStdDev(img))
    mean = means.mean()
    variance = max(float(np.mean(stds * stds + means * means) - mean * mean), 0.0)
    return np.array([mean]), np.array([math.sqrt(variance)])


def _min_max(img: np.ndarray, per_channel: bool) -> tuple[np.ndarray, np.ndarray]:
    """Minimum and maximum as float64: per channel, or over all values. NaN propagates."""
    if not per_channel or img.ndim == 2:
        return np.array([img.min()], dtype=np.float64), np.array([img.max()], dtype=np.float64)
    _, width, channels = img.shape
    rows = _as_2d(img)  # reduce over rows first (vectorised), then over the W pixels of a row
    low = rows.min(axis=0).reshape(width, channels).min(axis=0)
    high = rows.max(axis=0).reshape(width, channels).max(axis=0)
    return low.astype(np.float64), high.astype(np.float64)


def _per_image_center_scale(img: np.ndarray, normalization: str) -> tuple[np.ndarray, np.ndarray]:
    """Center and scale (float64, length C) such that ``(img - center) * scale`` is the mode."""
    channels = num_channels(img)
    center, spread = _statistics(img, normalization)
    if not _all_finite(center, spread):
        # NaN/Inf in the image, or finite float64 values so large that squares overflow:
        # then compute on img / max|img| and scale back.
        magnitude = float(np.max(np.abs(img)))
        if not math.isfinite(magnitude):
            _raise_not_finite(img, normalization)
        center, spread = _statistics(img / magnitude, normalization)
        scale = np.array([0.0 if v == 0 else 1.0 / v / magnitude for v in spread.tolist()])
        center = center * magnitude  # finite: between the image's min and max
    else:
        scale = np.array([0.0 if v == 0 else 1.0 / v for v in spread.tolist()])
    if len(center) != channels:  # statistics over all channels: the same for each
        return np.repeat(center, channels), np.repeat(scale, channels)
    return center, scale


def _all_finite(*vectors: np.ndarray) -> bool:
    return all(math.isfinite(v) for vector in vectors for v in vector.tolist())


def _statistics(img: np.ndarray, normalization: str) -> tuple[np.ndarray, np.ndarray]:
    """(center, spread): (min, max - min) or (mean, std), over the image or per channel."""
    per_channel = normalization.endswith("per_channel")
    with np.errstate(over="ignore", invalid="ignore"):  # non-finite results are handled above
        if normalization.startswith("min_max"):
            center, high = _min_max(img, per_channel)
            return center, high - center
        center, spread = _mean_std(img, per_channel)
        if not _all_finite(center, spread):
            return center, spread
        center, spread = _exact_small_std(img, per_channel, center, spread)
        if normalization == "per_image_standardization":
            # TensorFlow's floor (tensorflow/python/ops/image_ops_impl.py): the std is capped
            # away from zero at 1 / sqrt(number of values), on the image's own scale.
            # A uniform image keeps spread 0: its output is exactly 0 either way (x - mean = 0).
            spread = np.where(spread == 0, 0.0, np.maximum(spread, 1.0 / math.sqrt(img.size)))
        return center, spread


# OpenCV's meanStdDev uses the one-pass formula E[x^2] - E[x]^2: its relative error on std grows
# like eps64 * (mean/std)^2 (even uint8 gives std ~1e-8 for a small uniform image). Below this
# ratio std/|mean| the statistics are recomputed exactly (two passes, float64); above it the
# error is at most ~1e-9 relative.
_SMALL_STD = 1e-3


def _exact_small_std(
    img: np.ndarray, per_channel: bool, mean: np.ndarray, std: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Recompute small stds exactly: 0 for a uniform channel, two-pass float64 otherwise."""
    suspicious = std <= _SMALL_STD * np.abs(mean)
    if not np.any(suspicious):
        return mean, std
    mean, std = mean.copy(), std.copy()
    values = img.reshape(-1, num_channels(img)) if per_channel else img.reshape(-1, 1)
    for index in np.flatnonzero(suspicious):
        channel = values[:, index]
        if channel.min() == channel.max():
            mean[index], std[index] = float(channel[0]), 0.0
        else:
            mean[index] = float(channel.mean(dtype=np.float64))
            deviations = channel.astype(np.float64) - mean[index]
            std[index] = math.sqrt(float(np.mean(deviations * deviations)))
    return mean, std


def _fixed_center_scale(
    mean: Values, std: Values, max_pixel_value: float, channels: int, shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """``(img / max_pixel_value - mean) / std`` written as ``(img - center) * scale``.

    Validates mean/std (values, and a length of 1 or C) and caches the result per statistics.
    """
    mean_key, std_key = _as_key(mean), _as_key(std)
    for name, key in (("mean", mean_key), ("std", std_key)):
        if len(key) not in (1, channels):
            _raise_channel_mismatch(name, len(key), channels, shape)
    return _fixed_plan(mean_key, std_key, float(max_pixel_value), channels)


def _as_key(values: Values) -> tuple[float, ...]:
    if isinstance(values, (int, float)):
        return (float(values),)
    return tuple(np.asarray(values, dtype=np.float64).ravel().tolist())


@functools.lru_cache(maxsize=128)
def _fixed_plan(
    mean: tuple[float, ...], std: tuple[float, ...], max_pixel_value: float, channels: int
) -> tuple[np.ndarray, np.ndarray]:
    check_mean_std(mean, std)
    mean_vector = np.broadcast_to(np.array(mean), (channels,))
    std_vector = np.broadcast_to(np.array(std), (channels,))
    center = mean_vector * max_pixel_value
    scale = 1.0 / (max_pixel_value * std_vector)
    center.flags.writeable = False
    scale.flags.writeable = False
    return center, scale
