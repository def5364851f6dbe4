"""albu_norm: exact, fast image normalization transforms for Albumentations pipelines.

Public API:

* :class:`Normalize`: the transform (a superset of ``albumentations.Normalize``), and
  :class:`Denormalize`, its inverse, to look at what the network sees; :class:`RobustNormalize`,
  :class:`PerPixelNormalize`, :class:`LocalContrastNormalize`;
* :class:`NormalizationSpec` and :func:`resolve_spec`: what a normalization is, resolved once;
* :func:`list_presets`, :func:`get_preset`, :func:`register_preset`,
  :func:`register_preset_from_file`, :func:`unregister_preset`, :class:`Preset`: the registry;
* :func:`eval_transforms`: the evaluation pipeline of any timm/open_clip model, by name;
* :func:`load`: load a pipeline saved with ``A.save`` (registers albu_norm's classes first);
* :mod:`albu_norm.functional`: the pure numpy/OpenCV core.

Imports: ``import albu_norm`` loads neither Albumentations, pydantic nor torch. The transform
classes load on first use (``albu_norm.Normalize``), and as soon as the process imports
Albumentations, so that ``A.load``/``A.from_dict`` find them under
``albu_norm.transforms.<Name>`` whichever of the two packages was imported first.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, Optional

from albu_norm import functional
from albu_norm.presets import Preset, get_preset, list_presets, register_preset, unregister_preset
from albu_norm.spec import NormalizationSpec, register_preset_from_file, resolve_spec

try:
    from importlib.metadata import PackageNotFoundError, version

    __version__ = version("albu_norm")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

_TRANSFORMS = (
    "Denormalize",
    "LocalContrastNormalize",
    "Normalize",
    "PerPixelNormalize",
    "ResizeCrop",
    "RobustNormalize",
    "eval_transforms",
)

__all__ = [
    *_TRANSFORMS,
    "NormalizationSpec",
    "Preset",
    "__version__",
    "functional",
    "get_preset",
    "list_presets",
    "load",
    "register_preset",
    "register_preset_from_file",
    "resolve_spec",
    "unregister_preset",
]


def _transforms() -> ModuleType:
    try:
        return importlib.import_module("albu_norm.transforms")
    except ModuleNotFoundError as error:
        if error.name not in ("albumentations", "pydantic"):
            raise
        raise ImportError(
            "albu_norm's transforms need Albumentations, which is not installed. Install "
            "`pip install 'albu_norm[albumentations]'` (or AlbumentationsX, "
            "`pip install 'albu_norm[albumentationsx]'`). The core functions in "
            "albu_norm.functional work without it."
        ) from error


def __getattr__(name: str) -> Any:
    if name in _TRANSFORMS:
        return getattr(_transforms(), name)
    raise AttributeError(f"module 'albu_norm' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_TRANSFORMS))


def load(path: str | Path, data_format: Optional[Literal["json", "yaml"]] = None) -> Any:
    """Load a pipeline saved with ``albumentations.save``, with albu_norm's classes registered.

    A fresh process that calls ``A.load`` before importing albu_norm fails with a bare
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
    _transforms()
    import albumentations as A

    if data_format is None:
        data_format = "yaml" if Path(path).suffix.lower() in {".yaml", ".yml"} else "json"
    return A.load(str(path), data_format=data_format)


class _LoadTransformsWithAlbumentations(importlib.abc.MetaPathFinder):
    """When the process imports Albumentations, import albu_norm's transforms right after it,
    so that they are in its serialization registry (one-shot; removes itself)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "albumentations":
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        for finder in sys.meta_path:  # the finders that would have found it
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if find is not None else None
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None:
            spec.loader = _ThenLoadTransforms(spec.loader)
        return spec


class _ThenLoadTransforms(importlib.abc.Loader):
    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self._loader  # hand the module back to its own loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        # never break `import albumentations`: an error here comes back, with its message,
        # when a transform is used
        with contextlib.suppress(Exception):
            importlib.import_module("albu_norm.transforms")


if "albumentations" in sys.modules:
    _transforms()
elif not any(isinstance(f, _LoadTransformsWithAlbumentations) for f in sys.meta_path):
    sys.meta_path.insert(0, _LoadTransformsWithAlbumentations())
