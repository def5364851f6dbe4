"""The result of dataset statistics and its file format (``albu-norm stats --out``).

A statistics file is JSON or YAML: the record of :meth:`StatsResult.to_dict`, optionally under
a top-level ``stats`` key (the command line adds the command and the files read). Read it with
:func:`load_stats`; :mod:`albu_norm.spec` turns it into a normalization.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["StatsResult", "load_stats"]


@dataclass(frozen=True)
class StatsResult:
    """Statistics of a dataset, per channel, in ``channel_order`` (RGB when the images were read
    by :func:`albu_norm.stats.read_image`).

    ``*_raw`` values are in the images' own units (on the 0-1 scale already when the images had
    several dtypes: ``dtype`` is then "mixed (...)"); :attr:`mean` and :attr:`std` are on the
    0-1 scale of ``max_pixel_value`` (what :class:`albu_norm.Normalize` takes).
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
            # None: each image was divided by its own dtype's maximum (mixed dtypes)
            "max_pixel_value": None if self.dtype.startswith("mixed") else self.max_pixel_value,
            "mean": list(self.mean),
            "std": list(self.std),
            "mean_raw": list(self.mean_raw),
            "std_raw": list(self.std_raw),
            "min_raw": list(self.min_raw),
            "max_raw": list(self.max_raw),
            "percentiles_raw": {str(q): list(v) for q, v in self.percentiles_raw.items()},
        }


def load_stats(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a statistics file written by ``albu-norm stats --out`` (JSON or YAML, safe loading).

    Only the structure is checked here; the values are checked where they are used
    (:func:`albu_norm.spec.resolve_spec`).

    Args:
        path: a .json, .yaml or .yml file.
    Returns:
        the statistics record (the ``stats`` mapping of the file, or the file's top level).
    Raises:
        ValueError: the file cannot be read or parsed (a missing file, a directory, invalid
            JSON/YAML), or is not a mapping with ``mean`` and ``std``; the message names the
            file. Never another exception type: a transform's constructor passes it on, and
            Albumentations would turn any other type into a warning and a default transform.
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
    return stats
