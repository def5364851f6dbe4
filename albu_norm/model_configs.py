"""Normalization read straight from a model's own configuration (a local file or a dict).

No network access and no heavy import: the JSON is read as text.

A mismatch between a model and its input pipeline is the commonest silent error; reading the
numbers from the model's config removes it. Supported formats (detected from the keys):

* Hugging Face image processors, ``preprocessor_config.json``: ``image_mean``, ``image_std``,
  ``do_normalize`` (default true), ``do_rescale`` (default true) and ``rescale_factor`` (default
  1/255). The processor computes ``(img * rescale_factor - image_mean) / image_std``, so
  ``max_pixel_value = 1 / rescale_factor`` (1.0 when ``do_rescale`` is false; mean 0 and std 1
  when ``do_normalize`` is false). A factor within 1e-6 (relative) of 1/255, as the rounded
  ``0.00392156862745098`` or ``0.0039215686`` of real configs, means the dtype rule (None).
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
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from albu_norm._checks import channel_values, check_max_pixel_value

__all__ = ["ModelNormalization", "read_model_config"]

#: File names looked for when ``config`` is a model directory, in this order.
CONFIG_FILE_NAMES = ("preprocessor_config.json", "open_clip_config.json", "config.json")


class ModelNormalization(NamedTuple):
    """What a model config says: mean/std on the 0-1 scale of max_pixel_value (RGB order),
    the max_pixel_value it implies (None: the dtype rule), and where it was read."""

    mean: tuple[float, ...]
    std: tuple[float, ...]
    max_pixel_value: float | None
    source: str


def read_model_config(config: str | os.PathLike[str] | Mapping[str, Any]) -> ModelNormalization:
    """Read mean/std (and the pixel scale) from a model's configuration.

    Values are returned as read; :func:`albu_norm.spec.resolve_spec` checks them.

    Args:
        config: a dict; the path of a JSON file (Hugging Face ``preprocessor_config.json``, timm
            ``config.json`` / ``pretrained_cfg``, ``open_clip_config.json``); or a model
            directory holding one of them (looked for in that order).
    Returns:
        a :class:`ModelNormalization`.
    Raises:
        ValueError: the file is missing or is not JSON (the message names it); no known key set
            was found (the message lists the keys it looked for).
    """
    source = "dict"
    if not isinstance(config, (Mapping, str, os.PathLike)):
        raise ValueError(
            f"a model config must be a dict, the path of a JSON file or a model directory, got "
            f"{type(config).__name__}."
        )
    if not isinstance(config, Mapping):
        path = _config_file(Path(config))
        source = str(path)
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except Exception as error:  # OSError, UnicodeError, JSONDecodeError
            raise ValueError(
                f"cannot read model config {source}: {type(error).__name__}: {error}"
            ) from None
        if not isinstance(config, Mapping):
            raise ValueError(f"{source} does not hold a JSON object.")
    if "image_mean" in config or "image_std" in config:
        return _from_hugging_face(config, source)
    for nested in ("preprocess_cfg", "pretrained_cfg"):
        inner = config.get(nested)
        if isinstance(inner, Mapping) and "mean" in inner and "std" in inner:
            return _read(inner["mean"], inner["std"], None, f"{source} ({nested})")
    if "mean" in config and "std" in config:
        return _read(config["mean"], config["std"], None, f"{source} (mean, std)")
    raise ValueError(
        f"no normalization found in {source}: expected Hugging Face keys image_mean/image_std, "
        "timm/open_clip keys mean/std, or a nested preprocess_cfg/pretrained_cfg with them; "
        f"found keys {sorted(config)}."
    )


def _config_file(path: Path) -> Path:
    if not path.is_dir():
        return path
    for name in CONFIG_FILE_NAMES:
        if (path / name).is_file():
            return path / name
    raise ValueError(
        f"{path} is a directory without a model config: looked for {', '.join(CONFIG_FILE_NAMES)}."
    )


def _from_hugging_face(config: Mapping[str, Any], source: str) -> ModelNormalization:
    if not config.get("do_normalize", True):
        mean: Any = 0.0
        std: Any = 1.0
    else:
        mean, std = config.get("image_mean"), config.get("image_std")
        if mean is None or std is None:
            raise ValueError(f"{source} has do_normalize but not both image_mean and image_std.")
    max_pixel_value: float | None = 1.0
    if config.get("do_rescale", True):
        factor = config.get("rescale_factor", 1 / 255)
        try:
            max_pixel_value = 1.0 / check_max_pixel_value(factor)
        except ValueError:
            raise ValueError(f"{source}: rescale_factor must be > 0, got {factor!r}.") from None
    return _read(mean, std, max_pixel_value, f"{source} (Hugging Face image processor)")


def _read(mean: Any, std: Any, max_pixel_value: float | None, source: str) -> ModelNormalization:
    try:
        return ModelNormalization(
            channel_values(mean, "mean"), channel_values(std, "std"), max_pixel_value, source
        )
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from None
