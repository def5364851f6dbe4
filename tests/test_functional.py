"""The core functions against independent float64 references, on real photos and hypothesis data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import images

from albu_norm import functional as F

import reference

IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
PER_IMAGE = F.PER_IMAGE_NORMALIZATIONS
DTYPES = (np.uint8, np.uint16, np.float32, np.float64)


def fixed_magnitude(img, mean, std, max_pixel_value):
    x = np.abs(img.astype(np.float64)) / max_pixel_value
    channels = 1 if img.ndim == 2 else img.shape[-1]
    mean = np.broadcast_to(np.abs(np.asarray(mean, np.float64)), (channels,))
    std = np.broadcast_to(np.asarray(std, np.float64), (channels,))
    if img.ndim == 2:
        return (x + mean[0]) / std[0]
    return (x + mean) / std


def per_image_magnitude(img, mode):
    x = img.astype(np.float64)
    x3 = x[..., None] if x.ndim == 2 else x
    axes = (0, 1) if mode.endswith("per_channel") else None
    if mode.startswith("min_max"):
        center = x3.min(axis=axes, keepdims=True)
        spread = x3.max(axis=axes, keepdims=True) - center
    else:
        center = x3.mean(axis=axes, keepdims=True)
        spread = x3.std(axis=axes, keepdims=True)
    spread = np.where(spread == 0, np.inf, spread)
    return ((np.abs(x3) + np.abs(center)) / spread).reshape(x.shape)


# ---------------------------------------------------------------- real photos


def test_imagenet_on_photo_is_correctly_rounded(photo):
    """uint8 goes through a float64 lookup table: every value is the float64 result rounded."""
    out = F.normalize(photo, *IMAGENET)
    ref = reference.fixed(photo, *IMAGENET, 255.0)
    ref32 = ref.astype(np.float32)
    assert out.dtype == np.float32 and out.shape == photo.shape
    assert np.all(np.abs(out - ref32) <= np.spacing(np.abs(ref32)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_fixed_on_photo_every_dtype(photo, dtype):
    scale = {np.uint8: 1, np.uint16: 257, np.float32: 1 / 255, np.float64: 1 / 255}[dtype]
    img = (photo.astype(np.float64) * scale).astype(dtype)
    max_value = F.default_max_pixel_value(img.dtype)
    out = F.normalize(img, *IMAGENET)
    ref = reference.fixed(img, *IMAGENET, max_value)
    reference.assert_close(out, ref, fixed_magnitude(img, *IMAGENET, max_value))
    # same numbers as the uint8 photo: max_pixel_value followed the dtype
    np.testing.assert_allclose(out, reference.fixed(photo, *IMAGENET, 255.0), atol=2e-6)


@pytest.mark.parametrize("mode", PER_IMAGE)
@pytest.mark.parametrize("dtype", DTYPES)
def test_per_image_on_photo(photo, mode, dtype):
    img = photo.astype(dtype) if dtype != np.float32 else (photo / 255.0).astype(np.float32)
    out = F.normalize_per_image(img, mode)
    reference.assert_close(out, reference.per_image(img, mode), per_image_magnitude(img, mode))


def test_per_channel_statistics_of_output(astronaut):
    """After image_per_channel every channel has mean 0 and std 1 (float64 check)."""
    out = F.normalize_per_image(astronaut, "image_per_channel").astype(np.float64)
    np.testing.assert_allclose(out.mean(axis=(0, 1)), 0, atol=1e-6)
    np.testing.assert_allclose(out.std(axis=(0, 1)), 1, atol=1e-6)
    out = F.normalize_per_image(astronaut, "min_max_per_channel")
    np.testing.assert_allclose(out.min(axis=(0, 1)), 0, atol=1e-6)
    np.testing.assert_allclose(out.max(axis=(0, 1)), 1, atol=1e-6)


def test_crop_statistics_come_from_the_crop(astronaut):
    crop = astronaut[100:300, 50:350]
    out = F.normalize_per_image(crop, "image")
    x = crop.astype(np.float64)
    reference.assert_close(out, (x - x.mean()) / x.std(), per_image_magnitude(crop, "image"))


# ---------------------------------------------------------------- hypothesis properties


@given(img=images(kinds=("random",)), data=st.data())
def test_fixed_matches_reference(img, data):
    channels = 1 if img.ndim == 2 else img.shape[-1]
    count = data.draw(st.sampled_from(sorted({1, channels})))
    mean = data.draw(st.lists(st.floats(-2, 2), min_size=count, max_size=count))
    std = data.draw(st.lists(st.floats(0.01, 10), min_size=count, max_size=count))
    max_value = data.draw(st.sampled_from([None, 1.0, 255.0, 4095.0]))
    before = img.copy()
    if max_value is None and img.dtype.kind == "f" and np.abs(img).max() > 2:
        with pytest.raises(ValueError, match="takes float images to be on the 0-1 scale"):
            F.normalize(img, mean, std, max_value)
        return
    out = F.normalize(img, mean, std, max_value)
    used = F.default_max_pixel_value(img.dtype) if max_value is None else max_value
    reference.assert_close(
        out, reference.fixed(img, mean, std, used), fixed_magnitude(img, mean, std, used)
    )
    np.testing.assert_array_equal(img, before)
    assert not np.shares_memory(out, img)


@given(img=images(kinds=("random", "uniform")), mode=st.sampled_from(PER_IMAGE))
def test_per_image_matches_reference(img, mode):
    before = img.copy()
    out = F.normalize_per_image(img, mode)
    reference.assert_close(out, reference.per_image(img, mode), per_image_magnitude(img, mode))
    np.testing.assert_array_equal(img, before)
    assert not np.shares_memory(out, img)


@given(img=images(kinds=("random",)), mode=st.sampled_from(PER_IMAGE), data=st.data())
def test_uniform_gives_exact_zeros(img, mode, data):
    """The epsilon policy: a uniform image (or channel) maps to exact zeros, never NaN/Inf."""
    value = img.flat[0]
    uniform = np.full_like(img, value)
    out = F.normalize_per_image(uniform, mode)
    assert np.all(out == 0)
    if img.ndim == 3 and img.shape[2] > 1 and mode.endswith("per_channel"):
        # one uniform channel among varying ones: zeros there, the formula elsewhere
        mixed = img.copy()
        mixed[..., 0] = value
        out = F.normalize_per_image(mixed, mode)
        assert np.all(out[..., 0] == 0)
        reference.assert_close(
            out, reference.per_image(mixed, mode), per_image_magnitude(mixed, mode)
        )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["image", "image_per_channel"])
def test_uniform_float_values_that_round_in_sums(dtype, mode):
    """0.1 does not add up exactly in float64; the image is still uniform -> zeros."""
    img = np.full((37, 41, 3), 0.1, dtype=dtype)
    assert np.all(F.normalize_per_image(img, mode) == 0)


@pytest.mark.parametrize("shape", [(7, 7), (7, 7, 3), (1, 1), (3, 300, 2)])
@pytest.mark.parametrize("mode", PER_IMAGE)
def test_uniform_uint8_small_images(shape, mode):
    """OpenCV's meanStdDev gives std ~1e-8 for a 7x7 image of ones; the output is still 0."""
    assert np.all(F.normalize_per_image(np.ones(shape, np.uint8), mode) == 0)


def test_tiny_but_real_spread_is_not_zeroed():
    img = np.full((64, 64), 1000.0, dtype=np.float64)
    img[0, 0] += 1e-9
    out = F.normalize_per_image(img, "image")
    reference.assert_close(
        out, reference.per_image(img, "image"), per_image_magnitude(img, "image")
    )
    assert out[0, 0] > 60  # the one different pixel sits ~64 std above the mean


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["image", "image_per_channel"])
def test_small_spread_around_large_mean(dtype, mode):
    """One-pass E[x^2] - E[x]^2 loses std here (OpenCV gives 0 or 7% off); ours is exact."""
    rng = np.random.default_rng(0)
    img = (1000 + rng.random((300, 300, 3)) * 1e-3).astype(dtype)
    out = F.normalize_per_image(img, mode)
    reference.assert_close(out, reference.per_image(img, mode), per_image_magnitude(img, mode))
    np.testing.assert_allclose(out, reference.per_image(img, mode), atol=1e-5)


def test_uint16_full_range_exact_statistics():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 65536, size=(300, 200, 3), dtype=np.uint16)
    for mode in PER_IMAGE:
        out = F.normalize_per_image(img, mode)
        reference.assert_close(out, reference.per_image(img, mode), per_image_magnitude(img, mode))


# ---------------------------------------------------------------- shapes, memory, batches


@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 1), (5, 7, 2), (5, 7, 4), (5, 7, 5), (5, 7, 8)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_shapes_preserved(shape, dtype):
    img = (np.arange(np.prod(shape)) % 200).reshape(shape).astype(dtype)
    assert F.normalize(img, 0.5, 0.25, 255.0).shape == shape
    for mode in PER_IMAGE:
        assert F.normalize_per_image(img, mode).shape == shape


def test_read_only_and_non_contiguous_inputs(astronaut):
    view = astronaut[::2, ::-1]
    view.flags.writeable = False
    for img in (view, view.astype(np.float32)):
        out = F.normalize(img, *IMAGENET, max_pixel_value=255.0)
        np.testing.assert_allclose(out, reference.fixed(img, *IMAGENET, 255.0), atol=2e-6)
        for mode in PER_IMAGE:
            out = F.normalize_per_image(img, mode)
            reference.assert_close(
                out, reference.per_image(img, mode), per_image_magnitude(img, mode)
            )


@pytest.mark.parametrize("mode", F.NORMALIZATIONS)
@pytest.mark.parametrize("channels", [None, 1, 3, 6])
def test_batch_equals_loop_of_singles(mode, channels):
    rng = np.random.default_rng(1)
    shape = (4, 9, 11) if channels is None else (4, 9, 11, channels)
    batch = rng.integers(0, 256, size=shape, dtype=np.uint8)
    batch[2] = 77  # a uniform image in the batch
    kwargs = {"mean": 0.4, "std": 0.3} if mode == "standard" else {}
    out = F.normalize_images(batch, mode, **kwargs)
    for index, img in enumerate(batch):
        single = (
            F.normalize(img, **kwargs) if mode == "standard" else F.normalize_per_image(img, mode)
        )
        np.testing.assert_array_equal(out[index], single)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("dtype", [bool, np.complex64, np.int64, np.int8, np.float16])
def test_unsupported_dtype(dtype):
    with pytest.raises(TypeError, match="dtype"):
        F.normalize(np.zeros((4, 4, 3), dtype=dtype), 0.5, 0.5)
    with pytest.raises(TypeError, match="dtype"):
        F.normalize_per_image(np.zeros((4, 4, 3), dtype=dtype), "image")


@pytest.mark.parametrize("shape", [(0, 4, 3), (4, 0), (4, 4, 0)])
def test_empty_image(shape):
    with pytest.raises(ValueError, match="empty"):
        F.normalize(np.zeros(shape, np.uint8), 0.5, 0.5)


@pytest.mark.parametrize("shape", [(4,), (2, 4, 4, 3)])
def test_wrong_ndim(shape):
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, C\)"):
        F.normalize_per_image(np.zeros(shape, np.uint8), "image")


def test_not_an_array():
    with pytest.raises(TypeError, match="numpy array"):
        F.normalize([[1, 2], [3, 4]], 0.5, 0.5)


@pytest.mark.parametrize("shape", [(8, 8), (8, 8, 1), (8, 8, 5)])
def test_three_value_preset_on_other_channel_counts(shape):
    img = np.zeros(shape, np.uint8)
    channels = 1 if len(shape) == 2 else shape[2]
    with pytest.raises(
        ValueError, match=f"mean has 3 channel values but the image has {channels} channel"
    ):
        F.normalize(img, *IMAGENET)


@pytest.mark.parametrize(
    ("mean", "std", "match"),
    [
        ((0.5,), (0.0,), "std must be finite numbers > 0"),
        ((0.5,), (-1.0,), "std"),
        ((np.nan,), (1.0,), "mean must be finite"),
        ((0.5,), (np.inf,), "std"),
    ],
)
def test_bad_statistics(mean, std, match):
    with pytest.raises(ValueError, match=match):
        F.normalize(np.zeros((4, 4), np.uint8), mean, std)


@pytest.mark.parametrize("max_pixel_value", [0, -1, np.inf, np.nan])
def test_bad_max_pixel_value(max_pixel_value):
    with pytest.raises(ValueError, match="max_pixel_value"):
        F.normalize(np.zeros((4, 4), np.uint8), 0.5, 0.5, max_pixel_value)


@pytest.mark.parametrize("mode", PER_IMAGE)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_inf_in_per_image_modes(mode, bad, dtype):
    img = np.random.default_rng(0).random((6, 6, 3)).astype(dtype)
    img[2, 3, 1] = bad
    with pytest.raises(ValueError, match="NaN or Inf"):
        F.normalize_per_image(img, mode)


def test_unknown_mode():
    with pytest.raises(ValueError, match="normalization must be one of"):
        F.normalize_per_image(np.zeros((4, 4), np.uint8), "standard")  # type: ignore[arg-type]


def test_default_max_pixel_value():
    assert F.default_max_pixel_value(np.uint8) == 255.0
    assert F.default_max_pixel_value(np.uint16) == 65535.0
    assert F.default_max_pixel_value(np.float32) == 1.0
    assert F.default_max_pixel_value(np.float64) == 1.0


@pytest.mark.parametrize(
    ("img", "max_pixel_value"),
    [
        (np.full((4, 4, 3), 3e38, np.float32), 1.0),  # float32 path
        (np.full((4, 4, 3), 1e300, np.float64), 1.0),  # float64 path
        (np.full((4, 4, 3), 200, np.uint8), 1e-40),  # lookup-table path
        (np.full((4, 4), 60000, np.uint16), 1e-36),  # uint16 path
    ],
)
def test_results_beyond_float32_are_an_error_not_inf(img, max_pixel_value):
    with pytest.raises(ValueError, match="float32 range"):
        F.normalize(img, 0.5, 0.01, max_pixel_value)


def test_large_but_representable_results_are_kept():
    img = np.full((4, 4), 1e36, np.float64)
    out = F.normalize(img, 0.0, 0.5, max_pixel_value=1.0)
    assert np.all(out == np.float32(2e36))


def test_float_images_beyond_the_0_1_scale_need_their_max_pixel_value(astronaut):
    """A.Normalize's users feed float 0-255 images; the dtype rule would not divide them."""
    as_float = astronaut.astype(np.float32)  # 0-255, not A.ToFloat()
    with pytest.raises(ValueError, match=r"values up to 255.*max_pixel_value=255"):
        F.normalize(as_float, *IMAGENET)
    np.testing.assert_allclose(
        F.normalize(as_float, *IMAGENET, max_pixel_value=255.0),
        F.normalize(astronaut, *IMAGENET),
        atol=2e-6,
    )
    F.normalize(np.full((2, 2), 1.9, np.float32), 0.5, 0.5)  # brightness overshoot: fine


@pytest.mark.parametrize("mode", PER_IMAGE)
def test_huge_finite_float64_values(mode):
    """Squares of 1e154 overflow float64: statistics are taken on img / max|img| instead."""
    img = np.array([[1.3e154, -0.7e154], [0.2e154, 1.1e154]])
    out = F.normalize_per_image(img, mode)
    reference.assert_close(out, reference.per_image(img / 1e154, mode), 1.0)


def test_values_spanning_the_whole_float64_range():
    img = np.array([[np.finfo(np.float64).max, -np.finfo(np.float64).max, 0.0]])
    np.testing.assert_allclose(F.normalize_per_image(img, "min_max"), [[1.0, 0.0, 0.5]])
