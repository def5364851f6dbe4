"""Normalization read straight from a model's own configuration (a local file or a dict).

No network access and no heavy import: the JSON is read as text.

A mismatch between a model and its input pipeline is the commonest silent error; reading the
numbers from the model's config removes it. Supported formats (detected from the keys):

* Hugging Face image processors, ``preprocessor_config.json``: ``image_mean``, ``image_std``,
  ``do_normalize`` (default true), ``do_rescale`` (default true) and ``rescale_factor`` (default
  1/255). The processor computes ``(img * rescale_factor - image_mean) / image_std``, so
  ``max_pixel_value = 1 / rescale_factor`` (None, i.e. the dtype's default, for the usual 1/255;
  1.0 when ``do_rescale`` is false; mean 0 and std 1 when ``do_normalize`` is false).
  Source: huggingface/transformers ``src/transformers/image_processing_utils.py``
  (``BaseImageProcessor.rescale``, ``normalize``).
* timm: a ``pretrained_cfg`` or data-config dict with ``mean`` and ``std`` on the 0-1 scale
  (``timm.data.resolve_data_config``), or a hub ``config.json`` that nests it under
  ``pretrained_cfg``.
* open_clip: ``open_clip_config.json`` with ``preprocess_cfg: {mean, std}``, or a pretrained
  config dict with ``mean`` and ``std``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from albu_norm.presets import Preset

__all__ = ["preset_from_model_config"]


def preset_from_model_config(
    config: str | os.PathLike[str] | Mapping[str, Any], name: str | None = None
) -> tuple[Preset, float | None]:
    """Read mean/std (and the pixel scale) from a model's configuration.

    Args:
        config: a dict, or the path of a JSON file (Hugging Face ``preprocessor_config.json``,
            timm ``config.json`` / ``pretrained_cfg``, ``open_clip_config.json``).
        name: the returned preset's name (default: the file name, or "model_config").
    Returns:
        ``(preset, max_pixel_value)``: an unregistered :class:`Preset` (RGB order, mean/std on
        the 0-1 scale of max_pixel_value) and the max_pixel_value the config implies (None:
        follow the dtype).
    Raises:
        ValueError: no known key set was found (the message lists the keys it looked for), or
            the values are not finite numbers / std <= 0.
    """
    source = "dict"
    if not isinstance(config, Mapping):
        path = Path(config)
        source = str(path)
        config = json.loads(path.read_text())
        if not isinstance(config, Mapping):
            raise ValueError(f"{path} does not hold a JSON object.")
    label = name or (Path(source).name if source != "dict" else "model_config")

    if "image_mean" in config or "image_std" in config:
        return _from_hugging_face(config, label, source)
    for nested in ("preprocess_cfg", "pretrained_cfg"):
        inner = config.get(nested)
        if isinstance(inner, Mapping) and "mean" in inner and "std" in inner:
            return _preset(label, inner["mean"], inner["std"], f"{source} ({nested})"), None
    if "mean" in config and "std" in config:
        return _preset(label, config["mean"], config["std"], f"{source} (mean, std)"), None
    raise ValueError(
        f"no normalization found in {source}: expected Hugging Face keys image_mean/image_std, "
        "timm/open_clip keys mean/std, or a nested preprocess_cfg/pretrained_cfg with them; "
        f"found keys {sorted(config)}."
    )


def _from_hugging_face(
    config: Mapping[str, Any], label: str, source: str
) -> tuple[Preset, float | None]:
    if not config.get("do_normalize", True):
        mean: Any = 0.0
        std: Any = 1.0
    else:
        mean, std = config.get("image_mean"), config.get("image_std")
        if mean is None or std is None:
            raise ValueError(f"{source} has do_normalize but not both image_mean and image_std.")
    max_pixel_value: float | None = 1.0
    if config.get("do_rescale", True):
        factor = float(config.get("rescale_factor", 1 / 255))
        if not (math.isfinite(factor) and factor > 0):
            raise ValueError(f"{source}: rescale_factor must be > 0, got {factor!r}.")
        max_pixel_value = 1.0 / factor
        if abs(max_pixel_value - 255.0) < 1e-9:
            # the usual 1/255: identical to the dtype default for uint8, and float images in
            # [0, 1] are then not divided by 255 a second time
            max_pixel_value = None
    return _preset(label, mean, std, f"{source} (Hugging Face image processor)"), max_pixel_value


def _preset(label: str, mean: Any, std: Any, source: str) -> Preset:
    mean_values = _values(mean)
    std_values = _values(std)
    if len(mean_values) == 1 and len(std_values) > 1:
        mean_values = mean_values * len(std_values)
    if len(std_values) == 1 and len(mean_values) > 1:
        std_values = std_values * len(mean_values)
    return Preset(label, mean_values, std_values, channel_order="RGB", source=source)


def _values(value: Any) -> tuple[float, ...]:
    if isinstance(value, (int, float)):
        return (float(value),)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(float(v) for v in value)
    raise ValueError(f"expected a number or a list of numbers, got {value!r}.")
