"""A real DataLoader over real JPEGs: normalization in the workers against uint8 through the loader
and normalization in the main process (albu_norm.torch.split_pipeline).

    python benchmarks/loader.py [--epochs 9] [--files 256] [--threads N] [--out FILE]

The repository's photos (examples/images/*.jpg) and random crops of them (30-100 % of each side,
JPEG quality 90) are written to a temporary folder; a Dataset reads them with OpenCV and applies
``RandomResizedCrop(224) + HorizontalFlip`` and then, per row:

* ``A.Normalize + ToTensorV2``: albumentations' Normalize (ImageNet) in the workers;
* ``AN.Normalize + ToTensorV2``: albu_norm's, in the workers;
* ``split_pipeline``: the pipeline of the row above split by ``ANT.split_pipeline``: uint8 crosses
  the worker boundary and ``ANT.Normalize`` runs in the main process on the CPU device, inside the
  timed loop (on a GPU it would run on the device): into a fresh output per batch, and into one
  reused buffer (``out=``; what CUDA's caching allocator gives a GPU for free);
* ``uint8, no normalization``: the ceiling (the same loader, nothing else).

DataLoader: 2 workers (persistent), batch 64, default collate; the rows' epochs are interleaved
(A, AN, split, ceiling, A, AN, ...) in one process and every number is a median over epochs.
Columns: images/s (samples / epoch wall time, main-process normalization included); worker time
per sample (CPU time, ``time.process_time``, of reading + augmenting + normalizing one sample in
its worker, plus its share of the worker's collate); bytes per batch that cross the worker
boundary (every tensor of the batch, written by the worker's collate into shared memory);
main-process normalization time per batch (wall).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Optional

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import albumentations as A
import cv2
import numpy as np
import torch
from albumentations.pytorch import ToTensorV2
from torch.utils.data import DataLoader, Dataset, default_collate

import albu_norm as AN
import albu_norm.torch as ANT

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = sorted((ROOT / "examples" / "images").glob("*.jpg"))


def write_files(folder: Path, count: int, seed: int = 0) -> list[Path]:
    """The photos, then random crops of them (30-100 % of each side), as JPEG files."""
    rng = np.random.default_rng(seed)
    images = [cv2.imread(str(path)) for path in PHOTOS]
    paths = []
    for index in range(count):
        image = images[index % len(images)]
        if index >= len(images):
            height, width = image.shape[:2]
            h = int(height * rng.uniform(0.3, 1.0))
            w = int(width * rng.uniform(0.3, 1.0))
            top, left = rng.integers(0, height - h + 1), rng.integers(0, width - w + 1)
            image = image[top : top + h, left : left + w]
        path = folder / f"{index:04d}.jpg"
        cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(path)
    return paths


class Files(Dataset):
    """(image, label, worker seconds) of every file, ``repeats`` times per epoch."""

    def __init__(self, paths: list[Path], pipeline: A.Compose, repeats: int = 2) -> None:
        self.paths, self.pipeline, self.repeats = paths, pipeline, repeats

    def __len__(self) -> int:
        return len(self.paths) * self.repeats

    def __getitem__(self, index: int):
        start = time.process_time()
        path = self.paths[index % len(self.paths)]
        image = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        image = self.pipeline(image=image)["image"]
        return image, index % 1000, time.process_time() - start


def timed_collate(samples: list) -> tuple:
    """default_collate, its CPU time shared among the samples' worker seconds."""
    start = time.process_time()
    images, labels, seconds = default_collate(samples)
    share = (time.process_time() - start) / len(samples)
    return images, labels, seconds + share


def _worker_init(_: int) -> None:
    cv2.setNumThreads(0)  # as Albumentations recommends in DataLoader workers
    cv2.ocl.setUseOpenCL(False)


Row = tuple[A.Compose, Optional[ANT.Normalize], bool]


def pipelines() -> dict[str, Row]:
    """name: (pipeline of the workers, module of the main process, reuse its output buffer)."""
    augment = [A.RandomResizedCrop(size=(224, 224)), A.HorizontalFlip()]
    ours = A.Compose([*augment, AN.Normalize(), ToTensorV2()])
    split, norm = ANT.split_pipeline(ours)
    split_again, norm_again = ANT.split_pipeline(ours)
    ceiling, _ = ANT.split_pipeline(ours)
    return {
        "A.Normalize + ToTensorV2 (workers)": (
            A.Compose([*augment, A.Normalize(), ToTensorV2()]),
            None,
            False,
        ),
        "AN.Normalize + ToTensorV2 (workers)": (ours, None, False),
        "split_pipeline: uint8, ANT.Normalize in main": (split, norm, False),
        "split_pipeline, ANT.Normalize(out=buffer) in main": (split_again, norm_again, True),
        "uint8, no normalization (ceiling)": (ceiling, None, False),
    }


def run_epoch(loader: DataLoader, norm: Optional[ANT.Normalize], reuse: bool) -> dict[str, float]:
    samples, worker, normalize, sizes = 0, [], [], []
    buffer: Optional[torch.Tensor] = None
    start = time.perf_counter()
    for images, labels, seconds in loader:
        sizes.append(sum(t.numel() * t.element_size() for t in (images, labels, seconds)))
        if norm is not None:
            begin = time.perf_counter()
            if reuse and (buffer is None or buffer.shape != images.shape):
                buffer = torch.empty(images.shape, dtype=norm.dtype)
            images = norm(images, out=buffer if reuse else None)
            normalize.append(time.perf_counter() - begin)
        samples += len(images)
        worker.extend(seconds.tolist())
    wall = time.perf_counter() - start
    return {
        "images/s": samples / wall,
        "worker ms/sample": 1e3 * statistics.fmean(worker),
        "bytes/batch": statistics.median(sizes),
        "normalize ms/batch": 1e3 * statistics.median(normalize) if normalize else 0.0,
    }


def kernels(repeats: int = 21) -> str:
    """CPU time of fixed-statistics normalization variants on one uint8 batch (64, 3, 224, 224),
    interleaved, medians: the choice of ``ANT.Normalize``'s CPU path."""
    images = torch.randint(0, 256, (64, 3, 224, 224), dtype=torch.uint8)
    norm = ANT.Normalize()
    mean = torch.tensor(AN.get_preset("imagenet").mean).view(1, 3, 1, 1)
    std = torch.tensor(AN.get_preset("imagenet").std).view(1, 3, 1, 1)
    scale, offset = norm.scale[0], norm.offset
    out = torch.empty(images.shape)

    def copy_addcmul() -> None:
        out.copy_(images)
        torch.addcmul(offset, out, scale, out=out)

    def copy_mul_add() -> None:
        out.copy_(images)
        out.mul_(scale).add_(offset)

    variants = {
        "`(x.float() / 255 - mean) / std` (3 temporaries)": lambda: (
            (images.float() / 255 - mean) / std
        ),
        "`x.to(float32).mul_(scale).add_(offset)`": lambda: (
            images.to(torch.float32).mul_(scale).add_(offset)
        ),
        "`torch.addcmul(offset, x, scale, out=out)` (mixed dtypes)": lambda: torch.addcmul(
            offset, images, scale, out=out
        ),
        "`out.copy_(x)` + in-place `addcmul` into `out`": copy_addcmul,
        "`out.copy_(x)` + `mul_` + `add_` into `out` (ANT, `out=`)": copy_mul_add,
        "`ANT.Normalize()(x)` (fresh output)": lambda: norm(images),
        "`ANT.Normalize()(x, out=out)`": lambda: norm(images, out=out),
        "`out.copy_(x)` alone (the floor)": lambda: out.copy_(images),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, function in variants.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    lines = [
        "| CPU variant, (64, 3, 224, 224) uint8 -> float32 | ms |",
        "|---|---:|",
        *(f"| {name} | {1e3 * statistics.median(t):.1f} |" for name, t in times.items()),
        "",
        f"Main process alone, {torch.get_num_threads()} torch threads, medians of {repeats} "
        "interleaved repeats.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--epochs", type=int, default=9)
    parser.add_argument("--files", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, help="torch threads of the main process (default: torch's)"
    )
    parser.add_argument("--out", type=Path, help="write the Markdown table here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        paths = write_files(Path(folder), args.files)
        loaders = {
            name: (
                DataLoader(
                    Files(paths, pipeline),
                    batch_size=args.batch_size,
                    shuffle=True,
                    num_workers=args.workers,
                    persistent_workers=True,
                    worker_init_fn=_worker_init,
                    collate_fn=timed_collate,
                ),
                norm,
                reuse,
            )
            for name, (pipeline, norm, reuse) in pipelines().items()
        }
        for loader, norm, reuse in loaders.values():  # warm-up: start the workers
            run_epoch(loader, norm, reuse)
        results: dict[str, list[dict[str, float]]] = {name: [] for name in loaders}
        for _ in range(args.epochs):
            for name, (loader, norm, reuse) in loaders.items():
                results[name].append(run_epoch(loader, norm, reuse))
    table = render(results, args) + "\n" + kernels()
    print(table)
    if args.out:
        args.out.write_text(table)


def render(results: dict[str, list[dict[str, float]]], args: argparse.Namespace) -> str:
    medians = {
        name: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        for name, runs in results.items()
    }
    names = list(medians)
    base, ceiling = medians[names[0]], medians[names[-1]]
    lines = [
        "# DataLoader benchmark: normalization in the workers or after the loader",
        "",
        "Written by `python benchmarks/loader.py --out docs/benchmarks_loader.md` (see its "
        "docstring for the set-up, and docs/gpu.md for what the rows mean).",
        "",
        "| pipeline | images/s | vs A.Normalize | vs ceiling | worker ms/sample | "
        "bytes/batch | main-process normalize ms/batch |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in medians.items():
        lines.append(
            f"| {name} | {row['images/s']:.0f} | {row['images/s'] / base['images/s']:.2f}x | "
            f"{row['images/s'] / ceiling['images/s']:.2f}x | {row['worker ms/sample']:.2f} | "
            f"{row['bytes/batch'] / 2**20:.2f} MiB | {row['normalize ms/batch']:.1f} |"
        )
    cpu = os.cpu_count()
    lines += [
        "",
        f"{args.files} JPEG files ({len(PHOTOS)} photos and crops of them), 2 samples of each "
        f"per epoch, batch {args.batch_size}, {args.workers} workers, medians of {args.epochs} "
        f"interleaved epochs; {cpu} CPU cores, torch {torch.__version__}, albumentations "
        f"{A.__version__}, {torch.get_num_threads()} torch threads in the main process.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
