"""A pretrained model's evaluation pipeline from its name, and how its resamplers compare
with the PIL resize timm and open_clip use.

For timm/resnet50.a1_in1k (224 px, crop_pct 0.95, bicubic): the pipeline albu_norm builds, then
on the repository's photos the mean absolute difference of the normalized outputs from timm's
recipe on PIL images, written out here (torchvision's Resize of the shorter side, center crop,
normalize; PIL's bicubic filter widens with the downscale factor, OpenCV's does not), for
``resample="pil"`` (the same pixels), the default ``"opencv"`` (INTER_AREA when shrinking) and
an explicit ``cv2.INTER_CUBIC``. tests/test_eval_transforms_libraries.py compares with timm's
and open_clip's own transforms.

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


def main() -> None:
    preset = AN.get_preset(MODEL)
    print(f"{MODEL}: input {preset.input_size}, crop_pct {preset.crop_pct}, "
          f"{preset.interpolation}, {preset.crop_mode}")  # fmt: skip
    print("pipeline:", [type(t).__name__ for t in AN.eval_transforms(MODEL).transforms])
    print("mean |albu_norm - timm recipe on PIL| of the normalized outputs, per resampler")
    columns = {
        "pil": {"resample": "pil"},
        "opencv": {},
        "INTER_CUBIC": {"interpolation": cv2.INTER_CUBIC},
    }
    print(f"{'photo':10s} {'size':>9s} " + " ".join(f"{h:>12s}" for h in columns))
    rows = []
    for path in sorted(IMAGES.glob("*.jpg")):
        rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        reference = timm_eval(rgb, preset, pil_bicubic)
        row = []
        for kwargs in columns.values():
            out = AN.eval_transforms(MODEL, **kwargs)(image=rgb)["image"]
            row.append(float(np.abs(out - reference).mean()))
        rows.append(row)
        size = f"{rgb.shape[1]}x{rgb.shape[0]}"
        print(f"{path.stem:10s} {size:>9s} " + " ".join(f"{v:12.4f}" for v in row))
    print(f"{'mean':10s} {'':>9s} " + " ".join(f"{v:12.4f}" for v in np.mean(rows, axis=0)))


if __name__ == "__main__":
    main()
