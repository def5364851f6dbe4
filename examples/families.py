"""Every normalization family on the repository's photos, with what each one produces.

python examples/families.py
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
from albu_norm import functional as F
from albu_norm.stats import RunningStats

IMAGES = Path(__file__).resolve().parent / "images"


def load_rgb(name: str) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(IMAGES / f"{name}.jpg")), cv2.COLOR_BGR2RGB)


def summary(values: np.ndarray) -> str:
    v = values.astype(np.float64)
    return f"mean {v.mean():+8.3f}  std {v.std():7.3f}  min {v.min():+9.3f}  max {v.max():+9.3f}"


def main() -> None:
    photo = load_rgb("astronaut")
    print("astronaut.jpg", photo.shape, photo.dtype)

    # TensorFlow-compatible per-image standardization (raw 0-255 values, 1/sqrt(N) floor)
    tf_mode = AN.Normalize(normalization="per_image_standardization")
    print(f"{'per_image_standardization':28s}", summary(tf_mode(image=photo)["image"]))

    # Caffe-style: BGR order, mean subtraction in 0-255 units (Keras caffe, detectron2)
    for preset in ("caffe", "detectron2", "ssd_vgg"):
        out = AN.Normalize(preset=preset)(image=photo)["image"]
        print(
            f"{'preset=' + preset:28s}",
            summary(out),
            "channel 0 =",
            AN.get_preset(preset).channel_order[0],
        )

    # Robust: percentile clipping, median/IQR
    for method in ("percentile_zscore", "percentile_min_max", "median_iqr"):
        out = AN.RobustNormalize(method=method)(image=photo)["image"]
        print(f"{method:28s}", summary(out))

    # Local contrast normalization (Jarrett et al. 2009)
    out = AN.LocalContrastNormalize(kernel_size=9)(image=photo)["image"]
    print(f"{'local contrast (9x9)':28s}", summary(out))

    # Per-pixel statistics over fixed-size images: the four photos resized to 128x128
    photos = [
        cv2.resize(load_rgb(n), (128, 128)) for n in ("astronaut", "chelsea", "coffee", "rocket")
    ]
    stats = RunningStats(per_pixel=True)
    for img in photos:
        stats.update(img)
    with tempfile.TemporaryDirectory() as folder:
        paths = stats.result().save_pixel_statistics(folder)
        per_pixel = AN.PerPixelNormalize(str(paths["mean_image"]), str(paths["std_image"]))
        out = A.Compose([per_pixel])(image=photos[0])["image"]
    print(f"{'per-pixel (mean/std image)':28s}", summary(out))

    # The inverse: what the network sees, back as uint8
    values = AN.Normalize(preset="caffe")(image=photo)["image"]
    back = AN.Denormalize(preset="caffe")(image=values)["image"]
    print("caffe round trip lossless:", bool(np.array_equal(back, photo)))
    crop = photo[100:300, 100:300]
    stats_used = F.per_image_statistics(crop, "image_per_channel")
    restored = F.denormalize(F.normalize_per_image(crop, "image_per_channel"), **stats_used)
    print("image_per_channel round trip lossless:", bool(np.array_equal(restored, crop)))

    # Straight from a model's config (a Hugging Face preprocessor_config.json, as a dict here)
    config = {
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5],
        "rescale_factor": 1 / 255,
    }
    from_config = AN.Normalize.from_model_config(config)(image=photo)["image"]
    same = np.array_equal(from_config, AN.Normalize(preset="siglip")(image=photo)["image"])
    print("HF config == preset siglip:", same)


if __name__ == "__main__":
    main()
