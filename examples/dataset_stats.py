"""Dataset statistics on the repository's photos, used as a preset and in a saved pipeline.

    python examples/dataset_stats.py

The same as the command line ``albu-norm stats examples/images --out stats.json``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import albumentations as A
import numpy as np

import albu_norm as AN
from albu_norm import cli
from albu_norm.stats import compute_stats, find_images, read_image

IMAGES = Path(__file__).resolve().parent / "images"


def main() -> None:
    files = find_images([IMAGES])
    result = compute_stats(files, workers=2)
    stats = result.stats.result()
    print(f"{stats.images} images, {stats.pixels} pixels per channel")
    print("mean (0-1 scale):", np.round(stats.mean, 6).tolist())
    print("std  (0-1 scale):", np.round(stats.std, 6).tolist())
    imagenet = AN.get_preset("imagenet")
    print("ImageNet, for comparison:", imagenet.mean, imagenet.std)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stats.json"
        cli.main(["stats", str(IMAGES), "--out", str(path), "--no-progress"])
        # Either use the file directly: the saved config then carries the numbers ...
        pipeline = A.Compose([A.RandomCrop(256, 256), AN.Normalize(stats=str(path))], seed=0)
        # ... or register it as a named preset (register it again before loading a config).
        AN.register_preset_from_file("repo_photos", path)
    out = pipeline(image=read_image(files[0]))["image"]
    print("normalized crop: mean", np.round(out.mean(axis=(0, 1), dtype=np.float64), 3).tolist())
    saved = A.to_dict(pipeline)["transform"]["transforms"][1]
    print("saved Normalize config: stats =", saved["stats"])
    print("preset:", AN.get_preset("repo_photos"))


if __name__ == "__main__":
    main()
