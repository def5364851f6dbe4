"""``Normalize`` and its inverse ``Denormalize``: siblings on one private base,
:class:`_SpecTransform`, adapters over :class:`albu_norm.spec.NormalizationSpec`.

The base holds what both take: the statistics arguments (mean/std, ``max_pixel_value``, a
preset, a stats file, the input channel order), their resolution into ``.spec``, the saved
form of a stats file (its numbers, not its path) and :meth:`_SpecTransform.from_model_config`.
``Normalize`` adds the normalization mode and the statistics mask; ``Denormalize`` (a fixed
inverse, per pixel) takes neither, so ``isinstance(Denormalize(), Normalize)`` is False.
"""

from __future__ import annotations

import os
from abc import ABC
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional, TypeVar, Union

import numpy as np
from albumentations.core.transforms_interface import BaseTransformInitSchema
from pydantic import BaseModel, field_validator, model_validator

from albu_norm.spec import NormalizationSpec, resolve_spec
from albu_norm.transforms._base import (
    MaskingFields,
    NormalizationTransform,
    channel_values_or_none,
    path_or_value,
    schema_check,
)

__all__ = ["Denormalize", "Normalize"]

ChannelValues = Union[float, tuple[float, ...]]
SpecTransform = TypeVar("SpecTransform", bound="_SpecTransform")


class _SpecFields(BaseModel):
    """The schema fields of the statistics arguments (Normalize, Denormalize), checked by
    resolving them; a schema that takes more overrides ``_resolvable``."""

    mean: Optional[ChannelValues] = None
    std: Optional[ChannelValues] = None
    max_pixel_value: Optional[float] = None
    preset: Optional[str] = None
    stats: Optional[Union[str, dict[str, Any]]] = None
    input_channel_order: str = "RGB"
    _values = field_validator("mean", "std", mode="before")(channel_values_or_none)
    _paths = field_validator("stats", mode="before")(path_or_value)

    @model_validator(mode="after")
    @schema_check
    def _resolvable(self) -> _SpecFields:
        _SpecTransform.resolve(self)
        return self


class _SpecTransform(NormalizationTransform, ABC):
    """Base of :class:`Normalize` and :class:`Denormalize` (abstract: ``ABC`` among its bases,
    so Albumentations does not register it for serialization; each subclass is saved under
    ``albu_norm.transforms.<Name>`` with exactly its own ``__init__`` arguments).

    A subclass declares ``InitSchema(_SpecFields, BaseTransformInitSchema)`` and its
    ``__init__`` (the saved arguments; Albumentations validates them with the schema only for
    a class that defines both), stores them with :meth:`keep_arguments` and sets
    ``self.spec = self.resolve(self)``. One that takes more than the statistics overrides
    :meth:`resolve` and its schema's ``_resolvable``.
    """

    spec: NormalizationSpec

    @staticmethod
    def resolve(args: Any) -> NormalizationSpec:
        """The fixed-statistics spec of a configuration (the schema or the instance)."""
        return resolve_spec(
            "standard",
            args.mean,
            args.std,
            args.max_pixel_value,
            preset=args.preset,
            stats=args.stats,
            input_channel_order=args.input_channel_order,
        )

    @classmethod
    def from_model_config(
        cls: type[SpecTransform],
        config: str | os.PathLike[str] | Mapping[str, Any],
        *,
        p: float = 1.0,
    ) -> SpecTransform:
        """The normalization a model was trained with (or its inverse), read from its own config.

        Args:
            config: a Hugging Face ``preprocessor_config.json``, a timm ``pretrained_cfg`` /
                ``config.json``, an ``open_clip_config.json`` (path, model directory or dict);
                read locally, no network, no heavy import. See :mod:`albu_norm.model_configs`.
            p: probability of applying.
        The configs describe RGB models; the transform expects RGB images (Albumentations'
        convention).
        Returns:
            ``cls(mean=..., std=..., max_pixel_value=...)``: a saved pipeline carries the
            numbers themselves.
        Raises:
            ValueError: the config cannot be read, holds no normalization, or invalid values.
        """
        if config is None:  # resolve_spec would fall back to the default preset
            raise ValueError("from_model_config needs a config (a dict, a JSON file or a folder).")
        spec = resolve_spec(model_config=config)
        # every subclass takes the statistics arguments (the base's __init__ only p)
        make: Any = cls
        return make(mean=spec.mean, std=spec.std, max_pixel_value=spec.max_pixel_value, p=p)

    def get_transform_init_args(self) -> dict[str, Any]:
        args = super().get_transform_init_args()
        if isinstance(self.stats, str):
            # The numbers travel with the saved config, not the path: a pipeline saved on one
            # machine loads on another where the statistics file does not exist.
            spec = self.spec
            args["stats"] = {
                "mean": list(spec.mean or ()),
                "std": list(spec.std or ()),
                "max_pixel_value": spec.max_pixel_value,
                "channel_order": spec.channel_order,
                "source": Path(self.stats).name,
            }
        return args


class Normalize(_SpecTransform):
    """Normalize an image: fixed statistics (a preset, a stats file or mean/std) or the image's own.

    A superset of ``albumentations.Normalize`` with the same parameter names and meanings,
    plus ``preset``, ``stats`` and ``input_channel_order``. Formulas (per channel c; see
    :mod:`albu_norm.functional`):

    * ``normalization="standard"``: ``out = (img / max_pixel_value - mean[c]) / std[c]``;
    * ``"image"`` / ``"image_per_channel"``: ``(img - mean) / std`` with the statistics of the
      image the transform receives (after any crop before it in the pipeline), over all
      channels or per channel;
    * ``"min_max"`` / ``"min_max_per_channel"``: ``(img - min) / (max - min)``, in [0, 1];
    * ``"per_image_standardization"``: ``tf.image.per_image_standardization``,
      ``(img - mean) / max(std, 1 / sqrt(H * W * C))`` on the image's own values.

    Per-image statistics are population statistics (ddof=0) in float64; a uniform image or
    channel gives exact zeros (no epsilon). In a batch (``images=``) every image gets its own
    statistics.

    The arguments resolve to a :class:`albu_norm.spec.NormalizationSpec`, exposed as ``.spec``
    (precedence: explicit mean/std/max_pixel_value > preset / stats > the ImageNet default; see
    :func:`albu_norm.spec.resolve_spec`).

    Differences from ``albumentations.Normalize`` 2.0.8, each of which turns a silent wrong
    answer into a correct one or a clear error:

    * ``max_pixel_value=None`` (default) follows the dtype: 255 for uint8, 65535 for uint16,
      1.0 for float images (A.Normalize assumes 255 for float images in [0, 1]);
    * a mean/std whose length is neither 1 nor C is a ValueError (A.Normalize applies the first
      value to every channel of a 5-channel image);
    * mean/std/preset with a per-image mode is a ValueError (A.Normalize ignores them);
    * batches get per-image statistics (A.Normalize pools them over the batch);
    * NaN/Inf in a per-image mode is a ValueError; the input is never modified.

    Args:
        mean: per-channel means in units of max_pixel_value (0-1 scale): one number or C, in
            the input's channel order. Defaults to the ImageNet mean when neither mean/std, nor
            preset, nor stats is given.
        std: per-channel standard deviations, same units, each finite and > 0: one or C.
        max_pixel_value: pixel value that maps to 1.0; None follows the preset or stats file,
            else the dtype. Ignored by the per-image modes, whose result does not depend on it.
        normalization: "standard", "image", "image_per_channel", "min_max",
            "min_max_per_channel" or "per_image_standardization".
        preset: name of a registered preset (see :func:`albu_norm.list_presets`); saved
            configs keep the name. A preset that records a max_pixel_value (e.g. one made from
            dataset statistics of 12-bit data) uses it unless max_pixel_value is given.
        stats: a statistics file written by ``albu-norm stats --out`` (JSON or YAML), or its
            record (a mapping); its mean, std, scale rule and channel order are used. Saved
            configs carry the record's numbers, not the path.
        input_channel_order: "RGB" (Albumentations' convention, default) or "BGR": the order of
            the images this transform receives. With a preset or stats file whose
            ``channel_order`` differs (e.g. ``caffe``, ``detectron2``: BGR), the channels are
            reversed first, so the output is in the order the model expects. mean/std given
            directly are in input order.
        mask_key: the name of a mask target of the same call (``"mask"``, or an additional
            target of type mask): the per-image statistics come only from the pixels where it
            is nonzero, so letterbox bars, padding and rotation corners do not count. Crops,
            pads and flips before this transform move the mask with the image. For ``images=``
            / ``volume=`` / ``volumes=`` the mask target holds one mask per image, slice or
            volume (with ``"mask"``: ``masks``, ``mask3d``, ``masks3d`` when given).
        ignore_value: nodata, in the input's raw units (one number, or one per channel): a
            pixel whose every channel equals it is left out of the statistics.
        outside: what the left-out pixels become: ``"normalize"`` (default, the same affine
            as the rest, as TorchIO) or ``"fill"`` (the value ``fill``, as nnU-Net). With fixed
            statistics (``"standard"``), mask_key/ignore_value only matter with ``"fill"``.
        fill: the value of left-out pixels with ``outside="fill"``, and of every pixel when no
            pixel is kept (a crop that fell entirely in the padding); output units.
        per_slice: volumes (``volume=``, ``volumes=``): False (default) normalizes each volume
            with one set of statistics (per channel in the per-channel modes), as nnU-Net and
            MONAI; True normalizes slice by slice (albu_norm 0.1.0's behaviour).
        p: probability of applying the transform (default 1.0, as in A.Normalize).

    Targets:
        image, images, volume, volumes (masks, bboxes and keypoints pass through unchanged)

    Image types:
        uint8, uint16, float32, float64; shape (H, W) or (H, W, C), 1 <= C <= 512. Output
        float32.

    Raises:
        ValueError: at construction, for an unknown preset or argument, an unreadable stats
            file, preset together with mean/std, only one of mean/std, a non-finite mean, a
            std <= 0, max_pixel_value <= 0, or mean/std/preset with a per-image mode; when
            applied, for a mean/std length that fits neither 1 nor the image's channels,
            NaN/Inf in a per-image mode, empty images.
        TypeError: when applied, for an unsupported dtype.

    References:
        Presets and their sources: :mod:`albu_norm.presets`.

    Example:
        >>> import albumentations as A
        >>> import numpy as np
        >>> import albu_norm as AN
        >>> pipeline = A.Compose([A.HorizontalFlip(p=0.5), AN.Normalize(preset="clip")])
        >>> out = pipeline(image=np.zeros((32, 32, 3), dtype=np.uint8))["image"]
        >>> out.dtype, out.shape
        (dtype('float32'), (32, 32, 3))
    """

    class InitSchema(MaskingFields, _SpecFields, BaseTransformInitSchema):
        normalization: str = "standard"

        @model_validator(mode="after")
        @schema_check
        def _resolvable(self) -> Normalize.InitSchema:  # replaces the base's check
            Normalize.resolve(self)
            return self

    def __init__(
        self,
        mean: ChannelValues | None = None,
        std: ChannelValues | None = None,
        max_pixel_value: float | None = None,
        normalization: str = "standard",
        preset: str | None = None,
        stats: str | Mapping[str, Any] | None = None,
        input_channel_order: str = "RGB",
        mask_key: str | None = None,
        ignore_value: ChannelValues | None = None,
        outside: str = "normalize",
        fill: float = 0.0,
        per_slice: bool = False,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.keep_arguments(locals())
        self.spec = self.resolve(self)

    @staticmethod
    def resolve(args: Any) -> NormalizationSpec:
        """The spec of a Normalize configuration: the statistics, the mode and the mask."""
        return resolve_spec(
            args.normalization,
            args.mean,
            args.std,
            args.max_pixel_value,
            preset=args.preset,
            stats=args.stats,
            input_channel_order=args.input_channel_order,
            masked=args.mask_key is not None,
            ignore_value=args.ignore_value,
            outside=args.outside,
            fill=args.fill,
        )

    def normalize(self, img: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        return self.spec.apply(img, mask)

    def normalize_images(self, images: Any, masks: Any) -> Any:
        if not isinstance(images, np.ndarray):  # a list of images, possibly of different sizes
            return super().normalize_images(images, masks)
        return self.spec.apply_batch(images, masks)


class Denormalize(_SpecTransform):
    """Map normalized values back to a viewable uint8 image: the inverse of fixed-statistics
    :class:`Normalize`, to look at what the network sees.

    Formula, per channel c: ``img = round((values * std[c] + mean[c]) * max_pixel_value)``,
    clipped to [0, 255] (see :func:`albu_norm.functional.denormalize`). Takes the same
    statistics arguments as :class:`Normalize` (a preset, mean/std, or a stats file) and
    resolves them to the same spec; with a preset of the other channel order (e.g. ``caffe``)
    the BGR values are turned back to the input order. The round trip of a uint8 image is
    lossless. For per-image modes use :func:`albu_norm.functional.per_image_statistics` on the
    normalized image with :func:`albu_norm.functional.denormalize`.

    Args:
        mean: as in :class:`Normalize`.
        std: as in :class:`Normalize`.
        max_pixel_value: as in :class:`Normalize`; None means 255 (uint8 output).
        preset: as in :class:`Normalize`.
        stats: as in :class:`Normalize`.
        input_channel_order: as in :class:`Normalize`: the order of the restored image.
        p: probability of applying.

    Targets:
        image, images, volume, volumes (each slice on its own: the inverse is per pixel)

    Image types:
        float32 (normalized values), shape (H, W) or (H, W, C). Output uint8.

    Raises:
        ValueError: at construction, as :class:`Normalize` (an argument only Normalize takes,
            such as ``normalization`` or ``mask_key``, is an unknown argument); when applied,
            NaN/Inf among the values or a channel count that mean/std do not fit.

    Example:
        >>> import numpy as np
        >>> img = np.array([[[0, 128, 255]]], dtype=np.uint8)
        >>> values = Normalize(preset="caffe")(image=img)["image"]
        >>> Denormalize(preset="caffe")(image=values)["image"]
        array([[[  0, 128, 255]]], dtype=uint8)
    """

    class InitSchema(_SpecFields, BaseTransformInitSchema):
        pass

    def __init__(
        self,
        mean: ChannelValues | None = None,
        std: ChannelValues | None = None,
        max_pixel_value: float | None = None,
        preset: str | None = None,
        stats: str | Mapping[str, Any] | None = None,
        input_channel_order: str = "RGB",
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.keep_arguments(locals())
        self.spec = self.resolve(self)

    def normalize(self, img: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        return self.spec.invert(img)
