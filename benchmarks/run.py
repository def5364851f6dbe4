"""Time albu_norm.Normalize against A.Normalize, a plain numpy version and the astype floor.

One process, candidates interleaved round by round, medians of many repeats; the table shows
milliseconds per image and the ratios ours / A.Normalize and ours / floor (astype(float32)).
Peak memory of one call is measured with tracemalloc (numpy and OpenCV outputs are tracked;
OpenCV's internal scratch buffers are not).

    python benchmarks/run.py                  # full table (a few minutes on 2 cores)
    python benchmarks/run.py --quick          # 224 and 512 only, fewer repeats
    python benchmarks/run.py --out docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Callable

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import albumentations as A
import cv2
import numpy as np

import albu_norm as AN

PHOTO = Path(__file__).resolve().parent.parent / "examples" / "images" / "astronaut.jpg"
MODES = ("standard", "image", "image_per_channel", "min_max", "min_max_per_channel")
IMAGENET_MEAN = np.array((0.485, 0.456, 0.406), dtype=np.float32)
IMAGENET_STD = np.array((0.229, 0.224, 0.225), dtype=np.float32)


def numpy_reference(img: np.ndarray, mode: str, max_value: float) -> np.ndarray:
    """What a user would write by hand in numpy (float32 arithmetic)."""
    x = img.astype(np.float32)
    if mode == "standard":
        return (x / max_value - IMAGENET_MEAN) / IMAGENET_STD
    axes = (0, 1) if mode.endswith("per_channel") else None
    if mode.startswith("min_max"):
        low = x.min(axis=axes)
        return (x - low) / (x.max(axis=axes) - low)
    return (x - x.mean(axis=axes)) / x.std(axis=axes)


def candidates(img: np.ndarray, mode: str) -> dict[str, Callable[[], object]]:
    max_value = 255.0 if img.dtype == np.uint8 else 1.0
    ours = AN.Normalize(normalization=mode)
    theirs = A.Normalize(normalization=mode, max_pixel_value=max_value)
    return {
        "ours": lambda: ours(image=img),
        "A.Normalize": lambda: theirs(image=img),
        "numpy": lambda: numpy_reference(img, mode, max_value),
        "floor": lambda: img.astype(np.float32),
    }


def time_interleaved(funcs: dict[str, Callable[[], object]], budget: float) -> dict[str, float]:
    """Median seconds per call, running the candidates in turn until the budget is spent."""
    for func in funcs.values():  # warm up
        func()
    samples: dict[str, list[float]] = {name: [] for name in funcs}
    start = time.perf_counter()
    rounds = 0
    while rounds < 5 or (time.perf_counter() - start < budget and rounds < 400):
        for name, func in funcs.items():
            begin = time.perf_counter()
            func()
            samples[name].append(time.perf_counter() - begin)
        rounds += 1
    return {name: float(np.median(values)) for name, values in samples.items()}


def peak_memory(func: Callable[[], object]) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = func()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return peak


def image_of(size: int, dtype: type) -> np.ndarray:
    photo = cv2.cvtColor(cv2.imread(str(PHOTO)), cv2.COLOR_BGR2RGB)
    img = cv2.resize(photo, (size, size), interpolation=cv2.INTER_CUBIC)
    return img if dtype == np.uint8 else (img / 255.0).astype(np.float32)


def run_table(sizes: list[int], threads: list[int], budget: float) -> list[str]:
    lines = [
        "| threads | dtype | size | mode | ours ms | A.Normalize ms | numpy ms | floor ms "
        "| ours / A | ours / floor | ours peak MB | A peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    default_threads = cv2.getNumThreads()
    for thread_count in threads:
        cv2.setNumThreads(thread_count if thread_count > 0 else default_threads)
        label = "default" if thread_count <= 0 else str(thread_count)
        for dtype in (np.uint8, np.float32):
            for size in sizes:
                img = image_of(size, dtype)
                for mode in MODES:
                    funcs = candidates(img, mode)
                    times = time_interleaved(funcs, budget)
                    ours_mb = peak_memory(funcs["ours"]) / 2**20
                    theirs_mb = peak_memory(funcs["A.Normalize"]) / 2**20
                    lines.append(
                        f"| {label} | {np.dtype(dtype).name} | {size} | {mode} "
                        f"| {times['ours'] * 1e3:.3f} | {times['A.Normalize'] * 1e3:.3f} "
                        f"| {times['numpy'] * 1e3:.3f} | {times['floor'] * 1e3:.3f} "
                        f"| {times['ours'] / times['A.Normalize']:.2f} "
                        f"| {times['ours'] / times['floor']:.1f} "
                        f"| {ours_mb:.1f} | {theirs_mb:.1f} |"
                    )
                    print(
                        lines[-1], file=sys.stderr, flush=True
                    )  # progress; the report goes to stdout
    cv2.setNumThreads(default_threads)
    return lines


def run_batches(budget: float) -> list[str]:
    """Per-image time of images= batches vs single calls (224x224 uint8, 32 images)."""
    photo = image_of(256, np.uint8)
    batch = np.stack([np.roll(photo, shift, axis=1)[:224, :224] for shift in range(32)])
    lines = [
        "| mode | single call ms/image | batch ms/image | batch / single |",
        "|---|---|---|---|",
    ]
    for mode in MODES:
        pipeline = A.Compose([AN.Normalize(normalization=mode)])
        times = time_interleaved(
            {
                "single": lambda p=pipeline: [p(image=img) for img in batch],
                "batch": lambda p=pipeline: p(images=batch),
            },
            budget,
        )
        single, batched = times["single"] / len(batch), times["batch"] / len(batch)
        lines.append(
            f"| {mode} | {single * 1e3:.3f} | {batched * 1e3:.3f} | {batched / single:.2f} |"
        )
        print(lines[-1], file=sys.stderr, flush=True)  # progress; the report goes to stdout
    return lines


def run_masked(budget: float) -> list[str]:
    """Masked statistics (a letterbox: the middle 3/4 of the rows kept) against the same mode
    unmasked, 512x512, on the core functions (one process, interleaved)."""
    lines = [
        "| dtype | mode | unmasked ms | mask ms | mask + fill ms | mask / unmasked "
        "| mask + fill / unmasked |",
        "|---|---|---|---|---|---|---|",
    ]
    kept = np.zeros((512, 512), np.uint8)
    kept[64:448] = 1
    for dtype in (np.uint8, np.float32):
        img = image_of(512, dtype)
        for mode in AN.functional.PER_IMAGE_NORMALIZATIONS:
            times = time_interleaved(
                {
                    "plain": lambda m=mode, x=img: AN.functional.normalize_per_image(x, m),
                    "mask": lambda m=mode, x=img: AN.functional.normalize_per_image(
                        x, m, mask=kept
                    ),
                    "fill": lambda m=mode, x=img: AN.functional.normalize_per_image(
                        x, m, mask=kept, outside="fill"
                    ),
                },
                budget,
            )
            plain = times["plain"]
            lines.append(
                f"| {np.dtype(dtype).name} | {mode} | {plain * 1e3:.3f} "
                f"| {times['mask'] * 1e3:.3f} | {times['fill'] * 1e3:.3f} "
                f"| {times['mask'] / plain:.2f} | {times['fill'] / plain:.2f} |"
            )
            print(lines[-1], file=sys.stderr, flush=True)  # progress; the report goes to stdout
    return lines


def run_pipeline(budget: float) -> list[str]:
    """Whole pipeline per second on a real photo: RandomResizedCrop + flip + Normalize."""
    photo = cv2.cvtColor(cv2.imread(str(PHOTO)), cv2.COLOR_BGR2RGB)
    head = [A.RandomResizedCrop(size=(224, 224)), A.HorizontalFlip()]
    ours = A.Compose([*head, AN.Normalize()], seed=0)
    theirs = A.Compose([*head, A.Normalize()], seed=0)
    times = time_interleaved(
        {"ours": lambda: ours(image=photo), "A": lambda: theirs(image=photo)}, budget
    )
    return [
        "| pipeline (RandomResizedCrop 224 + HorizontalFlip + Normalize, 512x512 photo) "
        "| images/s |",
        "|---|---|",
        f"| with albu_norm.Normalize | {1 / times['ours']:.0f} |",
        f"| with A.Normalize | {1 / times['A']:.0f} |",
    ]


def machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}, OpenCV {cv2.__version__}, albumentations {A.__version__}, "
        f"albu_norm {AN.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--quick", action="store_true", help="224 and 512 only, short budget")
    parser.add_argument("--out", type=Path, help="also write the Markdown report here")
    args = parser.parse_args()
    sizes = [224, 512] if args.quick else [224, 512, 1024, 2048]
    budget = 0.1 if args.quick else 0.4
    report = [f"Machine: {machine()}", ""]
    report += run_table(sizes, threads=[1, 0], budget=budget)
    report += ["", *run_batches(budget), "", *run_masked(budget), "", *run_pipeline(budget)]
    text = "\n".join(report) + "\n"
    print("\n" + text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()
