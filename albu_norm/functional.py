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

Masks (statistics from the pixels that matter): every function takes ``mask`` ((H, W), nonzero
= the pixel counts) and ``ignore_value`` (nodata: a pixel whose every channel equals it is left
out); the statistics are those of the kept pixels (TensorFlow's N = the kept values), and the
left-out pixels get the same affine (``outside="normalize"``, TorchIO's choice) or the value
``fill`` (``outside="fill"``, nnU-Net's). No kept pixel at all: every output value is ``fill``.

Epsilon policy: no epsilon is added to any denominator. An image (or channel, in the
per-channel modes) whose pixels are all equal has no spread to divide by; its output is exact
zeros, never NaN or Inf. Every other image gets the exact formula, however small its spread.
"""

from __future__ import annotations

from typing import Any, Literal

import cv2
import numpy as np

from albu_norm._checks import (
    NORMALIZATIONS,
    PER_IMAGE_NORMALIZATIONS,
    SUPPORTED_DTYPES,
    Masking,
    Values,
    check_channel_count,
    check_float_scale,
    check_image,
    check_mask,
    check_max_pixel_value,
    check_mean_std,
    check_normalization,
    default_max_pixel_value,
    num_channels,
)
from albu_norm._inverse import denormalize
from albu_norm._kernels import affine, divide, fill_outside
from albu_norm._statistics import fixed_center_scale, kept_pixels, per_image_plan, tall
from albu_norm.modes import FIXED, Mode

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
    mask: np.ndarray | None = None,
    ignore_value: Values | None = None,
    outside: str = "normalize",
    fill: float = 0.0,
) -> np.ndarray:
    """Normalize an image with fixed per-channel statistics.

    Formula, per channel c: ``out = (img / max_pixel_value - mean[c]) / std[c]``.

    Args:
        img: image, shape (H, W) or (H, W, C) with C >= 1; uint8, uint16, float32 or float64.
        mean: per-channel means in units of max_pixel_value (the 0-1 scale): one number, or C.
        std: per-channel standard deviations in the same units, each finite and > 0: one or C.
        max_pixel_value: the pixel value that maps to 1.0; None follows the dtype (255 for
            uint8, 65535 for uint16, 1.0 for float32/float64; a float image must then be on the
            0-1 scale: values beyond 2 are an error).
        reverse_channels: reverse the channel order first (RGB <-> BGR; 3-channel images only):
            mean/std then apply to the reversed channels, and the output is in that order.
        mask: (H, W), nonzero where the pixel counts (see the module docstring); with fixed
            statistics it matters only with ``outside="fill"``.
        ignore_value: nodata (one number, or one per channel), as ``mask``.
        outside: "fill" sets the left-out pixels to ``fill``.
        fill: the value of left-out pixels, in output units.
    Returns:
        a new float32 array, same shape as img. For uint8 input every value is the formula
        evaluated in float64 and rounded to float32 (within one float32 ulp of exact).
    Raises:
        TypeError: img is not an array, or its dtype is not uint8, uint16, float32 or float64.
        ValueError: img is empty or not 2-/3-D; mean/std have neither 1 nor C values; std has a
            value <= 0 or non-finite; mean is non-finite; max_pixel_value is not > 0; a float
            image with values beyond 2 and max_pixel_value None; a mask of another (H, W); mask
            or ignore_value with ``outside="normalize"``.
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
    mean_values, std_values = check_mean_std(mean, std)
    for name, values in (("mean", mean_values), ("std", std_values)):
        check_channel_count(len(values), num_channels(img), img.shape, origin=name)
    scale_max = None if max_pixel_value is None else check_max_pixel_value(max_pixel_value)
    masking = Masking(mask is not None, ignore_value, outside, fill)
    masking.check_for(FIXED)
    kept = kept_pixels(img, mask, masking)
    out = np.empty(img.shape, np.float32)
    return apply_fixed(
        img, mean_values, std_values, scale_max, reverse_channels, kept, masking, out
    )


def apply_fixed(
    img: np.ndarray,
    mean: tuple[float, ...],
    std: tuple[float, ...],
    max_pixel_value: float | None,
    reverse_channels: bool,
    kept: np.ndarray | None,
    masking: Masking,
    out: np.ndarray,
) -> np.ndarray:
    """:func:`normalize` on checked arguments (a validated image, mean/std that fit its channel
    count, a checked max_pixel_value or None) into ``out`` (float32, img's shape): the entry of
    the spec, which checked them once."""
    if reverse_channels:
        img = _reversed_channels(img)
    largest = None
    if max_pixel_value is None:
        largest = check_float_scale(img)
        max_pixel_value = default_max_pixel_value(img.dtype)
    center, scale = fixed_center_scale(mean, std, max_pixel_value, num_channels(img))
    affine(img, center, scale, out, cached=True, bounded=False, largest=largest)
    return fill_outside(out, kept, masking.fill) if kept is not None else out


def normalize_per_image(
    img: np.ndarray,
    normalization: PerImageMode,
    *,
    mask: np.ndarray | None = None,
    ignore_value: Values | None = None,
    outside: str = "normalize",
    fill: float = 0.0,
) -> np.ndarray:
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
        mask: (H, W) array, nonzero where the pixel's values count in the statistics (e.g. the
            photo inside letterbox bars); None: every pixel.
        ignore_value: nodata (one number, or one per channel): a pixel whose every channel
            equals it is left out of the statistics.
        outside: "normalize" (default): left-out pixels get the same affine as the rest;
            "fill": they become ``fill``.
        fill: the value of left-out pixels with ``outside="fill"``, and of every pixel when no
            pixel is kept.
    Returns:
        a new float32 array, same shape as img.
    Raises:
        TypeError: img or mask is not an array, or has an unsupported dtype.
        ValueError: unknown normalization; img is empty or not 2-/3-D; img contains NaN or Inf;
            a mask of another (H, W); an ignore_value of the wrong length.
    Source:
        The per-image modes of ``albumentations.Normalize`` (2.x), without its epsilon; masked
        statistics as MONAI ``NormalizeIntensity(nonzero=True, channel_wise=True)`` and nnU-Net
        ``ZScoreNormalization`` (``use_mask_for_norm``).
    Example:
        >>> import numpy as np
        >>> img = np.array([[0, 10], [20, 30]], dtype=np.uint8)
        >>> normalize_per_image(img, "min_max")
        array([[0.        , 0.33333334],
               [0.6666667 , 1.        ]], dtype=float32)
    """
    mode = check_normalization(normalization, per_image=True)
    img = check_image(img)
    masking = Masking(mask is not None, ignore_value, outside, fill)
    kept = kept_pixels(img, mask, masking)
    return apply_per_image(img, mode, kept, masking, np.empty(img.shape, dtype=np.float32))


def apply_per_image(
    img: np.ndarray, mode: Mode, kept: np.ndarray | None, masking: Masking, out: np.ndarray
) -> np.ndarray:
    """:func:`normalize_per_image` of a validated image, a checked row and its kept pixels,
    into ``out`` (float32, img's shape)."""
    plan = per_image_plan(img, mode, kept)
    if plan is None:  # no pixel kept (a crop that fell in the padding): all fill
        out.fill(masking.fill)
        return out
    bounded = kept is None  # left-out pixels may lie far outside the kept pixels' range
    if mode.divide:
        divide(plan.source, plan.center, plan.spread, out, bounded=bounded)
    else:
        affine(plan.source, plan.center, plan.scale, out, cached=False, bounded=bounded)
    if kept is not None and masking.outside == "fill":
        fill_outside(out, kept, masking.fill)
    return out


def _reversed_channels(img: np.ndarray) -> np.ndarray:
    """RGB <-> BGR: a C-contiguous copy with the channel axis reversed (3 channels only)."""
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(
            f"reversing the channel order (RGB <-> BGR) needs a 3-channel image, got shape "
            f"{img.shape}. Pass input_channel_order equal to the preset's channel order, or "
            "convert the image to 3 channels."
        )
    if img.dtype == np.float64:  # beyond cvtColor's depths
        return np.ascontiguousarray(img[..., ::-1])
    return cv2.cvtColor(img, cv2.COLOR_RGB2BGR)


def normalize_images(
    images: np.ndarray,
    normalization: str = "standard",
    mean: Values | None = None,
    std: Values | None = None,
    max_pixel_value: float | None = None,
    *,
    reverse_channels: bool = False,
    masks: np.ndarray | None = None,
    ignore_value: Values | None = None,
    outside: str = "normalize",
    fill: float = 0.0,
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
        masks: (N, H, W), one statistics mask per image (see :func:`normalize_per_image`).
        ignore_value: as :func:`normalize_per_image`.
        outside: as :func:`normalize_per_image`.
        fill: as :func:`normalize_per_image`.
    Returns:
        a new float32 array of shape (N, H, W[, C]).
    Raises:
        TypeError, ValueError: as :func:`normalize` and :func:`normalize_per_image`; also when
            images is not 3- or 4-dimensional, or masks is not (N, H, W).
    Example:
        >>> import numpy as np
        >>> ramp = np.arange(4, dtype=np.uint8).reshape(2, 2)
        >>> batch = np.stack([np.full((2, 2), 10, np.uint8), ramp])
        >>> normalize_images(batch, "min_max")[1]
        array([[0.        , 0.33333334],
               [0.6666667 , 1.        ]], dtype=float32)
    """
    mode = check_normalization(normalization)
    batch, masks = check_batch(images, masks)
    masking = Masking(masks is not None, ignore_value, outside, fill).check_for(mode)
    out = np.empty(images.shape, dtype=np.float32)
    if not mode.per_image:
        if mean is None or std is None:
            raise ValueError("normalization='standard' needs mean and std.")
        mean_values, std_values = check_mean_std(mean, std)
        tall_batch = tall(batch)
        for name, values in (("mean", mean_values), ("std", std_values)):
            check_channel_count(len(values), num_channels(tall_batch), images.shape, origin=name)
        scale_max = None if max_pixel_value is None else check_max_pixel_value(max_pixel_value)
        kept = kept_pixels(tall_batch, None if masks is None else tall(masks), masking)
        apply_fixed(
            tall_batch,
            mean_values,
            std_values,
            scale_max,
            reverse_channels,
            kept,
            masking,
            tall(out),
        )
        return out
    return apply_per_image_batch(batch, masks, mode, masking, out)


def check_batch(images: object, masks: Any = None) -> tuple[np.ndarray, np.ndarray | None]:
    """A batch (N, H, W[, C]) validated as one tall image (its dtype, channels, size), and its
    masks (N, H, W) checked against it (boolean).

    Raises:
        TypeError, ValueError: as :func:`albu_norm._checks.check_image`; images not 3- or
            4-dimensional or empty; masks not (N, H, W) of the images' N, H and W.
    """
    if not isinstance(images, np.ndarray) or images.ndim not in (3, 4):
        shape = getattr(images, "shape", None)
        raise ValueError(
            f"images must be a numpy array of shape (N, H, W) or (N, H, W, C), got "
            f"{type(images).__name__} with shape {shape}."
        )
    if images.shape[0] == 0:
        raise ValueError(f"images is an empty batch (shape {images.shape}).")
    batch = check_image(tall(images), name="images").reshape(images.shape)
    if masks is None:
        return batch, None
    if not isinstance(masks, np.ndarray):
        raise TypeError(
            f"masks must be a numpy array of shape (N, H, W), got {type(masks).__name__}."
        )
    if masks.ndim == 4 and masks.shape[3] == 1:
        masks = masks[..., 0]
    if masks.shape != images.shape[:3]:
        raise ValueError(
            f"masks has shape {masks.shape} but the images have shape {images.shape}: one "
            "statistics mask (H, W) per image, (N, H, W) in all, moved with the images by the "
            "same crops, pads and flips."
        )
    return batch, check_mask(tall(masks), tall(images).shape, "masks").reshape(masks.shape)


def apply_per_image_batch(
    batch: np.ndarray, masks: np.ndarray | None, mode: Mode, masking: Masking, out: np.ndarray
) -> np.ndarray:
    """Every image of a checked batch with its own statistics (and mask), into ``out``."""
    for index in range(len(batch)):
        img = batch[index]
        kept = kept_pixels(img, None if masks is None else masks[index], masking)
        apply_per_image(img, mode, kept, masking, out[index])
    return out


def per_image_statistics(
    img: np.ndarray,
    normalization: PerImageMode,
    *,
    mask: np.ndarray | None = None,
    ignore_value: Values | None = None,
) -> dict[str, Any]:
    """The statistics a per-image mode uses on ``img``, in the form :func:`denormalize` takes.

    ``normalize_per_image(img, mode, mask=..., ignore_value=...)`` equals
    ``(img - mean) / std`` with the returned values (``std`` is the spread: std, max - min, or
    TensorFlow's floored std; 0 for a uniform image, whose output is 0 and maps back to
    ``mean``). Pixels set to ``fill`` (``outside="fill"``) cannot be restored.

    Returns:
        ``{"mean": (C floats), "std": (C floats), "max_pixel_value": 1.0}``, in the image's
        own units.
    Raises:
        ValueError: as :func:`normalize_per_image`; no pixel kept (there are no statistics).
    """
    mode = check_normalization(normalization, per_image=True)
    img = check_image(img)
    plan = per_image_plan(
        img, mode, kept_pixels(img, mask, Masking(mask is not None, ignore_value))
    )
    if plan is None:
        raise ValueError("no pixel is kept by the mask/ignore_value: there are no statistics.")
    center = np.ldexp(plan.center, plan.exponents)
    spread = tuple(np.ldexp(plan.spread, plan.exponents).tolist())
    return {"mean": tuple(center.tolist()), "std": spread, "max_pixel_value": 1.0}
