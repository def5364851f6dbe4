"""Whole pipelines a model expects, built from its preset record."""

from __future__ import annotations

import math
from typing import Any, Optional, Union, cast

import albumentations as A

from albu_norm.presets import get_preset
from albu_norm.transforms.geometry import ResizeCrop
from albu_norm.transforms.normalize import Normalize

__all__ = ["eval_transforms"]


def eval_transforms(
    preset: str, *, interpolation: Optional[Union[str, int]] = None, resample: str = "opencv"
) -> A.Compose:
    """The evaluation pipeline of a pretrained model, from its preset: resize, crop, normalize.

    The geometry is the library's own (:class:`albu_norm.ResizeCrop`, with torchvision's size
    rounding and crop offsets). timm (``timm/data/transforms_factory.py``,
    ``transforms_imagenet_eval``), by the preset's ``crop_mode``, with
    ``scale = floor(size / crop_pct)``:

    * "center": the shorter side to ``scale``, then a center crop of ``size``;
    * "squash": both sides to ``scale``, then a center crop;
    * "border": the longer side to ``scale``, then a center crop of ``size``, padded with the
      mean color (``round(255 * mean)``, in uint8 units as timm's PIL images) where the image
      is smaller.

    open_clip (``open_clip/transform.py``, ``image_transform``, ``is_train=False``), by its
    ``resize_mode`` (the preset's ``crop_mode``): "shortest" resizes the shorter side to ``size``
    and center-crops; "squash" resizes both sides; "longest" resizes the longer side and pads
    with 0. Its interpolation is "bilinear" or else "bicubic", as open_clip maps it (always
    bicubic for "shortest" to a non-square size, where open_clip does not pass it on).

    Then ``Normalize(preset=preset)``: the saved pipeline keeps the preset name.

    Resampling: ``resample="pil"`` resizes with Pillow's filter of the preset's interpolation,
    as the libraries do on PIL images, and gives timm's ``create_transform`` and open_clip's
    ``image_transform`` outputs on uint8 RGB images to float32 rounding (``Normalize`` computes
    in float32). ``resample="opencv"`` (the default, no Pillow) uses ``cv2.INTER_AREA`` when
    shrinking and the interpolation's OpenCV flag when enlarging. Measured against timm and
    open_clip on the repository's four photos for 12 models (8 timm tags across crop_pct 0.875
    to 1.15, the three crop modes, bicubic and bilinear, 224 to 1024x768; 4 open_clip models;
    ``tests/test_eval_transforms_libraries.py``), the mean absolute difference of the
    normalized outputs, per model:

    * ``resample="pil"``: below 1e-7 (at most 5e-7 anywhere: float32 rounding);
    * the default: 0.003-0.015;
    * an OpenCV flag forced with ``interpolation=`` (no antialiasing when shrinking):
      ``cv2.INTER_LINEAR`` 0.004-0.021, ``cv2.INTER_CUBIC`` 0.006-0.038,
      ``cv2.INTER_LANCZOS4`` 0.008-0.041.

    Args:
        preset: a preset with an input size: any ``"timm/..."`` or ``"open_clip/..."`` model
            name (see :func:`albu_norm.list_presets`).
        interpolation: a name ("bicubic", ...) or an OpenCV flag instead of the preset's.
        resample: "opencv" (default) or "pil" (needs Pillow when applied).
    Returns:
        an ``A.Compose`` of :class:`albu_norm.ResizeCrop` and :class:`albu_norm.Normalize`.
    Raises:
        ValueError: an unknown preset, or one that defines no input size; an unknown
            interpolation or resampler.
    Example:
        >>> pipeline = eval_transforms("timm/convnext_small.fb_in22k_ft_in1k")
        >>> [type(t).__name__ for t in pipeline.transforms]
        ['ResizeCrop', 'Normalize']
        >>> pipeline.transforms[0].resize_size  # floor(224 / 0.875)
        (256, 256)
    """
    found = get_preset(preset)
    if found.input_size is None:
        raise ValueError(
            f"preset {preset!r} defines no input size, so there is no evaluation pipeline to "
            "build; use a 'timm/...' or 'open_clip/...' model name, or compose "
            f"A.Resize + AN.Normalize(preset={preset!r}) yourself."
        )
    _, height, width = found.input_size
    mode = found.crop_mode or "center"
    is_open_clip = found.name.startswith("open_clip/")
    if interpolation is None:
        interpolation = found.interpolation or "bilinear"
        if is_open_clip and interpolation != "bilinear":
            interpolation = "bicubic"  # open_clip: "bilinear" or else bicubic (image_transform)
        if is_open_clip and mode == "shortest" and height != width:
            # image_transform builds ResizeKeepRatio(image_size) without its interpolation:
            # that class's default, bicubic (open_clip/transform.py)
            interpolation = "bicubic"
    fill: Any = 0
    resize_mode: Optional[str]
    if is_open_clip:
        resize_size = (height, width)
        resize_mode = mode
    else:
        crop_pct = found.crop_pct or 0.875  # timm's DEFAULT_CROP_PCT
        resize_size = (math.floor(height / crop_pct), math.floor(width / crop_pct))
        resize_mode = {"center": "shortest", "squash": "squash", "border": "longest"}.get(mode)
        if resize_mode is None:
            raise ValueError(
                f"preset {preset!r} has crop_mode {mode!r}; expected center, squash or border "
                "(timm) or shortest, squash or longest (open_clip)."
            )
        if mode == "border":
            fill = tuple(round(255 * v) for v in found.mean)
    return A.Compose(
        [
            ResizeCrop(
                size=(height, width),
                resize_size=resize_size,
                resize_mode=cast(Any, resize_mode),  # the schema checks it
                interpolation=interpolation,
                resample=cast(Any, resample),
                fill=fill,
            ),
            Normalize(preset=preset),
        ]
    )
