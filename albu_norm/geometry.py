"""The resize and center crop of timm's and open_clip's evaluation transforms, on numpy arrays.

Facts read in the installed sources (timm 1.0.31, open_clip 3.3.0, torchvision 0.29.1); the
code is ours:

* output size of a resize, by ``resize_mode``:

  - ``"shortest"`` to a square size ``s`` (torchvision ``transforms/functional.py``,
    ``_compute_resized_output_size`` with one size): the shorter side becomes ``s``, the longer
    ``int(s * long / short)`` (truncated);
  - ``"shortest"`` to a non-square ``(h, w)`` and ``"longest"`` (timm ``data/transforms.py`` and
    open_clip ``transform.py``, ``ResizeKeepRatio.get_params``): ``ratio = min(H / h, W / w)``
    (``max`` for longest), each side ``round(side / ratio)`` (Python's round, half to even);
  - ``"squash"``: exactly ``(h, w)``.

  An image already at the output size is not resampled (torchvision ``resize`` returns it).
* center crop or pad (torchvision ``CenterCrop`` / ``functional.center_crop``; timm
  ``data/transforms.py`` ``center_crop_or_pad``; open_clip ``transform.py``
  ``center_crop_or_pad``): a side smaller than the crop is padded first, ``(crop - side) // 2``
  before and ``(crop - side + 1) // 2`` after, with ``fill``; then the crop starts at
  ``int(round((side - crop) / 2.0))``. Albumentations' ``CenterCrop`` starts at
  ``(side - crop) // 2``, one pixel off whenever ``side - crop`` is odd and rounds up.
* resampling: the libraries resize PIL images with ``PIL.Image.resize`` and the filter of the
  interpolation name (torchvision ``transforms/_functional_pil.py``, ``resize``). Pillow's
  filters widen with the downscale factor (antialiasing); OpenCV's cubic and linear ones do not.

Two resamplers:

* ``"pil"``: ``PIL.Image.resize`` with the library's filter, channel by channel (mode "L" for
  uint8, "F" for float32), so uint8 input gives the library's pixels exactly. Needs Pillow.
* ``"opencv"`` (the default, no Pillow): ``cv2.resize`` with ``INTER_AREA`` when both sides
  shrink (an antialiased box filter, the closest OpenCV has to Pillow's downscaling) and the
  interpolation's OpenCV flag otherwise; an explicit OpenCV flag (an int) is used as given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Union

import cv2
import numpy as np

__all__ = [
    "INTERPOLATIONS",
    "RESAMPLERS",
    "RESIZE_MODES",
    "center_crop_or_pad",
    "check_geometry",
    "resize",
    "resized_size",
]

#: interpolation names (timm's and open_clip's) -> OpenCV flags, for the "opencv" resampler.
INTERPOLATIONS = {
    "nearest": cv2.INTER_NEAREST,
    "bilinear": cv2.INTER_LINEAR,
    "bicubic": cv2.INTER_CUBIC,
    "lanczos": cv2.INTER_LANCZOS4,
    "box": cv2.INTER_AREA,
    "hamming": cv2.INTER_LINEAR,
    "area": cv2.INTER_AREA,
}
#: interpolation names -> Pillow filter names (``PIL.Image.Resampling``), for "pil".
_PIL_FILTERS = {
    "nearest": "NEAREST",
    "bilinear": "BILINEAR",
    "bicubic": "BICUBIC",
    "lanczos": "LANCZOS",
    "box": "BOX",
    "hamming": "HAMMING",
}
RESIZE_MODES = ("shortest", "squash", "longest")
RESAMPLERS = ("opencv", "pil")

Interpolation = Union[str, int]


def check_geometry(
    size: Sequence[int], resize_size: Sequence[int], resize_mode: str,
    interpolation: Interpolation, resample: str,
) -> None:  # fmt: skip
    """Raise ValueError for a size, mode, interpolation or resampler this module cannot run."""
    for name, value in (("size", size), ("resize_size", resize_size)):
        if len(value) != 2 or not all(isinstance(v, (int, np.integer)) and v > 0 for v in value):
            raise ValueError(
                f"{name} must be (height, width), two ints > 0, got {value!r}; e.g. (224, 224)."
            )
    if resize_mode not in RESIZE_MODES:
        raise ValueError(
            f"resize_mode must be one of {', '.join(RESIZE_MODES)}, got {resize_mode!r}."
        )
    if resample not in RESAMPLERS:
        raise ValueError(
            f"resample must be 'opencv' (the default) or 'pil' (Pillow, the libraries' own "
            f"pixels), got {resample!r}."
        )
    if isinstance(interpolation, bool) or not isinstance(interpolation, (str, int)):
        raise ValueError(
            f"interpolation must be a name ({', '.join(_PIL_FILTERS)}) or an OpenCV flag, got "
            f"{interpolation!r}."
        )
    if isinstance(interpolation, int):
        if resample == "pil":
            raise ValueError(
                f"interpolation={interpolation} is an OpenCV flag, which resample='pil' cannot "
                f"use; pass a name ({', '.join(_PIL_FILTERS)}) or resample='opencv'."
            )
        return
    known = _PIL_FILTERS if resample == "pil" else INTERPOLATIONS
    if interpolation not in known:
        raise ValueError(
            f"interpolation {interpolation!r} is unknown to resample={resample!r}; expected one "
            f"of {', '.join(known)}."
        )


def resized_size(
    image_size: Sequence[int], resize_size: Sequence[int], resize_mode: str
) -> tuple[int, int]:
    """The (height, width) an image of ``image_size`` is resized to (see the module docstring).

    Example:
        >>> resized_size((480, 640), (256, 256), "shortest")  # int(256 * 640 / 480) = 341
        (256, 341)
        >>> resized_size((480, 640), (256, 256), "longest")   # round(480 / 2.5) = 192
        (192, 256)
    """
    height, width = image_size
    target_height, target_width = resize_size
    if resize_mode == "squash":
        return target_height, target_width
    if resize_mode == "shortest" and target_height == target_width:
        if width <= height:
            return max(1, int(target_width * height / width)), target_width
        return target_height, max(1, int(target_height * width / height))
    ratios = (height / target_height, width / target_width)
    ratio = max(ratios) if resize_mode == "longest" else min(ratios)
    # at least one pixel: a 1 x 500 image fitted into 224 x 224 would have a side of 0 (timm's
    # and open_clip's ResizeKeepRatio give 0 there, and their resize then fails)
    return max(1, round(height / ratio)), max(1, round(width / ratio))


def resize(
    img: np.ndarray, size: Sequence[int], interpolation: Interpolation, resample: str = "opencv"
) -> np.ndarray:
    """Resize an (H, W) or (H, W, C) image to ``size`` = (height, width); see the module docstring.

    Raises:
        ImportError: ``resample="pil"`` without Pillow installed.
        ValueError: ``resample="pil"`` with a dtype other than uint8 or float32.
    """
    height, width = int(size[0]), int(size[1])
    if img.shape[:2] == (height, width):
        return img
    if resample == "pil":
        return _resize_pil(img, height, width, str(interpolation))
    if isinstance(interpolation, str):
        shrinks = height < img.shape[0] and width < img.shape[1]
        flag = cv2.INTER_AREA if shrinks else INTERPOLATIONS[interpolation]
    else:
        flag = interpolation
    out = cv2.resize(img, (width, height), interpolation=flag)
    return out.reshape(height, width, *img.shape[2:])  # cv2 drops a trailing channel axis of 1


def _resize_pil(img: np.ndarray, height: int, width: int, interpolation: str) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            "resample='pil' resizes with Pillow, which is not installed: `pip install pillow`, "
            "or use resample='opencv' (the default)."
        ) from None
    if img.dtype not in (np.uint8, np.float32):  # Pillow's modes "L" and "F", one per channel
        raise ValueError(
            f"resample='pil' resizes uint8 or float32 images, got {img.dtype}; convert the image "
            "(e.g. img.astype(np.float32)) or use resample='opencv'."
        )
    resampling = getattr(Image, "Resampling", Image)  # Pillow >= 9.1; older has the constants
    pil_filter = getattr(resampling, _PIL_FILTERS[interpolation])
    planes = img.reshape(*img.shape[:2], -1)
    out = np.empty((height, width, planes.shape[2]), dtype=img.dtype)
    for channel in range(planes.shape[2]):
        plane = Image.fromarray(np.ascontiguousarray(planes[:, :, channel]))  # "L" or "F"
        out[:, :, channel] = np.asarray(plane.resize((width, height), pil_filter))
    return out.reshape(height, width, *img.shape[2:])


def center_crop_or_pad(img: np.ndarray, size: Sequence[int], fill: Any = 0) -> np.ndarray:
    """Center-crop an (H, W[, C]) image to ``size`` = (height, width), padding with ``fill``
    (a number, or one per channel) where it is smaller; torchvision's offsets (module docstring).

    Example:
        >>> img = np.arange(5 * 6).reshape(5, 6)
        >>> center_crop_or_pad(img, (2, 3))[0]  # top int(round(1.5)) = 2, left round(1.5) = 2
        array([14, 15, 16])
    """
    crop_height, crop_width = int(size[0]), int(size[1])
    height, width = img.shape[:2]
    if crop_height > height or crop_width > width:
        pad_top = max(crop_height - height, 0) // 2
        pad_left = max(crop_width - width, 0) // 2
        padded = np.empty(
            (max(height, crop_height), max(width, crop_width), *img.shape[2:]), img.dtype
        )
        padded[...] = np.asarray(fill, dtype=img.dtype)
        padded[pad_top : pad_top + height, pad_left : pad_left + width] = img
        img = padded
        height, width = img.shape[:2]
    top = round((height - crop_height) / 2.0)
    left = round((width - crop_width) / 2.0)
    return img[top : top + crop_height, left : left + crop_width]
