"""Spatially varying normalization: per-pixel statistics and local contrast normalization.

Core functions (numpy + OpenCV, no Albumentations); every formula here, once.

Per-pixel statistics (Caffe's "mean image"; "mean image / dynamic-range image" normalization):

    out = (img - mean_image) / scale_image        (scale_image: std image, or max - min image)
    out = img - mean_image                        (no scale image: Caffe's mean subtraction)

The statistics images have the input's shape, (H, W) or (H, W, C), in the input's raw units; a
pixel whose scale is 0 maps to 0. Caffe crops the mean image at the same offset as the data; in
an Albumentations pipeline either apply this *before* any crop or resize, or opt in to resizing
the statistics to the input (``resize=True``, bilinear). A shape mismatch is otherwise an error,
never a silent broadcast.

Local contrast normalization (Jarrett et al., "What is the best multi-stage architecture for
object recognition?", ICCV 2009, section 2; Sermanet et al. 2012, section 3.3.3; Pinto et al.
2008), across channels with a normalized Gaussian window G (weights summing to 1 over the window
and the C channels):

    v = x - G * x                                 (subtractive: local mean over all channels)
    sigma = sqrt(G * v^2)                          (local std over all channels)
    y = v / max(c, sigma)                          (divisive)

with ``c`` the image's mean of sigma (Jarrett et al.) or a constant. Computed in float32 on the
image's own values, centered on the image's mean, with OpenCV's ``GaussianBlur`` (reflect-101
borders). Where ``max(c, sigma)`` is 0 (within float32 rounding: 16 ulps of the largest
deviation) the input is locally flat and the output is 0; a uniform image gives exact zeros.
"""

from __future__ import annotations

import math
import os
from typing import NamedTuple

import cv2
import numpy as np

from albu_norm._checks import check_image, num_channels
from albu_norm._kernels import check_float32_range
from albu_norm._statistics import power_of_two_scaled, reciprocal_or_zero

# A local std this many float32 ulps of the largest deviation or less is rounding, not contrast.
_FLAT_ULPS = 16

__all__ = [
    "PerPixelStatistics",
    "check_lcn_parameters",
    "check_statistics_image",
    "load_statistics_image",
    "local_contrast_normalize",
    "normalize_per_pixel",
    "per_pixel_statistics",
]


def check_statistics_image(stat: np.ndarray, name: str) -> np.ndarray:
    """Validate a per-pixel statistics image and return it as a read-only float64 array of its
    shape, (H, W) or (H, W, C).

    Raises:
        TypeError, ValueError: not a finite real array of 2 or 3 dimensions.
    """
    if not isinstance(stat, np.ndarray) or stat.ndim not in (2, 3) or stat.size == 0:
        raise ValueError(
            f"{name} must be a non-empty array of shape (H, W) or (H, W, C), got "
            f"{getattr(stat, 'shape', type(stat).__name__)}."
        )
    if stat.dtype.kind not in "uif":
        raise TypeError(
            f"{name} must hold real numbers (integers or floats), got dtype {stat.dtype}."
        )
    values = stat.astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} holds NaN or Inf.")
    values.flags.writeable = False
    return values


def load_statistics_image(path: str | os.PathLike[str], name: str) -> np.ndarray:
    """Load a statistics image saved with ``np.save``, never unpickling (``allow_pickle=False``),
    and check it as :func:`check_statistics_image` does (read-only float64).

    Raises:
        ValueError: the file cannot be read, holds pickled objects, or is not a finite real
            array of 2 or 3 dimensions (the message names the file and ``name``).
    """
    try:
        array = np.load(os.fspath(path), allow_pickle=False)
        return check_statistics_image(array, name)
    except Exception as error:  # OSError, pickled content, a bool/complex/empty array, ...
        raise ValueError(f"cannot use {name} {os.fspath(path)!r}: {error}") from None


class PerPixelStatistics(NamedTuple):
    """Checked per-pixel statistics, ready to apply: the mean and scale images (float64), the
    reciprocal of the scale (0 where the scale is 0; None without a scale image), and float32
    copies of the mean and the reciprocal for inputs other than float64; made by
    :func:`per_pixel_statistics`."""

    mean: np.ndarray
    scale: np.ndarray | None
    reciprocal: np.ndarray | None
    mean32: np.ndarray
    reciprocal32: np.ndarray | None


def per_pixel_statistics(
    mean_image: np.ndarray, scale_image: np.ndarray | None = None
) -> PerPixelStatistics:
    """Check the statistics images once (see :func:`normalize_per_pixel`) for repeated use.

    Raises:
        TypeError, ValueError: as :func:`check_statistics_image`.
    """
    mean = check_statistics_image(mean_image, "mean_image")
    scale = reciprocal = None
    if scale_image is not None:
        scale = check_statistics_image(scale_image, "scale_image")
        reciprocal = reciprocal_or_zero(scale)
    with np.errstate(over="ignore"):  # beyond float32: the result's range check reports it
        return PerPixelStatistics(
            mean,
            scale,
            reciprocal,
            mean.astype(np.float32),
            None if reciprocal is None else reciprocal.astype(np.float32),
        )


def normalize_per_pixel(
    img: np.ndarray,
    mean_image: np.ndarray | PerPixelStatistics,
    scale_image: np.ndarray | None = None,
    *,
    resize: bool = False,
) -> np.ndarray:
    """``(img - mean_image) / scale_image`` per pixel (``img - mean_image`` without a scale).

    Computed as ``(img - mean) * (1 / scale)`` in float32 (float64 for float64 input), with the
    statistics in float64 until then.

    Args:
        img: image, shape (H, W) or (H, W, C); uint8, uint16, float32 or float64.
        mean_image: same shape as img (or resizable to it), raw units, finite; or the
            :class:`PerPixelStatistics` of both images, checked once (scale_image is then None).
        scale_image: std image or max - min image, same shape, finite; pixels of 0 map to 0.
        resize: resize the statistics images to img's height and width (bilinear) when they
            differ. Off by default: statistics of another geometry are usually a bug (a crop
            before this transform).
    Returns:
        a new float32 array, same shape as img.
    Raises:
        TypeError: img or a statistics image is not of a supported dtype.
        ValueError: shapes differ (and resize is False), or the channel counts differ; NaN/Inf
            in a statistics image; results beyond float32's range.
    """
    img = check_image(img)
    stats = (
        mean_image
        if isinstance(mean_image, PerPixelStatistics)
        else per_pixel_statistics(mean_image, scale_image)
    )
    wide = img.dtype == np.float64  # values beyond float32 must not overflow
    mean, reciprocal = (
        (stats.mean, stats.reciprocal) if wide else (stats.mean32, stats.reciprocal32)
    )
    mean = _fit(mean, img, resize, "mean_image")
    if reciprocal is not None and stats.scale is not None:
        if stats.scale.shape[:2] == img.shape[:2]:
            reciprocal = _fit(reciprocal, img, resize, "scale_image")
        else:  # the scale image resized, then its reciprocal
            resized = _fit(stats.scale, img, resize, "scale_image")
            reciprocal = reciprocal_or_zero(resized).astype(mean.dtype)
    values = np.subtract(img, mean, dtype=mean.dtype)
    if reciprocal is not None:
        np.multiply(values, reciprocal, out=values)
    check_float32_range(values, "check the image's values against the statistics images.")
    return values.astype(np.float32, copy=False)


def _fit(stat: np.ndarray, img: np.ndarray, resize: bool, name: str) -> np.ndarray:
    if stat.ndim != img.ndim and stat.size == img.size // max(1, num_channels(img)) * (
        1 if stat.ndim == 2 else stat.shape[2]
    ):
        # (H, W) statistics for an (H, W, 1) image, or (H, W, 1) ones for an (H, W) image
        if stat.ndim == 3 and stat.shape[2] == 1:
            stat = stat[..., 0]
        elif stat.ndim == 2 and img.shape[2:] == (1,):
            stat = stat[..., None]
    if stat.shape == img.shape:
        return stat
    channels = 1 if stat.ndim == 2 else stat.shape[2]
    if channels != num_channels(img) or (stat.ndim == 3) != (img.ndim == 3):
        raise ValueError(
            f"{name} has shape {stat.shape} but the image has shape {img.shape}: the channel "
            "counts differ. Compute the statistics on images of this kind."
        )
    if not resize:
        raise ValueError(
            f"{name} has shape {stat.shape} but the image has shape {img.shape}. Apply the "
            "per-pixel normalization before any crop or resize in the pipeline, or pass "
            "resize_statistics=True to resize the statistics to each image (bilinear)."
        )
    resized = cv2.resize(stat, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_LINEAR)
    return resized.reshape(img.shape)


def check_lcn_parameters(
    kernel_size: object, sigma: object, floor: object
) -> tuple[int, float, str | float]:
    """Check the parameters of :func:`local_contrast_normalize`; returns (kernel_size, sigma,
    floor) with sigma's default (kernel_size / 4) filled in.

    Raises:
        ValueError: kernel_size not an odd integer >= 1; sigma not a finite number > 0; floor
            neither "mean" nor a finite number >= 0.
    """
    if not (
        isinstance(kernel_size, (int, np.integer))
        and not isinstance(kernel_size, bool)
        and kernel_size >= 1
        and kernel_size % 2 == 1
    ):
        raise ValueError(f"kernel_size must be an odd integer >= 1, got {kernel_size!r}.")
    if sigma is None:
        sigma = int(kernel_size) / 4
    if (
        isinstance(sigma, bool)
        or not isinstance(sigma, (int, float, np.number))
        or not (math.isfinite(float(sigma)) and float(sigma) > 0)
    ):
        raise ValueError(f"sigma must be a finite number > 0, got {sigma!r}.")
    if floor != "mean" and (
        isinstance(floor, bool)
        or not isinstance(floor, (int, float, np.number))
        or not (math.isfinite(float(floor)) and float(floor) >= 0)
    ):
        raise ValueError(f"floor must be 'mean' or a finite number >= 0, got {floor!r}.")
    return int(kernel_size), float(sigma), "mean" if floor == "mean" else float(floor)


def local_contrast_normalize(
    img: np.ndarray,
    kernel_size: int = 9,
    sigma: float | None = None,
    floor: str | float = "mean",
) -> np.ndarray:
    """Local contrast normalization across channels (see the module docstring for the formula).

    Args:
        img: image, shape (H, W) or (H, W, C); uint8, uint16, float32 or float64, finite.
        kernel_size: odd window size in pixels (default 9, as Jarrett et al.).
        sigma: Gaussian sigma in pixels; None means kernel_size / 4.
        floor: "mean" (default; c = the image's mean local std, Jarrett et al.) or a number
            >= 0 in the image's units.
    Returns:
        a new float32 array, same shape as img.
    Raises:
        ValueError: kernel_size not an odd integer >= 1; sigma <= 0; a negative or unknown
            floor; NaN/Inf in img.
    """
    kernel_size, sigma, floor = check_lcn_parameters(kernel_size, sigma, floor)
    # the overflow policy: v^2 in float32 must neither overflow nor underflow (LCN is invariant
    # to the image's scale; a constant floor is scaled with the image)
    scaled, exponents = power_of_two_scaled(check_image(img), what="local contrast normalization")
    exponent = int(exponents[0])
    x = scaled.astype(np.float32)
    if floor != "mean":  # beyond float32 it divides every value to 0 either way
        floor = min(math.ldexp(float(floor), -exponent), float(np.finfo(np.float32).max))
    # LCN is invariant to an offset: centering on the image's mean keeps a flat image exactly 0
    # through the blurs and leaves float32 only the deviations to round
    x3 = x.reshape(img.shape[0], img.shape[1], -1)
    x3 = x3 - np.float32(x3.mean(dtype=np.float64))
    window = (kernel_size, kernel_size)
    local_mean = cv2.GaussianBlur(x3.mean(axis=2), window, sigma, borderType=cv2.BORDER_REFLECT_101)
    v = x3 - local_mean[..., None]
    local_var = cv2.GaussianBlur(
        (v * v).mean(axis=2), window, sigma, borderType=cv2.BORDER_REFLECT_101
    )
    local_std = np.sqrt(np.maximum(local_var, 0.0))
    c = float(local_std.mean(dtype=np.float64)) if floor == "mean" else float(floor)
    divisor = np.maximum(local_std, np.float32(c))[..., None]
    # locally flat: a divisor within float32's rounding of the blurs (a few ulps of the largest
    # deviation) is 0, and so is the output there
    flat = divisor <= _FLAT_ULPS * np.finfo(np.float32).eps * float(np.abs(x3).max())
    np.divide(v, divisor, out=v, where=~flat)
    v[np.broadcast_to(flat, v.shape)] = 0.0
    return v.reshape(img.shape)
