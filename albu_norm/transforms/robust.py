"""``RobustNormalize``: an adapter over :mod:`albu_norm.robust` (and, for the dataset mode,
over :class:`albu_norm.spec.NormalizationSpec` with a clip range)."""

from __future__ import annotations

import os
from typing import Any, Optional, Union

import numpy as np
from albumentations.core.transforms_interface import BaseTransformInitSchema
from pydantic import field_validator, model_validator

from albu_norm.robust import check_robust_method, normalize_robust
from albu_norm.spec import NormalizationSpec, resolve_spec
from albu_norm.stats.result import load_stats
from albu_norm.transforms._base import (
    MaskingFields,
    NormalizationTransform,
    channel_values_or_none,
    schema_check,
)

__all__ = ["RobustNormalize"]

ChannelValues = Union[float, tuple[float, ...]]
DATASET_METHOD = "dataset_clip_zscore"


class RobustNormalize(NormalizationTransform):
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
        mask_key: a mask target of the same call: statistics (percentiles, median, IQR, mean,
            std) over its nonzero pixels only, as in :class:`albu_norm.Normalize`; with
            dataset_clip_zscore only ``outside="fill"`` (nnU-Net's background) uses it.
        ignore_value: nodata left out of the statistics (as in :class:`albu_norm.Normalize`).
        outside: "normalize" (default) or "fill": what the left-out pixels become.
        fill: their value with ``outside="fill"``.
        per_slice: volumes slice by slice (True) or whole (False, default).
        p: probability of applying.

    Targets:
        image, images (per-image statistics), volume, volumes (per volume, or per slice with
        ``per_slice=True``)

    Image types:
        uint8, uint16, float32, float64; (H, W) or (H, W, C). Output float32.

    Raises:
        ValueError: inconsistent parameters (at construction, naming the field); NaN/Inf in a
            per-image method; bad images as :class:`Normalize`.

    References:
        Isensee et al., nnU-Net (Nature Methods 2021); MIC-DKFZ/nnUNet
        ``documentation/explanation_normalization.md``. scikit-learn ``RobustScaler``.
    """

    class InitSchema(MaskingFields, BaseTransformInitSchema):
        method: str = "percentile_zscore"
        percentiles: Optional[tuple[float, float]] = None
        per_channel: bool = False
        clip_range: Optional[tuple[float, float]] = None
        mean: Optional[ChannelValues] = None
        std: Optional[ChannelValues] = None
        _values = field_validator("mean", "std", mode="before")(channel_values_or_none)

        @model_validator(mode="after")
        @schema_check
        def _consistent(self) -> RobustNormalize.InitSchema:
            _check(self)
            return self

    def __init__(
        self,
        method: str = "percentile_zscore",
        percentiles: tuple[float, float] | None = None,
        per_channel: bool = False,
        clip_range: tuple[float, float] | None = None,
        mean: ChannelValues | None = None,
        std: ChannelValues | None = None,
        mask_key: str | None = None,
        ignore_value: ChannelValues | None = None,
        outside: str = "normalize",
        fill: float = 0.0,
        per_slice: bool = False,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.keep_arguments(locals())
        self.spec: Optional[NormalizationSpec] = _check(self)

    @classmethod
    def from_stats(
        cls, path: str | os.PathLike[str], percentiles: tuple[float, float] = (0.5, 99.5)
    ) -> RobustNormalize:
        """dataset_clip_zscore with the clip range, mean and std of an ``albu-norm stats`` file.

        The file must hold the two percentiles (``--percentiles``, default 0.5 and 99.5). Unlike
        nnU-Net, the statistics are over all pixels (not a foreground mask) and the mean/std are
        of the unclipped values.

        Raises:
            ValueError: the file cannot be read, lacks the percentiles or raw statistics, or
                describes images of several dtypes (its values are on the 0-1 scale, not in
                the raw units this mode clips in).
        """
        record = load_stats(path)
        if record["mixed_dtypes"]:
            raise ValueError(
                f"{path} describes images of several dtypes ({record.get('dtype')}), each put on "
                "the 0-1 scale by its own maximum, and dataset_clip_zscore clips raw pixel "
                "values: no clip range fits every dtype. Compute the statistics of one dtype "
                "(convert the files first), or use Normalize(stats=...)."
            )
        table = record.get("percentiles_raw", {})
        try:
            keys = {float(k): v for k, v in table.items()}
            missing = [q for q in percentiles if float(q) not in keys]
        except (AttributeError, TypeError, ValueError):
            raise ValueError(f"{path}: percentiles_raw is not a mapping of percentiles.") from None
        if missing:
            raise ValueError(
                f"{path} has no percentiles {missing} (it has {sorted(keys)}); run "
                f"`albu-norm stats ... --percentiles {','.join(str(q) for q in percentiles)}`."
            )
        if "mean_raw" not in record or "std_raw" not in record:
            raise ValueError(f"{path} has no mean_raw/std_raw: write it with `albu-norm stats`.")
        low = min(keys[float(percentiles[0])])
        high = max(keys[float(percentiles[1])])
        return cls(
            method=DATASET_METHOD,
            clip_range=(low, high),
            mean=tuple(record["mean_raw"]),
            std=tuple(record["std_raw"]),
        )

    def normalize(self, img: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        if self.spec is not None:
            return self.spec.apply(img, mask)
        return normalize_robust(
            img,
            self.method,
            self.percentiles,
            self.per_channel,
            mask=mask,
            ignore_value=self.ignore_value,
            outside=self.outside,
            fill=self.fill,
        )


def _check(args: Any) -> Optional[NormalizationSpec]:
    """Check a configuration; the spec of the dataset method (raw units: max_pixel_value 1)."""
    given = [n for n in ("clip_range", "mean", "std") if getattr(args, n) is not None]
    if args.method != DATASET_METHOD:
        check_robust_method(args.method, args.percentiles)
        if given:
            raise ValueError(
                f"{', '.join(given)} only apply to method={DATASET_METHOD!r}; "
                f"method={args.method!r} computes its statistics from each image."
            )
        # the masking rules of the per-image modes, checked by the spec's own validation
        resolve_spec(
            "image",
            masked=args.mask_key is not None,
            ignore_value=args.ignore_value,
            outside=args.outside,
            fill=args.fill,
        )
        return None
    if len(given) != 3:
        raise ValueError(
            f"method={DATASET_METHOD!r} needs clip_range, mean and std (raw units); got only "
            f"{given or 'none'}. RobustNormalize.from_stats(path) fills them."
        )
    if args.percentiles is not None:
        raise ValueError(f"percentiles do not apply to method={DATASET_METHOD!r}.")
    return resolve_spec(
        mean=args.mean,
        std=args.std,
        max_pixel_value=1.0,
        clip_range=args.clip_range,
        masked=args.mask_key is not None,
        ignore_value=args.ignore_value,
        outside=args.outside,
        fill=args.fill,
    )
