"""Pipelines saved by albu_norm 0.1.0 and 0.2.0 keep loading, with the same output.

``tests/data/v<version>`` holds every transform class of that version saved with ``A.save``
(JSON and YAML) and its output, written by that version (``generate.py`` there says how; in
v0.2.0, ``calls.json`` names the inputs of each call). Serialization keys
(``albu_norm.transforms.<Name>``) and argument names are a public contract. An output that
differs on purpose is listed in ``CHANGED`` with its largest difference, and the current output
is checked against a float64 reference written here from the formula.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import albumentations as A
import numpy as np
import pytest

import albu_norm as AN

DATA = Path(__file__).resolve().parent / "data"
ROOT = DATA.parents[1]
VERSIONS = ("v0.1.0", "v0.2.0")
EPS32 = float(np.finfo(np.float32).eps)
CLASSES = {"Normalize", "Denormalize", "RobustNormalize", "PerPixelNormalize"}
CLASSES |= {"LocalContrastNormalize"}  # every class of 0.1.0 and of 0.2.0 (the same five)

# Outputs that changed on purpose, and by how much at most (float32 ulps of 1).
CHANGED = {
    "v0.1.0": {
        # min-max modes divide by the spread (0.2.0), so the minimum is exactly 0, the maximum
        # exactly 1 and nothing leaves [0, 1]; 0.1.0 multiplied by its reciprocal. Local
        # contrast normalization centers the image on its mean before the float32 blurs
        # (0.2.0): a uniform image gives exact zeros, and on this input the mean error against
        # the float64 formula fell from 2.9e-7 to 4.4e-8. percentile_min_max divides by the
        # clipped spread too: 0.1.0 went down to -3.7e-8 here.
        "normalize_min_max": 1,
        "normalize_min_max_per_channel": 1,
        "robust_percentile_min_max": 1,
        "lcn_default": 16,
        "lcn_floor": 16,
        # uint8 images with per-image statistics go through a 256-entry table computed in
        # float64 (0.3.0): each output is the float64 formula correctly rounded to float32
        # (checked below); 0.1.0 evaluated it in float32, up to 4 ulps of 1 away on this input.
        "normalize_image": 4,
        "normalize_tf": 4,
        "robust_median_iqr": 4,
    },
    "v0.2.0": {
        # The same float64 table (0.3.0): 0.2.0 evaluated the pooled z-score and median/IQR
        # affines of uint8 images in float32 (masked, batched and whole-volume statistics
        # included), up to 5 ulps of 1 away here; the per-channel modes, min-max and the
        # percentile methods already agreed bit for bit. Each current output is checked below.
        "normalize_image": 4,
        "normalize_tf": 4,
        "normalize_image_masked": 4,
        "normalize_tf_masked": 4,
        "normalize_image_masked_fill": 4,
        "normalize_image_ignore_value_fill": 5,
        "normalize_image_batch": 2,
        "normalize_image_batch_masked": 2,
        "normalize_image_volume": 1,
        "normalize_image_volume_per_slice": 2,
        "robust_median_iqr": 2,
        "robust_median_iqr_masked_fill": 2,
    },
}


def calls(version: str) -> dict[str, dict]:
    """name -> {"inputs": {call keyword: file}, "output": keyword} for every saved pipeline."""
    folder = DATA / version
    if (folder / "calls.json").exists():
        return json.loads((folder / "calls.json").read_text())
    # 0.1.0: every pipeline took input.npy as image=, Denormalize the normalized input
    names = sorted(path.stem for path in folder.glob("*.json") if path.stem != "stats")
    return {
        name: {
            "inputs": {
                "image": "input_normalized.npy" if name.startswith("denormalize") else "input.npy"
            },
            "output": "image",
        }
        for name in names
    }


CASES = [(version, name) for version in VERSIONS for name in calls(version)]


def load_inputs(version: str, name: str) -> dict[str, np.ndarray]:
    call = calls(version)[name]
    return {key: np.load(DATA / version / file) for key, file in call["inputs"].items()}


def run(pipeline: A.Compose, version: str, name: str) -> np.ndarray:
    return pipeline(**load_inputs(version, name))[calls(version)[name]["output"]]


@pytest.mark.parametrize("version", VERSIONS)
def test_every_transform_class_is_covered(version):
    saved = {
        AN.load(DATA / version / f"{name}.json").transforms[0].__class__.__name__
        for name in calls(version)
    }
    assert saved == CLASSES
    for name in CHANGED[version]:
        assert name in calls(version), name


@pytest.mark.parametrize("data_format", ["json", "yaml"])
@pytest.mark.parametrize(("version", "name"), CASES)
def test_saved_config_loads_with_the_same_output(version, name, data_format, monkeypatch):
    monkeypatch.chdir(ROOT)  # per-pixel configs name their .npy files relative to the root
    expected = np.load(DATA / version / f"{name}.npy")
    path = DATA / version / f"{name}.{data_format}"
    for pipeline in (AN.load(path), A.load(str(path), data_format=data_format)):
        out = run(pipeline, version, name)
        assert out.dtype == expected.dtype
        assert out.shape == expected.shape
        if name in CHANGED[version]:
            atol = CHANGED[version][name] * EPS32
            np.testing.assert_allclose(out, expected, rtol=0, atol=atol, err_msg=name)
        else:
            np.testing.assert_array_equal(out, expected, err_msg=name)


# ---------------------------------------------------------------- float64 references
# Written from the formulas: population mean/std (ddof=0) over the values that count (every
# value, or the kept pixels' values, all channels pooled), the TF floor 1/sqrt(N) with N those
# values' count, median/IQR by numpy's linear percentiles; a kept pixel is a nonzero of the mask,
# or with ignore_value=0 a pixel not black in every channel. Left-out pixels get the same affine
# (outside="normalize") or the fill value.


def zscore(x: np.ndarray, kept: np.ndarray | None = None, tf_floor: bool = False) -> np.ndarray:
    counted = x.reshape(-1, x.shape[-1]) if kept is None else x[kept]
    std = counted.std()
    if tf_floor:
        std = max(std, 1 / np.sqrt(counted.size))
    return (x - counted.mean()) / std


def median_iqr(x: np.ndarray, kept: np.ndarray | None = None) -> np.ndarray:
    counted = x.reshape(-1, x.shape[-1]) if kept is None else x[kept]
    q25, median, q75 = np.percentile(counted, [25, 50, 75])
    return (x - median) / (q75 - q25)


def filled(values: np.ndarray, kept: np.ndarray, fill: float) -> np.ndarray:
    return np.where(kept[..., None], values, fill)


def per_image(formula: Callable[..., np.ndarray], x: np.ndarray, masks=None) -> np.ndarray:
    if masks is None:
        return np.stack([formula(image) for image in x])
    return np.stack([formula(image, mask != 0) for image, mask in zip(x, masks)])


def not_black(x: np.ndarray) -> np.ndarray:
    return (x != 0).any(axis=-1)


REFERENCES: dict[tuple[str, str], Callable[[dict[str, np.ndarray]], np.ndarray]] = {
    ("v0.1.0", "normalize_image"): lambda x: zscore(x["image"]),
    ("v0.1.0", "normalize_tf"): lambda x: zscore(x["image"], tf_floor=True),
    ("v0.1.0", "robust_median_iqr"): lambda x: median_iqr(x["image"]),
    ("v0.2.0", "normalize_image"): lambda x: zscore(x["image"]),
    ("v0.2.0", "normalize_tf"): lambda x: zscore(x["image"], tf_floor=True),
    ("v0.2.0", "normalize_image_masked"): lambda x: zscore(x["image"], x["mask"] != 0),
    ("v0.2.0", "normalize_tf_masked"): lambda x: zscore(x["image"], x["mask"] != 0, True),
    ("v0.2.0", "normalize_image_masked_fill"): lambda x: filled(
        zscore(x["image"], x["mask"] != 0), x["mask"] != 0, -2.0
    ),
    ("v0.2.0", "normalize_image_ignore_value_fill"): lambda x: filled(
        zscore(x["image"], not_black(x["image"])), not_black(x["image"]), 0.0
    ),
    ("v0.2.0", "normalize_image_batch"): lambda x: per_image(zscore, x["images"]),
    ("v0.2.0", "normalize_image_batch_masked"): lambda x: per_image(
        zscore, x["images"], x["masks"]
    ),
    ("v0.2.0", "normalize_image_volume"): lambda x: zscore(x["volume"]),  # one volume, whole
    ("v0.2.0", "normalize_image_volume_per_slice"): lambda x: per_image(zscore, x["volume"]),
    ("v0.2.0", "robust_median_iqr"): lambda x: median_iqr(x["image"]),
    ("v0.2.0", "robust_median_iqr_masked_fill"): lambda x: filled(
        median_iqr(x["image"], x["mask"] != 0), x["mask"] != 0, -3.0
    ),
}


def test_every_changed_output_has_a_reference():
    """Each change of the float64 table is checked against the formula; the others are 0.2.0's
    divisions and LCN centering, bounded in CHANGED."""
    changed = {(version, name) for version, names in CHANGED.items() for name in names}
    not_table = {
        ("v0.1.0", name)
        for name in (
            "normalize_min_max",
            "normalize_min_max_per_channel",
            "robust_percentile_min_max",
            "lcn_default",
            "lcn_floor",
        )
    }
    assert changed - not_table == set(REFERENCES)


@pytest.mark.parametrize(("version", "name"), sorted(REFERENCES))
def test_per_image_uint8_outputs_are_the_float64_formula_correctly_rounded(version, name):
    inputs = load_inputs(version, name)
    assert all(value.dtype == np.uint8 for value in inputs.values())
    ref = REFERENCES[version, name](
        {key: value.astype(np.float64) for key, value in inputs.items()}
    )
    out = run(AN.load(DATA / version / f"{name}.json"), version, name)
    np.testing.assert_array_equal(out, ref.astype(np.float32), err_msg=name)
