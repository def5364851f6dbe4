"""The shared base of albu_norm's Albumentations transforms, and the schema helpers.

Each transform is its ``InitSchema`` (pydantic; Albumentations validates the constructor's
arguments with it), its ``__init__`` (stores the arguments, resolves what the core needs) and
one call into the core. The base holds everything else, once:

* the serialization key ``albu_norm.transforms.<Name>`` (Albumentations keys a class by
  ``module.name`` when the class is created; classes live in submodules, so the key is pinned
  here and saved configs keep loading);
* the saved arguments: exactly the ``__init__`` parameters (but ``p``, saved by Albumentations),
  each stored on the instance under its own name, tuples saved as lists (YAML's safe dumper
  cannot write tuples);
* unknown constructor arguments are a ValueError (Albumentations only warns and drops them, so
  ``Normalize(maen=...)`` would silently be the ImageNet default);
* batches (``images=``) image by image, each with its own statistics.

Errors: every construction error must reach the user as a ValueError or TypeError. Albumentations
turns any other exception raised inside the schema into a warning and builds the transform from
its defaults; :func:`schema_check` wraps the schema's checks so that cannot happen.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import os
import warnings
from abc import ABC
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Optional, TypeVar, Union

import numpy as np
from albumentations.core.transforms_interface import ImageOnlyTransform
from pydantic import BaseModel, field_validator

from albu_norm._checks import channel_values
from albu_norm.transforms._compat import ReadsCallData

Function = TypeVar("Function", bound=Callable[..., Any])

#: The module every transform is saved under (the serialization key's prefix).
SERIALIZATION_MODULE = "albu_norm.transforms"


class ProbabilityWarning(UserWarning):
    """A normalization with p < 1: skipped calls return the input array itself."""


# Where a statistics mask is looked for, per kind of target, when mask_key is "mask": the
# batch and volume forms of Albumentations' mask targets come first.
_MASK_FALLBACKS = {
    "image": (),
    "images": ("masks",),
    "volume": ("mask3d",),
    "volumes": ("masks3d",),
}
# Albumentations' mask targets: moved with the image by every spatial transform.
_MASK_TARGETS = ("mask", "masks", "mask3d", "masks3d")
# The rank a statistics mask must have, per kind of target, and its shape in words.
_MASK_RANKS = {"image": 2, "images": 3, "volume": 3, "volumes": 4}
_MASK_SHAPES = {
    "image": "(H, W)",
    "images": "(N, H, W), one (H, W) mask per image",
    "volume": "(D, H, W)",
    "volumes": "(N, D, H, W)",
}


class SavedArguments:
    """Mixin of every albu_norm transform: the serialization key ``albu_norm.transforms.<Name>``,
    the saved arguments (exactly the ``__init__`` parameters but ``p``) and unknown constructor
    arguments as a ValueError."""

    @classmethod
    def get_class_fullname(cls) -> str:
        return f"{SERIALIZATION_MODULE}.{cls.__name__}"

    @classmethod
    def init_arguments(cls) -> tuple[str, ...]:
        """The ``__init__`` parameters that are saved (all but ``self``, ``p`` and ``strict``)."""
        return _init_arguments(cls)  # type: ignore[arg-type]  # a class is hashable

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return self.init_arguments()

    def get_transform_init_args(self) -> dict[str, Any]:
        return {name: to_saveable(getattr(self, name)) for name in self.init_arguments()}

    def keep_arguments(self, arguments: Mapping[str, Any]) -> None:
        """Store every saved argument from ``arguments`` (the caller's ``locals()``)."""
        for name in self.init_arguments():
            setattr(self, name, arguments[name])

    @property
    def invalid_args(self) -> list[str]:
        return []

    @invalid_args.setter
    def invalid_args(self, names: list[str]) -> None:
        # Albumentations sets this after __init__ with the keyword arguments it dropped
        if names:
            known = (*self.init_arguments(), "p")
            hints = []
            for name in names:
                close = difflib.get_close_matches(name, known, n=1)
                hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            raise ValueError(
                f"{type(self).__name__} got unknown argument(s) {', '.join(hints)}; it takes "
                f"{', '.join(known)}."
            )


class NormalizationTransform(SavedArguments, ReadsCallData, ImageOnlyTransform, ABC):
    """Base of every albu_norm transform (abstract: not registered for serialization itself).

    A subclass implements :meth:`normalize` (one image and its statistics mask, or None) and,
    where it can do better than a loop, :meth:`normalize_images`; the base routes the image,
    images, volume and volumes targets to them, with the mask of the ``mask_key`` target of the
    same call when the transform has one. Volumes are normalized whole (one set of statistics
    per volume) unless the transform's ``per_slice`` is true (the default for transforms
    without that argument: local and per-pixel statistics are per slice by nature).
    """

    def __init__(self, p: float = 1.0) -> None:
        super().__init__(p=p)
        if p < 1:
            warnings.warn(
                f"{type(self).__name__}(p={p:g}) skips {1 - p:.0%} of calls, and a skipped call "
                "returns the input array itself: the network then sees the raw pixels (e.g. "
                "uint8 0-255) in some batches and normalized float32 in others. Normalize with "
                "p=1 and put the probability on the augmentations before it.",
                ProbabilityWarning,
                stacklevel=4,
            )

    # ---------------------------------------------------------------- the call

    def normalize(self, img: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        """Normalize one (H, W[, C]) image; ``mask``: its (H, W) statistics mask, or None."""
        raise NotImplementedError

    def normalize_images(self, images: Any, masks: Any) -> Any:
        """Normalize a batch (N, H, W[, C]) or a list of images, image by image."""
        results = [
            self.normalize(img, None if masks is None else masks[index])
            for index, img in enumerate(images)
        ]
        return np.stack(results) if isinstance(images, np.ndarray) else results

    def normalize_volume(self, volume: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        """Normalize a (D, H, W[, C]) volume: whole, or per slice (see the class docstring)."""
        if getattr(self, "per_slice", True):
            return self.normalize_images(volume, mask)
        if not isinstance(volume, np.ndarray) or volume.ndim not in (3, 4):
            shape = getattr(volume, "shape", type(volume).__name__)
            raise ValueError(f"a volume has shape (D, H, W) or (D, H, W, C), got {shape}.")
        if mask is not None and np.shape(mask) != volume.shape[:3]:  # not only the row count
            raise ValueError(
                f"the statistics mask of a volume of shape {volume.shape} must have shape "
                f"{volume.shape[:3]} (one (H, W) mask per slice), got {np.shape(mask)}."
            )
        tall = volume.reshape(-1, *volume.shape[2:])  # (D * H, W[, C]): one image
        tall_mask = None if mask is None else np.asarray(mask).reshape(tall.shape[:2])
        return self.normalize(tall, tall_mask).reshape(volume.shape)

    def apply(self, img: np.ndarray, stats_masks: Any = None, **params: Any) -> np.ndarray:
        return self.normalize(img, self._mask("image", stats_masks))

    def apply_to_images(self, images: Any, stats_masks: Any = None, **params: Any) -> Any:
        return self.normalize_images(images, self._mask("images", stats_masks))

    def apply_to_volume(self, volume: Any, stats_masks: Any = None, **params: Any) -> Any:
        return self.normalize_volume(volume, self._mask("volume", stats_masks))

    def apply_to_volumes(self, volumes: Any, stats_masks: Any = None, **params: Any) -> Any:
        masks = self._mask("volumes", stats_masks)
        return np.stack(
            [
                self.normalize_volume(volume, None if masks is None else masks[index])
                for index, volume in enumerate(volumes)
            ]
        )

    def add_targets(self, additional_targets: dict[str, str]) -> None:
        # Albumentations 2.0.8 keeps only the targets this transform applies to; the statistics
        # mask is not one of them, and we need to know that it was declared a mask
        self._declared_targets = {**getattr(self, "_declared_targets", {}), **additional_targets}
        super().add_targets(additional_targets)

    def params_from_data(self, data: dict[str, Any]) -> dict[str, Any]:
        key = getattr(self, "mask_key", None)
        if key is None:
            return {}
        declared_targets = getattr(self, "_declared_targets", {})
        declared = declared_targets.get(key)
        if key != "mask" and data.get(key) is None:  # not a target of the call: misspelt?
            present = [name for name, value in data.items() if value is not None]
            others = [name for name in (*present, *declared_targets) if name != key]
            close = difflib.get_close_matches(key, others, n=1)
            if close:
                raise ValueError(
                    f"{type(self).__name__}(mask_key={key!r}): the call has no {key!r} target. "
                    f"Did you mean mask_key={close[0]!r}? The statistics mask is the target of "
                    f"the same call named by mask_key; this call has {', '.join(sorted(present))}."
                )
        if key not in _MASK_TARGETS and declared not in _MASK_TARGETS:
            raise ValueError(
                f"{type(self).__name__}(mask_key={key!r}): {key!r} is not declared as a mask "
                f"target{f' (it is declared as {declared!r})' if declared else ''}, so the crops, "
                "pads and flips before this transform would not move it with the image and the "
                f"statistics would come from the wrong pixels. Declare it: A.Compose([...], "
                f"additional_targets={{{key!r}: 'mask'}}); or use mask_key='mask'."
            )
        names = {key, *(sum(_MASK_FALLBACKS.values(), ()) if key == "mask" else ())}
        found = {name: data[name] for name in names if data.get(name) is not None}
        if not found:
            raise ValueError(
                f"{type(self).__name__}(mask_key={key!r}) takes its statistics over the "
                f"{key!r} target of the same call, and the call has none: pass {key}=... (a mask "
                f"of the image's height and width; declare additional_targets={{{key!r}: "
                "'mask'} in A.Compose for a name other than 'mask')."
            )
        return {"stats_masks": found}

    def _mask(self, kind: str, stats_masks: Any) -> Any:
        """The statistics mask of this kind of target (None without mask_key)."""
        if not stats_masks:
            return None
        key = getattr(self, "mask_key", "mask")
        names = (*(_MASK_FALLBACKS[kind] if key == "mask" else ()), key)
        present = [name for name in names if name in stats_masks]
        if not present:  # e.g. image= with masks= only (a StopIteration would end a map())
            raise ValueError(
                f"{type(self).__name__}(mask_key={key!r}) takes the statistics mask of the "
                f"{kind}= target from {' or '.join(repr(n) for n in names)}, and the call has "
                f"only {', '.join(repr(n) for n in sorted(stats_masks))}: pass "
                f"{names[0]}=... of shape {_MASK_SHAPES[kind]} with {kind}=..."
            )
        mask = stats_masks[present[0]]
        if (
            kind != "image"
            and isinstance(mask, (list, tuple))
            and len({np.shape(item) for item in mask}) == 1  # a list of equal masks: a batch
        ):
            mask = np.stack([np.asarray(item) for item in mask])
        if (
            isinstance(mask, np.ndarray)
            and mask.ndim == _MASK_RANKS[kind] + 1
            and mask.shape[-1] == 1
        ):
            mask = mask[..., 0]
        if kind != "image" and np.ndim(mask) != _MASK_RANKS[kind]:
            raise ValueError(
                f"the statistics mask for {kind}= must have {_MASK_RANKS[kind]} dimensions (one "
                f"(H, W) mask per image or slice), got shape {np.shape(mask)}."
            )
        return mask


@functools.cache
def _init_arguments(cls: type) -> tuple[str, ...]:
    parameters = inspect.signature(cls.__init__).parameters  # type: ignore[misc]
    return tuple(name for name in parameters if name not in ("self", "p", "strict"))


def to_saveable(value: Any) -> Any:
    """Tuples (also nested, and inside dicts) as lists, numpy scalars as Python numbers."""
    if isinstance(value, (tuple, list)):
        return [to_saveable(v) for v in value]
    if isinstance(value, Mapping):
        return {k: to_saveable(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def schema_check(function: Function) -> Function:
    """Wrap a schema validator so that whatever it raises reaches the user as a ValueError."""

    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ValueError:
            raise
        except Exception as error:
            raise ValueError(f"{type(error).__name__}: {error}") from error

    return checked  # type: ignore[return-value]


def channel_values_or_none(value: Any, info: Any) -> Any:
    """Schema 'before' validator for mean/std: None, or an ordered list of numbers as a tuple
    (numpy arrays and OmegaConf ListConfig included; sets, mappings and strings rejected)."""
    if value is None:
        return None
    values = channel_values(value, info.field_name)
    return (
        values[0] if len(values) == 1 and not isinstance(value, (Sequence, np.ndarray)) else values
    )


class MaskingFields(BaseModel):
    """The schema fields of the statistics mask (Normalize, RobustNormalize): checked by the
    spec's resolver, with the rest of the configuration."""

    mask_key: Optional[str] = None
    ignore_value: Optional[Union[float, tuple[float, ...]]] = None
    outside: str = "normalize"
    fill: float = 0.0
    per_slice: bool = False

    _ignore_values = field_validator("ignore_value", mode="before")(channel_values_or_none)


def path_or_value(value: Any) -> Any:
    """Schema 'before' validator: os.PathLike as str, anything else unchanged."""
    return os.fspath(value) if isinstance(value, os.PathLike) else value
