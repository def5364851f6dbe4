"""The normalization spec: one frozen record of what a normalization is, and its one resolver.

A :class:`NormalizationSpec` says exactly what happens to an image: the mode, the fixed mean and
std (on the 0-1 scale of ``max_pixel_value``, in the model's channel order), the scale rule
(``max_pixel_value``, or None for the dtype rule: 255 for uint8, 65535 for uint16, 1.0 for
floats), the channel reversal (the model's ``channel_order`` against the
``input_channel_order`` of the images), an optional clip of the input in raw units before the
affine (nnU-Net's CT scheme), and where the numbers came from (``source``).

:func:`resolve_spec` is the only way the package turns user arguments into a spec. Its
precedence, as timm's ``resolve_data_config`` (explicit arguments > pretrained config >
default):

1. explicit arguments: ``mean``/``std`` (in the input's channel order) and ``max_pixel_value``;
2. one source, at most: ``preset`` (a registered name), ``stats`` (a statistics file of
   ``albu-norm stats``, or its record), ``model_config`` (a model's own config file or dict);
   ``mean``/``std`` together with a source is an error (which one would you mean?), an
   explicit ``max_pixel_value`` overrides the source's;
3. the default: preset ``imagenet`` (as ``albumentations.Normalize``).

Every entry point resolves through it: ``Normalize``, ``Denormalize``, ``RobustNormalize``'s
dataset mode, :func:`register_preset_from_file`, ``Normalize.from_model_config``, and the torch
module. Scale rule of stats files and model configs: a scale equal to the dtype default of the
data it describes (255 for uint8 data, 65535 for uint16, 1 for floats; a model config's
``rescale_factor`` within 1e-6 of 1/255) becomes the dtype rule, so that the same photo as uint8
or as float in [0, 1] gives the same output.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

from albu_norm import functional as F
from albu_norm._checks import (
    Masking,
    check_channel_count,
    check_channel_order,
    check_image,
    check_max_pixel_value,
    check_mean_std,
    check_normalization,
    check_range,
    default_max_pixel_value,
    num_channels,
)
from albu_norm._statistics import fixed_center_scale, kept_pixels, tall
from albu_norm.modes import Mode
from albu_norm.presets import Preset, register_preset
from albu_norm.robust import apply_clipped
from albu_norm.sources import from_source
from albu_norm.stats.result import load_stats

__all__ = ["ORIGINS", "NormalizationSpec", "as_spec", "register_preset_from_file", "resolve_spec"]

#: Where a spec's numbers came from (``NormalizationSpec.origin``): explicit mean/std, the
#: default preset, a preset, a statistics file or record, a model config, or each image.
ORIGINS = ("explicit", "default", "preset", "stats", "model_config", "image")

StatsSource = Union[str, "os.PathLike[str]", Mapping[str, Any]]


@dataclass(frozen=True)
class NormalizationSpec:
    """What a normalization is, checked when it is made (a ValueError names the field).

    Attributes:
        normalization: "standard" (fixed mean/std) or a per-image mode ("image",
            "image_per_channel", "min_max", "min_max_per_channel", "per_image_standardization").
        mean: per-channel means on the 0-1 scale of max_pixel_value, in ``channel_order``;
            None for per-image modes.
        std: per-channel stds in the same units, each > 0; None for per-image modes.
        max_pixel_value: the pixel value that maps to 1.0; None is the dtype rule.
        channel_order: "RGB" or "BGR": the order of mean/std and of the output.
        input_channel_order: "RGB" or "BGR": the order of the images it receives; when it
            differs from ``channel_order`` the channels are reversed first (3 channels only).
        clip_range: (low, high) in raw input units, applied before the affine; or None.
        source: where the numbers came from, in words, e.g. "preset 'clip'", "stats file
            stats.json" (for messages; behaviour reads ``origin``).
        masked: a statistics mask comes with each call ((H, W), nonzero = the pixel counts).
        ignore_value: nodata, in raw input units (one number, or one per channel): pixels whose
            every channel equals it are left out of the statistics; or None.
        outside: what left-out pixels become: "normalize" (the same affine) or "fill".
        fill: the value of left-out pixels with ``outside="fill"`` (and of every pixel when no
            pixel is kept), in output units.
        origin: the kind of source (one of :data:`ORIGINS`).

    Derived (not fields): ``mode``, the row of :mod:`albu_norm.modes`; ``masking``, the
    checked :class:`albu_norm._checks.Masking` record that every call receives.
    """

    normalization: str = "standard"
    mean: Optional[tuple[float, ...]] = None
    std: Optional[tuple[float, ...]] = None
    max_pixel_value: Optional[float] = None
    channel_order: str = "RGB"
    input_channel_order: str = "RGB"
    clip_range: Optional[tuple[float, float]] = None
    source: str = "explicit mean/std"
    masked: bool = False
    ignore_value: Optional[tuple[float, ...]] = None
    outside: str = "normalize"
    fill: float = 0.0
    origin: str = "explicit"

    def __post_init__(self) -> None:
        mode = check_normalization(self.normalization)
        object.__setattr__(self, "_mode", mode)
        if self.origin not in ORIGINS:
            raise ValueError(f"origin must be one of {ORIGINS}, got {self.origin!r}.")
        if not isinstance(self.source, str):
            raise ValueError(f"source must be a label (a string), got {self.source!r}.")
        check_channel_order(self.channel_order)
        check_channel_order(self.input_channel_order, "input_channel_order")
        if self.max_pixel_value is not None:
            object.__setattr__(self, "max_pixel_value", check_max_pixel_value(self.max_pixel_value))
        if not mode.per_image:
            if self.mean is None or self.std is None:
                raise ValueError("normalization='standard' needs mean and std.")
            mean, std = check_mean_std(self.mean, self.std)
            object.__setattr__(self, "mean", mean)
            object.__setattr__(self, "std", std)
        elif self.mean is not None or self.std is not None or self.clip_range is not None:
            raise ValueError(
                f"normalization={self.normalization!r} computes its statistics from each image; "
                "it takes no mean, std or clip_range."
            )
        if self.clip_range is not None:
            object.__setattr__(self, "clip_range", check_range(self.clip_range))
        masking = Masking(self.masked, self.ignore_value, self.outside, self.fill)
        object.__setattr__(self, "_masking", masking.check_for(mode))
        object.__setattr__(self, "ignore_value", masking.ignore_value)
        object.__setattr__(self, "fill", masking.fill)

    @property
    def mode(self) -> Mode:
        """The row of the mode table (:mod:`albu_norm.modes`) this spec was built with."""
        return self._mode  # type: ignore[attr-defined]

    @property
    def masking(self) -> Masking:
        """The checked masking record (mask, ignore_value, outside, fill)."""
        return self._masking  # type: ignore[attr-defined]

    @property
    def per_image(self) -> bool:
        """True for the modes whose statistics come from each image."""
        return self.mode.per_image

    @property
    def reverse_channels(self) -> bool:
        """True when the input's channel order is reversed first (RGB <-> BGR)."""
        return self.channel_order != self.input_channel_order

    @property
    def fixed(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """(mean, std) of a fixed-statistics spec.

        Raises:
            ValueError: a per-image spec, which has none.
        """
        if self.mean is None or self.std is None:
            raise ValueError(f"normalization={self.normalization!r} has no fixed mean and std.")
        return self.mean, self.std

    @property
    def neutral_fill(self) -> tuple[float, ...]:
        """The raw pixel value of each input channel that normalizes to exactly 0:
        ``mean[c] * max_pixel_value``, in the *input's* channel order (reversed when the spec
        reverses channels), one value per channel of mean/std (one value serves every channel).
        ``max_pixel_value`` None (the dtype rule) means 255, the uint8 scale.

        Padding with it (``A.PadIfNeeded(fill=spec.neutral_fill)``) is padding the normalized
        image with zeros, as a zero-padded convolution of the network does.

        Example:
            >>> from albu_norm import resolve_spec
            >>> tuple(round(v, 3) for v in resolve_spec(preset="imagenet").neutral_fill)
            (123.675, 116.28, 103.53)

        Raises:
            ValueError: a per-image spec (its center depends on each image).
        """
        if self.per_image:
            raise ValueError(
                f"normalization={self.normalization!r} centers each image on its own statistics: "
                "no fixed raw value normalizes to 0. Pad with 0 (or the image's mean) instead."
            )
        mean, _ = self.fixed
        maximum = 255.0 if self.max_pixel_value is None else self.max_pixel_value
        values = tuple(float(m) * maximum for m in mean)
        return values[::-1] if self.reverse_channels and len(values) == 3 else values

    def affine_constants(self, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
        """The fixed formula for images of ``dtype`` as ``x * scale[c] + offset[c]``: float64
        vectors of length C with ``scale = 1 / (max_pixel_value * std)`` and ``offset =
        -mean * max_pixel_value * scale`` (max_pixel_value None: the dtype rule), the numbers
        of the CPU kernels, for other backends (``albu_norm.torch``).

        Raises:
            ValueError: a per-image spec, which has no fixed formula.
        """
        mean, std = self.fixed
        maximum = (
            default_max_pixel_value(np.dtype(dtype))
            if self.max_pixel_value is None
            else self.max_pixel_value
        )
        center, scale = fixed_center_scale(mean, std, maximum, max(len(mean), len(std)))
        return scale, -center * scale

    def apply(self, img: np.ndarray, mask: Optional[np.ndarray] = None) -> np.ndarray:
        """Normalize one image, shape (H, W) or (H, W, C): a new float32 array of its shape.

        Args:
            img: the image.
            mask: (H, W) statistics mask, when the spec is ``masked``.
        Raises:
            TypeError, ValueError: as :func:`albu_norm.functional.normalize` and
                :func:`albu_norm.functional.normalize_per_image`; a channel count that the
                spec's mean/std do not fit (the message names the spec's source); a missing
                or unexpected mask.
        """
        img = check_image(img)
        kept = kept_pixels(img, mask, self.masking)
        out = np.empty(img.shape, np.float32)
        if self.per_image:
            return F.apply_per_image(img, self.mode, kept, self.masking, out)
        self._check_fits(img)
        return self._apply_fixed(img, kept, out)

    def _apply_fixed(
        self, img: np.ndarray, kept: Optional[np.ndarray], out: np.ndarray
    ) -> np.ndarray:
        mean, std = self.fixed
        if self.clip_range is not None:
            return apply_clipped(
                img, self.clip_range, mean, std, self.max_pixel_value, kept, self.fill, out
            )
        return F.apply_fixed(
            img, mean, std, self.max_pixel_value, self.reverse_channels, kept, self.masking, out
        )

    def apply_batch(self, images: np.ndarray, masks: Optional[np.ndarray] = None) -> np.ndarray:
        """Normalize a batch (N, H, W) or (N, H, W, C); per-image modes per image, each with
        its own mask from ``masks`` (N, H, W) when the spec is ``masked``.

        Raises:
            as :meth:`apply`; images not 3-/4-D or empty; masks not (N, H, W).
        """
        batch, masks = F.check_batch(images, masks)
        out = np.empty(batch.shape, np.float32)
        if self.per_image:
            return F.apply_per_image_batch(batch, masks, self.mode, self.masking, out)
        # fixed statistics: the batch as one tall (N * H, W[, C]) image, masks alike
        source = tall(batch)
        self._check_fits(source, batch.shape)
        kept = kept_pixels(source, None if masks is None else tall(masks), self.masking)
        self._apply_fixed(source, kept, tall(out))
        return out

    def invert(self, values: np.ndarray, dtype: Any = np.uint8) -> np.ndarray:
        """The inverse of a fixed-statistics spec on normalized values (H, W[, C]): a viewable
        image of ``dtype`` in the input's channel order (see
        :func:`albu_norm.functional.denormalize`; None max_pixel_value means 255).

        Raises:
            ValueError: a per-image spec (use ``functional.per_image_statistics``); as
                :func:`albu_norm.functional.denormalize`.
        """
        if self.per_image:
            raise ValueError(
                "a per-image normalization has no fixed inverse: use "
                "functional.per_image_statistics(img, mode) with functional.denormalize."
            )
        array = values[..., None] if values.ndim == 2 else values
        restored = F.denormalize(
            array,
            self.mean,  # type: ignore[arg-type]
            self.std,  # type: ignore[arg-type]
            255.0 if self.max_pixel_value is None else self.max_pixel_value,
            reverse_channels=self.reverse_channels,
            dtype=dtype,
        )
        return restored[..., 0] if values.ndim == 2 else restored

    def to_dict(self) -> dict[str, Any]:
        """A JSON/YAML-safe dict of every field (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> NormalizationSpec:
        """The spec of a :meth:`to_dict` record (checked as any spec; lists become tuples).

        Raises:
            ValueError: not a mapping, a key that is not a field, or a field's invalid value.
        """
        names = {field.name for field in fields(cls)}
        if not isinstance(record, Mapping):
            raise ValueError(f"a spec record is a dict of fields, got {type(record).__name__}.")
        unknown = sorted(set(record) - names)
        if unknown:
            raise ValueError(
                f"unknown spec field(s) {unknown}; a spec record has the fields {sorted(names)}."
            )
        return cls(**dict(record))

    def _check_fits(self, img: np.ndarray, shape: Optional[tuple[int, ...]] = None) -> None:
        """A channel count the spec's values do not fit (a validated image), reported with the
        source's name (or "mean"/"std" for explicit values)."""
        mean, std = self.fixed
        channels = num_channels(img)
        count = max(len(mean), len(std))
        if count in (1, channels) and len(mean) in (1, count) and len(std) in (1, count):
            return
        origin = self.source
        if self.origin == "explicit":  # name the value that does not fit, as the core does
            origin, count = next(
                (name, len(v))
                for name, v in (("mean", mean), ("std", std))
                if len(v) not in (1, channels)
            )
        plural = "s" if channels != 1 else ""
        fix = (
            f"Use a preset or mean/std with {channels} value{plural} (one value serves every "
            "channel)"
        )
        if channels == 1 and count == 3:
            fix += (
                ", or give the model the 3 channels it expects: "
                "cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)"
            )
        check_channel_count(
            count, channels, img.shape if shape is None else shape, origin=origin, fix=fix + "."
        )


def resolve_spec(
    normalization: str = "standard",
    mean: Any = None,
    std: Any = None,
    max_pixel_value: Any = None,
    *,
    preset: Optional[str] = None,
    stats: Optional[StatsSource] = None,
    model_config: Any = None,
    input_channel_order: str = "RGB",
    clip_range: Any = None,
    masked: bool = False,
    ignore_value: Any = None,
    outside: str = "normalize",
    fill: float = 0.0,
) -> NormalizationSpec:
    """Resolve user arguments into a :class:`NormalizationSpec` (precedence in the module doc).

    Args:
        normalization: "standard" or a per-image mode.
        mean: per-channel means (0-1 scale), in the input's channel order; with std.
        std: per-channel stds, each > 0; with mean.
        max_pixel_value: the pixel value of 1.0; None: the source's, else the dtype rule.
        preset: a registered preset name (:func:`albu_norm.list_presets`).
        stats: a statistics file (JSON/YAML of ``albu-norm stats --out``) or its record.
        model_config: a model's config file, directory or dict
            (:func:`albu_norm.model_configs.read_model_config`).
        input_channel_order: "RGB" or "BGR": the order of the images to normalize.
        clip_range: (low, high) raw-unit clip before the affine (standard mode only).
        masked: a statistics mask comes with each call (see :class:`NormalizationSpec`).
        ignore_value: nodata left out of the statistics.
        outside: "normalize" or "fill": what the left-out pixels become.
        fill: their value with ``outside="fill"``.
    Returns:
        the spec.
    Raises:
        ValueError: any invalid or inconsistent argument, an unreadable stats file or model
            config, an unknown preset (close names are suggested). Only ValueError: transforms
            pass it on to Albumentations, which would hide any other type behind a warning.
    """
    mode = check_normalization(normalization)
    check_channel_order(input_channel_order, "input_channel_order")
    sources = {
        name: value
        for name, value in (("preset", preset), ("stats", stats), ("model_config", model_config))
        if value is not None
    }
    if len(sources) > 1:
        raise ValueError(
            f"pass one of preset, stats and model_config, not {' and '.join(sources)}."
        )
    explicit = [name for name, value in (("mean", mean), ("std", std)) if value is not None]
    masking = {"masked": masked, "ignore_value": ignore_value, "outside": outside, "fill": fill}
    if mode.per_image:
        given = [*explicit, *sources, *(["clip_range"] if clip_range is not None else [])]
        if given:
            names = " and ".join(given)
            raise ValueError(
                f"normalization={normalization!r} computes its statistics from each image, so "
                f"{names} would be ignored. Remove {names}, or use normalization='standard'."
            )
        return NormalizationSpec(  # no reversal: per-image statistics follow any order
            normalization,
            channel_order=input_channel_order,
            input_channel_order=input_channel_order,
            source="per-image statistics",
            origin="image",
            **masking,
        )
    if sources and explicit:
        ((kind, value),) = sources.items()
        raise ValueError(
            f"pass either {kind}={_short(value)} or mean/std, not both: the "
            f"{'stats file' if kind == 'stats' else kind.replace('_', ' ')} already fixes mean and "
            "std."
        )
    if len(explicit) == 1:
        missing = "std" if mean is not None else "mean"
        raise ValueError(f"{missing} is missing: pass both mean and std (or a preset).")
    if max_pixel_value is not None:
        max_pixel_value = check_max_pixel_value(max_pixel_value)
    if explicit:
        return NormalizationSpec(
            mode.name,
            *check_mean_std(mean, std),
            max_pixel_value=max_pixel_value,
            channel_order=input_channel_order,
            input_channel_order=input_channel_order,
            clip_range=clip_range,
            **masking,
        )
    found = from_source(preset, stats, model_config)
    return NormalizationSpec(
        mode.name,
        found.mean,
        found.std,
        max_pixel_value=found.max_pixel_value if max_pixel_value is None else max_pixel_value,
        channel_order=found.channel_order,
        input_channel_order=input_channel_order,
        clip_range=clip_range,
        source=found.source,
        origin=next(iter(sources), "default"),
        **masking,
    )


def as_spec(normalization: Any) -> NormalizationSpec:
    """The spec of ``normalization``: a :class:`NormalizationSpec` as it is, a preset name
    resolved, or the ``.spec`` of an albu_norm transform or module (``albu_norm.Normalize``,
    ``albu_norm.torch.Normalize``), for the deployment tools.

    Raises:
        TypeError: anything else (e.g. ``albumentations.Normalize``, which has no spec).
        ValueError: an unknown preset name.
    """
    if isinstance(normalization, NormalizationSpec):
        return normalization
    if isinstance(normalization, str):
        return resolve_spec(preset=normalization)
    spec = getattr(normalization, "spec", None)
    if isinstance(spec, NormalizationSpec):
        return spec
    raise TypeError(
        "normalization must be an albu_norm.Normalize transform (or albu_norm.torch.Normalize), "
        f"a preset name or a NormalizationSpec, got {type(normalization).__module__}."
        f"{type(normalization).__name__}. albumentations' Normalize carries no spec: replace it "
        "by albu_norm.Normalize, which takes the same arguments."
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def register_preset_from_file(
    name: str, path: Union[str, os.PathLike[str]], *, overwrite: bool = False
) -> Preset:
    """Register the normalization of a statistics file (``albu-norm stats --out``) as a preset.

    The preset records the file's scale rule and channel order, and names the file as its
    source. A saved pipeline keeps the preset *name*: register it again before loading (or use
    ``Normalize(stats=path)``, whose saved config carries the numbers themselves).

    Raises:
        ValueError: the file is not a valid statistics file; the name is taken (see
            :func:`albu_norm.register_preset`).
    """
    spec = resolve_spec(stats=path)
    mean, std = spec.fixed
    record = load_stats(path)
    return register_preset(
        name,
        mean=mean,
        std=std,
        channel_order=spec.channel_order,
        source=f"dataset statistics {Path(path).name} ({record.get('images', '?')} images)",
        max_pixel_value=spec.max_pixel_value,
        overwrite=overwrite,
    )
