"""Dataset statistics of image files: decoding, finding files, and runs in worker processes or
on a Dask cluster. Every run merges :class:`albu_norm.stats.RunningStats` accumulators.
"""

from __future__ import annotations

import functools
import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
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
        uint8, or uint16 for 16-bit PNG/TIFF; float32/float64 for float TIFFs. Signed integer
        files (int8/int16, e.g. CT slices in Hounsfield units) come as float32 and int32 as
        float64: the same values, exactly.
    Raises:
        ValueError: the file cannot be decoded; unknown ``color``.
    """
    _check_color(color)
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error}") from None
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None:
        raise ValueError(f"cannot decode image file {path}")
    if img.dtype in (np.int8, np.int16):  # exact in float32 (24-bit mantissa)
        img = img.astype(np.float32)
    elif img.dtype == np.int32:  # exact in float64
        img = img.astype(np.float64)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    return _convert_color(img, color)


def _check_color(color: object) -> None:
    if color not in ("rgb", "gray", "unchanged"):
        raise ValueError(f"color must be 'rgb', 'gray' or 'unchanged', got {color!r}.")


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _convert_color(img: np.ndarray, color: str) -> np.ndarray:
    """OpenCV's BGR(A)/gray layout to what ``color`` asks for; numpy for the depths cvtColor
    does not take (float64)."""
    channels = 1 if img.ndim == 2 else img.shape[2]
    if color == "unchanged":
        codes = {3: cv2.COLOR_BGR2RGB, 4: cv2.COLOR_BGRA2RGBA}
    elif color == "gray":
        codes = {3: cv2.COLOR_BGR2GRAY, 4: cv2.COLOR_BGRA2GRAY}
    else:
        codes = {1: cv2.COLOR_GRAY2RGB, 3: cv2.COLOR_BGR2RGB, 4: cv2.COLOR_BGRA2RGB}
    if channels not in codes:
        return img
    if img.dtype in (np.uint8, np.uint16, np.float32):
        return cv2.cvtColor(img, codes[channels])
    if color == "gray":  # ITU-R BT.601 luma, the weights of cv2.COLOR_BGR2GRAY
        return img[..., :3] @ np.array([0.114, 0.587, 0.299])
    if channels == 1:
        return np.repeat(img[..., None], 3, axis=2)
    order = [2, 1, 0, 3] if color == "unchanged" and channels == 4 else [2, 1, 0]
    return np.ascontiguousarray(img[..., order])


def find_images(sources: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Image files under folders (recursively) or matching glob patterns, sorted.

    Raises:
        ValueError: a path that does not exist (and is no glob pattern); nothing matched (the
            message names the sources).
    """
    found: set[Path] = set()
    sources = list(sources)
    for source in sources:
        path = Path(source)
        candidates: Iterable[Path]
        if not path.exists() and not any(char in str(source) for char in "*?["):
            raise ValueError(f"{source} does not exist (neither a folder, a file nor a glob).")
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
    """Statistics of a set of files, by channel count, and the files that failed to decode.

    Attributes:
        groups: channel count -> the statistics of the files read with that many channels
            (more than one count cannot give one set of per-channel statistics).
        failed: (file, reason) of every file that could not be read.
    """

    groups: dict[int, RunningStats]
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def stats(self) -> RunningStats:
        """The statistics of the most common channel count (empty when nothing was read)."""
        return max(self.groups.values(), key=lambda g: g.images, default=RunningStats())

    @property
    def by_channels(self) -> dict[int, int]:
        """Channel count -> number of files read with it."""
        return {c: g.images for c, g in sorted(self.groups.items()) if g.images}

    def check_one_channel_count(self) -> None:
        """Raise unless every file read has the same channel count.

        Raises:
            ValueError: files of several channel counts, with how many of each.
        """
        if len(self.by_channels) > 1:
            counts = ", ".join(f"{n} with {c} channel(s)" for c, n in self.by_channels.items())
            raise ValueError(
                f"the files have different channel counts ({counts}); per-channel statistics "
                "need one. Read them alike: --color rgb (grayscale repeated to 3 channels, "
                "alpha dropped) or --color gray."
            )


def stats_of_files(
    paths: Sequence[str | os.PathLike[str]],
    per_pixel: bool = False,
    color: str = "rgb",
    ignore_value: Any = None,
) -> FileStats:
    """Read and accumulate files in this process; undecodable files are recorded, not raised.

    Files of each channel count go to their own accumulator, so that the run can report every
    count (see :meth:`FileStats.check_one_channel_count`).
    """
    result = FileStats({})
    for path in paths:
        try:
            img = read_image(path, color)
            channels = 1 if img.ndim == 2 else img.shape[2]
            if channels not in result.groups:
                result.groups[channels] = RunningStats(
                    per_pixel=per_pixel, ignore_value=ignore_value
                )
            result.groups[channels].update(img)
        except (ValueError, TypeError) as error:
            result.failed.append((str(path), str(error)))
    return result


def _merge_file_stats(parts: Iterable[FileStats]) -> FileStats:
    total = FileStats({})
    for part in parts:
        for channels, group in part.groups.items():
            if channels in total.groups:
                total.groups[channels].merge(group)
            else:
                total.groups[channels] = group
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
    ignore_value: Any = None,
    progress: bool = False,
    shard_size: int = 16,
) -> FileStats:
    """Statistics of image files, read in ``workers`` processes (default: all cores).

    Args:
        paths: image files (see :func:`find_images` for folders and globs).
        workers: number of processes; 1 reads in this process.
        per_pixel: also keep per-pixel statistics (images of one shape).
        sample: read only this many files (>= 1), drawn at random with ``seed``.
        color: how files are decoded (see :func:`read_image`).
        ignore_value: nodata value left out of the statistics (see
            :class:`albu_norm.stats.RunningStats`).
        progress: show a tqdm progress bar (files); without tqdm installed, no bar.
        shard_size: files per task.
    Returns:
        the merged statistics by channel count and the list of (file, error) that failed.
    Raises:
        ValueError: sample or shard_size < 1; an unknown color; an invalid ignore_value, or
            one with per_pixel (checked before any file is read).
    """
    files = _checked_arguments(paths, sample, seed, per_pixel, color, ignore_value, shard_size)
    workers = (os.cpu_count() or 1) if workers is None else max(1, workers)
    shards = _shards(files, shard_size)
    bar = _progress(len(files), progress)
    task = functools.partial(
        stats_of_files, per_pixel=per_pixel, color=color, ignore_value=ignore_value
    )
    parts = []
    if workers == 1 or len(shards) == 1:
        for shard in shards:
            parts.append(task(shard))
            bar.update(len(shard))
    else:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(task, shard): len(shard) for shard in shards}
            for future in as_completed(futures):
                parts.append(future.result())
                bar.update(futures[future])
    bar.close()
    return _merge_file_stats(parts)


def _checked_arguments(
    paths: Sequence[str | os.PathLike[str]],
    sample: int | None,
    seed: int,
    per_pixel: bool,
    color: str,
    ignore_value: Any,
    shard_size: int,
) -> list[Path]:
    """Check every argument before any file is read (one bad argument would otherwise fail
    every file); returns the files to read."""
    RunningStats(per_pixel=per_pixel, ignore_value=ignore_value)
    _check_color(color)
    if not _is_count(shard_size):
        raise ValueError(f"shard_size must be a number of files >= 1, got {shard_size!r}.")
    files = [Path(p) for p in paths]
    if sample is None:
        return files
    if not _is_count(sample):
        raise ValueError(f"sample must be a number of files >= 1, got {sample!r}.")
    return sorted(random.Random(seed).sample(files, sample)) if sample < len(files) else files


def compute_stats_dask(
    paths: Sequence[str | os.PathLike[str]],
    client: Any,
    *,
    per_pixel: bool = False,
    sample: int | None = None,
    seed: int = 0,
    color: str = "rgb",
    ignore_value: Any = None,
    shard_size: int = 64,
    timeout: float = 10.0,
) -> FileStats:
    """The same as :func:`compute_stats`, mapped over shards of files on a Dask cluster.

    Args:
        paths: image files, readable at the same paths by every Dask worker.
        client: a ``dask.distributed.Client``, or a scheduler address ("tcp://host:8786").
        timeout: seconds to wait for a scheduler given by address.
        per_pixel: as :func:`compute_stats`.
        sample: as :func:`compute_stats`.
        seed: as :func:`compute_stats`.
        color: as :func:`compute_stats`.
        ignore_value: as :func:`compute_stats`.
        shard_size: files per task.
    Raises:
        ValueError: the scheduler cannot be reached within ``timeout``; as
            :func:`compute_stats`.
    Needs ``pip install 'albu_norm[dask]'``.
    """
    try:
        from dask.distributed import Client
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the Dask backend needs dask.distributed: pip install 'albu_norm[dask]'"
        ) from error
    files = _checked_arguments(paths, sample, seed, per_pixel, color, ignore_value, shard_size)
    own_client = not isinstance(client, Client)
    if own_client:
        address = client
        try:
            client = Client(address, timeout=f"{timeout}s")
        except (OSError, TimeoutError) as error:
            raise ValueError(
                f"cannot reach the Dask scheduler at {address!r} within {timeout:g} s "
                f"({type(error).__name__}). Is it running, and is the address right?"
            ) from None
    try:
        shards = _shards(files, shard_size)
        futures = client.map(
            stats_of_files,
            shards,
            per_pixel=per_pixel,
            color=color,
            ignore_value=ignore_value,
            pure=False,
        )
        return _merge_file_stats(client.gather(futures))
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
    try:
        from tqdm import tqdm
    except ImportError:  # a --no-deps install: run without a bar
        return _NoProgress()
    return tqdm(total=total, unit="file", desc="albu-norm stats")
