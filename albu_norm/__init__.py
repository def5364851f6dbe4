"""albu_norm: exact, fast image normalization transforms for Albumentations pipelines.

Public API:

* :class:`Normalize`: the transform (a superset of ``albumentations.Normalize``), and
  :class:`Denormalize`, its inverse, to look at what the network sees;
* :func:`list_presets`, :func:`get_preset`, :func:`register_preset`,
  :func:`unregister_preset`, :class:`Preset`: the preset registry;
* :func:`load`: load a pipeline saved with ``A.save`` (registers albu_norm's classes first);
* :mod:`albu_norm.functional`: the pure numpy/OpenCV core.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional

from albu_norm import functional
from albu_norm.presets import Preset, get_preset, list_presets, register_preset, unregister_preset

try:
    from importlib.metadata import PackageNotFoundError, version

    __version__ = version("albu_norm")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

try:
    # Importing the transforms registers them with Albumentations' serialization registry.
    from albu_norm.transforms import (
        Denormalize,
        LocalContrastNormalize,
        Normalize,
        PerPixelNormalize,
        RobustNormalize,
    )
except ModuleNotFoundError as _error:  # pragma: no cover - depends on the environment
    if _error.name != "albumentations":
        raise
    _ALBUMENTATIONS_MISSING = _error

    def __getattr__(name: str) -> Any:
        if name in {
            "Normalize",
            "Denormalize",
            "RobustNormalize",
            "PerPixelNormalize",
            "LocalContrastNormalize",
            "load",
        }:
            raise ImportError(
                f"albu_norm.{name} needs Albumentations, which is not installed. Install "
                "`pip install 'albu_norm[albumentations]'` (or AlbumentationsX, "
                "`pip install 'albu_norm[albumentationsx]'`). The core functions in "
                "albu_norm.functional work without it."
            ) from _ALBUMENTATIONS_MISSING
        raise AttributeError(f"module 'albu_norm' has no attribute {name!r}")


__all__ = [
    "Denormalize",
    "LocalContrastNormalize",
    "Normalize",
    "PerPixelNormalize",
    "Preset",
    "RobustNormalize",
    "__version__",
    "functional",
    "get_preset",
    "list_presets",
    "load",
    "register_preset",
    "unregister_preset",
]


def load(path: str | Path, data_format: Optional[Literal["json", "yaml"]] = None) -> Any:
    """Load a pipeline saved with ``albumentations.save``, with albu_norm's classes registered.

    A fresh process that calls ``A.load`` without ``import albu_norm`` fails with a bare
    ``KeyError: 'albu_norm.transforms.Normalize'``; this helper avoids that. Files are read
    with JSON or YAML *safe* loading.

    Args:
        path: file written by ``A.save``.
        data_format: "json" or "yaml"; None infers it from the suffix (.yaml/.yml -> yaml).
    Returns:
        the deserialized pipeline (e.g. an ``A.Compose``).
    Raises:
        ValueError: a transform in the file has an invalid value (the message names the key),
            e.g. an unknown preset: register user presets before loading.
    """
    import albumentations as A

    if data_format is None:
        data_format = "yaml" if Path(path).suffix.lower() in {".yaml", ".yml"} else "json"
    return A.load(str(path), data_format=data_format)
