"""The core: pure normalization functions on numpy arrays (numpy + OpenCV, no Albumentations).

The public functions of the core: they validate their input once (:mod:`albu_norm._checks`)
and route to the private statistics (:mod:`albu_norm._statistics`, where every mode's center
and scale is written once) and kernels (:mod:`albu_norm._kernels`, the affine backends), which
assume their preconditions. The robust and spatial families are in :mod:`albu_norm.robust` and
:mod:`albu_norm.spatial`.

Shapes are ``(H, W)`` or ``(H, W, C)`` for any ``C >= 1``; the channel axis is last. Supported
dtypes are uint8, uint16, float32 and float64; the output is always a new float32 array of the
input's shape that never shares memory with the input, and the input is never modified.

Formulas (per channel ``c``; statistics over all pixels of the image, or of the channel):

* ``standard`` (fixed statistics): ``out = (img / max_pixel_value - mean[c]) / std[c]``
* ``image``: ``out = (img - mean(img)) / std(img)`` over all pixels and channels
* ``image_per_channel``: ``out = (img - mean(img[..., c])) / std(img[..., c])``
* ``min_max``: ``out = (img - min(img)) / (max(img) - min(img))``
* ``min_max_per_channel``: the same with the minimum and maximum of each channel
* ``per_image_standardization``: ``out = (img - mean(img)) / max(std(img), 1 / sqrt(N))`` over
  all N = H * W * C values, on the image's own values: ``tf.image.per_image_standardization``

``std`` is the population standard deviation (ddof=0), computed in float64: by OpenCV's one-pass
``meanStdDev``, and again exactly in two passes wherever the one-pass formula could lose digits
(``std <= 1e-3 * |mean|``, which includes every uniform image).

Epsilon policy: no epsilon is added to any denominator. An image (or channel, in the
per-channel modes) whose pixels are all equal has no spread to divide by; its output is exact
zeros, never NaN or Inf. Every other image gets the exact formula, however small its spread.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Literal

import numpy as np

from albu_norm._checks import (
    NORMALIZATIONS,
    PER_IMAGE_NORMALIZATIONS,
    SUPPORTED_DTYPES,
    Values,
    channel_values,
    check_channel_count,
    check_image,
    check_max_pixel_value,
    check_mean,
    check_mean_std,
    check_normalization,
    default_max_pixel_value,
    num_channels,
)
from albu_norm._kernels import affine, divide
from albu_norm._statistics import fixed_center_scale, per_image_plan

__all__ = [
    "NORMALIZATIONS",
    "PER_IMAGE_NORMALIZATIONS",
    "SUPPORTED_DTYPES",
    "check_image",
    "check_mean_std",
    "default_max_pixel_value",
    "denormalize",
    "normalize",
    "normalize_images",
    "normalize_per_image",
    "num_channels",
    "per_image_statistics",
]

PerImageMode = Literal[
    "image", "image_per_channel", "min_max", "min_max_per_channel", "per_image_standardization"
]


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


def normalize(
    img: np.ndarray,
    mean: Values,
    std: Values,
    max_pixel_value: float | None = None,
    *,
    reverse_channels: bool = False,
) -> np.ndarray:
    """Normalize an image with fixed per-channel statistics.

    Formula, per channel c: ``out = (img / max_pixel_value - mean[c]) / std[c]``.

    Args:
        img: image, shape (H, W) or (H, W, C) with C >= 1; uint8, uint16, float32 or float64.
        mean: per-channel means in units of max_pixel_value (the 0-1 scale): one number, or C.
        std: per-channel standard deviations in the same units, each finite and > 0: one or C.
        max_pixel_value: the pixel value that maps to 1.0; None follows the dtype (255 for
            uint8, 65535 for uint16, 1.0 for float32/float64).
        reverse_channels: reverse the channel order first (RGB <-> BGR; 3-channel images only):
            mean/std then apply to the reversed channels, and the output is in that order.
    Returns:
        a new float32 array, same shape as img. For uint8 input every value is the formula
        evaluated in float64 and rounded to float32 (within one float32 ulp of exact).
    Raises:
        TypeError: img is not an array, or its dtype is not uint8, uint16, float32 or float64.
        ValueError: img is empty or not 2-/3-D; mean/std have neither 1 nor C values; std has a
            value <= 0 or non-finite; mean is non-finite; max_pixel_value is not > 0.
    Source:
        The formula of ``torchvision.transforms.Normalize`` and ``albumentations.Normalize``
        (mode "standard"), with the 0-1 rescale by max_pixel_value made explicit.
    Example:
        >>> import numpy as np
        >>> img = np.full((2, 2, 3), 255, dtype=np.uint8)
        >>> normalize(img, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))[0, 0]
        array([2.2489083, 2.4285715, 2.64     ], dtype=float32)
    """
    img = check_image(img)
    if reverse_channels:
        img = _reversed_channels(img)
    center, scale = _fixed_plan(img, mean, std, max_pixel_value)
    out = np.empty(img.shape, dtype=np.float32)
    return affine(img, center, scale, out, cached=True, bounded=False)


def _fixed_plan(
    img: np.ndarray, mean: Values, std: Values, max_pixel_value: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Center and scale of fixed statistics for a validated image (mean/std/max checked)."""
    if type(mean) is tuple and type(std) is tuple:  # the spec's tuples: checked once, cached
        mean_values, std_values = _checked_values(mean, std)
    else:
        mean_values, std_values = check_mean_std(mean, std)
    for name, values in (("mean", mean_values), ("std", std_values)):
        check_channel_count(len(values), num_channels(img), img.shape, origin=name)
    scale_max = (
        default_max_pixel_value(img.dtype)
        if max_pixel_value is None
        else check_max_pixel_value(max_pixel_value)
    )
    return fixed_center_scale(mean_values, std_values, scale_max, num_channels(img))


@functools.lru_cache(maxsize=256)
def _checked_values(
    mean: tuple[float, ...], std: tuple[float, ...]
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    return check_mean_std(mean, std)


def _reversed_channels(img: np.ndarray) -> np.ndarray:
    """RGB <-> BGR: a C-contiguous copy with the channel axis reversed (3 channels only)."""
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(
            f"reversing the channel order (RGB <-> BGR) needs a 3-channel image, got shape "
            f"{img.shape}. Pass input_channel_order equal to the preset's channel order, or "
            "convert the image to 3 channels."
        )
    return np.ascontiguousarray(img[..., ::-1])


def normalize_per_image(img: np.ndarray, normalization: PerImageMode) -> np.ndarray:
    """Normalize an image with statistics computed from the image itself.

    Formulas (statistics in float64; std is the population std, ddof=0):

    * ``"image"``: ``(img - mean) / std`` over all pixels and channels;
    * ``"image_per_channel"``: the same with each channel's own mean and std;
    * ``"min_max"``: ``(img - min) / (max - min)`` over all pixels and channels, in [0, 1];
    * ``"min_max_per_channel"``: the same with each channel's own min and max;
    * ``"per_image_standardization"``: ``(img - mean) / max(std, 1 / sqrt(N))`` over all
      N = H * W * C values, exactly as ``tf.image.per_image_standardization`` (TensorFlow 2.x,
      ``tensorflow/python/ops/image_ops_impl.py``); computed on the image's own values (a uint8
      image is not rescaled to [0, 1] first, so the floor acts on 0-255 values).

    A uniform image (or channel, in the per-channel modes) gives exact zeros: no epsilon is
    added to the denominator (TensorFlow's floor only in its own mode). The result does not
    depend on max_pixel_value.

    Args:
        img: image, shape (H, W) or (H, W, C) with C >= 1; uint8, uint16, float32 or float64,
            finite.
        normalization: one of "image", "image_per_channel", "min_max", "min_max_per_channel",
            "per_image_standardization".
    Returns:
        a new float32 array, same shape as img.
    Raises:
        TypeError: img is not an array, or has an unsupported dtype.
        ValueError: unknown normalization; img is empty or not 2-/3-D; img contains NaN or Inf.
    Source:
        The per-image modes of ``albumentations.Normalize`` (2.x), without its epsilon.
    Example:
        >>> import numpy as np
        >>> img = np.array([[0, 10], [20, 30]], dtype=np.uint8)
        >>> normalize_per_image(img, "min_max")
        array([[0.        , 0.33333334],
               [0.6666667 , 1.        ]], dtype=float32)
    """
    check_normalization(normalization, PER_IMAGE_NORMALIZATIONS)
    img = check_image(img)
    return _normalize_per_image(img, normalization, np.empty(img.shape, dtype=np.float32))


def _normalize_per_image(img: np.ndarray, normalization: str, out: np.ndarray) -> np.ndarray:
    """normalize_per_image on a validated image into out, a float32 array of img's shape."""
    plan = per_image_plan(img, normalization)
    if normalization.startswith("min_max"):
        return divide(plan.source, plan.center, plan.spread, out)
    return affine(plan.source, plan.center, plan.scale, out, cached=False, bounded=True)


def normalize_images(
    images: np.ndarray,
    normalization: str = "standard",
    mean: Values | None = None,
    std: Values | None = None,
    max_pixel_value: float | None = None,
    *,
    reverse_channels: bool = False,
) -> np.ndarray:
    """Normalize a batch of images; per-image modes use each image's own statistics.

    The formulas are those of :func:`normalize` (``normalization="standard"``, which needs mean
    and std) and :func:`normalize_per_image` (the other modes, which take no mean/std).

    Args:
        images: batch, shape (N, H, W) or (N, H, W, C); uint8, uint16, float32 or float64.
        normalization: "standard" or one of the per-image modes.
        mean: per-channel means for "standard" (see :func:`normalize`); None otherwise.
        std: per-channel standard deviations for "standard"; None otherwise.
        max_pixel_value: for "standard"; None follows the dtype.
        reverse_channels: for "standard": RGB <-> BGR first (see :func:`normalize`).
    Returns:
        a new float32 array of shape (N, H, W[, C]).
    Raises:
        TypeError, ValueError: as :func:`normalize` and :func:`normalize_per_image`; also when
            images is not 3- or 4-dimensional.
    Example:
        >>> import numpy as np
        >>> ramp = np.arange(4, dtype=np.uint8).reshape(2, 2)
        >>> batch = np.stack([np.full((2, 2), 10, np.uint8), ramp])
        >>> normalize_images(batch, "min_max")[1]
        array([[0.        , 0.33333334],
               [0.6666667 , 1.        ]], dtype=float32)
    """
    if not isinstance(images, np.ndarray) or images.ndim not in (3, 4):
        shape = getattr(images, "shape", None)
        raise ValueError(
            f"images must be a numpy array of shape (N, H, W) or (N, H, W, C), got "
            f"{type(images).__name__} with shape {shape}."
        )
    check_normalization(normalization)
    if images.shape[0] == 0:
        raise ValueError(f"images is an empty batch (shape {images.shape}).")
    # Validate the batch as one tall image: (N*H, W) or (N*H, W, C).
    tall = check_image(images.reshape(-1, *images.shape[2:]), name="images")
    out = np.empty(images.shape, dtype=np.float32)
    if normalization == "standard":
        if mean is None or std is None:
            raise ValueError("normalization='standard' needs mean and std.")
        if reverse_channels:
            tall = _reversed_channels(tall)
        center, scale = _fixed_plan(tall, mean, std, max_pixel_value)
        affine(tall, center, scale, out.reshape(tall.shape), cached=True, bounded=False)
        return out
    batch = tall.reshape(images.shape)
    for index in range(len(batch)):
        _normalize_per_image(batch[index], normalization, out[index])
    return out


# --------------------------------------------------------------------------------------------
# The inverse
# --------------------------------------------------------------------------------------------

_LAYOUTS = ("HWC", "CHW", "NHWC", "NCHW")


def per_image_statistics(img: np.ndarray, normalization: PerImageMode) -> dict[str, Any]:
    """The statistics a per-image mode uses on ``img``, in the form :func:`denormalize` takes.

    ``normalize_per_image(img, mode)`` equals ``(img - mean) / std`` with the returned values
    (``std`` is the spread: std, max - min, or TensorFlow's floored std; 0 for a uniform image,
    whose output is 0 and maps back to ``mean``).

    Returns:
        ``{"mean": (C floats), "std": (C floats), "max_pixel_value": 1.0}``, in the image's
        own units.
    Raises:
        as :func:`normalize_per_image`.
    """
    check_normalization(normalization, PER_IMAGE_NORMALIZATIONS)
    plan = per_image_plan(check_image(img), normalization)
    center = np.ldexp(plan.center, plan.exponents)
    spread = tuple(np.ldexp(plan.spread, plan.exponents).tolist())
    return {"mean": tuple(center.tolist()), "std": spread, "max_pixel_value": 1.0}


def denormalize(
    values: Any,
    mean: Values,
    std: Values,
    max_pixel_value: float = 255.0,
    *,
    layout: str = "HWC",
    reverse_channels: bool = False,
    dtype: Any = np.uint8,
) -> np.ndarray:
    """Map normalized values back to a viewable image: the inverse of :func:`normalize`.

    Formula, per channel c: ``img = round((values * std[c] + mean[c]) * max_pixel_value)``,
    clipped to the output dtype's range. For uint8 images normalized with fixed statistics the
    round trip is lossless. For per-image modes pass :func:`per_image_statistics` of the image
    that was normalized.

    Args:
        values: normalized array; numpy, or a torch tensor (moved to the CPU; torch is never
            imported by albu_norm). Layout per ``layout``.
        mean: the means the forward pass used (0-1 scale of max_pixel_value).
        std: the stds the forward pass used, same units; may be 0 (a uniform image).
        max_pixel_value: the pixel value of 1.0 (255 for uint8 images).
        layout: "HWC" (default), "CHW", "NHWC" or "NCHW"; the output is HWC / NHWC.
        reverse_channels: reverse the channel order after the inverse (BGR output of a caffe
            preset back to RGB).
        dtype: output dtype, uint8 (default) or uint16.
    Returns:
        a new array of ``dtype``, channels last.
    Raises:
        TypeError: values is neither a numpy array nor a torch tensor; unsupported dtype.
        ValueError: unknown layout; mean/std length fits neither 1 nor C; non-finite values.
    Example:
        >>> import numpy as np
        >>> img = np.array([[[0, 128, 255]]], dtype=np.uint8)
        >>> mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
        >>> denormalize(normalize(img, mean, std), mean, std)
        array([[[  0, 128, 255]]], dtype=uint8)
    """
    array = _to_numpy(values)
    if layout not in _LAYOUTS:
        raise ValueError(f"layout must be one of {_LAYOUTS}, got {layout!r}.")
    if array.ndim != len(layout):
        raise ValueError(
            f"values has shape {array.shape} but layout {layout!r} needs {len(layout)} dimensions."
        )
    if layout in ("CHW", "NCHW"):
        array = np.moveaxis(array, -3, -1)
    out_dtype = np.dtype(dtype)
    if out_dtype not in (np.dtype(np.uint8), np.dtype(np.uint16)):
        raise TypeError(f"dtype must be uint8 or uint16, got {out_dtype}.")
    mean_values = check_mean(mean)
    std_values = channel_values(std, "std")  # 0 allowed: a uniform image's spread
    if not all(math.isfinite(v) and v >= 0 for v in std_values):
        raise ValueError(f"std must be finite numbers >= 0 to invert, got {std_values}.")
    for name, values in (("mean", mean_values), ("std", std_values)):
        check_channel_count(len(values), array.shape[-1], array.shape, origin=name)
    max_value = check_max_pixel_value(max_pixel_value)
    if not np.all(np.isfinite(array)):
        raise ValueError("values hold NaN/Inf: nothing viewable to restore.")
    with np.errstate(over="ignore"):  # beyond the output range either way: clipped below
        restored = array.astype(np.float64) * np.array(std_values) + np.array(mean_values)
        restored *= max_value
    limit = np.iinfo(out_dtype).max
    image = np.clip(np.rint(restored), 0, limit).astype(out_dtype)
    return np.ascontiguousarray(image[..., ::-1]) if reverse_channels else image


def _to_numpy(values: Any) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values
    if type(values).__module__.split(".")[0] == "torch":  # without importing torch
        return values.detach().cpu().numpy()
    raise TypeError(f"values must be a numpy array or a torch tensor, got {type(values).__name__}.")
