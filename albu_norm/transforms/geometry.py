"""``ResizeCrop``: the resize and center crop of timm's and open_clip's evaluation transforms,
an adapter over :mod:`albu_norm.geometry`."""

from __future__ import annotations

from abc import ABC
from typing import Any, Literal, Union

import cv2
import numpy as np
from albumentations.core.transforms_interface import BaseTransformInitSchema, DualTransform
from pydantic import model_validator

from albu_norm.geometry import center_crop_or_pad, check_geometry, resize, resized_size
from albu_norm.transforms._base import SavedArguments, schema_check

__all__ = ["ResizeCrop"]


class _GeometryTransform(SavedArguments, DualTransform, ABC):
    """Abstract: the saved-arguments base for a DualTransform (not registered itself)."""


class ResizeCrop(_GeometryTransform):
    """Resize by ``resize_mode`` to ``resize_size``, then center-crop (or pad) to ``size``, with
    the libraries' rounding: timm's ``transforms_imagenet_eval`` and open_clip's
    ``image_transform`` (eval) geometry, made by :func:`albu_norm.eval_transforms`.

    Sizes and offsets (see :mod:`albu_norm.geometry` for the source of each rule): "shortest"
    resizes the shorter side (a square ``resize_size`` truncates the longer side as torchvision's
    ``Resize(int)``; a non-square one rounds, as ``ResizeKeepRatio``); "longest" the longer side
    (rounded); "squash" both. Then a side smaller than ``size`` is padded with ``fill`` and the
    crop starts at ``int(round((side - crop) / 2.0))``, as torchvision's ``CenterCrop``.

    Args:
        size: (height, width) of the output.
        resize_size: (height, width) the resize aims at (timm: ``floor(size / crop_pct)``).
        resize_mode: "shortest", "squash" or "longest".
        interpolation: a name ("bicubic", "bilinear", "nearest", "lanczos", "box", "hamming";
            with ``resample="opencv"`` also "area") or an OpenCV flag (an int, "opencv" only).
        resample: "opencv" (default): ``cv2.resize``, ``INTER_AREA`` when both sides shrink and
            the name's flag otherwise (an int flag is used as given); "pil": ``PIL.Image.resize``
            with the name's filter, the libraries' own pixels for uint8 input (needs Pillow).
        fill: the padding value, a number or one per channel, in the image's units.
        p: probability of applying.

    Targets:
        image, images, mask, masks (nearest-neighbour resize, padded with 0). Bounding boxes and
        keypoints are not supported (NotImplementedError).

    Image types:
        uint8, float32 (both resamplers); other dtypes with "opencv". (H, W) or (H, W, C).

    Raises:
        ValueError: a size that is not two ints > 0, an unknown mode, resampler or
            interpolation, an OpenCV flag with "pil" (at construction); "pil" with a dtype other
            than uint8 or float32 (when applied).
        ImportError: "pil" without Pillow (when applied).

    Example:
        >>> import numpy as np
        >>> t = ResizeCrop(size=(224, 224), resize_size=(235, 235), interpolation="bicubic")
        >>> t(image=np.zeros((480, 640, 3), np.uint8))["image"].shape
        (224, 224, 3)
    """

    class InitSchema(BaseTransformInitSchema):
        size: tuple[int, int]
        resize_size: tuple[int, int]
        resize_mode: Literal["shortest", "squash", "longest"] = "shortest"
        interpolation: Union[str, int] = "bicubic"
        resample: Literal["opencv", "pil"] = "opencv"
        fill: Union[float, tuple[float, ...]] = 0

        @model_validator(mode="after")
        @schema_check
        def _valid(self) -> ResizeCrop.InitSchema:
            check_geometry(
                self.size, self.resize_size, self.resize_mode, self.interpolation, self.resample
            )
            return self

    def __init__(
        self,
        size: tuple[int, int],
        resize_size: tuple[int, int],
        resize_mode: Literal["shortest", "squash", "longest"] = "shortest",
        interpolation: str | int = "bicubic",
        resample: Literal["opencv", "pil"] = "opencv",
        fill: float | tuple[float, ...] = 0,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.keep_arguments(locals())

    def _geometry(
        self, img: np.ndarray, interpolation: str | int, resample: str, fill: Any
    ) -> np.ndarray:
        resized = resize(
            img, resized_size(img.shape[:2], self.resize_size, self.resize_mode),
            interpolation, resample,
        )  # fmt: skip
        return np.ascontiguousarray(center_crop_or_pad(resized, self.size, fill))

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return self._geometry(img, self.interpolation, self.resample, self.fill)

    def apply_to_mask(self, mask: np.ndarray, **params: Any) -> np.ndarray:
        return self._geometry(mask, cv2.INTER_NEAREST, "opencv", 0)

    def apply_to_images(self, images: Any, **params: Any) -> Any:
        results = [self.apply(img) for img in images]
        return np.stack(results) if isinstance(images, np.ndarray) else results

    def apply_to_masks(self, masks: Any, **params: Any) -> Any:
        results = [self.apply_to_mask(mask) for mask in masks]
        return np.stack(results) if isinstance(masks, np.ndarray) else results
