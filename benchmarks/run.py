"""Time albu_norm.Normalize against A.Normalize, a plain numpy version and the astype floor.

One process, candidates interleaved round by round, medians of many repeats; the table shows
milliseconds per image and the ratios ours / A.Normalize and ours / floor (astype(float32)).
Peak memory of one call is measured with tracemalloc (numpy and OpenCV outputs are tracked;
OpenCV's internal scratch buffers are not).

    python benchmarks/run.py                  # full table (a few minutes on 2 cores)
    python benchmarks/run.py --quick          # 224 and 512 only, fewer repeats
    python benchmarks/run.py --out docs/benchmarks.md
    python benchmarks/run.py --issue16        # masked, min_max and torch goals of issue 16
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import tracemalloc
from functools import partial
from pathlib import Path
from typing import Any, Callable, Optional

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


ISSUE16_MODES = (
    "image",
    "image_per_channel",
    "min_max",
    "min_max_per_channel",
    "per_image_standardization",
)


def _masked_transform(mode: str) -> Any:
    """AN.Normalize with its statistics over the "valid" mask target of the same call."""
    transform = AN.Normalize(normalization=mode, mask_key="valid")
    transform.add_targets({"valid": "mask"})  # what A.Compose(additional_targets=...) does
    return transform


def _caller(
    build: Callable[[], Callable[..., object]], *args: Any, **kwargs: Any
) -> Callable[[], Callable[[], object]]:
    """A factory of the candidate ``build()(*args, **kwargs)`` (the object built once)."""

    def make() -> Callable[[], object]:
        transform = build()
        return lambda: transform(*args, **kwargs)

    return make


def _try(build: Callable[[], Callable[[], object]]) -> Optional[Callable[[], object]]:
    """The candidate, called once; None ("n/a") when this version of the code lacks it."""
    try:
        func = build()
        func()
    except Exception as error:  # any failure means "not supported here"
        print(f"  n/a: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        return None
    return func


def _ms(times: dict[str, float], name: str) -> str:
    return f"{times[name] * 1e3:.3f}" if name in times else "n/a"


def _ratio(times: dict[str, float], top: str, bottom: str, goal: float) -> str:
    if top not in times or bottom not in times:
        return "n/a"
    ratio = times[top] / times[bottom]
    return f"{ratio:.2f} {'ok' if ratio <= goal else 'MISS'}"


def _timed(funcs: dict[str, Optional[Callable[[], object]]], budget: float) -> dict[str, float]:
    present = {name: func for name, func in funcs.items() if func is not None}
    return time_interleaved(present, budget) if present else {}


def run_issue16(budget: float) -> list[str]:
    """Issue 16: masked statistics against unmasked (goal <= 2x), uint8 min_max against
        A.Normalize (goal <= 0.5x), and the torch module against the numpy core on a batch of 8
        (goal <= 2x, masked <= 2x unmasked); 512x512 photo, a centered 400x400 mask (a rectangle,
    as padding and letterboxing leave) and a disk of radius 225 (no rectangle)."""
    lines = [
        f"albu_norm from {Path(AN.__file__).resolve().parent}",
        "",
        "| dtype | mode | unmasked ms | masked ms | masked / unmasked (goal <= 2) "
        "| disk-masked ms | disk-masked / unmasked (goal <= 2) |",
        "|---|---|---|---|---|---|---|",
    ]
    valid = np.zeros((512, 512), np.uint8)
    valid[56:456, 56:456] = 1
    rows, cols = np.mgrid[:512, :512]
    disk = ((rows - 255.5) ** 2 + (cols - 255.5) ** 2 <= 225.0**2).astype(np.uint8)
    for dtype in (np.uint8, np.float32):
        img = image_of(512, dtype)
        for mode in ISSUE16_MODES:
            times = _timed(
                {
                    "plain": _try(_caller(partial(AN.Normalize, normalization=mode), image=img)),
                    "masked": _try(
                        _caller(partial(_masked_transform, mode), image=img, valid=valid)
                    ),
                    "disk": _try(_caller(partial(_masked_transform, mode), image=img, valid=disk)),
                },
                budget,
            )
            lines.append(
                f"| {np.dtype(dtype).name} | {mode} | {_ms(times, 'plain')} "
                f"| {_ms(times, 'masked')} | {_ratio(times, 'masked', 'plain', 2.0)} "
                f"| {_ms(times, 'disk')} | {_ratio(times, 'disk', 'plain', 2.0)} |"
            )
            print(lines[-1], file=sys.stderr, flush=True)  # progress; the report goes to stdout

    img = image_of(512, np.uint8)
    ours = AN.Normalize(normalization="min_max")
    theirs = A.Normalize(normalization="min_max", max_pixel_value=255)
    times = time_interleaved(
        {"ours": lambda: ours(image=img), "A": lambda: theirs(image=img)}, budget
    )
    lines += [
        "",
        "| uint8 512x512 min_max | ours ms | A.Normalize ms | ours / A (goal <= 0.5) |",
        "|---|---|---|---|",
        f"| | {_ms(times, 'ours')} | {_ms(times, 'A')} | {_ratio(times, 'ours', 'A', 0.5)} |",
    ]
    print(lines[-1], file=sys.stderr, flush=True)
    return [*lines, "", *_issue16_torch(budget)]


def _issue16_torch(budget: float) -> list[str]:
    try:
        import torch

        import albu_norm.torch as ANT
    except ImportError as error:
        return [f"torch: n/a ({error})"]
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    photo = image_of(640, np.uint8)
    batch = np.ascontiguousarray(
        np.stack([np.roll(photo, 16 * shift, axis=1)[:512, :512] for shift in range(8)])
    )  # (8, 512, 512, 3) uint8
    tensor = torch.from_numpy(batch).permute(0, 3, 1, 2).contiguous()  # (8, 3, 512, 512)
    valid = np.zeros((8, 512, 512), np.uint8)
    valid[:, 56:456, 56:456] = 1
    valid_tensor = torch.from_numpy(valid).bool()
    lines = [
        "| mode (8x3x512x512 uint8, 2 threads) | torch ms | torch masked ms | numpy ms "
        "| numpy masked ms | torch / numpy (goal <= 2) | torch masked / unmasked (goal <= 2) "
        "| torch masked / numpy masked |",
        "|---|---|---|---|---|---|---|---|",
    ]
    with torch.inference_mode():
        for mode in ISSUE16_MODES:
            times = _timed(
                {
                    "torch": _try(_caller(partial(ANT.Normalize, normalization=mode), tensor)),
                    "torch_masked": _try(
                        _caller(
                            partial(ANT.Normalize, normalization=mode, masked=True),
                            tensor,
                            mask=valid_tensor,
                        )
                    ),
                    "numpy": _try(_caller(partial(AN.Normalize, normalization=mode), images=batch)),
                    "numpy_masked": _try(
                        _caller(partial(_masked_transform, mode), images=batch, valid=valid)
                    ),
                },
                budget,
            )
            lines.append(
                f"| {mode} | {_ms(times, 'torch')} | {_ms(times, 'torch_masked')} "
                f"| {_ms(times, 'numpy')} | {_ms(times, 'numpy_masked')} "
                f"| {_ratio(times, 'torch', 'numpy', 2.0)} "
                f"| {_ratio(times, 'torch_masked', 'torch', 2.0)} "
                f"| {_ratio(times, 'torch_masked', 'numpy_masked', 2.0)} |"
            )
            print(lines[-1], file=sys.stderr, flush=True)  # progress; the report goes to stdout
    torch.set_num_threads(threads)
    return lines


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
    parser.add_argument(
        "--issue16",
        action="store_true",
        help="only the issue-16 table: masked vs unmasked, min_max vs A, torch vs numpy",
    )
    args = parser.parse_args()
    if args.issue16:
        text = "\n".join([f"Machine: {machine()}", "", *run_issue16(budget=0.3)]) + "\n"
        print("\n" + text)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text)
        return
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
