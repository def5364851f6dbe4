"""The inverse of the fixed-statistics affine: from normalized values back to a viewable image.

Private; :func:`albu_norm.functional.denormalize` is its public face.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from albu_norm._checks import (
    Values,
    channel_values,
    check_channel_count,
    check_max_pixel_value,
    check_mean,
)

__all__ = ["denormalize"]

_LAYOUTS = ("HWC", "CHW", "NHWC", "NCHW")


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
    """Map normalized values back to a viewable image: the inverse of
    :func:`albu_norm.functional.normalize`.

    Formula, per channel c: ``img = round((values * std[c] + mean[c]) * max_pixel_value)``,
    clipped to the output dtype's range. For uint8 images normalized with fixed statistics the
    round trip is lossless. For per-image modes pass
    :func:`albu_norm.functional.per_image_statistics` of the image
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
        >>> from albu_norm.functional import denormalize, normalize
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
