"""How the files in this folder were made: run once with albu_norm 0.1.0 (commit 84211a9).

Every transform class of 0.1.0, saved with ``A.save`` as JSON and YAML, with its output on
``input.npy`` (a 24 x 32 crop of examples/images/astronaut.jpg). ``tests/test_legacy_configs.py``
loads them with the current code and checks the outputs. Not run by the tests: the point of the
folder is that it holds what the *old* code wrote.

    cd tests/data/v0.1.0 && python generate.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import albumentations as A
import cv2
import numpy as np

import albu_norm as AN
from albu_norm.stats import RunningStats

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
RELATIVE = HERE.relative_to(ROOT)  # configs name files relative to the repository root


def main() -> None:
    os.chdir(ROOT)
    photo = cv2.cvtColor(cv2.imread("examples/images/astronaut.jpg"), cv2.COLOR_BGR2RGB)
    img = np.ascontiguousarray(photo[100:124, 200:232])
    np.save(HERE / "input.npy", img)
    normalized = AN.Normalize(preset="clip")(image=img)["image"]
    np.save(HERE / "input_normalized.npy", normalized)

    stats = RunningStats().update(photo).result()
    (HERE / "stats.json").write_text(json.dumps({"stats": stats.to_dict()}, indent=2) + "\n")
    np.save(HERE / "mean_image.npy", np.full(img.shape, 110.0, np.float32))
    np.save(HERE / "std_image.npy", np.full(img.shape, 40.0, np.float32))

    transforms = {
        "normalize_default": AN.Normalize(),
        "normalize_clip": AN.Normalize(preset="clip"),
        "normalize_caffe": AN.Normalize(preset="caffe"),
        "normalize_caffe_bgr_input": AN.Normalize(preset="caffe", input_channel_order="BGR"),
        "normalize_explicit": AN.Normalize(
            mean=(0.1, 0.2, 0.3), std=(0.3, 0.2, 0.1), max_pixel_value=255.0
        ),
        "normalize_scalar": AN.Normalize(mean=0.5, std=0.25, max_pixel_value=200.0),
        "normalize_stats": AN.Normalize(stats=str(RELATIVE / "stats.json")),
        "normalize_image": AN.Normalize(normalization="image"),
        "normalize_image_per_channel": AN.Normalize(normalization="image_per_channel"),
        "normalize_min_max": AN.Normalize(normalization="min_max"),
        "normalize_min_max_per_channel": AN.Normalize(normalization="min_max_per_channel"),
        "normalize_tf": AN.Normalize(normalization="per_image_standardization"),
        "denormalize_clip": AN.Denormalize(preset="clip"),
        "denormalize_caffe": AN.Denormalize(preset="caffe"),
        "robust_percentile_zscore": AN.RobustNormalize(),
        "robust_percentile_min_max": AN.RobustNormalize(
            method="percentile_min_max", percentiles=(2, 98), per_channel=True
        ),
        "robust_median_iqr": AN.RobustNormalize(method="median_iqr"),
        "robust_dataset": AN.RobustNormalize(
            method="dataset_clip_zscore", clip_range=(10, 240), mean=(100, 110, 120), std=50
        ),
        "per_pixel_mean": AN.PerPixelNormalize(mean_image=str(RELATIVE / "mean_image.npy")),
        "per_pixel_mean_std": AN.PerPixelNormalize(
            mean_image=str(RELATIVE / "mean_image.npy"),
            scale_image=str(RELATIVE / "std_image.npy"),
        ),
        "lcn_default": AN.LocalContrastNormalize(),
        "lcn_floor": AN.LocalContrastNormalize(kernel_size=5, sigma=1.5, floor=2.0),
    }
    for name, transform in transforms.items():
        pipeline = A.Compose([transform])
        source = normalized if isinstance(transform, AN.Denormalize) else img
        np.save(HERE / f"{name}.npy", pipeline(image=source)["image"])
        A.save(pipeline, str(HERE / f"{name}.json"), data_format="json")
        A.save(pipeline, str(HERE / f"{name}.yaml"), data_format="yaml")


if __name__ == "__main__":
    main()
