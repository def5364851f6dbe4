"""The preset registry: named normalization constants with their source.

Three kinds of names resolve to a frozen :class:`Preset` (mean and std on the 0-1 scale of
``max_pixel_value``, the channel order, the source, and where defined the bands, input size,
crop fraction and interpolation):

* the built-in **families** (:mod:`albu_norm.presets.families`), e.g. ``"imagenet"``,
  ``"clip"``, ``"caffe"`` (BGR, 0-255), ``"sam"``, ``"sentinel2_torchgeo"`` (13 bands), each
  read at its defining source; :func:`list_presets` lists them;
* **every timm and open_clip pretrained model**, offline (neither timm, open_clip nor torch is
  needed): ``"timm/<arch>.<tag>"`` (or ``"timm/<arch>"`` for the default tag) and
  ``"open_clip/<model>:<tag>"``, from a table generated from those libraries
  (:mod:`albu_norm._model_table`, ``scripts/generate_model_table.py``);
* **your own** (:func:`register_preset`, :func:`albu_norm.register_preset_from_file`).

A saved pipeline stores the preset *name*.
"""

from __future__ import annotations

import difflib
import fnmatch
import functools
import threading
from collections.abc import Sequence
from typing import Optional

from albu_norm._checks import CHANNEL_ORDERS
from albu_norm._model_table import model_entry, model_names
from albu_norm.presets.families import FAMILIES
from albu_norm.presets.record import Preset

__all__ = [
    "CHANNEL_ORDERS",
    "Preset",
    "get_preset",
    "list_presets",
    "register_preset",
    "unregister_preset",
]

#: Prefixes of the model names resolved from the shipped timm/open_clip table.
MODEL_PREFIXES = ("timm/", "open_clip/")

BUILTIN_PRESETS: frozenset[str] = frozenset(p.name for p in FAMILIES)


def _folded(name: str) -> str:
    """A name as a reader would take it: no surrounding whitespace, case folded."""
    return name.strip().casefold()


_BUILTIN_BY_FOLDED = {_folded(name): name for name in BUILTIN_PRESETS}
_registry: dict[str, Preset] = {p.name: p for p in FAMILIES}
_lock = threading.Lock()


def list_presets(pattern: Optional[str] = None) -> list[str]:
    """Names of presets, sorted.

    Args:
        pattern: None: the families and your own presets (model names are too many to list).
            A shell-style pattern (``fnmatch``, case-sensitive) matches every name, model names
            included: ``list_presets("timm/convnext*")``, ``list_presets("*clip*")``.
    Returns:
        the sorted names.
    Example:
        >>> "imagenet" in list_presets()
        True
        >>> list_presets("timm/convnext_small.fb_in22k_ft*")
        ['timm/convnext_small.fb_in22k_ft_in1k', 'timm/convnext_small.fb_in22k_ft_in1k_384']
    """
    if pattern is None:
        return sorted(_registry)
    if not isinstance(pattern, str):
        raise TypeError(
            f"pattern must be a shell-style pattern string such as 'timm/convnext*', got "
            f"{type(pattern).__name__}."
        )
    own = [name for name in _registry if fnmatch.fnmatchcase(name, pattern)]
    return sorted({*own, *model_names(pattern)})


def get_preset(name: str) -> Preset:
    """Return the preset of ``name``: a family, a timm/open_clip model name, or your own.

    Raises:
        TypeError: name is not a string.
        ValueError: no preset has that name; the message lists close matches (among the model
            names too, for a "timm/" or "open_clip/" name).
    Example:
        >>> get_preset("timm/vit_base_patch16_clip_224.openai").mean
        (0.48145466, 0.4578275, 0.40821073)
    """
    if not isinstance(name, str):
        raise TypeError(f"preset name must be a string, got {type(name).__name__}.")
    found = _registry.get(name)
    if found is not None:
        return found
    if name.startswith(MODEL_PREFIXES):
        model = _model_preset(name)
        if model is not None:
            return model
    raise ValueError(_unknown_message(name))


@functools.lru_cache(maxsize=1024)
def _model_preset(name: str) -> Optional[Preset]:
    entry = model_entry(name)
    if entry is None:
        return None
    return Preset(
        entry["name"],  # "timm/<arch>" resolves to its default tag
        entry["mean"],
        entry["std"],
        channel_order=entry["channel_order"],
        source=entry["source"],
        input_size=entry["input_size"],
        crop_pct=entry["crop_pct"],
        interpolation=entry["interpolation"],
        crop_mode=entry["crop_mode"],
    )


def _unknown_message(name: str) -> str:
    kind = "model" if name.startswith(MODEL_PREFIXES) else "preset"
    model, colon, _ = name.partition(":")
    if name.startswith("open_clip/") and not colon:  # the model's tags (its case forgiven)
        tags = [t for t in model_names("open_clip/*") if t.lower().startswith(model.lower() + ":")]
        if tags:
            spelled = tags[0].partition(":")[0]
            return (
                f"unknown model {name!r}: an open_clip name needs its pretrained tag, "
                f"'open_clip/<model>:<tag>'. {spelled[len('open_clip/') :]} has {len(tags)}: "
                f"{', '.join(repr(t) for t in tags)}."
            )
    by_case = _case_only_match(name)
    if by_case is not None:
        return (
            f"unknown {kind} {name!r}. Did you mean {by_case!r}? Preset and model names are "
            "case-sensitive, and this one differs only by case (or surrounding spaces)."
        )
    bare = name.split("hf-hub:", 1)[-1].split("hf_hub:", 1)[-1]
    for prefix in MODEL_PREFIXES:  # a model name without its library prefix, or a hub name
        candidate = bare if bare.startswith(prefix) else prefix + bare
        if candidate != name and model_entry(candidate) is not None:
            return (
                f"unknown preset {name!r}. Did you mean {candidate!r}? Model names carry their "
                "library as a prefix: 'timm/' + a name of timm.list_pretrained(), or "
                "'open_clip/<model>:<tag>'."
            )
    if name.startswith(MODEL_PREFIXES):
        prefix = next(p for p in MODEL_PREFIXES if name.startswith(p))
        candidates = model_names(prefix + "*")
        architectures = sorted({c.split(".", 1)[0] for c in candidates if prefix == "timm/"})
        close = difflib.get_close_matches(name, [*candidates, *architectures], n=3, cutoff=0.75)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        return (
            f"unknown model {name!r}.{hint} Names are spelled as the library lists them "
            f"({len(candidates)} known): albu_norm.list_presets({prefix + '*'!r}) lists them "
            "(`albu-norm presets --models` too), as the timm and open_clip versions of the "
            "shipped table list them."
        )
    close = difflib.get_close_matches(name.lower(), list(_registry), n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return (
        f"unknown preset {name!r}.{hint} Known presets: {', '.join(list_presets())}; and every "
        "timm/open_clip pretrained model as 'timm/<arch>.<tag>' or 'open_clip/<model>:<tag>'. "
        "Register your own with albu_norm.register_preset(name, mean=..., std=...)."
    )


def _case_only_match(name: str) -> Optional[str]:
    """The one family, model name or timm architecture equal to ``name`` but for case and
    surrounding whitespace."""
    lowered = _folded(name)
    names = [*_registry, *model_names()]
    names += sorted({n.split(".", 1)[0] for n in names if n.startswith("timm/")})
    matches = sorted({n for n in names if n.casefold() == lowered and n != name})
    return matches[0] if len(matches) == 1 else None


def register_preset(
    name: str,
    mean: Sequence[float],
    std: Sequence[float],
    *,
    channel_order: str = "RGB",
    source: str = "user",
    max_pixel_value: float | None = None,
    band_names: Sequence[str] | None = None,
    overwrite: bool = False,
) -> Preset:
    """Register a preset under ``name`` and return it.

    Args:
        name: registry key. Built-in and model names cannot be used.
        mean: per-channel means in units of max_pixel_value (0-1 scale).
        std: per-channel standard deviations in the same units, each finite and > 0.
        channel_order: "RGB" (default) or "BGR".
        source: where the numbers come from; shown in docs and reprs.
        max_pixel_value: the pixel value mean/std call 1.0 when not the dtype's default.
        band_names: the bands of multispectral data, in order.
        overwrite: replace an earlier user preset of the same name.
    Raises:
        ValueError: invalid values (see :class:`Preset`); the name is built in, differs from a
            built-in name only by case or surrounding whitespace, or starts with "timm/" or
            "open_clip/" in any case; the name is taken and overwrite is False.

    A saved pipeline stores the preset *name*: a process that loads it must register the preset
    again (with the same values) before loading.
    """
    preset = Preset(
        name,
        mean,  # type: ignore[arg-type]  # checked (ordered numbers) by Preset
        std,  # type: ignore[arg-type]
        channel_order=channel_order,
        source=source,
        max_pixel_value=max_pixel_value,
        band_names=band_names,  # type: ignore[arg-type]  # checked and made a tuple by Preset
    )
    with _lock:
        if name in BUILTIN_PRESETS:
            raise ValueError(
                f"{name!r} is a built-in preset and cannot be replaced; choose another name."
            )
        twin = _BUILTIN_BY_FOLDED.get(_folded(name))
        if twin is not None:
            raise ValueError(
                f"{name!r} differs from the built-in preset {twin!r} only by case or "
                "surrounding whitespace; a second name for other numbers would be mistaken for "
                "it. Choose a distinct name."
            )
        if _folded(name).startswith(MODEL_PREFIXES):  # "Timm/...", " open_clip/..." too
            raise ValueError(
                f"{name!r} starts with a library prefix reserved for model names "
                f"({', '.join(MODEL_PREFIXES)}, in any case); choose another name."
            )
        if name in _registry and not overwrite and _registry[name] != preset:
            raise ValueError(
                f"a preset named {name!r} is already registered with other values; pass "
                "overwrite=True to replace it, or choose another name."
            )
        _registry[name] = preset
    return preset


def unregister_preset(name: str) -> None:
    """Remove a user-registered preset. Built-in presets cannot be removed.

    Raises:
        ValueError: the name is built in, or not registered.
    """
    with _lock:
        if name in BUILTIN_PRESETS:
            raise ValueError(f"{name!r} is a built-in preset and cannot be removed.")
        if name not in _registry:
            raise ValueError(_unknown_message(name))
        del _registry[name]
