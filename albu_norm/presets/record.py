"""The preset record: a frozen, checked set of normalization constants with their source."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from albu_norm._checks import (
    as_float,
    check_channel_order,
    check_max_pixel_value,
    check_mean_std,
)

__all__ = ["Preset"]


@dataclass(frozen=True)
class Preset:
    """A named set of normalization constants.

    Attributes:
        name: registry key, e.g. "imagenet", "timm/convnext_small.fb_in22k_ft_in1k".
        mean: per-channel means in units of max_pixel_value (0-1 scale), as a tuple of floats.
        std: per-channel standard deviations in the same units, each > 0 (a single mean or
            std value is repeated to the other's length).
        channel_order: "RGB" or "BGR": the order of ``mean``/``std`` and of the model's input
            (meaningless for one band or multispectral data: see ``band_names``).
        source: where the numbers come from (repository and file, or paper).
        max_pixel_value: the pixel value that ``mean``/``std`` call 1.0, when it is not the
            dtype's default (e.g. 10000 for Sentinel-2 reflectance stored as integers, 4095 for
            12-bit data in uint16); None follows the dtype.
        band_names: the bands in the order of ``mean``/``std`` (multispectral data), or None.
        input_size: (C, H, W) the model takes, where the source defines it (model presets).
        crop_pct: the fraction of the resized image the evaluation center crop keeps (timm).
        interpolation: the resize interpolation of the model's evaluation transform (timm,
            open_clip), e.g. "bicubic".
        crop_mode: timm's crop_mode ("center", "squash", "border") or open_clip's resize_mode
            ("shortest", "squash", "longest").
        note: caveats: where sources disagree, and which models use the numbers.
    """

    name: str
    mean: tuple[float, ...]
    std: tuple[float, ...]
    channel_order: str = "RGB"
    source: str = ""
    max_pixel_value: Optional[float] = None
    band_names: Optional[tuple[str, ...]] = None
    input_size: Optional[tuple[int, int, int]] = None
    crop_pct: Optional[float] = None
    interpolation: Optional[str] = None
    crop_mode: Optional[str] = None
    note: str = ""

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ValueError(f"a preset needs a non-empty string name, got {self.name!r}.")
        try:
            mean, std = check_mean_std(self.mean, self.std)
            check_channel_order(self.channel_order)
            if self.max_pixel_value is not None:
                object.__setattr__(
                    self, "max_pixel_value", check_max_pixel_value(self.max_pixel_value)
                )
        except ValueError as error:
            raise ValueError(f"preset {self.name!r}: {error}") from None
        channels = max(len(mean), len(std))
        object.__setattr__(self, "mean", mean * (channels // len(mean)))
        object.__setattr__(self, "std", std * (channels // len(std)))
        if self.band_names is not None:
            if isinstance(self.band_names, str) or not isinstance(self.band_names, (list, tuple)):
                raise ValueError(
                    f"preset {self.name!r}: band_names must be a list of names, one per "
                    f"channel, got {self.band_names!r}."
                )
            names = tuple(str(band) for band in self.band_names)
            if len(names) != channels:
                raise ValueError(
                    f"preset {self.name!r}: {len(names)} band names for {channels} channels."
                )
            object.__setattr__(self, "band_names", names)
        if self.input_size is not None:
            size = self.input_size
            if (
                not isinstance(size, (list, tuple))
                or len(size) != 3
                or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
            ):
                raise ValueError(
                    f"preset {self.name!r}: input_size must be (C, H, W), three positive "
                    f"integers, got {size!r}."
                )
            object.__setattr__(self, "input_size", tuple(size))
        if self.crop_pct is not None:
            pct = as_float(self.crop_pct)
            if not 0 < pct < math.inf:  # timm has crop_pct above 1 too (volo_d5_448: 1.15)
                raise ValueError(
                    f"preset {self.name!r}: crop_pct must be a finite number > 0, got "
                    f"{self.crop_pct!r}."
                )
            object.__setattr__(self, "crop_pct", pct)
