"""The shipped table of timm and open_clip pretrained normalizations, read offline.

``albu_norm/data/model_table.json`` holds, for every pretrained tag that timm and open_clip
listed when it was generated, the mean, std, input size and resize policy the library itself
applies to that model. Lookups need neither timm, open_clip nor torch: this module imports only
the standard library, reads the file once on first use (thread-safe) and never touches the
network.

Names, exactly as the libraries list them, with the library as a prefix:

* ``"timm/<arch>.<tag>"`` from ``timm.list_pretrained()``, e.g.
  ``"timm/convnext_small.fb_in22k_ft_in1k"``. ``"timm/<arch>"`` without a tag resolves to the
  architecture's default tag, as ``timm.create_model("<arch>", pretrained=True)`` does.
* ``"open_clip/<model>:<tag>"`` from ``open_clip.list_pretrained()``, e.g.
  ``"open_clip/ViT-B-32:laion2b_s34b_b79k"``.

Values (all in RGB channel order, mean/std on the 0-1 scale, i.e. in units of
``max_pixel_value``; floats exactly as the library has them):

* timm: the pretrained cfg (``default_cfgs`` in ``timm/models/<module>.py``) resolved by
  ``timm.data.resolve_data_config``: ``input_size`` (C, H, W), ``crop_pct``,
  ``interpolation``, ``crop_mode`` ("center", "squash" or "border").
* open_clip: the tag's pretrained cfg (``open_clip/pretrained.py``) merged over the
  ``PreprocessCfg`` defaults (``open_clip/transform.py``), with the image size of the model
  config's ``vision_cfg`` (``open_clip/model_configs/<model>.json``), as
  ``open_clip.create_model`` does. ``input_size`` is (3, H, W); ``crop_pct`` is None (open_clip
  has none); ``crop_mode`` holds open_clip's ``resize_mode`` ("shortest": shorter side to the
  size, then a center crop; "squash": both sides; "longest": longer side, then pad).

Regenerate with ``python scripts/generate_model_table.py`` where both libraries are installed.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import threading
from importlib import resources
from typing import Any, Optional

__all__ = ["model_entry", "model_names", "table_info"]

_FORMAT_VERSION = 1
_TABLE_FILE = "model_table.json"
_LIBRARIES = ("open_clip", "timm")
_LOCK = threading.Lock()


class _Table:
    """The parsed file: header, the rows by name, the distinct normalizations."""

    def __init__(self, raw: dict[str, Any]) -> None:
        version = raw.get("format_version")
        if version != _FORMAT_VERSION:
            raise RuntimeError(
                f"albu_norm/data/{_TABLE_FILE} has format_version {version!r}, this albu_norm "
                f"reads {_FORMAT_VERSION}. Reinstall albu_norm, or regenerate the table with "
                "`python scripts/generate_model_table.py`."
            )
        self.fields: tuple[str, ...] = tuple(raw["entry_fields"])
        self.rows: dict[str, list[Any]] = raw["models"]
        self.normalizations: tuple[tuple[tuple[float, ...], tuple[float, ...]], ...] = tuple(
            (tuple(float(v) for v in mean), tuple(float(v) for v in std))
            for mean, std in raw["normalizations"]
        )
        self.sources: dict[str, str] = raw["sources"]
        self.names: tuple[str, ...] = tuple(sorted(self.rows))
        default_at = self.fields.index("default_tag")
        self.timm_defaults: dict[str, str] = {
            name.partition(".")[0]: name for name, row in self.rows.items() if row[default_at]
        }
        self.info: dict[str, Any] = {
            "timm_version": raw["timm_version"],
            "open_clip_version": raw["open_clip_version"],
            "generated": raw["generated"],
            "generator": raw["generator"],
            "format_version": version,
            "channel_order": raw["channel_order"],
            "sources": dict(self.sources),
            "counts": {
                library: sum(name.startswith(library + "/") for name in self.names)
                for library in _LIBRARIES
            }
            | {"normalizations": len(self.normalizations)},
        }


@functools.cache
def _read_table() -> _Table:
    path = resources.files("albu_norm").joinpath("data", _TABLE_FILE)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RuntimeError(
            f"albu_norm/data/{_TABLE_FILE} is missing from this installation ({path}). "
            "Reinstall albu_norm: the wheel ships it as package data."
        ) from None
    return _Table(json.loads(text))


def _table() -> _Table:
    with _LOCK:  # one reader even when many threads ask first
        return _read_table()


def table_info() -> dict[str, Any]:
    """Describe the shipped model table: library versions, generation date, counts.

    Returns:
        A new dict with ``timm_version`` and ``open_clip_version`` (the versions the table was
        generated from), ``generated`` (UTC ISO date), ``generator`` (the command),
        ``format_version``, ``channel_order`` ("RGB" for every entry), ``sources`` (one template
        per library) and ``counts`` (names per library and distinct normalizations).
    Raises:
        RuntimeError: the data file is missing or has an unknown format.
    Source:
        ``albu_norm/data/model_table.json``, written by ``scripts/generate_model_table.py``.
    Example:
        >>> info = table_info()
        >>> info["channel_order"], info["counts"]["timm"] > 1000, info["counts"]["open_clip"] > 100
        ('RGB', True, True)
    """
    info = dict(_table().info)
    info["sources"] = dict(info["sources"])
    info["counts"] = dict(info["counts"])
    return info


def model_names(pattern: Optional[str] = None) -> tuple[str, ...]:
    """List every model name in the table, sorted.

    Args:
        pattern: optional shell-style pattern (``fnmatch``, case-sensitive) over the full name,
            e.g. ``"timm/convnext_small.*"`` or ``"open_clip/ViT-B-32:*"``.
    Returns:
        Sorted tuple of names: ``"timm/<arch>.<tag>"`` and ``"open_clip/<model>:<tag>"``.
        Tagless timm aliases (``"timm/<arch>"``) are accepted by :func:`model_entry` but not
        listed, as timm does not list them either.
    Raises:
        RuntimeError: the data file is missing or has an unknown format.
    Example:
        >>> model_names("timm/convnext_small.fb_in22k_ft*")
        ('timm/convnext_small.fb_in22k_ft_in1k', 'timm/convnext_small.fb_in22k_ft_in1k_384')
    """
    names = _table().names
    if pattern is None:
        return names
    return tuple(name for name in names if fnmatch.fnmatchcase(name, pattern))


def model_entry(name: str) -> Optional[dict[str, Any]]:
    """Look up the normalization and input policy of one pretrained model, offline.

    Args:
        name: ``"timm/<arch>.<tag>"``, ``"timm/<arch>"`` (the default tag) or
            ``"open_clip/<model>:<tag>"``, spelled as the library lists it.
    Returns:
        None for an unknown name, else a new dict:

        * ``name``: the full name of the entry (the default tag filled in for ``"timm/<arch>"``);
        * ``library``: "timm" or "open_clip";
        * ``mean``, ``std``: tuples of floats, 0-1 scale, RGB, one value per input channel
          (length as the library gives it);
        * ``channel_order``: "RGB";
        * ``input_size``: (C, H, W) tuple of ints, or None if the library gives none;
        * ``crop_pct``: float (timm) or None (open_clip);
        * ``interpolation``: e.g. "bicubic", "bilinear";
        * ``crop_mode``: timm's crop_mode ("center", "squash", "border") or open_clip's
          resize_mode ("shortest", "squash", "longest");
        * ``source``: library version and the file the values are defined in.
    Raises:
        TypeError: name is not a str.
        RuntimeError: the data file is missing or has an unknown format.
    Example:
        >>> entry = model_entry("timm/convnext_small.fb_in22k_ft_in1k")
        >>> entry["mean"], entry["std"]
        ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
        >>> entry["input_size"], entry["crop_pct"], entry["interpolation"], entry["crop_mode"]
        ((3, 224, 224), 0.875, 'bicubic', 'center')
        >>> model_entry("open_clip/ViT-B-32:laion2b_s34b_b79k")["crop_mode"]
        'shortest'
        >>> model_entry("timm/no_such_model") is None
        True
    """
    if not isinstance(name, str):
        raise TypeError(f"model name must be a str, got {type(name).__name__}: {name!r}")
    table = _table()
    row = table.rows.get(name)
    if row is None and name in table.timm_defaults:
        name = table.timm_defaults[name]
        row = table.rows[name]
    if row is None:
        return None
    values = dict(zip(table.fields, row))
    library = name.partition("/")[0]
    mean, std = table.normalizations[values["normalization"]]
    if library == "timm":
        source = table.sources[library].replace("{timm_module}", values["timm_module"])
    else:
        model = name[len(library) + 1 :].partition(":")[0]
        source = table.sources[library].replace("{model}", model)
    input_size = values["input_size"]
    crop_pct = values["crop_pct"]
    return {
        "name": name,
        "library": library,
        "mean": mean,
        "std": std,
        "channel_order": "RGB",
        "input_size": None if input_size is None else tuple(int(v) for v in input_size),
        "crop_pct": None if crop_pct is None else float(crop_pct),
        "interpolation": values["interpolation"],
        "crop_mode": values["crop_mode"],
        "source": source,
    }
