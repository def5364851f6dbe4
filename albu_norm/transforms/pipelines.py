"""Whole pipelines a model expects, built from its preset record."""

from __future__ import annotations

import math
from typing import Any, Optional

import albumentations as A
import cv2

from albu_norm.presets import get_preset
from albu_norm.transforms.normalize import Normalize

__all__ = ["eval_transforms"]

#: timm / open_clip interpolation names -> OpenCV flags.
INTERPOLATIONS = {
    "nearest": cv2.INTER_NEAREST,
    "bilinear": cv2.INTER_LINEAR,
    "bicubic": cv2.INTER_CUBIC,
    "lanczos": cv2.INTER_LANCZOS4,
    "area": cv2.INTER_AREA,
    "box": cv2.INTER_AREA,
}


def eval_transforms(preset: str, *, interpolation: Optional[int] = None) -> A.Compose:
    """The evaluation pipeline of a pretrained model, from its preset: resize, crop, normalize.

    timm (``timm/data/transforms_factory.py``, ``transforms_imagenet_eval``), by the preset's
    ``crop_mode``:

    * "center": the shorter side to ``floor(size / crop_pct)``, then a center crop of ``size``;
    * "squash": both sides to ``floor(size / crop_pct)``, then a center crop;
    * "border": the longer side to ``floor(size / crop_pct)``, padded with the mean color
      (``round(255 * mean)``) and center-cropped to ``size``.

    open_clip (``open_clip/transform.py``, ``image_transform``), by its ``resize_mode`` (the
    preset's ``crop_mode``): "shortest" resizes the shorter side to ``size`` and center-crops;
    "squash" resizes both sides; "longest" resizes the longer side and pads with 0.

    Then ``Normalize(preset=preset)``: the saved pipeline keeps the preset name.

    Interpolation: the preset's ("bicubic", "bilinear", ...) as OpenCV's flag, or
    ``interpolation``. Where this differs from timm's and open_clip's own pipelines on PIL
    images, measured on the repository's four photos for ``timm/resnet50.a1_in1k`` (224 px,
    crop_pct 0.95; ``python examples/eval_transforms.py``), as the mean absolute difference of
    the normalized outputs:

    * the resize alone: OpenCV's cubic and linear filters do not widen when downscaling, PIL's
      do (antialiasing): 0.031 with ``cv2.INTER_CUBIC``, 0.012 with ``cv2.INTER_AREA``. Pass
      ``interpolation=cv2.INTER_AREA`` when you downscale and want to stay closer to PIL;
    * the crop: Albumentations' ``CenterCrop`` starts at ``(h - size) // 2`` where torchvision
      rounds ``(h - size) / 2`` half to even, a one-pixel shift for some sizes, which dominates:
      0.145 (cubic) and 0.130 (area) for the whole pipeline.

    Args:
        preset: a preset with an input size: any ``"timm/..."`` or ``"open_clip/..."`` model
            name (see :func:`albu_norm.list_presets`).
        interpolation: an OpenCV interpolation flag instead of the preset's.
    Returns:
        an ``A.Compose`` ending in :class:`albu_norm.Normalize`.
    Raises:
        ValueError: an unknown preset, or one that defines no input size; an unknown
            interpolation name in the preset.
    Example:
        >>> pipeline = eval_transforms("timm/convnext_small.fb_in22k_ft_in1k")
        >>> [type(t).__name__ for t in pipeline.transforms]
        ['SmallestMaxSize', 'CenterCrop', 'Normalize']
    """
    found = get_preset(preset)
    if found.input_size is None:
        raise ValueError(
            f"preset {preset!r} defines no input size, so there is no evaluation pipeline to "
            "build; use a 'timm/...' or 'open_clip/...' model name, or compose "
            f"A.Resize + AN.Normalize(preset={preset!r}) yourself."
        )
    _, height, width = found.input_size
    if interpolation is None:
        name = found.interpolation or "bilinear"
        if name not in INTERPOLATIONS:
            raise ValueError(f"preset {preset!r} asks for interpolation {name!r}, unknown here.")
        interpolation = INTERPOLATIONS[name]
    crop_pct = found.crop_pct or 1.0
    scale_height, scale_width = (math.floor(v / crop_pct) for v in (height, width))
    mode = found.crop_mode or "center"
    steps: list[Any]
    if mode == "squash":
        steps = [A.Resize(scale_height, scale_width, interpolation=interpolation)]
    elif mode in ("border", "longest"):
        fill = [round(255 * v) for v in found.mean] if mode == "border" else 0
        steps = [
            A.LongestMaxSize(max(scale_height, scale_width), interpolation=interpolation),
            A.PadIfNeeded(scale_height, scale_width, border_mode=cv2.BORDER_CONSTANT, fill=fill),
        ]
    else:  # timm "center", open_clip "shortest"
        steps = [A.SmallestMaxSize(min(scale_height, scale_width), interpolation=interpolation)]
    return A.Compose([*steps, A.CenterCrop(height, width), Normalize(preset=preset)])
