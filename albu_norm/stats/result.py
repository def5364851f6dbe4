"""The result of dataset statistics and its file format (``albu-norm stats --out``).

A statistics file is JSON or YAML: the record of :meth:`StatsResult.to_dict`, optionally under
a top-level ``stats`` key (the command line adds the command and the files read). Read it with
:func:`load_stats` (or :meth:`StatsResult.from_dict`); :mod:`albu_norm.spec` turns it into a
normalization. Every reader of a record goes through :func:`read_record`, the one place that
reads what older versions wrote.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["StatsResult", "load_stats", "read_record"]


@dataclass(frozen=True)
class StatsResult:
    """Statistics of a dataset, per channel, in ``channel_order`` (RGB when the images were read
    by :func:`albu_norm.stats.read_image`).

    ``*_raw`` values are in the images' own units, or on the 0-1 scale already when the images had
    several dtypes (``mixed_dtypes`` is then True, ``max_pixel_value`` 1.0 and ``dtype`` the text
    "mixed (uint16, uint8)", for people: code reads the flag); :attr:`mean` and :attr:`std` are on
    the 0-1 scale of ``max_pixel_value`` (what :class:`albu_norm.Normalize` takes).
    """

    dtype: str
    images: int
    pixels: int
    max_pixel_value: float
    mean_raw: tuple[float, ...]
    std_raw: tuple[float, ...]
    min_raw: tuple[float, ...]
    max_raw: tuple[float, ...]
    percentiles_raw: dict[float, tuple[float, ...]] = field(default_factory=dict)
    channel_order: str = "RGB"
    #: True when the images had several dtypes, each divided by its own dtype's maximum: the
    #: statistics then follow the dtype rule (``max_pixel_value=None``) of Normalize.
    mixed_dtypes: bool = False
    pixel_mean: np.ndarray | None = field(default=None, repr=False, compare=False)
    pixel_std: np.ndarray | None = field(default=None, repr=False, compare=False)
    pixel_range: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def mean(self) -> tuple[float, ...]:
        return tuple(v / self.max_pixel_value for v in self.mean_raw)

    @property
    def std(self) -> tuple[float, ...]:
        return tuple(v / self.max_pixel_value for v in self.std_raw)

    def save_pixel_statistics(self, folder: str | os.PathLike[str]) -> dict[str, Path]:
        """Write the per-pixel images as ``mean_image.npy``, ``std_image.npy`` and
        ``range_image.npy`` (max - min) in ``folder``, for :class:`albu_norm.PerPixelNormalize`.

        Raises:
            ValueError: the statistics were computed without ``per_pixel=True``.
        """
        if self.pixel_mean is None or self.pixel_std is None or self.pixel_range is None:
            raise ValueError(
                "no per-pixel statistics: accumulate with RunningStats(per_pixel=True)."
            )
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        paths = {}
        for name, image in (
            ("mean_image", self.pixel_mean),
            ("std_image", self.pixel_std),
            ("range_image", self.pixel_range),
        ):
            paths[name] = target / f"{name}.npy"
            np.save(paths[name], image.astype(np.float32), allow_pickle=False)
        return paths

    def to_dict(self) -> dict[str, Any]:
        """JSON/YAML-safe record (per-pixel images are not included)."""
        return {
            "dtype": self.dtype,
            "images": self.images,
            "pixels_per_channel": self.pixels,
            "channel_order": self.channel_order,
            "mixed_dtypes": self.mixed_dtypes,
            # None: each image was divided by its own dtype's maximum (mixed dtypes)
            "max_pixel_value": None if self.mixed_dtypes else self.max_pixel_value,
            "mean": list(self.mean),
            "std": list(self.std),
            "mean_raw": list(self.mean_raw),
            "std_raw": list(self.std_raw),
            "min_raw": list(self.min_raw),
            "max_raw": list(self.max_raw),
            "percentiles_raw": {str(q): list(v) for q, v in self.percentiles_raw.items()},
        }

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> StatsResult:
        """The result back from its :meth:`to_dict` record (also one written by 0.1.0, or the
        ``stats`` mapping of a statistics file); per-pixel images are not part of it.

        Raises:
            ValueError: a key of the record is missing or of the wrong type.
        """
        record = read_record(record, "statistics record")
        try:
            mixed = record["mixed_dtypes"]
            scale = 1.0 if mixed else float(record["max_pixel_value"])
            return cls(
                dtype=str(record["dtype"]),
                images=int(record["images"]),
                pixels=int(record["pixels_per_channel"]),
                max_pixel_value=scale,
                mean_raw=_floats(record["mean_raw"]),
                std_raw=_floats(record["std_raw"]),
                min_raw=_floats(record["min_raw"]),
                max_raw=_floats(record["max_raw"]),
                percentiles_raw={
                    float(q): _floats(v) for q, v in record.get("percentiles_raw", {}).items()
                },
                channel_order=str(record.get("channel_order", "RGB")),
                mixed_dtypes=mixed,
            )
        except KeyError as error:
            raise ValueError(
                f"statistics record has no {error}: from_dict reads the record of "
                "StatsResult.to_dict (`albu-norm stats --out`)."
            ) from None
        except (AttributeError, TypeError, ValueError) as error:
            raise ValueError(f"statistics record: {type(error).__name__}: {error}") from None


def _floats(values: Any) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def read_record(record: Mapping[str, Any], label: str) -> dict[str, Any]:
    """A copy of a statistics record with its typed fields present and checked: the one reader
    of what older versions wrote.

    ``mixed_dtypes`` (bool) says whether the images had several dtypes; it is what decides.

    Raises:
        ValueError: ``mixed_dtypes`` is given and is not a bool (the message names ``label``).
    """
    typed = dict(record)
    if "mixed_dtypes" not in typed:
        # Legacy reader: albu_norm <= 0.2 wrote no flag, only the text "mixed (uint16, uint8)"
        # in ``dtype``. This is the one place that text is read.
        dtype = typed.get("dtype")
        typed["mixed_dtypes"] = isinstance(dtype, str) and dtype.startswith("mixed")
    elif not isinstance(typed["mixed_dtypes"], bool):
        raise ValueError(
            f"{label}: mixed_dtypes must be true or false, got {typed['mixed_dtypes']!r}."
        )
    return typed


def load_stats(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a statistics file written by ``albu-norm stats --out`` (JSON or YAML, safe loading).

    Only the structure is checked here; the values are checked where they are used
    (:func:`albu_norm.spec.resolve_spec`).

    Args:
        path: a .json, .yaml or .yml file.
    Returns:
        the statistics record (the ``stats`` mapping of the file, or the file's top level),
        with ``mixed_dtypes`` always present (see :func:`read_record`).
    Raises:
        ValueError: the file cannot be read or parsed (a missing file, a directory, invalid
            JSON/YAML), or is not a mapping with ``mean`` and ``std``, or its ``mixed_dtypes`` is
            not a bool; the message names the file. Never another exception type: a
            transform's constructor passes it on, and Albumentations would turn any other type
            into a warning and a default transform.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"a statistics file is a path, got {type(path).__name__}.")
    name = os.fspath(path)
    try:
        text = Path(name).read_text(encoding="utf-8")
        if Path(name).suffix.lower() in {".yaml", ".yml"}:
            import yaml

            record = yaml.safe_load(text)
        else:
            record = json.loads(text)
    except Exception as error:  # OSError, UnicodeError, JSON/YAML syntax errors
        raise ValueError(
            f"cannot read statistics file {name!r}: {type(error).__name__}: {error}"
        ) from None
    stats = record.get("stats", record) if isinstance(record, dict) else None
    if not isinstance(stats, dict) or "mean" not in stats or "std" not in stats:
        raise ValueError(
            f"{name} is not an albu_norm statistics file: expected a mapping with keys 'mean' "
            "and 'std' (write one with `albu-norm stats FOLDER --out stats.json`)."
        )
    return read_record(stats, name)
