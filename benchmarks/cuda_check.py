"""The device path end to end, in one script and one table: parity of albu_norm.torch on a device
with the CPU transform and the float64 formula, masks, side streams and pinned memory,
DeviceLoader with 2 workers, and the loader benchmark with normalization on the device.

    python benchmarks/cuda_check.py                 # CUDA (the default; fails without a GPU)
    python benchmarks/cuda_check.py --device cpu    # the same checks on the CPU (CI runs this)

Checks (each row: what, worst error, bound, pass/FAIL, seconds):

* parity: every preset family of a sample (imagenet, caffe: BGR and float64 constants, clip,
  inception) and every per-image mode, uint8 photo batches, output float32, float16 and
  bfloat16, against ``AN.Normalize`` on the CPU and against the float64 formula
  (tests/reference_modes.py). Bounds: float32 2e-6 (fixed) / 4 ulps of |ref| (per-image);
  float16 and bfloat16: the float32 result rounded once, so half an ulp of the half-precision
  value (plus the float32 error);
* masks: the masked per-image modes (random masks, one empty mask: every value is ``fill``);
* streams and pinned memory: ``DeviceLoader`` over pinned and unpinned batches (on CUDA the
  side-stream prefetch), its output against the module called directly;
* DeviceLoader, 2 workers: a DataLoader over letterboxed photos with their masks, a masked
  module, every batch against the formula;
* loader benchmark: images/s of a 2-worker DataLoader over JPEGs with ``AN.Normalize`` in the
  workers and with uint8 to the device and ``ANT.Normalize`` there (median of the epochs).

Exit status 1 if any check fails. Under 8 minutes on a GPU machine; about 1-2 on a CPU.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import albumentations as A
import cv2
import numpy as np
import torch
from albumentations.pytorch import ToTensorV2
from torch.utils.data import DataLoader, Dataset

import albu_norm as AN
import albu_norm.torch as ANT
from albu_norm.modes import get_mode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.reference_modes import reference  # noqa: E402  (the float64 formula)

PHOTOS = sorted((ROOT / "examples" / "images").glob("*.jpg"))
PRESETS = ("imagenet", "caffe", "clip", "inception")
PER_IMAGE = ("image", "image_per_channel", "min_max", "min_max_per_channel")
PER_IMAGE += ("per_image_standardization",)
DTYPES = (torch.float32, torch.float16, torch.bfloat16)
EPS32 = float(np.finfo(np.float32).eps)
HALF_EPS = {torch.float16: 2.0**-11, torch.bfloat16: 2.0**-8}  # half an ulp, relative

Row = tuple[str, float, float, bool, float]


def photo_batch(size: int = 96) -> np.ndarray:
    """(N, H, W, 3) uint8 RGB: the repository's photos, center-cropped and resized."""
    images = []
    for path in PHOTOS:
        img = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        side = min(img.shape[:2])
        top, left = (img.shape[0] - side) // 2, (img.shape[1] - side) // 2
        crop = img[top : top + side, left : left + side]
        images.append(cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA))
    return np.stack(images)


def formula(images: np.ndarray, args: dict[str, Any], masks: Any = None) -> np.ndarray:
    """(N, C, H, W) float64 of NHWC uint8 ``images`` by the float64 reference."""
    spec = AN.resolve_spec(**args)
    row = get_mode(spec.normalization)
    out = []
    for index, img in enumerate(images):
        if spec.reverse_channels:
            img = img[..., ::-1]
        mask = None if masks is None else masks[index]
        fixed: dict[str, Any] = {}
        if row.center == "fixed":
            fixed = dict(mean=spec.mean, std=spec.std, max_pixel_value=spec.max_pixel_value or 255)
        out.append(reference(img, row, mask, **fixed).values)
    return np.stack(out).transpose(0, 3, 1, 2)


def cpu_transform(images: np.ndarray, args: dict[str, Any], masks: Any = None) -> np.ndarray:
    kwargs = {k: v for k, v in args.items() if k not in ("masked",)}
    if args.get("masked"):
        kwargs["mask_key"] = "mask"
    transform = AN.Normalize(**kwargs)
    out = [
        transform(image=img, **({} if masks is None else {"mask": masks[i]}))["image"]
        for i, img in enumerate(images)
    ]
    return np.stack(out).transpose(0, 3, 1, 2).astype(np.float64)


def error_and_bound(
    values: torch.Tensor, expected: np.ndarray, dtype: torch.dtype, fixed: bool
) -> tuple[float, float, bool]:
    """Worst |values - expected| and whether every value is within its bound."""
    got = values.float().cpu().numpy().astype(np.float64)
    magnitude = np.abs(expected)
    bound = 2e-6 + 4 * EPS32 * magnitude if fixed else 4 * EPS32 * magnitude + 1e-12
    if dtype in HALF_EPS:
        bound = bound + HALF_EPS[dtype] * magnitude * 1.0001 + 1e-30
    error = np.abs(got - expected)
    worst = float(error.max())
    return worst, float(bound.max()), bool(np.all(error <= bound))


def timed(check: Callable[[], tuple[float, float, bool]], name: str, rows: list[Row]) -> None:
    start = time.perf_counter()
    try:
        worst, bound, ok = check()
    except Exception as error:  # a check that raises is a failed row, and the run goes on
        worst, bound, ok = float("nan"), float("nan"), False
        name = f"{name}: {type(error).__name__}: {str(error)[:80]}"
    rows.append((name, worst, bound, ok, time.perf_counter() - start))
    print(f"  {'ok  ' if ok else 'FAIL'} {name}", file=sys.stderr, flush=True)


def parity_checks(device: torch.device, rows: list[Row]) -> None:
    images = photo_batch()
    batch = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous().to(device)
    cases = [{"preset": preset} for preset in PRESETS]
    cases += [{"normalization": mode} for mode in PER_IMAGE]
    for args in cases:
        fixed = "preset" in args
        expected = {"cpu": cpu_transform(images, args), "formula": formula(images, args)}
        for dtype in DTYPES:
            module = ANT.Normalize(**args, dtype=dtype).to(device)

            def check(
                module: Any = module, dtype: torch.dtype = dtype, fixed: bool = fixed, e=expected
            ) -> Any:
                values = module(batch)
                results = [error_and_bound(values, ref, dtype, fixed) for ref in e.values()]
                return max(r[0] for r in results), results[0][1], all(r[2] for r in results)

            label = ", ".join(f"{k}={v}" for k, v in args.items())
            timed(check, f"parity {label} -> {str(dtype).split('.')[-1]}", rows)


def mask_checks(device: torch.device, rng: np.random.Generator, rows: list[Row]) -> None:
    images = photo_batch()
    masks = (rng.random(images.shape[:3]) > 0.4).astype(np.uint8)
    masks[-1] = 0  # an image with no kept pixel: every value is fill
    batch = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous().to(device)
    mask_batch = torch.from_numpy(masks).to(device)
    for mode in PER_IMAGE:
        args = {"normalization": mode, "masked": True}
        expected = formula(images, args, masks)
        for dtype in (torch.float32, torch.bfloat16):
            module = ANT.Normalize(**args, dtype=dtype).to(device)

            def check(module: Any = module, dtype: torch.dtype = dtype, e=expected) -> Any:
                return error_and_bound(module(batch, mask=mask_batch), e, dtype, False)

            timed(check, f"masked {mode} -> {str(dtype).split('.')[-1]}", rows)


def stream_checks(device: torch.device, rows: list[Row]) -> None:
    images = torch.from_numpy(photo_batch()).permute(0, 3, 1, 2).contiguous()
    module = ANT.Normalize(preset="clip", dtype=torch.bfloat16)
    labels = torch.arange(len(images))
    pinned = [(images.pin_memory(), labels)] if device.type == "cuda" else [(images, labels)]
    for name, batches in (("pinned" if device.type == "cuda" else "cpu", pinned),):
        many = batches * 8 + [(images.clone(), labels)] * 8  # pinned and unpinned batches

        def check(many: Any = many) -> Any:
            direct = module.to(device)(images.to(device)).float()
            worst = 0.0
            for out, got_labels in ANT.DeviceLoader(many, device=device, normalize=module):
                assert out.device.type == device.type and torch.equal(got_labels.cpu(), labels)
                worst = max(worst, float((out.float() - direct).abs().max()))
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            return worst, 0.0, worst == 0.0

        timed(check, f"DeviceLoader prefetch ({name} + unpinned batches) == direct call", rows)


class Letterboxed(Dataset):
    """The photos letterboxed to 128 x 128 (uint8 CHW) with their valid masks."""

    def __init__(self, repeats: int = 4) -> None:
        self.photos = [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in PHOTOS]
        self.repeats = repeats
        self.pipeline = A.Compose(
            [A.LongestMaxSize(max_size=128), A.PadIfNeeded(128, 128, border_mode=0), ToTensorV2()],
            additional_targets={"valid": "mask"},
        )

    def __len__(self) -> int:
        return len(self.photos) * self.repeats

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        photo = self.photos[index % len(self.photos)]
        ones = np.ones(photo.shape[:2], np.uint8)
        out = self.pipeline(image=photo, mask=ones, valid=ones)  # AlbumentationsX wants "mask"
        return {"image": out["image"], "valid": torch.as_tensor(out["valid"])}


def loader_check(device: torch.device, rows: list[Row]) -> None:
    module = ANT.Normalize.from_transform(
        AN.Normalize(normalization="image_per_channel", mask_key="valid")
    )
    loader = DataLoader(
        Letterboxed(), batch_size=4, num_workers=2, pin_memory=device.type == "cuda"
    )

    def check() -> Any:
        worst, ok, bound, start = 0.0, True, 0.0, 0
        dataset: Letterboxed = loader.dataset  # type: ignore[assignment]
        for batch in ANT.DeviceLoader(loader, device=device, normalize=module):
            valid = batch["valid"].cpu().numpy()
            # the uint8 images of this batch again (the pipeline is deterministic, no shuffle)
            indices = range(start, start + len(valid))
            images = np.stack([dataset[i]["image"].permute(1, 2, 0).numpy() for i in indices])
            start += len(valid)
            expected = formula(images, {"normalization": "image_per_channel"}, valid)
            w, b, k = error_and_bound(batch["image"], expected, torch.float32, False)
            worst, bound, ok = max(worst, w), max(bound, b), ok and k
        return worst, bound, ok and start == len(dataset)

    timed(check, "DeviceLoader, 2 workers, letterbox, masked image_per_channel", rows)


class Files(Dataset):
    def __init__(self, paths: list[Path], pipeline: A.Compose) -> None:
        self.paths, self.pipeline = paths, pipeline

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> torch.Tensor:
        img = cv2.cvtColor(cv2.imread(str(self.paths[index])), cv2.COLOR_BGR2RGB)
        return self.pipeline(image=img)["image"]


def loader_benchmark(device: torch.device, files: int, epochs: int) -> list[str]:
    augment = [A.RandomResizedCrop(size=(224, 224)), A.HorizontalFlip()]
    workers = A.Compose([*augment, AN.Normalize(preset="imagenet"), ToTensorV2()])
    split, module = ANT.split_pipeline(workers)
    module = module.to(device)
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        photos = [cv2.imread(str(p)) for p in PHOTOS]
        for index in range(files):
            path = Path(folder) / f"{index:04d}.jpg"
            cv2.imwrite(str(path), photos[index % len(photos)], [cv2.IMWRITE_JPEG_QUALITY, 90])
            paths.append(path)
        rows = {"AN.Normalize in the workers (float32 to the device)": (workers, None)}
        rows["uint8 to the device, ANT.Normalize there"] = (split, module)
        rates: dict[str, list[float]] = {name: [] for name in rows}
        loaders = {
            name: DataLoader(
                Files(paths, pipeline),
                batch_size=32,
                num_workers=2,
                pin_memory=device.type == "cuda",
                persistent_workers=True,
            )
            for name, (pipeline, _) in rows.items()
        }
        for _ in range(epochs):
            for name, (_, norm) in rows.items():
                start, seen = time.perf_counter(), 0
                for images in ANT.DeviceLoader(loaders[name], device=device, normalize=norm):
                    seen += len(images)
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                rates[name].append(seen / (time.perf_counter() - start))
    lines = ["| loader (2 workers, batch 32, 224x224) | images/s (median) |", "|---|---|"]
    lines += [f"| {name} | {statistics.median(r):.0f} |" for name, r in rates.items()]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:1, cpu, ...")
    parser.add_argument("--files", type=int, default=128, help="JPEGs of the loader benchmark")
    parser.add_argument("--epochs", type=int, default=3, help="epochs of the loader benchmark")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("cuda_check: CUDA is not available here; pass --device cpu", file=sys.stderr)
        return 2
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    rows: list[Row] = []
    started = time.perf_counter()
    parity_checks(device, rows)
    mask_checks(device, np.random.default_rng(0), rows)
    stream_checks(device, rows)
    loader_check(device, rows)
    print(f"device: {device} ({name}), torch {torch.__version__}, albu_norm {AN.__version__}")
    print()
    print("| check | worst error | bound | result | s |")
    print("|---|---|---|---|---|")
    for check, worst, bound, ok, seconds in rows:
        print(f"| {check} | {worst:.3g} | {bound:.3g} | {'ok' if ok else 'FAIL'} | {seconds:.2f} |")
    print()
    print("\n".join(loader_benchmark(device, args.files, args.epochs)))
    failed = sum(not ok for *_, ok, _ in rows)
    print(
        f"\n{len(rows) - failed}/{len(rows)} checks passed in {time.perf_counter() - started:.0f} s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
