"""How the files in this folder were made: run once with albu_norm 0.2.0 (commit ba618e6).

Every transform class of 0.2.0, saved with ``A.save`` as JSON and YAML, with its output on small
inputs: ``input.npy`` (a 24 x 32 crop of examples/images/astronaut.jpg) and variants of it
(float32, uint16, gray, six bands, black bars), a statistics mask, and a batch/volume of two
12 x 16 crops. ``calls.json`` says which inputs each pipeline was called with (keyword -> file) and
which output it stored. Covered: Normalize (presets incl. BGR, one-band, multi-band and a model
preset; explicit and scalar mean/std; stats files and records; a model config; every
normalization mode; mask_key, ignore_value, outside="fill" with per-image and fixed
statistics; images=, volume= whole and per slice), Denormalize, RobustNormalize (every method,
per channel, clip_range, from_stats, masked), PerPixelNormalize (std, range, no scale,
resize_statistics) and LocalContrastNormalize. ``tests/test_legacy_configs.py`` loads them
with the current code and checks the outputs. Not run by the tests: the point of the folder is
that it holds what the *old* code wrote. Run with the 0.2.0 code first on the path, e.g. from a
worktree of ba618e6:

    cd /tmp/albu_before && PYTHONPATH=$PWD python /path/to/tests/data/v0.2.0/generate.py
"""

from __future__ import annotations

import json
import os
import sys
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
MODEL_PRESET = "timm/convnext_small.fb_in22k_ft_in1k"


def photo(name: str) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(f"examples/images/{name}.jpg"), cv2.COLOR_BGR2RGB)


def save_inputs() -> dict[str, np.ndarray]:
    """The inputs (saved as <name>.npy) and the statistics files the configs refer to."""
    astronaut = photo("astronaut")
    img = np.ascontiguousarray(astronaut[100:124, 200:232])
    small = np.ascontiguousarray(img[:12, :16])
    other = np.ascontiguousarray(photo("chelsea")[100:112, 200:216])
    mask = np.zeros(img.shape[:2], np.uint8)
    mask[3:20, 4:27] = 1  # an off-center rectangle: the statistics differ from the full crop's
    letterbox = img.copy()
    letterbox[:4] = 0  # black bars: ignore_value=0
    letterbox[-3:] = 0
    inputs = {
        "input": img,
        "input_normalized": AN.Normalize(preset="clip")(image=img)["image"],
        "input_float32": img.astype(np.float32) / 255,
        "input_uint16": img.astype(np.uint16) * 257,
        "input_gray": np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)),
        # six bands of surface reflectance x 10000, for the prithvi preset
        "input_bands": np.concatenate([small, small[..., ::-1]], axis=-1).astype(np.uint16) * 39,
        "input_letterbox": letterbox,
        "mask": mask,
        "batch": np.stack([small, other]),  # two 12 x 16 crops: images= and volume=
        "batch_masks": np.stack([mask[:12, :16], mask[12:, 16:]]),
    }
    for name, value in inputs.items():
        np.save(HERE / f"{name}.npy", value)

    stats = RunningStats().update(astronaut).result(percentiles=(0.5, 2, 98, 99.5))
    (HERE / "stats.json").write_text(json.dumps({"stats": stats.to_dict()}, indent=2) + "\n")
    crops = [photo(name) for name in ("astronaut", "chelsea", "coffee", "rocket")]
    pixel = RunningStats(per_pixel=True)
    coarse = RunningStats(per_pixel=True)
    for crop in crops:
        pixel.update(np.ascontiguousarray(crop[100:124, 200:232]))
        coarse.update(np.ascontiguousarray(crop[100:112, 200:216]))
    pixel.result().save_pixel_statistics(HERE)  # mean_image, std_image, range_image
    np.save(HERE / "mean_image_small.npy", coarse.result().pixel_mean.astype(np.float32))
    return inputs


def path(name: str) -> str:
    return str(RELATIVE / name)


def pipelines() -> dict[str, tuple[A.BasicTransform, dict[str, str]]]:
    """name -> (transform, {call keyword: input file stem}); the output is the first keyword's."""
    image = {"image": "input"}
    masked = {"image": "input", "mask": "mask"}
    letterbox = {"image": "input_letterbox"}
    stats_record = {
        "mean": [0.45, 0.4, 0.35],
        "std": [0.25, 0.24, 0.26],
        "max_pixel_value": 255.0,
        "channel_order": "BGR",
        "source": "a record",
    }
    hf_config = {"image_mean": [0.5, 0.4, 0.3], "image_std": [0.2, 0.25, 0.3], "do_rescale": True}
    return {
        # Normalize, fixed statistics
        "normalize_default": (AN.Normalize(), image),
        "normalize_default_float32": (AN.Normalize(), {"image": "input_float32"}),
        "normalize_default_uint16": (AN.Normalize(), {"image": "input_uint16"}),
        "normalize_clip": (AN.Normalize(preset="clip"), image),
        "normalize_caffe": (AN.Normalize(preset="caffe"), image),
        "normalize_caffe_bgr_input": (
            AN.Normalize(preset="caffe", input_channel_order="BGR"),
            image,
        ),
        "normalize_inception": (AN.Normalize(preset="inception"), image),
        "normalize_yolox": (AN.Normalize(preset="yolox"), image),
        "normalize_mnist": (AN.Normalize(preset="mnist"), {"image": "input_gray"}),
        "normalize_prithvi": (AN.Normalize(preset="prithvi_eo_v1"), {"image": "input_bands"}),
        "normalize_model_preset": (AN.Normalize(preset=MODEL_PRESET), image),
        "normalize_preset_max_pixel_value": (
            AN.Normalize(preset="clip", max_pixel_value=200.0),
            image,
        ),
        "normalize_explicit": (
            AN.Normalize(mean=(0.1, 0.2, 0.3), std=(0.3, 0.2, 0.1), max_pixel_value=255.0),
            image,
        ),
        "normalize_scalar": (AN.Normalize(mean=0.5, std=0.25, max_pixel_value=200.0), image),
        "normalize_stats": (AN.Normalize(stats=path("stats.json")), image),
        "normalize_stats_record": (AN.Normalize(stats=stats_record), image),
        "normalize_from_model_config": (AN.Normalize.from_model_config(hf_config), image),
        "normalize_batch": (AN.Normalize(preset="clip"), {"images": "batch"}),
        # Normalize, per-image statistics
        "normalize_image": (AN.Normalize(normalization="image"), image),
        "normalize_image_per_channel": (AN.Normalize(normalization="image_per_channel"), image),
        "normalize_min_max": (AN.Normalize(normalization="min_max"), image),
        "normalize_min_max_per_channel": (
            AN.Normalize(normalization="min_max_per_channel"),
            image,
        ),
        "normalize_tf": (AN.Normalize(normalization="per_image_standardization"), image),
        "normalize_image_float32": (
            AN.Normalize(normalization="image"),
            {"image": "input_float32"},
        ),
        "normalize_image_uint16": (
            AN.Normalize(normalization="image_per_channel"),
            {"image": "input_uint16"},
        ),
        "normalize_image_batch": (AN.Normalize(normalization="image"), {"images": "batch"}),
        "normalize_image_volume": (AN.Normalize(normalization="image"), {"volume": "batch"}),
        "normalize_image_volume_per_slice": (
            AN.Normalize(normalization="image", per_slice=True),
            {"volume": "batch"},
        ),
        # Normalize, statistics over a mask
        "normalize_image_masked": (AN.Normalize(normalization="image", mask_key="mask"), masked),
        "normalize_image_per_channel_masked": (
            AN.Normalize(normalization="image_per_channel", mask_key="mask"),
            masked,
        ),
        "normalize_min_max_masked": (
            AN.Normalize(normalization="min_max", mask_key="mask"),
            masked,
        ),
        "normalize_min_max_per_channel_masked_fill": (
            AN.Normalize(
                normalization="min_max_per_channel", mask_key="mask", outside="fill", fill=-1.0
            ),
            masked,
        ),
        "normalize_tf_masked": (
            AN.Normalize(normalization="per_image_standardization", mask_key="mask"),
            masked,
        ),
        "normalize_image_masked_fill": (
            AN.Normalize(normalization="image", mask_key="mask", outside="fill", fill=-2.0),
            masked,
        ),
        "normalize_image_ignore_value": (
            AN.Normalize(normalization="image_per_channel", ignore_value=0),
            letterbox,
        ),
        "normalize_image_ignore_value_fill": (
            AN.Normalize(normalization="image", ignore_value=0, outside="fill"),
            letterbox,
        ),
        "normalize_clip_masked_fill": (
            AN.Normalize(preset="clip", mask_key="mask", outside="fill", fill=0.5),
            masked,
        ),
        "normalize_clip_ignore_value_fill": (
            AN.Normalize(preset="clip", ignore_value=(0, 0, 0), outside="fill"),
            letterbox,
        ),
        "normalize_image_batch_masked": (
            AN.Normalize(normalization="image", mask_key="mask"),
            {"images": "batch", "masks": "batch_masks"},
        ),
        "normalize_image_volume_masked": (
            AN.Normalize(normalization="image_per_channel", mask_key="mask"),
            {"volume": "batch", "mask3d": "batch_masks"},
        ),
        # Denormalize
        "denormalize_clip": (AN.Denormalize(preset="clip"), {"image": "input_normalized"}),
        "denormalize_caffe": (AN.Denormalize(preset="caffe"), {"image": "input_normalized"}),
        "denormalize_explicit": (
            AN.Denormalize(mean=(0.5, 0.4, 0.3), std=(0.2, 0.3, 0.25), max_pixel_value=255.0),
            {"image": "input_normalized"},
        ),
        "denormalize_stats": (
            AN.Denormalize(stats=path("stats.json")),
            {"image": "input_normalized"},
        ),
        # RobustNormalize
        "robust_percentile_zscore": (AN.RobustNormalize(), image),
        "robust_percentile_zscore_per_channel": (
            AN.RobustNormalize(percentiles=(1, 99), per_channel=True),
            image,
        ),
        "robust_percentile_zscore_uint16": (AN.RobustNormalize(), {"image": "input_uint16"}),
        "robust_percentile_zscore_float32": (AN.RobustNormalize(), {"image": "input_float32"}),
        "robust_percentile_min_max": (
            AN.RobustNormalize(method="percentile_min_max", percentiles=(2, 98), per_channel=True),
            image,
        ),
        "robust_median_iqr": (AN.RobustNormalize(method="median_iqr"), image),
        "robust_median_iqr_per_channel": (
            AN.RobustNormalize(method="median_iqr", percentiles=(10, 90), per_channel=True),
            image,
        ),
        "robust_dataset": (
            AN.RobustNormalize(
                method="dataset_clip_zscore", clip_range=(10, 240), mean=(100, 110, 120), std=50
            ),
            image,
        ),
        "robust_from_stats": (AN.RobustNormalize.from_stats(path("stats.json"), (2, 98)), image),
        "robust_percentile_zscore_masked": (AN.RobustNormalize(mask_key="mask"), masked),
        "robust_median_iqr_masked_fill": (
            AN.RobustNormalize(method="median_iqr", mask_key="mask", outside="fill", fill=-3.0),
            masked,
        ),
        "robust_percentile_min_max_ignore_value": (
            AN.RobustNormalize(method="percentile_min_max", per_channel=True, ignore_value=0),
            letterbox,
        ),
        "robust_dataset_masked_fill": (
            AN.RobustNormalize(
                method="dataset_clip_zscore",
                clip_range=(10, 240),
                mean=110,
                std=(40, 45, 50),
                mask_key="mask",
                outside="fill",
            ),
            masked,
        ),
        # PerPixelNormalize
        "per_pixel_mean": (AN.PerPixelNormalize(mean_image=path("mean_image.npy")), image),
        "per_pixel_mean_std": (
            AN.PerPixelNormalize(
                mean_image=path("mean_image.npy"), scale_image=path("std_image.npy")
            ),
            image,
        ),
        "per_pixel_mean_range": (
            AN.PerPixelNormalize(
                mean_image=path("mean_image.npy"), scale_image=path("range_image.npy")
            ),
            image,
        ),
        "per_pixel_resize_statistics": (
            AN.PerPixelNormalize(mean_image=path("mean_image_small.npy"), resize_statistics=True),
            image,
        ),
        # LocalContrastNormalize
        "lcn_default": (AN.LocalContrastNormalize(), image),
        "lcn_floor": (AN.LocalContrastNormalize(kernel_size=5, sigma=1.5, floor=2.0), image),
        "lcn_float32": (AN.LocalContrastNormalize(kernel_size=7), {"image": "input_float32"}),
    }


def main() -> None:
    if Path(AN.__file__).resolve().is_relative_to(ROOT):
        sys.exit(f"albu_norm is {AN.__file__}: put the 0.2.0 code first on PYTHONPATH.")
    print("albu_norm:", AN.__file__)
    os.chdir(ROOT)
    inputs = save_inputs()
    calls = {}
    for name, (transform, call) in pipelines().items():
        pipeline = A.Compose([transform])
        output = pipeline(**{key: inputs[stem] for key, stem in call.items()})
        first = next(iter(call))
        np.save(HERE / f"{name}.npy", output[first])
        A.save(pipeline, str(HERE / f"{name}.json"), data_format="json")
        A.save(pipeline, str(HERE / f"{name}.yaml"), data_format="yaml")
        calls[name] = {
            "inputs": {key: f"{stem}.npy" for key, stem in call.items()},
            "output": first,
        }
    (HERE / "calls.json").write_text(json.dumps(calls, indent=2) + "\n")


if __name__ == "__main__":
    main()
