"""Throughput of dataset statistics against decoding alone, on a folder of real JPEGs.

Generates a few hundred JPEGs (random crops of the repository's photos, re-encoded), then
measures in one process:

* images/s of ``compute_stats`` (what ``albu-norm stats`` runs) with 1 and 2 worker processes,
  against a loop that only decodes the same files (the floor) with the same number of processes;
* the statistics pass alone on already-decoded uint8 arrays (``RunningStats.update``) against
  per-image ``np.mean``/``np.std`` in float64.

    python benchmarks/stats.py [--files 300] [--out docs/benchmarks_stats.md]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from albu_norm.stats import RunningStats, compute_stats, read_image

PHOTOS = Path(__file__).resolve().parent.parent / "examples" / "images"


def make_jpegs(folder: Path, count: int, seed: int = 0) -> list[Path]:
    rng = np.random.default_rng(seed)
    photos = [cv2.imread(str(p)) for p in sorted(PHOTOS.glob("*.jpg"))]
    paths = []
    for index in range(count):
        photo = photos[index % len(photos)]
        height, width = photo.shape[:2]
        h, w = int(rng.integers(200, height)), int(rng.integers(200, width))
        y, x = int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1))
        path = folder / f"img_{index:04d}.jpg"
        cv2.imwrite(str(path), photo[y : y + h, x : x + w], [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(path)
    return paths


def decode_only(paths: list[str]) -> int:
    for path in paths:
        cv2.imread(path)
    return len(paths)


def decode_floor(paths: list[Path], workers: int) -> float:
    names = [str(p) for p in paths]
    start = time.perf_counter()
    if workers == 1:
        decode_only(names)
    else:
        shards = [names[i : i + 16] for i in range(0, len(names), 16)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            sum(pool.map(decode_only, shards))
    return len(paths) / (time.perf_counter() - start)


def ours(paths: list[Path], workers: int) -> float:
    start = time.perf_counter()
    result = compute_stats(paths, workers=workers)
    elapsed = time.perf_counter() - start
    assert result.stats.images == len(paths)
    return len(paths) / elapsed


def best_of(func, repeats: int = 3) -> float:
    return max(func() for _ in range(repeats))


def stats_pass(images: list[np.ndarray]) -> tuple[float, float]:
    def run_ours() -> float:
        start = time.perf_counter()
        stats = RunningStats()
        for img in images:
            stats.update(img)
        return time.perf_counter() - start

    def run_numpy() -> float:
        start = time.perf_counter()
        for img in images:
            img.mean(axis=(0, 1), dtype=np.float64)
            img.std(axis=(0, 1), dtype=np.float64)
        return time.perf_counter() - start

    return min(run_ours() for _ in range(3)), min(run_numpy() for _ in range(3))


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as folder:
        paths = make_jpegs(Path(folder), args.files)
        lines = [
            f"{args.files} JPEGs (crops of the repository's photos, 200-640 px), "
            f"{os.cpu_count()} cores, OpenCV {cv2.__version__}, 1 OpenCV thread per process",
            "",
            "| processes | decode only (images/s) | albu-norm stats (images/s) | stats / decode |",
            "|---|---|---|---|",
        ]
        for workers in (1, 2):
            floor = best_of(lambda w=workers: decode_floor(paths, w))
            mine = best_of(lambda w=workers: ours(paths, w))
            lines.append(f"| {workers} | {floor:.0f} | {mine:.0f} | {mine / floor:.2f} |")
            print(lines[-1], file=sys.stderr, flush=True)  # progress; the report goes to stdout
        images = [read_image(p) for p in paths]
        mine_s, numpy_s = stats_pass(images)
        lines += [
            "",
            "| statistics pass on decoded uint8 arrays | seconds | speed-up |",
            "|---|---|---|",
            f"| np.mean + np.std in float64, per image | {numpy_s:.3f} | 1.0 |",
            f"| RunningStats.update (exact histograms) | {mine_s:.3f} | {numpy_s / mine_s:.1f} |",
        ]
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
