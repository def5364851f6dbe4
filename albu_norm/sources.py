"""Where a normalization's numbers come from: a preset, a statistics file or a model config.

Private to :mod:`albu_norm.spec`, whose :func:`~albu_norm.spec.resolve_spec` is the one entry
point. Each source gives an unregistered
:class:`~albu_norm.presets.Preset` (mean, std, channel order, scale rule, source), checked.

Scale rule of stats files and model configs: a scale equal to the dtype default of the data it
describes (255 for uint8 data, 65535 for uint16, 1 for floats; every image on its own dtype's
scale for a folder of mixed dtypes; a model config's ``rescale_factor`` within 1e-6 of 1/255)
becomes the dtype rule (None).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional

import numpy as np

from albu_norm._checks import (
    check_channel_order,
    check_max_pixel_value,
    check_mean_std,
    default_max_pixel_value,
)
from albu_norm.model_configs import read_model_config
from albu_norm.presets import Preset, get_preset
from albu_norm.stats.result import load_stats, read_record

__all__ = ["DEFAULT_PRESET", "from_source"]

#: The normalization when no argument says otherwise (as albumentations.Normalize).
DEFAULT_PRESET = "imagenet"


def from_source(preset: Optional[str], stats: Any, model_config: Any) -> Preset:
    """The source's numbers as an (unregistered) :class:`Preset`; the default preset if none."""
    if stats is not None:
        return _from_stats(stats)
    if model_config is not None:
        found = read_model_config(model_config)
        scale = _dtype_rule(found.max_pixel_value, 255.0, tolerance=1e-6)
        return _preset("model config", found.mean, found.std, "RGB", scale, found.source)
    if preset is not None and not isinstance(preset, str):
        raise ValueError(f"preset must be a preset name (a string), got {preset!r}.")
    found_preset = get_preset(DEFAULT_PRESET if preset is None else preset)
    label = f"{'default ' if preset is None else ''}preset {found_preset.name!r}"
    return _preset(
        label,
        found_preset.mean,
        found_preset.std,
        found_preset.channel_order,
        found_preset.max_pixel_value,
        label,
    )


def _from_stats(stats: Any) -> Preset:
    if isinstance(stats, Mapping):
        label = (
            f"statistics of {stats['source']}"
            if isinstance(stats.get("source"), str)
            else "statistics record"
        )
        record = read_record(stats, label)
    elif isinstance(stats, (str, os.PathLike)):
        record, label = load_stats(stats), f"stats file {Path(stats).name}"
    else:
        raise ValueError(
            f"stats must be the path of a statistics file or its record (a mapping), got "
            f"{type(stats).__name__}."
        )
    if "mean" not in record or "std" not in record:
        raise ValueError(f"{label} has no 'mean' and 'std'.")
    scale = record.get("max_pixel_value")
    if scale is not None:
        try:
            scale = check_max_pixel_value(scale)
        except ValueError as error:
            raise ValueError(f"{label}: {error}") from None
    if record["mixed_dtypes"]:  # the typed flag decides; the dtype text is for people
        scale = None  # each image on the 0-1 scale of its own dtype: the dtype rule
    elif scale is not None:
        dtype = record.get("dtype")
        if isinstance(dtype, str) and dtype in ("uint8", "uint16", "float32", "float64"):
            scale = _dtype_rule(scale, default_max_pixel_value(np.dtype(dtype)))
        elif scale in (255.0, 65535.0):
            # no dtype (a record written by hand, or by 0.1.0): 255 and 65535 describe the
            # uint8 / uint16 data the statistics came from, not every image they are applied
            # to; the dtype rule keeps a float image on the 0-1 scale from being divided again
            scale = None
    return _preset(
        label, record["mean"], record["std"], record.get("channel_order", "RGB"), scale, label
    )


def _preset(
    label: str, mean: Any, std: Any, channel_order: Any, scale: Optional[float], source: str
) -> Preset:
    try:
        mean, std = check_mean_std(mean, std)
        check_channel_order(channel_order)
    except ValueError as error:
        raise ValueError(f"{label}: {error}") from None
    return Preset(
        label, mean, std, channel_order=channel_order, source=source, max_pixel_value=scale
    )


def _dtype_rule(scale: Optional[float], default: float, tolerance: float = 0.0) -> Optional[float]:
    """None (the dtype rule) for a scale equal to the data's dtype default, else the scale."""
    if scale is not None and math.isclose(scale, default, rel_tol=tolerance, abs_tol=0.0):
        return None
    return scale
