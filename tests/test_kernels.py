"""Each affine backend alone against a float64 reference, with the error bound of its own
arithmetic (not a threshold read from the implementation); the router against its table; the
per-image statistics at the ends of the float64 range."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import images

from albu_norm import _kernels as K
from albu_norm import _statistics as S
from albu_norm import functional as F
from albu_norm.modes import get_mode

import reference

EPS32 = float(np.finfo(np.float32).eps)
RNG = np.random.default_rng(7)


def exact(img: np.ndarray, center: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(img - center) * scale in float64, per channel (the last axis, or none for (H, W))."""
    x = img.astype(np.float64)
    if img.ndim == 2:
        return (x - center[0]) * scale[0]
    return (x - center) * scale


def float32_bound(img, center, scale, ref) -> np.ndarray:
    """Error bound of float32 evaluation of img * scale + offset: a few ulps of the terms."""
    x = np.abs(img.astype(np.float64))
    terms = (x * np.abs(scale) if img.ndim == 3 else x * abs(scale[0])) + np.abs(
        center * scale
    ).max()
    return 4 * EPS32 * (np.abs(ref) + terms)


def statistics(channels: int, spread: float = 2.0, offset: float = 1.0):
    center = RNG.uniform(-offset, offset, channels) * 100
    scale = RNG.uniform(0.5, spread, channels) / 100
    return center, scale


@pytest.mark.parametrize("channels", [1, 3, 5, 200])
@pytest.mark.parametrize("cached", [True, False])
def test_lookup_table_is_correctly_rounded(channels, cached):
    img = RNG.integers(0, 256, (9, 7, channels), dtype=np.uint8)
    center, scale = statistics(channels)
    out = K.affine_lut(img, center, scale, np.empty(img.shape, np.float32), cached=cached)
    np.testing.assert_array_equal(out, exact(img, center, scale).astype(np.float32))


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
@pytest.mark.parametrize(
    ("channels", "uniform"), [(1, False), (2, False), (3, False), (4, False), (3, True), (7, True)]
)
def test_opencv_transform(dtype, channels, uniform):
    img = (RNG.random((9, 7, channels)) * 60000).astype(dtype)
    center, scale = statistics(channels)
    if uniform:
        center, scale = np.full(channels, center[0]), np.full(channels, scale[0])
    out = K.affine_opencv(
        img, scale, -center * scale, np.empty(img.shape, np.float32), uniform=uniform
    )
    ref = exact(img, center, scale)
    assert np.all(np.abs(out - ref) <= float32_bound(img, center, scale, ref))


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
@pytest.mark.parametrize("channels", [5, 8, 200])
def test_numpy_broadcasting(dtype, channels):
    img = (RNG.random((9, 7, channels)) * 60000).astype(dtype)
    center, scale = statistics(channels)
    out = K.affine_numpy(img, scale, -center * scale, np.empty(img.shape, np.float32))
    ref = exact(img, center, scale)
    assert np.all(np.abs(out - ref) <= float32_bound(img, center, scale, ref))


@pytest.mark.parametrize("channels", [1, 3, 7])
def test_float64_is_the_rounded_float64_formula(channels):
    """Large offsets, where float32 arithmetic would cancel: the float64 route is correct to
    float32 rounding of the result itself (half an ulp, plus float64's own rounding)."""
    img = RNG.uniform(1e6, 1e6 + 1, (9, 7, channels))
    center, scale = np.full(channels, 1e6 + 0.5), np.full(channels, 3.0)
    out = K.affine_float64(img, center, scale, np.empty(img.shape, np.float32), bounded=False)
    ref = exact(img, center, scale)
    assert np.all(np.abs(out - ref) <= 0.5 * EPS32 * np.abs(ref) + 1e-12)


def test_float64_range_check():
    img = np.full((2, 2, 1), 1e300)
    with pytest.raises(ValueError, match="exceed the float32 range"):
        K.affine_float64(
            img, np.zeros(1), np.ones(1), np.empty(img.shape, np.float32), bounded=False
        )


ROUTES = [
    # (dtype, channels, cached, uniform statistics, large offset) -> backend
    (np.uint8, 3, False, True, False, "affine_lut"),
    (np.uint8, 3, True, True, False, "affine_lut"),
    (np.uint8, 3, False, False, False, "affine_lut"),
    (np.uint8, 200, True, False, False, "affine_lut"),
    (np.float64, 3, True, False, False, "affine_float64"),
    (np.float32, 3, True, False, True, "affine_float64"),
    (np.uint16, 3, True, False, False, "affine_opencv"),
    (np.float32, 1, False, True, False, "affine_opencv"),
    (np.float32, 5, True, True, False, "affine_opencv"),
    (np.float32, 5, True, False, False, "affine_numpy"),
    (np.uint16, 200, True, False, False, "affine_numpy"),
]


@pytest.mark.parametrize(("dtype", "channels", "cached", "uniform", "large", "backend"), ROUTES)
def test_router_follows_its_table(monkeypatch, dtype, channels, cached, uniform, large, backend):
    """The routing table in the _kernels docstring, entry by entry."""
    called = []
    for name in (
        "affine_lut",
        "affine_opencv",
        "affine_numpy",
        "affine_float64",
    ):
        original = getattr(K, name)
        monkeypatch.setattr(
            K, name, lambda *a, _n=name, _f=original, **k: called.append(_n) or _f(*a, **k)
        )
    img = (RNG.random((6, 5, channels)) * 200).astype(dtype)
    center = (
        np.full(channels, 1e3 if large else 0.5) if uniform else np.linspace(0.1, 0.9, channels)
    )
    center = center * (1e3 if large and not uniform else 1)
    scale = np.full(channels, 0.5) if uniform else np.linspace(0.2, 0.7, channels)
    K.affine(img, center, scale, np.empty(img.shape, np.float32), cached=cached, bounded=False)
    assert called == [backend]


@given(
    img=images(dtypes=(np.float64,), kinds=("random", "extreme", "tiny")), k=st.integers(-900, 900)
)
def test_per_image_modes_are_scale_invariant(img, k):
    """f(x * 2**k) == f(x) for float64 images as long as x * 2**k stays finite and normal:
    the overflow policy scales by exact powers of two."""
    with np.errstate(over="ignore"):
        scaled = np.ldexp(img, k)
    assume_normal = (
        np.all(np.isfinite(scaled))
        and np.array_equal(scaled == 0, img == 0)  # nothing flushed to zero
        and np.all((scaled == 0) | (np.abs(scaled) >= np.finfo(np.float64).tiny))
        and np.all((img == 0) | (np.abs(img) >= np.finfo(np.float64).tiny))
    )
    if not assume_normal:
        return
    for mode in ("image", "image_per_channel", "min_max", "min_max_per_channel"):
        a, b = F.normalize_per_image(img, mode), F.normalize_per_image(scaled, mode)
        np.testing.assert_allclose(a, b, rtol=4 * EPS32, atol=4 * EPS32, err_msg=mode)


@pytest.mark.parametrize("magnitude", [1e-300, 1e-170, 1.0, 1e170, 1e300])
@pytest.mark.parametrize("mode", ["image", "image_per_channel", "min_max", "min_max_per_channel"])
def test_per_image_modes_at_the_ends_of_float64(magnitude, mode):
    """Against the float64 reference computed on the unscaled pattern (the formula is scale
    invariant): tiny spreads no longer give zeros, huge values no longer Inf/NaN."""
    pattern = RNG.uniform(-1, 1, (5, 6, 3))
    out = F.normalize_per_image(pattern * magnitude, mode)
    reference.assert_close(out, reference.per_image(pattern, mode), 2.0 * np.abs(pattern).max())


def test_tiny_spread_statistics():
    """Squares of 1e-170 underflow: std must still be exact (two passes on a scaled copy)."""
    img = np.array([[1e-170, 3e-170]])
    _, center, scale, _, exponents = S.per_image_plan(img, get_mode("image"))
    std = np.ldexp(1 / scale, exponents)
    np.testing.assert_allclose(np.ldexp(center, exponents), [2e-170], rtol=1e-15)
    np.testing.assert_allclose(std, [1e-170], rtol=1e-15)


@pytest.mark.parametrize("mode", ["image_per_channel", "min_max_per_channel"])
def test_channels_of_very_different_scales(mode):
    """Per-channel statistics rescue each channel on its own scale (found by the sweep: one
    channel near float64's maximum made the other underflow)."""
    img = np.array([[[0.0, 4.49e307], [1.0, 1.0]]])
    unit = [np.ldexp(img[..., 0], 0), np.ldexp(img[..., 1], -1023)]  # each channel near 1
    expected = np.stack([reference.per_image(channel, mode) for channel in unit], axis=-1)
    reference.assert_close(F.normalize_per_image(img, mode), expected, 2.0)


def test_tiny_values_around_zero():
    """Mean 0 and squares in the subnormal range (imprecise, not zero): std must be exact."""
    pattern = np.array([[-1.0, 1.0, 3.0, -2.0, 0.5]])
    for magnitude in (1e-160, 1e-200, 1e-300):
        out = F.normalize_per_image(pattern * magnitude, "image")
        reference.assert_close(out, reference.per_image(pattern, "image"), 2.0)
