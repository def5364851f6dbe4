"""A pretrained model's evaluation pipeline from its name, and how OpenCV's resize compares
with the PIL resize timm and open_clip use.

For timm/resnet50.a1_in1k (224 px, crop_pct 0.95, bicubic): the pipeline albu_norm builds, then
on the repository's photos the mean absolute difference of the normalized outputs from timm's
recipe on PIL images (torchvision's Resize of the shorter side, center crop, normalize; PIL's
bicubic filter widens with the downscale factor, OpenCV's does not).

    python examples/eval_transforms.py
"""

from __future__ import annotations

import math
import os
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import cv2
import numpy as np
from PIL import Image

import albu_norm as AN

IMAGES = Path(__file__).resolve().parent / "images"
MODEL = "timm/resnet50.a1_in1k"


def timm_eval(rgb: np.ndarray, preset: AN.Preset, resize) -> np.ndarray:
    """timm's eval transform (transforms_imagenet_eval) with a given resize: the shorter side to
    floor(size / crop_pct) (the longer one truncated, as torchvision), center crop (torchvision
    rounds the offsets half to even), /255, (x - mean) / std."""
    _, size, _ = preset.input_size
    scale = math.floor(size / preset.crop_pct)
    height, width = rgb.shape[:2]
    if width <= height:
        new_width, new_height = scale, int(scale * height / width)
    else:
        new_width, new_height = int(scale * width / height), scale
    resized = resize(rgb, new_width, new_height)
    top = round((new_height - size) / 2.0)
    left = round((new_width - size) / 2.0)
    crop = resized[top : top + size, left : left + size] / 255.0
    return (crop - np.array(preset.mean)) / np.array(preset.std)


def pil_bicubic(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """PIL's bicubic resize, as torchvision's Resize on a PIL image (what timm uses)."""
    return np.asarray(Image.fromarray(rgb).resize((width, height), Image.BICUBIC))


def opencv(flag: int):
    """OpenCV's resize with ``flag``: PIL's geometry, so only the interpolation differs."""
    return lambda rgb, width, height: cv2.resize(rgb, (width, height), interpolation=flag)


def main() -> None:
    preset = AN.get_preset(MODEL)
    print(f"{MODEL}: input {preset.input_size}, crop_pct {preset.crop_pct}, "
          f"{preset.interpolation}, {preset.crop_mode}")  # fmt: skip
    print("pipeline:", [type(t).__name__ for t in AN.eval_transforms(MODEL).transforms])
    print("mean |OpenCV - PIL| of the normalized outputs; 'pipeline' includes Albumentations'")
    print("crop centering ((h - size) // 2, torchvision rounds), 'resize' the resize alone")
    header = ["pipeline cubic", "pipeline area", "resize cubic", "resize area"]
    print(f"{'photo':10s} {'size':>9s} " + " ".join(f"{h:>14s}" for h in header))
    rows = []
    for path in sorted(IMAGES.glob("*.jpg")):
        rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        reference = timm_eval(rgb, preset, pil_bicubic)
        row = []
        for flag in (cv2.INTER_CUBIC, cv2.INTER_AREA):
            out = AN.eval_transforms(MODEL, interpolation=flag)(image=rgb)["image"]
            row.append(float(np.abs(out - reference).mean()))
        for flag in (cv2.INTER_CUBIC, cv2.INTER_AREA):
            row.append(float(np.abs(timm_eval(rgb, preset, opencv(flag)) - reference).mean()))
        rows.append(row)
        size = f"{rgb.shape[1]}x{rgb.shape[0]}"
        print(f"{path.stem:10s} {size:>9s} " + " ".join(f"{v:14.4f}" for v in row))
    print(f"{'mean':10s} {'':>9s} " + " ".join(f"{v:14.4f}" for v in np.mean(rows, axis=0)))


if __name__ == "__main__":
    main()
