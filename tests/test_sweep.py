"""Property-based sweep of every public transform: the contract holds for any valid input, and
every rejected input raises a ValueError/TypeError whose message names the problem."""

from __future__ import annotations

import albumentations as A
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import albu_norm as AN

DTYPES = (np.uint8, np.uint16, np.float32, np.float64)
MODES = ("image", "image_per_channel", "min_max", "min_max_per_channel")


def transforms_for(channels: int) -> list[AN.Normalize]:
    """Every public transform configuration that fits an image of this many channels."""
    found = [AN.Normalize(normalization=mode) for mode in MODES]
    found.append(AN.Normalize(mean=0.25, std=0.5))
    found.append(AN.Normalize(mean=(0.1,) * channels, std=(0.3,) * channels, max_pixel_value=7.0))
    if channels == 3:
        found += [AN.Normalize(preset=name) for name in AN.list_presets()]
    found.append(AN.Normalize(normalization="per_image_standardization"))
    found += [
        AN.RobustNormalize(method=method, per_channel=per_channel)
        for method in ("percentile_zscore", "percentile_min_max", "median_iqr")
        for per_channel in (False, True)
    ]
    found.append(
        AN.RobustNormalize(method="dataset_clip_zscore", clip_range=(0, 200), mean=90, std=30)
    )
    found.append(AN.LocalContrastNormalize(kernel_size=3))
    return found


def values(dtype: np.dtype, extreme: bool) -> st.SearchStrategy:
    if dtype.kind == "u":
        return st.integers(0, int(np.iinfo(dtype).max))
    limit = float(np.finfo(dtype).max) if extreme else 1e6
    return st.floats(-limit, limit, allow_nan=False, allow_infinity=False, width=dtype.itemsize * 8)


@st.composite
def images(draw, batch: bool = False):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    channels = draw(st.sampled_from([None, *range(1, 9)]))
    shape = (draw(st.integers(1, 10)), draw(st.integers(1, 10)))
    if channels is not None:
        shape += (channels,)
    if batch:
        shape = (draw(st.integers(1, 3)), *shape)
    kind = draw(st.sampled_from(["random", "uniform", "extreme"]))
    elements = values(dtype, extreme=kind == "extreme")
    if kind == "uniform":
        return np.full(shape, draw(elements), dtype=dtype)
    array = draw(hnp.arrays(dtype, shape, elements=elements))
    layout = draw(st.sampled_from(["contiguous", "strided", "read-only"]))
    if layout == "strided":  # a non-contiguous view of a larger array
        big = np.repeat(np.repeat(array, 2, axis=-2 if channels else -1), 1, axis=0)
        array = big[..., ::2, :] if channels else big[..., ::2]
    elif layout == "read-only":
        array.flags.writeable = False
    return array


def run(transform, **data):
    pipeline = A.Compose(
        [A.HorizontalFlip(p=0.0), transform],
        bbox_params=A.BboxParams("pascal_voc", label_fields=["labels"]),
        keypoint_params=A.KeypointParams("xy"),
    )
    return pipeline(**data, bboxes=[(0, 0, 1, 1)], labels=[1], keypoints=[(0.5, 0.5)])


def check_output(out: np.ndarray, img: np.ndarray) -> None:
    assert out.dtype == np.float32
    assert out.shape == img.shape
    assert np.all(np.isfinite(out))
    assert not np.shares_memory(out, img)


def expect_contract_or_clear_error(transform, img: np.ndarray, key: str) -> None:
    before = img.copy()
    mask_shape = img.shape[1:3] if key == "images" else img.shape[:2]
    mask = np.ones(mask_shape, np.uint8)
    try:
        result = run(transform, **{key: img}, **({"mask": mask} if key == "image" else {}))
    except (ValueError, TypeError) as error:
        message = str(error)
        assert any(word in message for word in ("channel", "float32 range", "dtype", "empty"))
        np.testing.assert_array_equal(img, before)
        return
    np.testing.assert_array_equal(img, before)
    check_output(result[key], img)
    if key == "image":
        np.testing.assert_array_equal(result["mask"], mask)
    np.testing.assert_allclose(np.asarray(result["bboxes"]), [[0, 0, 1, 1]], atol=1e-9)
    np.testing.assert_allclose(np.asarray(result["keypoints"])[:, :2], [[0.5, 0.5]])


@given(img=images(), index=st.integers(0, 100))
def test_every_transform_on_any_image(img, index):
    channels = 1 if img.ndim == 2 else img.shape[2]
    candidates = transforms_for(channels)
    transform = candidates[index % len(candidates)]
    expect_contract_or_clear_error(transform, img, "image")


@given(batch=images(batch=True), index=st.integers(0, 100))
def test_every_transform_on_any_batch(batch, index):
    channels = 1 if batch.ndim == 3 else batch.shape[3]
    candidates = transforms_for(channels)
    transform = candidates[index % len(candidates)]
    expect_contract_or_clear_error(transform, batch, "images")


@pytest.mark.parametrize("dtype", [bool, np.int8, np.int32, np.int64, np.float16, np.complex64])
def test_rejected_dtypes_name_the_problem(dtype):
    img = np.zeros((4, 4, 3), dtype=dtype)
    for transform in transforms_for(3):
        with pytest.raises(TypeError, match=f"dtype {np.dtype(dtype)}"):
            transform(image=img)


def test_channel_mismatch_names_both_numbers():
    with pytest.raises(
        ValueError, match="preset 'imagenet' has 3 channel values but the image has 5 channels"
    ):
        AN.Normalize(preset="imagenet")(image=np.zeros((4, 4, 5), np.uint8))
