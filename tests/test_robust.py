"""Robust normalization against float64 numpy references written from the formulas."""

from __future__ import annotations

import json

import albumentations as A
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import albu_norm as AN
from albu_norm import cli
from albu_norm.robust import image_percentiles, normalize_clipped, normalize_robust

from checks import check_transform
from reference import robust as reference

METHODS = ("percentile_zscore", "percentile_min_max", "median_iqr")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_on_photos(photo, method, per_channel, dtype):
    img = photo.astype(dtype) * (257 if dtype == np.uint16 else 1)
    out = normalize_robust(img, method, per_channel=per_channel)
    np.testing.assert_allclose(out, reference(img, method, None, per_channel), atol=2e-5, rtol=1e-5)


@given(
    img=hnp.arrays(
        st.sampled_from([np.uint8, np.uint16, np.float32]),
        st.tuples(st.integers(1, 9), st.integers(1, 9), st.integers(1, 4)),
        elements=st.integers(0, 255),
    ),
    method=st.sampled_from(METHODS),
    per_channel=st.booleans(),
    low=st.floats(0, 49),
    high=st.floats(51, 100),
)
def test_matches_reference_on_any_image(img, method, per_channel, low, high):
    out = normalize_robust(img, method, (low, high), per_channel)
    expected = reference(img, method, (low, high), per_channel)
    np.testing.assert_allclose(out, expected, atol=1e-4 * max(1.0, np.abs(expected).max()))
    assert np.all(np.isfinite(out))


def test_exact_integer_percentiles_equal_numpy(photo):
    q = (0.5, 1, 25, 50, 75, 99, 99.5)
    for dtype, factor in ((np.uint8, 1), (np.uint16, 257)):
        img = photo.astype(dtype) * factor
        np.testing.assert_array_equal(
            image_percentiles(img, q, per_channel=True),
            np.percentile(img.reshape(-1, 3).astype(np.float64), q, axis=0),
        )


def test_outliers_do_not_move_the_clipped_result(astronaut):
    img = astronaut.astype(np.float32)
    spiky = img.copy()
    spiky[0, :5] = 1e6  # a few hot pixels
    a = normalize_robust(img, "percentile_min_max")
    b = normalize_robust(spiky, "percentile_min_max")
    np.testing.assert_allclose(a[1:], b[1:], atol=1e-6)


def test_iqr_zero_falls_back_to_range_and_uniform_is_zero():
    img = np.zeros((10, 10), np.uint8)
    img[0, 0] = 200  # IQR 0, range 200
    out = normalize_robust(img, "median_iqr")
    assert out[0, 0] == pytest.approx(1.0) and np.all(out.ravel()[1:] == 0)
    for method in METHODS:
        assert np.all(normalize_robust(np.full((5, 5, 3), 9, np.uint16), method) == 0)


def test_dataset_clip_zscore_nnunet_ct():
    """nnU-Net CT: clip to the dataset's 0.5/99.5 percentiles, then its mean and std (HU)."""
    ct = np.array([[-1024.0, -200.0, 40.0, 80.0, 3000.0]], dtype=np.float32)
    out = normalize_clipped(ct, (-150.0, 250.0), mean=60.0, std=80.0)
    expected = (np.clip(ct.astype(np.float64), -150, 250) - 60) / 80
    np.testing.assert_allclose(out, expected, atol=1e-6)
    transform = AN.RobustNormalize(
        method="dataset_clip_zscore", clip_range=(-150, 250), mean=60.0, std=80.0
    )
    np.testing.assert_allclose(transform(image=ct)["image"], expected, atol=1e-6)


@pytest.mark.parametrize("method", METHODS)
def test_transform_contract(method, photo):
    check_transform(AN.RobustNormalize(method=method, per_channel=True), photo)


def test_from_stats_file(tmp_path, astronaut):
    folder = tmp_path / "images"
    folder.mkdir()
    from conftest import IMAGES_DIR

    (folder / "a.jpg").write_bytes((IMAGES_DIR / "astronaut.jpg").read_bytes())
    out = tmp_path / "stats.json"
    assert cli.main(["stats", str(folder), "--out", str(out), "--no-progress"]) == 0
    record = json.loads(out.read_text())["stats"]
    transform = AN.RobustNormalize.from_stats(out)
    low = min(record["percentiles_raw"]["0.5"])
    high = max(record["percentiles_raw"]["99.5"])
    assert transform.clip_range == (low, high)
    expected = (np.clip(astronaut.astype(np.float64), low, high) - np.array(record["mean_raw"])) / (
        np.array(record["std_raw"])
    )
    np.testing.assert_allclose(transform(image=astronaut)["image"], expected, atol=1e-5)
    restored = A.from_dict(A.to_dict(transform))
    np.testing.assert_array_equal(
        restored(image=astronaut)["image"], transform(image=astronaut)["image"]
    )
    with pytest.raises(ValueError, match="no percentiles"):
        AN.RobustNormalize.from_stats(out, percentiles=(2.0, 98.0))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "dataset_clip_zscore", "mean": 0.0}, "needs clip_range, mean and std"),
        ({"method": "median_iqr", "clip_range": (0, 1)}, "only apply to"),
        ({"percentiles": (60, 40)}, "0 <= low < high <= 100"),
        ({"method": "nope"}, "method"),
        (
            {"method": "dataset_clip_zscore", "clip_range": (0, 1), "mean": 0, "std": -1},
            "std must be",
        ),
    ],
)
def test_invalid_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AN.RobustNormalize(**kwargs)


def test_nan_is_an_error():
    img = np.zeros((4, 4), np.float32)
    img[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or Inf"):
        normalize_robust(img)


@pytest.mark.parametrize("method", METHODS)
def test_float64_beyond_float32_range(method):
    img = np.array([[3.4e38, 1e38, -2e38, 0.0, 5e37]])
    out = normalize_robust(img, method)
    np.testing.assert_allclose(out, reference(img / 1e38, method), atol=1e-5)
    clipped = normalize_clipped(img, (-1.0, 1.0), mean=0.0, std=1.0)
    np.testing.assert_array_equal(clipped, [[1.0, 1.0, -1.0, 0.0, 1.0]])


def test_median_iqr_result_beyond_float32_is_a_clear_error():
    img = np.linspace(0, 1e-3, 42, dtype=np.float32).reshape(6, 7)
    img[1, 1] = 3.9e36  # (x - median) / IQR = 3.9e36 / 5e-4 would exceed float32
    with pytest.raises(ValueError, match="float32 range"):
        normalize_robust(img, "median_iqr")
