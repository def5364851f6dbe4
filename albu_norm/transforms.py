"""Albumentations adapters: transform classes that validate parameters and call the core.

No arithmetic lives here: every formula is in :mod:`albu_norm.functional`.

Serialization: Albumentations keys a class by its full dotted path, so a saved pipeline names
``albu_norm.transforms.Normalize``. Keep that path stable; a process that loads a saved pipeline
must ``import albu_norm`` first (or use :func:`albu_norm.load`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Optional, Union

import numpy as np
from albumentations.core.transforms_interface import BaseTransformInitSchema, ImageOnlyTransform
from pydantic import field_validator, model_validator

from albu_norm import functional as F
from albu_norm.model_configs import preset_from_model_config
from albu_norm.presets import get_preset
from albu_norm.robust import normalize_clipped, normalize_robust
from albu_norm.spatial import (
    check_statistics_image,
    local_contrast_normalize,
    normalize_per_pixel,
)
from albu_norm.stats import load_stats

__all__ = [
    "Denormalize",
    "LocalContrastNormalize",
    "Normalize",
    "PerPixelNormalize",
    "RobustNormalize",
]

ChannelValues = Union[float, tuple[float, ...]]


class _EachImage:
    """Batches (``images=``) are processed image by image, each with its own statistics."""

    def apply_to_images(self, images: Any, **params: Any) -> Any:
        results = [self.apply(img, **params) for img in images]  # type: ignore[attr-defined]
        return np.stack(results) if isinstance(images, np.ndarray) else results


def _to_channel_values(value: Any) -> Any:
    """Accept numpy arrays and any sequence (lists, OmegaConf ListConfig) for mean/std;
    pydantic then checks the numbers."""
    if isinstance(value, np.ndarray):
        return value.tolist() if value.ndim else float(value)
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return tuple(value)
    return value


class Normalize(ImageOnlyTransform):
    """Normalize an image: fixed statistics (a preset or mean/std) or the image's own.

    A superset of ``albumentations.Normalize`` with the same parameter names and meanings,
    plus ``preset``. Formulas (per channel c; see :mod:`albu_norm.functional`):

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
        mean: per-channel means in units of max_pixel_value (0-1 scale): one number or C.
            Defaults to the ImageNet mean when neither mean/std nor preset is given.
        std: per-channel standard deviations, same units, each finite and > 0: one or C.
        max_pixel_value: pixel value that maps to 1.0; None follows the dtype. Ignored by the
            per-image modes, whose result does not depend on it.
        normalization: "standard", "image", "image_per_channel", "min_max" or
            "min_max_per_channel" or "per_image_standardization".
        preset: name of a registered preset (see :func:`albu_norm.list_presets`); saved
            configs keep the name. A preset that records a max_pixel_value (e.g. one made from
            dataset statistics of 12-bit data) uses it unless max_pixel_value is given.
        input_channel_order: "RGB" (Albumentations' convention, default) or "BGR": the order of
            the images this transform receives. With a preset whose ``channel_order`` differs
            (e.g. ``caffe``, ``detectron2``: BGR), the channels are reversed first, so the output
            is in the order the model expects. mean/std given directly are in input order.
        stats: path of a statistics file written by ``albu-norm stats --out`` (JSON or YAML);
            its mean, std and max_pixel_value are used. Saved configs carry these numbers
            (as mean/std/max_pixel_value), not the path.
        p: probability of applying the transform (default 1.0, as in A.Normalize).

    Targets:
        image, images (masks, bboxes and keypoints pass through unchanged)

    Image types:
        uint8, uint16, float32, float64; shape (H, W) or (H, W, C), C >= 1. Output float32.

    Raises:
        ValueError: at construction, for an unknown preset, preset together with mean/std,
            only one of mean/std, a non-finite mean, a std <= 0, max_pixel_value <= 0, or
            mean/std/preset with a per-image mode; when applied, for a mean/std length that fits
            neither 1 nor the image's channels, NaN/Inf in a per-image mode, empty images.
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

    class InitSchema(BaseTransformInitSchema):
        mean: Optional[ChannelValues] = None
        std: Optional[ChannelValues] = None
        max_pixel_value: Optional[float] = None
        normalization: Literal[
            "standard",
            "image",
            "image_per_channel",
            "min_max",
            "min_max_per_channel",
            "per_image_standardization",
        ] = "standard"
        preset: Optional[str] = None
        stats: Optional[str] = None
        input_channel_order: Literal["RGB", "BGR"] = "RGB"

        _arrays_to_values = field_validator("mean", "std", mode="before")(_to_channel_values)

        @field_validator("mean")
        @classmethod
        def _finite_mean(cls, value: Optional[ChannelValues]) -> Optional[ChannelValues]:
            if value is not None:
                values = value if isinstance(value, tuple) else (value,)
                if len(values) == 0 or not all(math.isfinite(v) for v in values):
                    raise ValueError(
                        f"mean must be finite numbers, one or one per channel; got {value!r}"
                    )
            return value

        @field_validator("std")
        @classmethod
        def _positive_std(cls, value: Optional[ChannelValues]) -> Optional[ChannelValues]:
            if value is not None:
                values = value if isinstance(value, tuple) else (value,)
                if len(values) == 0 or not all(math.isfinite(v) and v > 0 for v in values):
                    raise ValueError(
                        f"std must be finite numbers > 0, one or one per channel; got {value!r}"
                    )
            return value

        @field_validator("max_pixel_value")
        @classmethod
        def _positive_max(cls, value: Optional[float]) -> Optional[float]:
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValueError(
                    "max_pixel_value must be a finite number > 0 or None (follow the dtype); "
                    f"got {value!r}"
                )
            return value

        @field_validator("preset")
        @classmethod
        def _known_preset(cls, value: Optional[str]) -> Optional[str]:
            if value is not None:
                get_preset(value)  # raises ValueError naming close matches
            return value

        @field_validator("stats", mode="before")
        @classmethod
        def _readable_stats(cls, value: Any) -> Optional[str]:
            if value is not None:
                value = str(value)
                try:
                    load_stats(value)
                except (OSError, ValueError) as error:
                    # only ValueError reaches the user: Albumentations turns others into warnings
                    raise ValueError(f"cannot use stats file {value!r}: {error}") from None
            return value

        @model_validator(mode="after")
        def _consistent(self) -> Normalize.InitSchema:
            sources = [name for name in ("preset", "stats") if getattr(self, name) is not None]
            if len(sources) > 1:
                raise ValueError("pass either preset or stats, not both.")
            given = [
                name
                for name in ("mean", "std", "preset", "stats")
                if getattr(self, name) is not None
            ]
            if self.normalization != "standard" and given:
                raise ValueError(
                    f"normalization={self.normalization!r} computes its statistics from each "
                    f"image, so {' and '.join(given)} would be ignored. Remove "
                    f"{' and '.join(given)}, or use normalization='standard'."
                )
            if sources and (self.mean is not None or self.std is not None):
                raise ValueError(
                    f"pass either {sources[0]}={getattr(self, sources[0])!r} or mean/std, not "
                    f"both: the {sources[0]} already fixes mean and std."
                )
            if (self.mean is None) != (self.std is None):
                missing = "std" if self.std is None else "mean"
                raise ValueError(f"{missing} is missing: pass both mean and std (or a preset).")
            if (
                isinstance(self.mean, tuple)
                and isinstance(self.std, tuple)
                and len(self.mean) != len(self.std)
                and 1 not in (len(self.mean), len(self.std))
            ):
                raise ValueError(
                    f"mean has {len(self.mean)} values and std has {len(self.std)}; give "
                    "both one value per channel (or one value for all channels)."
                )
            return self

    def __init__(
        self,
        mean: ChannelValues | None = None,
        std: ChannelValues | None = None,
        max_pixel_value: float | None = None,
        normalization: Literal[
            "standard",
            "image",
            "image_per_channel",
            "min_max",
            "min_max_per_channel",
            "per_image_standardization",
        ] = "standard",
        preset: str | None = None,
        stats: str | None = None,
        input_channel_order: Literal["RGB", "BGR"] = "RGB",
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.mean = mean
        self.std = std
        self.max_pixel_value = max_pixel_value
        self.normalization = normalization
        self.preset = preset
        self.stats = stats
        self.input_channel_order = input_channel_order
        self._reverse_channels = False
        if stats is not None:
            record = load_stats(stats)
            self._mean: ChannelValues = tuple(record["mean"])
            self._std: ChannelValues = tuple(record["std"])
            default_max = record.get("max_pixel_value")
        else:
            resolved = get_preset(preset or "imagenet")
            self._mean = resolved.mean if mean is None else mean
            self._std = resolved.std if std is None else std
            default_max = resolved.max_pixel_value if mean is None else None
            # A preset fixes the channel order its model expects; mean/std given directly are in
            # the input's order.
            self._reverse_channels = mean is None and resolved.channel_order != input_channel_order
        self._max_pixel_value = max_pixel_value if max_pixel_value is not None else default_max

    @classmethod
    def from_model_config(
        cls,
        config: str | os.PathLike[str] | Mapping[str, Any],
        *,
        p: float = 1.0,
    ) -> Normalize:
        """The normalization a model was trained with, read from its own config.

        Args:
            config: a Hugging Face ``preprocessor_config.json``, a timm ``pretrained_cfg`` /
                ``config.json``, an ``open_clip_config.json`` (path or dict); read locally,
                no network, no heavy import. See :mod:`albu_norm.model_configs`.
            p: probability of applying.
        The configs describe RGB models; the transform expects RGB images (Albumentations'
        convention).
        Returns:
            ``Normalize(mean=..., std=..., max_pixel_value=...)``: a saved pipeline carries the
            numbers themselves.
        Raises:
            ValueError: the config holds no normalization, or invalid values.
        """
        preset, max_pixel_value = preset_from_model_config(config)
        return cls(mean=preset.mean, std=preset.std, max_pixel_value=max_pixel_value, p=p)

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        if self.normalization == "standard":
            return F.normalize(
                img,
                self._mean,
                self._std,
                self._max_pixel_value,
                reverse_channels=self._reverse_channels,
            )
        return F.normalize_per_image(img, self.normalization)

    def apply_to_images(self, images: np.ndarray, **params: Any) -> np.ndarray:
        if not isinstance(images, np.ndarray):  # a list of images, possibly of different sizes
            return [self.apply(img) for img in images]
        return F.normalize_images(
            images,
            normalization=self.normalization,
            mean=self._mean,
            std=self._std,
            max_pixel_value=self._max_pixel_value,
            reverse_channels=self._reverse_channels,
        )

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return (
            "mean",
            "std",
            "max_pixel_value",
            "normalization",
            "preset",
            "stats",
            "input_channel_order",
        )

    def get_transform_init_args(self) -> dict[str, Any]:
        args = {name: getattr(self, name) for name in self.get_transform_init_args_names()}
        if self.stats is not None:
            # The numbers travel with the saved config, not the path: a pipeline saved on one
            # machine loads on another where the statistics file does not exist.
            args.update(
                mean=self._mean, std=self._std, max_pixel_value=self._max_pixel_value, stats=None
            )
        # Lists, not tuples: YAML's safe dumper cannot write tuples.
        return {name: list(v) if isinstance(v, tuple) else v for name, v in args.items()}


class Denormalize(_EachImage, Normalize):
    """Map normalized values back to a viewable uint8 image: the inverse of fixed-statistics
    :class:`Normalize`, to look at what the network sees.

    Formula, per channel c: ``img = round((values * std[c] + mean[c]) * max_pixel_value)``,
    clipped to [0, 255] (see :func:`albu_norm.functional.denormalize`). Takes the same
    statistics arguments as :class:`Normalize` (a preset, mean/std, or a stats file); with a
    preset of the other channel order (e.g. ``caffe``) the BGR values are turned back to the
    input order. The round trip of a uint8 image is lossless. For per-image modes use
    :func:`albu_norm.functional.per_image_statistics` on the normalized image with
    :func:`albu_norm.functional.denormalize`.

    Args:
        mean: as in :class:`Normalize`.
        std: as in :class:`Normalize`.
        max_pixel_value: as in :class:`Normalize`; None means 255 (uint8 output).
        preset: as in :class:`Normalize`.
        stats: as in :class:`Normalize`.
        input_channel_order: as in :class:`Normalize`: the order of the restored image.
        p: probability of applying.

    Targets:
        image, images

    Image types:
        float32 (normalized values), shape (H, W) or (H, W, C). Output uint8.

    Example:
        >>> import numpy as np
        >>> img = np.array([[[0, 128, 255]]], dtype=np.uint8)
        >>> values = Normalize(preset="caffe")(image=img)["image"]
        >>> Denormalize(preset="caffe")(image=values)["image"]
        array([[[  0, 128, 255]]], dtype=uint8)
    """

    def __init__(
        self,
        mean: ChannelValues | None = None,
        std: ChannelValues | None = None,
        max_pixel_value: float | None = None,
        preset: str | None = None,
        stats: str | None = None,
        input_channel_order: Literal["RGB", "BGR"] = "RGB",
        p: float = 1.0,
    ) -> None:
        super().__init__(
            mean=mean,
            std=std,
            max_pixel_value=max_pixel_value,
            normalization="standard",
            preset=preset,
            stats=stats,
            input_channel_order=input_channel_order,
            p=p,
        )

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        values = img[..., None] if img.ndim == 2 else img
        restored = F.denormalize(
            values,
            self._mean,
            self._std,
            255.0 if self._max_pixel_value is None else self._max_pixel_value,
            reverse_channels=self._reverse_channels,
        )
        return restored[..., 0] if img.ndim == 2 else restored

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        names = super().get_transform_init_args_names()
        return tuple(name for name in names if name != "normalization")


class RobustNormalize(_EachImage, ImageOnlyTransform):
    """Robust normalization: percentile clipping then z-score or [0, 1], median/IQR scaling, or
    a dataset's clip range with its mean/std (nnU-Net's CT scheme).

    Formulas (per image, over all channels or per channel; see :mod:`albu_norm.robust`):

    * ``"percentile_zscore"``: ``y = clip(img, P_low, P_high)``; ``(y - mean(y)) / std(y)``;
    * ``"percentile_min_max"``: ``(clip(img, P_low, P_high) - P_low) / (P_high - P_low)``;
    * ``"median_iqr"``: ``(img - median) / (P_75 - P_25)``;
    * ``"dataset_clip_zscore"``: ``(clip(img, *clip_range) - mean) / std`` with dataset values in
      raw units (use :meth:`from_stats` to take them from ``albu-norm stats`` output).

    Percentiles are exact for uint8/uint16 images (histograms) and follow numpy's "linear"
    definition. A uniform image or channel gives exact zeros.

    Args:
        method: one of the four above (default "percentile_zscore").
        percentiles: (low, high) in [0, 100]; default (0.5, 99.5), (25, 75) for median_iqr.
        per_channel: per-channel statistics (default: over all channels).
        clip_range: (low, high), raw units; dataset_clip_zscore only.
        mean: raw units, one value or one per channel; dataset_clip_zscore only.
        std: raw units, one value or one per channel, > 0; dataset_clip_zscore only.
        p: probability of applying.

    Targets:
        image, images (per-image statistics)

    Image types:
        uint8, uint16, float32, float64; (H, W) or (H, W, C). Output float32.

    Raises:
        ValueError: inconsistent parameters (at construction, naming the field); NaN/Inf in a
            per-image method; bad images as :class:`Normalize`.

    References:
        Isensee et al., nnU-Net (Nature Methods 2021); MIC-DKFZ/nnUNet
        ``documentation/explanation_normalization.md``. scikit-learn ``RobustScaler``.
    """

    class InitSchema(BaseTransformInitSchema):
        method: Literal[
            "percentile_zscore", "percentile_min_max", "median_iqr", "dataset_clip_zscore"
        ] = "percentile_zscore"
        percentiles: Optional[tuple[float, float]] = None
        per_channel: bool = False
        clip_range: Optional[tuple[float, float]] = None
        mean: Optional[ChannelValues] = None
        std: Optional[ChannelValues] = None

        _arrays_to_values = field_validator("mean", "std", mode="before")(_to_channel_values)

        @model_validator(mode="after")
        def _consistent(self) -> RobustNormalize.InitSchema:
            dataset = self.method == "dataset_clip_zscore"
            given = [n for n in ("clip_range", "mean", "std") if getattr(self, n) is not None]
            if dataset and len(given) != 3:
                raise ValueError(
                    "method='dataset_clip_zscore' needs clip_range, mean and std (raw units); "
                    f"got only {given or 'none'}. RobustNormalize.from_stats(path) fills them."
                )
            if not dataset and given:
                raise ValueError(
                    f"{', '.join(given)} only apply to method='dataset_clip_zscore'; "
                    f"method={self.method!r} computes its statistics from each image."
                )
            if self.percentiles is not None:
                low, high = self.percentiles
                if not 0 <= low < high <= 100:
                    raise ValueError(
                        f"percentiles must be (low, high) with 0 <= low < high <= 100, got "
                        f"{self.percentiles}."
                    )
                if dataset:
                    raise ValueError("percentiles do not apply to dataset_clip_zscore.")
            if self.clip_range is not None and not self.clip_range[0] < self.clip_range[1]:
                raise ValueError(f"clip_range must have low < high, got {self.clip_range}.")
            if self.std is not None:
                values = self.std if isinstance(self.std, tuple) else (self.std,)
                if not all(math.isfinite(v) and v > 0 for v in values):
                    raise ValueError(f"std must be finite numbers > 0, got {self.std!r}.")
            return self

    def __init__(
        self,
        method: Literal[
            "percentile_zscore", "percentile_min_max", "median_iqr", "dataset_clip_zscore"
        ] = "percentile_zscore",
        percentiles: tuple[float, float] | None = None,
        per_channel: bool = False,
        clip_range: tuple[float, float] | None = None,
        mean: ChannelValues | None = None,
        std: ChannelValues | None = None,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.method = method
        self.percentiles = percentiles
        self.per_channel = per_channel
        self.clip_range = clip_range
        self.mean = mean
        self.std = std

    @classmethod
    def from_stats(
        cls, path: str | os.PathLike[str], percentiles: tuple[float, float] = (0.5, 99.5)
    ) -> RobustNormalize:
        """dataset_clip_zscore with the clip range, mean and std of an ``albu-norm stats`` file.

        The file must hold the two percentiles (``--percentiles``, default 0.5 and 99.5). Unlike
        nnU-Net, the statistics are over all pixels (not a foreground mask) and the mean/std are
        of the unclipped values.
        """
        record = load_stats(path)
        table = record.get("percentiles_raw", {})
        keys = {float(k): v for k, v in table.items()}
        missing = [q for q in percentiles if float(q) not in keys]
        if missing:
            raise ValueError(
                f"{path} has no percentiles {missing} (it has {sorted(keys)}); run "
                f"`albu-norm stats ... --percentiles {' '.join(str(q) for q in percentiles)}`."
            )
        low = min(keys[float(percentiles[0])])
        high = max(keys[float(percentiles[1])])
        return cls(
            method="dataset_clip_zscore",
            clip_range=(low, high),
            mean=tuple(record["mean_raw"]),
            std=tuple(record["std_raw"]),
        )

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        if self.method == "dataset_clip_zscore":
            assert self.clip_range is not None and self.mean is not None and self.std is not None
            return normalize_clipped(img, self.clip_range, self.mean, self.std)
        return normalize_robust(img, self.method, self.percentiles, self.per_channel)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("method", "percentiles", "per_channel", "clip_range", "mean", "std")

    def get_transform_init_args(self) -> dict[str, Any]:
        args = {name: getattr(self, name) for name in self.get_transform_init_args_names()}
        return {name: list(v) if isinstance(v, tuple) else v for name, v in args.items()}


def _load_npy(path: str, name: str) -> np.ndarray:
    """Load a statistics image saved with np.save, never unpickling (allow_pickle=False)."""
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot load {name} from {path!r}: {error}") from None
    return check_statistics_image(array, name)


class PerPixelNormalize(_EachImage, ImageOnlyTransform):
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
        image, images

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

        @field_validator("mean_image", "scale_image", mode="before")
        @classmethod
        def _loadable(cls, value: Any, info: Any) -> Optional[str]:
            if value is None:
                return None
            _load_npy(str(value), info.field_name)
            return str(value)

    def __init__(
        self,
        mean_image: str,
        scale_image: str | None = None,
        resize_statistics: bool = False,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.mean_image = mean_image
        self.scale_image = scale_image
        self.resize_statistics = resize_statistics
        self._mean = _load_npy(mean_image, "mean_image")
        self._scale = None if scale_image is None else _load_npy(scale_image, "scale_image")

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return normalize_per_pixel(img, self._mean, self._scale, resize=self.resize_statistics)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("mean_image", "scale_image", "resize_statistics")


class LocalContrastNormalize(_EachImage, ImageOnlyTransform):
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
        image, images (per-image statistics)

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
        def _valid(self) -> LocalContrastNormalize.InitSchema:
            if self.kernel_size < 1 or self.kernel_size % 2 == 0:
                raise ValueError(
                    f"kernel_size must be an odd integer >= 1, got {self.kernel_size}."
                )
            if self.sigma is not None and not (math.isfinite(self.sigma) and self.sigma > 0):
                raise ValueError(f"sigma must be a finite number > 0, got {self.sigma}.")
            if self.floor != "mean" and not (
                isinstance(self.floor, float) and math.isfinite(self.floor) and self.floor >= 0
            ):
                raise ValueError(f"floor must be 'mean' or a number >= 0, got {self.floor!r}.")
            return self

    def __init__(
        self,
        kernel_size: int = 9,
        sigma: float | None = None,
        floor: Literal["mean"] | float = "mean",
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.kernel_size = kernel_size
        self.sigma = sigma
        self.floor = floor

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return local_contrast_normalize(img, self.kernel_size, self.sigma, self.floor)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("kernel_size", "sigma", "floor")
