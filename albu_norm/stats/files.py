"""Dataset statistics of image files: decoding, finding files, and runs in worker processes or
on a Dask cluster. Every run merges :class:`albu_norm.stats.RunningStats` accumulators.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from albu_norm.stats.accumulator import RunningStats

__all__ = [
    "IMAGE_SUFFIXES",
    "FileStats",
    "compute_stats",
    "compute_stats_dask",
    "find_images",
    "read_image",
    "stats_of_files",
]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


def read_image(path: str | os.PathLike[str], color: str = "rgb") -> np.ndarray:
    """Decode an image file with OpenCV, keeping 16-bit data at 16 bits.

    Args:
        path: the file.
        color: "rgb" (default): (H, W, 3) RGB, grayscale files repeated to 3 channels and alpha
            dropped, as RGB training pipelines see them; "gray": (H, W); "unchanged": as
            stored, with 3/4-channel files reordered to RGB/RGBA.
    Returns:
        uint8, or uint16 for 16-bit PNG/TIFF.
    Raises:
        ValueError: the file cannot be decoded; unknown ``color``.
    """
    if color not in ("rgb", "gray", "unchanged"):
        raise ValueError(f"color must be 'rgb', 'gray' or 'unchanged', got {color!r}.")
    data = np.fromfile(str(path), dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None:
        raise ValueError(f"cannot decode image file {path}")
    channels = 1 if img.ndim == 2 else img.shape[2]
    if color == "unchanged":
        codes = {3: cv2.COLOR_BGR2RGB, 4: cv2.COLOR_BGRA2RGBA}
    elif color == "gray":
        codes = {3: cv2.COLOR_BGR2GRAY, 4: cv2.COLOR_BGRA2GRAY}
    else:
        codes = {1: cv2.COLOR_GRAY2RGB, 3: cv2.COLOR_BGR2RGB, 4: cv2.COLOR_BGRA2RGB}
    if img.ndim == 3 and channels == 1:
        img = img[:, :, 0]
    return cv2.cvtColor(img, codes[channels]) if channels in codes else img


def find_images(sources: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Image files under folders (recursively) or matching glob patterns, sorted.

    Raises:
        ValueError: nothing matched (the message names the sources).
    """
    found: set[Path] = set()
    sources = list(sources)
    for source in sources:
        path = Path(source)
        candidates: Iterable[Path]
        if path.is_dir():
            candidates = path.rglob("*")
        elif path.is_file():
            candidates = iter([path])
        else:
            candidates = (
                Path().glob(str(source))
                if not path.is_absolute()
                else Path("/").glob(str(path.relative_to("/")))
            )
        found.update(p for p in candidates if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not found:
        raise ValueError(
            f"no image files found in {', '.join(str(s) for s in sources)} (looked for "
            f"{', '.join(IMAGE_SUFFIXES)}). Pass a folder or a glob such as 'data/*.png'."
        )
    return sorted(found)


@dataclass
class FileStats:
    """Statistics of a set of files plus the files that failed to decode."""

    stats: RunningStats
    failed: list[tuple[str, str]]


def stats_of_files(
    paths: Sequence[str | os.PathLike[str]], per_pixel: bool = False, color: str = "rgb"
) -> FileStats:
    """Read and accumulate files in this process; undecodable files are recorded, not raised."""
    stats = RunningStats(per_pixel=per_pixel)
    failed: list[tuple[str, str]] = []
    for path in paths:
        try:
            stats.update(read_image(path, color))
        except (ValueError, TypeError) as error:
            failed.append((str(path), str(error)))
    return FileStats(stats, failed)


def _merge_file_stats(parts: Iterable[FileStats], per_pixel: bool) -> FileStats:
    total = FileStats(RunningStats(per_pixel=per_pixel), [])
    for part in parts:
        total.stats.merge(part.stats)
        total.failed.extend(part.failed)
    return total


def _shards(paths: Sequence[Path], size: int) -> list[list[str]]:
    return [[str(p) for p in paths[i : i + size]] for i in range(0, len(paths), size)]


def compute_stats(
    paths: Sequence[str | os.PathLike[str]],
    *,
    workers: int | None = None,
    per_pixel: bool = False,
    sample: int | None = None,
    seed: int = 0,
    color: str = "rgb",
    progress: bool = False,
    shard_size: int = 16,
) -> FileStats:
    """Statistics of image files, read in ``workers`` processes (default: all cores).

    Args:
        paths: image files (see :func:`find_images` for folders and globs).
        workers: number of processes; 1 reads in this process.
        per_pixel: also keep per-pixel statistics (images of one shape).
        sample: read only this many files, drawn at random with ``seed`` (a quick estimate).
        color: how files are decoded (see :func:`read_image`).
        progress: show a tqdm progress bar (files).
        shard_size: files per task.
    Returns:
        the merged statistics and the list of (file, error) that failed to decode.
    """
    files = [Path(p) for p in paths]
    if sample is not None and sample < len(files):
        files = sorted(random.Random(seed).sample(files, sample))
    workers = (os.cpu_count() or 1) if workers is None else max(1, workers)
    shards = _shards(files, shard_size)
    bar = _progress(len(files), progress)
    if workers == 1 or len(shards) == 1:
        parts = []
        for shard in shards:
            parts.append(stats_of_files(shard, per_pixel, color))
            bar.update(len(shard))
    else:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {
                pool.submit(stats_of_files, shard, per_pixel, color): len(shard) for shard in shards
            }
            parts = []
            for future in as_completed(futures):
                parts.append(future.result())
                bar.update(futures[future])
    bar.close()
    return _merge_file_stats(parts, per_pixel)


def compute_stats_dask(
    paths: Sequence[str | os.PathLike[str]],
    client: Any,
    *,
    per_pixel: bool = False,
    color: str = "rgb",
    shard_size: int = 64,
) -> FileStats:
    """The same as :func:`compute_stats`, mapped over shards of files on a Dask cluster.

    Args:
        paths: image files, readable at the same paths by every Dask worker.
        client: a ``dask.distributed.Client``, or a scheduler address ("tcp://host:8786").
    Needs ``pip install 'albu_norm[dask]'``.
    """
    try:
        from dask.distributed import Client
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the Dask backend needs dask.distributed: pip install 'albu_norm[dask]'"
        ) from error
    own_client = not isinstance(client, Client)
    if own_client:
        client = Client(client)
    try:
        shards = _shards([Path(p) for p in paths], shard_size)
        futures = client.map(stats_of_files, shards, per_pixel=per_pixel, color=color, pure=False)
        return _merge_file_stats(client.gather(futures), per_pixel)
    finally:
        if own_client:
            client.close()


class _NoProgress:
    def update(self, count: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, enabled: bool) -> Any:
    if not enabled:
        return _NoProgress()
    from tqdm import tqdm

    return tqdm(total=total, unit="file", desc="albu-norm stats")
