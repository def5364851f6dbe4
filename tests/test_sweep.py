"""Property sweep of every public transform configuration.

For any input albu_norm accepts (tests/strategies.py), a configuration either keeps the contract
(a float32 output of the input's shape, finite, not sharing memory, the input and the other
targets untouched) or raises the one error the input is *known* to deserve, decided here from
the formula alone (a channel count the statistics cannot fit, a result beyond float32), with
its specific message. Configurations are drawn with ``sampled_from``, so they shrink fairly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import albumentations as A
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import REJECTED_DTYPES, channel_count, images

import albu_norm as AN

import reference

FLOAT32_MAX = float(np.finfo(np.float32).max)
TOO_LARGE = "exceed the float32 range"
MEAN_IMAGE = Path(__file__).resolve().parent / "data" / "v0.1.0" / "mean_image.npy"  # (24, 32, 3)


@dataclass(frozen=True)
class Case:
    """A transform configuration and the error an input is known to deserve (None: none)."""

    name: str
    make: Callable[[], Any]
    expected_error: Callable[[np.ndarray, int], Optional[str]]

    def __repr__(self) -> str:  # shown by hypothesis when it reports a failing example
        return self.name


def never(img: np.ndarray, channels: int) -> Optional[str]:
    return None


def fixed(mean, std, max_value: Optional[float], origin: str) -> Callable[..., Optional[str]]:
    """Error of (x / max - mean) / std: a length that fits no channel count, or a result
    beyond float32 (computed here in float64)."""
    count = len(np.atleast_1d(mean))

    def expected(img: np.ndarray, channels: int) -> Optional[str]:
        if count not in (1, channels):
            return f"{origin} has {count} channel values but the image has {channels} channel"
        used = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(img.dtype, 1.0)
        if max_value is None and img.dtype.kind == "f" and np.abs(img).max() > 2:
            return "takes float images to be on the 0-1 scale"  # 0-255 data, surely
        with np.errstate(all="ignore"):
            x = img.astype(np.float64).reshape(-1, channels)
            values = (x / (max_value or used) - np.asarray(mean)) / np.asarray(std)
        return TOO_LARGE if not np.max(np.abs(values)) <= FLOAT32_MAX else None

    return expected


def median_iqr(per_channel: bool) -> Callable[..., Optional[str]]:
    """(x - median) / IQR beyond float32; computed on x scaled by a power of two (per channel
    if per_channel) so that numpy's percentile interpolation cannot overflow: the ratio is
    invariant to that scale."""

    def expected(img: np.ndarray, channels: int) -> Optional[str]:
        x = img.astype(np.float64).reshape(*img.shape[:2], channels)
        axes = (0, 1) if per_channel else None
        magnitude = np.max(np.abs(x), axis=axes, keepdims=True)
        x = np.ldexp(x, -np.frexp(np.where(magnitude > 0, magnitude, 1.0))[1])
        with np.errstate(all="ignore"):
            values = reference.robust(x, "median_iqr", per_channel=per_channel)
        return TOO_LARGE if not np.max(np.abs(values)) <= FLOAT32_MAX else None

    return expected


def per_pixel(img: np.ndarray, channels: int) -> Optional[str]:
    if img.ndim != 3 or channels != 3:
        return "the channel counts differ"
    with np.errstate(all="ignore"):
        values = img.astype(np.float64) - 110.0
    return TOO_LARGE if not np.max(np.abs(values)) <= FLOAT32_MAX else None


# Presets differ in their numbers only, which test_presets checks one by one; the sweep takes
# one of each kind: RGB, BGR, BGR on raw 0-255, one value, 13 bands on a 10000 scale, 2 bands
# in dB, and a model name.
SWEPT_PRESETS = (
    "imagenet",
    "caffe",
    "yolox",
    "mnist",
    "sentinel2_torchgeo",
    "ssl4eo_s12_s1",
    "timm/convnext_small.fb_in22k_ft_in1k",
)
PRESETS = [
    Case(
        f"preset={name}",
        lambda name=name: AN.Normalize(preset=name),
        fixed(
            AN.get_preset(name).mean,
            AN.get_preset(name).std,
            AN.get_preset(name).max_pixel_value,
            f"preset '{name}'",
        ),
    )
    for name in SWEPT_PRESETS
]
CASES = [
    *(
        Case(f"normalization={mode}", lambda mode=mode: AN.Normalize(normalization=mode), never)
        for mode in AN.functional.PER_IMAGE_NORMALIZATIONS
    ),
    Case("mean=0.25,std=0.5", lambda: AN.Normalize(mean=0.25, std=0.5), fixed(0.25, 0.5, None, "")),
    Case(
        "mean/std x3, max 7",
        lambda: AN.Normalize(mean=(0.1, 0.2, 0.3), std=(0.3, 0.2, 0.1), max_pixel_value=7.0),
        fixed((0.1, 0.2, 0.3), (0.3, 0.2, 0.1), 7.0, "mean"),
    ),
    *PRESETS,
    *(
        Case(
            f"robust {method} per_channel={per_channel}",
            lambda method=method, per_channel=per_channel: AN.RobustNormalize(
                method=method, per_channel=per_channel
            ),
            median_iqr(per_channel) if method == "median_iqr" else never,
        )
        for method in ("percentile_zscore", "percentile_min_max", "median_iqr")
        for per_channel in (False, True)
    ),
    Case(
        "robust dataset_clip_zscore",
        lambda: AN.RobustNormalize(
            method="dataset_clip_zscore", clip_range=(0, 200), mean=90, std=30
        ),
        never,
    ),
    Case("lcn kernel 3", lambda: AN.LocalContrastNormalize(kernel_size=3), never),
    Case("lcn floor 2", lambda: AN.LocalContrastNormalize(kernel_size=5, floor=2.0), never),
    Case(
        "per-pixel, resized",
        lambda: AN.PerPixelNormalize(mean_image=str(MEAN_IMAGE), resize_statistics=True),
        per_pixel,
    ),
]


def run(transform, **data):
    pipeline = A.Compose(
        [A.HorizontalFlip(p=0.0), transform],
        bbox_params=A.BboxParams("pascal_voc", label_fields=["labels"]),
        keypoint_params=A.KeypointParams("xy"),
    )
    return pipeline(**data, bboxes=[(0, 0, 1, 1)], labels=[1], keypoints=[(0.5, 0.5)])


def expect_contract_or_known_error(case: Case, img: np.ndarray, key: str) -> None:
    batch = key == "images"
    channels = channel_count(img, batch)
    expected = [case.expected_error(one, channels) for one in (img if batch else [img])]
    message = next((m for m in expected if m is not None), None)
    before = img.copy()
    mask = np.ones(img.shape[1:3] if batch else img.shape[:2], np.uint8)
    transform = case.make()
    try:
        result = run(transform, **{key: img}, **({} if batch else {"mask": mask}))
    except (ValueError, TypeError) as error:
        np.testing.assert_array_equal(img, before)
        assert message is not None, f"{case}: unexpected error {error!r}"
        assert re.search(message, str(error)), f"{case}: expected {message!r}, got {error!r}"
        return
    assert message is None, f"{case}: expected an error matching {message!r}"
    np.testing.assert_array_equal(img, before)
    out = result[key]
    assert out.dtype == np.float32 and out.shape == img.shape
    assert np.all(np.isfinite(out)), f"{case}: NaN/Inf from finite input"
    assert not np.shares_memory(out, img)
    if not batch:
        np.testing.assert_array_equal(result["mask"], mask)
    np.testing.assert_allclose(np.asarray(result["bboxes"]), [[0, 0, 1, 1]], atol=1e-9)
    np.testing.assert_allclose(np.asarray(result["keypoints"])[:, :2], [[0.5, 0.5]])


def grid_images():
    """Every dtype x channel layout x value kind, with fixed random content: the structure
    is covered for every configuration, whatever hypothesis draws."""
    rng = np.random.default_rng(11)
    for dtype in (np.uint8, np.uint16, np.float32, np.float64):
        top = float(np.iinfo(dtype).max) if np.dtype(dtype).kind == "u" else 1.0
        for shape in ((5, 6), (5, 6, 1), (5, 6, 3), (5, 6, 5), (5, 6, 130)):
            yield (rng.random(shape) * top).astype(dtype)
            yield np.full(shape, top / 3).astype(dtype)
            if np.dtype(dtype).kind == "f":
                yield (rng.uniform(-1, 1, shape) * np.finfo(dtype).max).astype(dtype)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_every_configuration_on_every_layout(case):
    for img in grid_images():
        expect_contract_or_known_error(case, img, "image")


@settings(max_examples=200)
@given(case=st.sampled_from(CASES), img=images())
def test_every_configuration_on_any_image(case, img):
    expect_contract_or_known_error(case, img, "image")


@given(case=st.sampled_from(CASES), batch=images(batch=True))
def test_every_configuration_on_any_batch(case, batch):
    expect_contract_or_known_error(case, batch, "images")


@pytest.mark.parametrize("dtype", REJECTED_DTYPES)
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_rejected_dtypes_name_the_problem(case, dtype):
    with pytest.raises(TypeError, match=f"img has dtype {np.dtype(dtype)}"):
        case.make()(image=np.zeros((4, 4, 3), dtype=dtype))


def test_every_public_transform_class_is_swept():
    swept = {type(case.make()).__name__ for case in CASES}
    public = {name for name in AN.__all__ if isinstance(getattr(AN, name), type)}
    public -= {"NormalizationSpec", "Preset", "Denormalize"}  # Denormalize: tests/test_families
    public -= {"ResizeCrop"}  # not a normalization: tests/test_geometry.py
    assert swept == public


def test_known_error_predicates_can_fire():
    """The sweep's error branch is reachable: each kind of known error occurs for some input."""
    img = np.zeros((4, 4, 5), np.uint8)
    assert fixed(AN.get_preset("imagenet").mean, 0.2, None, "preset 'imagenet'")(img, 5)
    huge = np.full((2, 2), 1e300, np.float64)
    assert fixed(0.0, 1e-10, 1.0, "mean")(huge, 1) == TOO_LARGE
    assert per_pixel(np.zeros((2, 2), np.uint8), 1)
    assert math.isfinite(FLOAT32_MAX)
