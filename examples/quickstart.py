"""Quickstart: albu_norm.Normalize in realistic pipelines over the repository's real photos.

Runs a random crop + flip + Normalize pipeline with two presets and a per-image mode, prints
the per-channel mean/std of what the network would see, then saves one pipeline as YAML and
reloads it, checking the reloaded pipeline gives identical output.

    python examples/quickstart.py
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import albumentations as A
import cv2
import numpy as np

import albu_norm as AN

IMAGES = Path(__file__).resolve().parent / "images"


def load_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(f"could not read {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def make_pipeline(**normalize_kwargs) -> A.Compose:
    return A.Compose(
        [
            A.RandomResizedCrop(size=(224, 224), scale=(0.3, 1.0)),
            A.HorizontalFlip(p=0.5),
            AN.Normalize(**normalize_kwargs),
        ],
        seed=0,
    )


def describe(values: np.ndarray) -> str:
    mean = values.mean(axis=(0, 1), dtype=np.float64)
    std = values.std(axis=(0, 1), dtype=np.float64)
    return (
        "mean "
        + " ".join(f"{m:+.3f}" for m in mean)
        + " | std "
        + " ".join(f"{s:.3f}" for s in std)
    )


def main() -> None:
    photos = {path.stem: load_rgb(path) for path in sorted(IMAGES.glob("*.jpg"))}
    configs = {
        "preset=imagenet": {"preset": "imagenet"},
        "preset=clip": {"preset": "clip"},
        "normalization=image_per_channel": {"normalization": "image_per_channel"},
    }
    print(f"{len(photos)} photos from {IMAGES}")
    for label, kwargs in configs.items():
        pipeline = make_pipeline(**kwargs)
        print(f"\nNormalize({label})")
        for name, photo in photos.items():
            out = pipeline(image=photo)["image"]
            print(f"  {name:10s} {out.shape} {out.dtype}  {describe(out)}")

    # Batches: every image gets its own statistics.
    batch = np.stack([cv2.resize(photo, (224, 224)) for photo in photos.values()])
    out = A.Compose([AN.Normalize(normalization="image")])(images=batch)["images"]
    per_image = out.reshape(len(batch), -1).astype(np.float64)
    print(f"\nbatch {batch.shape} -> per-image means {np.round(per_image.mean(1), 6).tolist()}")

    # Save as YAML, reload, and check the output is identical.
    pipeline = A.Compose([A.CenterCrop(224, 224), AN.Normalize(preset="clip")])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pipeline.yaml"
        A.save(pipeline, str(path), data_format="yaml")
        print(f"\nsaved pipeline:\n{path.read_text()}")
        reloaded = AN.load(path)
    photo = photos["astronaut"]
    same = np.array_equal(reloaded(image=photo)["image"], pipeline(image=photo)["image"])
    print(f"reloaded pipeline gives identical output: {same}")
    if not same:
        raise SystemExit("reloaded pipeline differs")


if __name__ == "__main__":
    main()
