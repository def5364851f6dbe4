"""Dataset statistics: a mergeable accumulator, its result and file format, and runs over files.

* :class:`RunningStats` (:mod:`albu_norm.stats.accumulator`): exact, mergeable per-channel
  statistics of a stream of images;
* :class:`StatsResult` and :func:`load_stats` (:mod:`albu_norm.stats.result`): the result and
  the statistics file (``albu-norm stats --out``);
* :func:`compute_stats`, :func:`compute_stats_dask`, :func:`read_image`, :func:`find_images`
  (:mod:`albu_norm.stats.files`): statistics of image files, in processes or on Dask.

:func:`albu_norm.register_preset_from_file` and ``Normalize(stats=...)`` read statistics files.
"""

from albu_norm.stats.accumulator import RunningStats
from albu_norm.stats.files import (
    IMAGE_SUFFIXES,
    FileStats,
    compute_stats,
    compute_stats_dask,
    find_images,
    read_image,
    stats_of_files,
)
from albu_norm.stats.result import StatsResult, load_stats

__all__ = [
    "IMAGE_SUFFIXES",
    "FileStats",
    "RunningStats",
    "StatsResult",
    "compute_stats",
    "compute_stats_dask",
    "find_images",
    "load_stats",
    "read_image",
    "register_preset_from_file",
    "stats_of_files",
]


def __getattr__(name: str) -> object:
    # kept here for 0.1.0 code (`from albu_norm.stats import register_preset_from_file`);
    # it lives with the presets, which this package must not import at load time
    if name == "register_preset_from_file":
        from albu_norm.spec import register_preset_from_file

        return register_preset_from_file
    raise AttributeError(f"module 'albu_norm.stats' has no attribute {name!r}")
