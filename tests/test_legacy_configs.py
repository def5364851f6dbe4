"""Pipelines saved by albu_norm 0.1.0 keep loading, with the same output.

``tests/data/v0.1.0`` holds every transform class of 0.1.0 saved with ``A.save`` (JSON and
YAML) and its output, written by that version (``generate.py`` there says how). Serialization
keys (``albu_norm.transforms.<Name>``) and argument names are a public contract.
"""

from __future__ import annotations

from pathlib import Path

import albumentations as A
import numpy as np
import pytest

import albu_norm as AN

DATA = Path(__file__).resolve().parent / "data" / "v0.1.0"
ROOT = DATA.parents[2]
NAMES = sorted(path.stem for path in DATA.glob("*.json") if path.stem != "stats")
# Outputs that changed on purpose since 0.1.0, and by how much at most (float32 ulps of 1):
# min-max modes divide by the spread (0.2.0), so the minimum is exactly 0, the maximum exactly
# 1 and nothing leaves [0, 1]; 0.1.0 multiplied by its reciprocal. Local contrast normalization
# centers the image on its mean before the float32 blurs (0.2.0): a uniform image gives exact
# zeros, and on this input the mean error against the float64 formula fell from 2.9e-7 to 4.4e-8.
# percentile_min_max divides by the clipped spread too: 0.1.0 went down to -3.7e-8 here.
CHANGED = {
    "normalize_min_max": 1,
    "normalize_min_max_per_channel": 1,
    "robust_percentile_min_max": 1,
    "lcn_default": 16,
    "lcn_floor": 16,
    # uint8 images with per-image statistics go through a 256-entry table computed in float64
    # (0.3.0): each output is the float64 formula correctly rounded to float32 (checked below);
    # 0.1.0 evaluated it in float32, up to 4 ulps of 1 away on this input.
    "normalize_image": 4,
    "normalize_tf": 4,
    "robust_median_iqr": 4,
}
EPS32 = float(np.finfo(np.float32).eps)


def test_every_transform_class_is_covered():
    saved = {AN.load(DATA / f"{name}.json").transforms[0].__class__.__name__ for name in NAMES}
    assert saved == {
        "Normalize",
        "Denormalize",
        "RobustNormalize",
        "PerPixelNormalize",
        "LocalContrastNormalize",
    }


@pytest.mark.parametrize("data_format", ["json", "yaml"])
@pytest.mark.parametrize("name", NAMES)
def test_saved_config_loads_with_the_same_output(name, data_format, monkeypatch):
    monkeypatch.chdir(ROOT)  # per-pixel configs name their .npy files relative to the root
    source = "input_normalized.npy" if name.startswith("denormalize") else "input.npy"
    img = np.load(DATA / source)
    expected = np.load(DATA / f"{name}.npy")
    path = DATA / f"{name}.{data_format}"
    for pipeline in (AN.load(path), A.load(str(path), data_format=data_format)):
        out = pipeline(image=img)["image"]
        assert out.dtype == expected.dtype
        if name in CHANGED:
            np.testing.assert_allclose(out, expected, rtol=0, atol=CHANGED[name] * EPS32)
        else:
            np.testing.assert_array_equal(out, expected, err_msg=name)


def test_per_image_uint8_outputs_are_the_float64_formula_correctly_rounded():
    """The reference, written here from the formulas: population mean/std over every value, the
    TF floor 1/sqrt(N), median/IQR by numpy's linear percentiles (pooled channels)."""
    img = np.load(DATA / "input.npy")
    x = img.astype(np.float64)
    q25, median, q75 = np.percentile(x, [25, 50, 75])
    references = {
        "normalize_image": (x - x.mean()) / x.std(),
        "normalize_tf": (x - x.mean()) / max(x.std(), 1 / np.sqrt(x.size)),
        "robust_median_iqr": (x - median) / (q75 - q25),
    }
    for name, ref in references.items():
        out = AN.load(DATA / f"{name}.json")(image=img)["image"]
        np.testing.assert_array_equal(out, ref.astype(np.float32), err_msg=name)
