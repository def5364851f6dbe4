"""Quickstart: what albu_norm does, in four steps on the repository's photos.

1. a pretrained model's normalization by name (and why its output is not mean 0 / std 1);
2. per-image statistics taken from the crop the network sees;
3. the two silent bugs of A.Normalize it turns into right answers;
4. a pipeline saved as YAML and loaded back, output identical.

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
MODEL = "timm/convnext_small.fb_in22k_ft_in1k"


def load_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(f"could not read {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def channels(values: np.ndarray) -> str:
    """Per-channel mean and std, labelled R G B (never '-0.00')."""
    mean = values.reshape(-1, 3).mean(axis=0, dtype=np.float64)
    std = values.reshape(-1, 3).std(axis=0, dtype=np.float64)
    show = lambda v: f"{round(float(v), 2) + 0.0:+.2f}"  # noqa: E731
    return (
        "mean " + " ".join(f"{c} {show(m)}" for c, m in zip("RGB", mean))
        + " | std " + " ".join(f"{c} {s:.2f}" for c, s in zip("RGB", std))
    )  # fmt: skip


def main() -> None:
    photo = load_rgb(IMAGES / "astronaut.jpg")
    crop = A.Compose([A.RandomResizedCrop(size=(224, 224), scale=(0.3, 1.0))], seed=0)
    view = crop(image=photo)["image"]
    print("albu_norm quickstart on examples/images/astronaut.jpg (a random 224x224 crop)\n")

    model = AN.Normalize(preset=MODEL)
    print(f"1. the model's normalization by name: Normalize(preset={MODEL!r})")
    print(f"   {channels(model(image=view)['image'])}")
    print("   this checkpoint uses ImageNet's mean/std, so one photo is not mean 0 / std 1.")

    per_image = AN.Normalize(normalization="image_per_channel")
    print("\n2. statistics of the crop itself: Normalize(normalization='image_per_channel')")
    print(f"   {channels(per_image(image=view)['image'])}")

    print("\n3. two silent bugs of A.Normalize (and what AN.Normalize gives)")
    as_float = (view / 255.0).astype(np.float32)  # what A.ToFloat() gives
    theirs = A.Normalize()(image=as_float)["image"]
    ours = AN.Normalize()(image=as_float)["image"]
    reference = AN.Normalize()(image=view)["image"]
    print(f"   a float image in [0, 1]: A.Normalize divides by 255 again: {channels(theirs)}")
    print(f"   (AN.Normalize follows the dtype: max |difference| from the uint8 result "
          f"{np.abs(ours - reference).max():.0e})")  # fmt: skip
    dark = (view // 4).astype(np.uint8)
    batch = np.stack([dark, view])
    pooled = A.Compose([A.Normalize(normalization="image")])(images=batch)["images"]
    each = A.Compose([AN.Normalize(normalization="image")])(images=batch)["images"]
    means = lambda out: ", ".join(f"{round(float(o.mean()), 2) + 0.0:+.2f}" for o in out)  # noqa: E731
    print(
        f"   a dark and a bright image in one batch: A.Normalize pools the statistics "
        f"(means {means(pooled)})"
    )
    print(f"   (AN.Normalize, per image: means {means(each)})")  # fmt: skip

    pipeline = A.Compose([A.CenterCrop(224, 224), model])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pipeline.yaml"
        A.save(pipeline, str(path), data_format="yaml")
        keeps = f"preset: {MODEL}" in path.read_text()
        reloaded = AN.load(path)
    same = np.array_equal(reloaded(image=photo)["image"], pipeline(image=photo)["image"])
    print(f"\n4. saved as YAML (keeps 'preset: {MODEL}': {keeps}) and loaded back: "
          f"identical output: {same}")  # fmt: skip
    if not (same and keeps):
        raise SystemExit("the reloaded pipeline differs")


if __name__ == "__main__":
    main()
