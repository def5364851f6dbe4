"""``PerPixelNormalize`` and ``LocalContrastNormalize``: adapters over :mod:`albu_norm.spatial`."""

from __future__ import annotations

from typing import Any, Literal, Optional, Union

import numpy as np
from albumentations.core.transforms_interface import BaseTransformInitSchema
from pydantic import field_validator, model_validator

from albu_norm.spatial import (
    check_lcn_parameters,
    load_statistics_image,
    local_contrast_normalize,
    normalize_per_pixel,
    per_pixel_statistics,
)
from albu_norm.transforms._base import NormalizationTransform, path_or_value, schema_check

__all__ = ["LocalContrastNormalize", "PerPixelNormalize"]


class PerPixelNormalize(NormalizationTransform):
    """Per-pixel normalization with a mean image and a std or dynamic-range image (Caffe's mean
    image): ``(img - mean_image) / scale_image``, or ``img - mean_image`` without a scale.

    The statistics images are ``.npy`` files (loaded with ``allow_pickle=False``) of the input's
    shape, in its raw units; make them with ``RunningStats(per_pixel=True)`` and
    ``StatsResult.save_pixel_statistics`` (mean_image.npy, std_image.npy, range_image.npy). The
    saved config stores the paths. Put this transform **before** any crop or resize: Caffe
    crops the mean image at the same offset as the data, which an Albumentations pipeline
    cannot do after a random crop. ``resize_statistics=True`` resizes the statistics to each
    input instead (bilinear, an approximation); a shape mismatch is otherwise an error.

    Args:
        mean_image: path of the mean image (.npy).
        scale_image: path of the std image or of the max - min image (.npy), or None.
        resize_statistics: resize the statistics to inputs of another size (default False).
        p: probability of applying.

    Targets:
        image, images, volume, volumes (slice by slice: each slice must have the statistics'
        shape)

    Image types:
        uint8, uint16, float32, float64, same shape as the statistics. Output float32.

    Raises:
        ValueError: unreadable files or pickled content (at construction, naming the field);
            shape mismatch when applied.

    References:
        Jia et al., Caffe (2014): ``transform_param { mean_file }``; "mean image" normalization.
    """

    class InitSchema(BaseTransformInitSchema):
        mean_image: str
        scale_image: Optional[str] = None
        resize_statistics: bool = False

        _paths = field_validator("mean_image", "scale_image", mode="before")(path_or_value)

        @field_validator("mean_image", "scale_image")
        @classmethod
        @schema_check
        def _loadable(cls, value: Optional[str], info: Any) -> Optional[str]:
            if value is not None:
                load_statistics_image(value, info.field_name)
            return value

    def __init__(
        self,
        mean_image: str,
        scale_image: str | None = None,
        resize_statistics: bool = False,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.keep_arguments(locals())
        self._statistics = per_pixel_statistics(
            load_statistics_image(mean_image, "mean_image"),
            None if scale_image is None else load_statistics_image(scale_image, "scale_image"),
        )

    def normalize(self, img: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        return normalize_per_pixel(img, self._statistics, resize=self.resize_statistics)


class LocalContrastNormalize(NormalizationTransform):
    """Local contrast normalization (Jarrett et al. 2009): subtract the Gaussian-weighted local
    mean across channels, divide by the local std, floored at ``c``.

    Formula: ``v = x - G*x``, ``y = v / max(c, sqrt(G*v^2))``, with G a normalized Gaussian
    window over the kernel and all channels, ``c`` the image's mean local std (``floor="mean"``)
    or a constant; see :mod:`albu_norm.spatial`. float32, reflect-101 borders.

    Args:
        kernel_size: odd window size (default 9).
        sigma: Gaussian sigma in pixels (default kernel_size / 4).
        floor: "mean" or a number >= 0 in the image's units.
        p: probability of applying.

    Targets:
        image, images (per-image statistics), volume, volumes (slice by slice)

    Image types:
        uint8, uint16, float32, float64; (H, W) or (H, W, C). Output float32.

    References:
        Jarrett, Kavukcuoglu, Ranzato, LeCun, ICCV 2009, section 2; Sermanet, Chintala, LeCun,
        ICPR 2012, section 3.3.3; Pinto, Cox, DiCarlo, PLoS Comput. Biol. 2008.
    """

    class InitSchema(BaseTransformInitSchema):
        kernel_size: int = 9
        sigma: Optional[float] = None
        floor: Union[Literal["mean"], float] = "mean"

        @model_validator(mode="after")
        @schema_check
        def _valid(self) -> LocalContrastNormalize.InitSchema:
            check_lcn_parameters(self.kernel_size, self.sigma, self.floor)
            return self

    def __init__(
        self,
        kernel_size: int = 9,
        sigma: float | None = None,
        floor: Literal["mean"] | float = "mean",
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.keep_arguments(locals())

    def normalize(self, img: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        return local_contrast_normalize(img, self.kernel_size, self.sigma, self.floor)
