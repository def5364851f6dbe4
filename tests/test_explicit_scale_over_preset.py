"""An explicit max_pixel_value beats the one a preset (or a stats record) records."""

from __future__ import annotations

import numpy as np
import pytest

import albu_norm as AN
from albu_norm.spec import resolve_spec

torch = pytest.importorskip("torch")
ANT = pytest.importorskip("albu_norm.torch")

EXPLICIT = 4095.0  # 12-bit DN, not the preset's 10000


def _expected(img: np.ndarray, mean, std, scale: float) -> np.ndarray:
    """(x / scale - mean) / std in float64, rounded once to float32."""
    x = img.astype(np.float64)
    return ((x / scale - np.asarray(mean, np.float64)) / np.asarray(std, np.float64)).astype(
        np.float32
    )


@pytest.mark.parametrize("name", ["prithvi_eo_v1", "sentinel2_torchgeo"])
def test_explicit_max_pixel_value_beats_the_presets(name):
    preset = AN.get_preset(name)
    assert preset.max_pixel_value == 10000.0  # the preset records a scale of its own
    channels = len(preset.mean)
    rng = np.random.default_rng(0)
    img = rng.integers(0, 4096, size=(7, 5, channels), dtype=np.uint16)
    want = _expected(img, preset.mean, preset.std, EXPLICIT)

    spec = resolve_spec(preset=name, max_pixel_value=EXPLICIT)
    assert spec.max_pixel_value == EXPLICIT
    np.testing.assert_allclose(spec.apply(img), want, rtol=1e-6, atol=1e-5)

    out = AN.Normalize(preset=name, max_pixel_value=EXPLICIT)(image=img)["image"]
    np.testing.assert_allclose(out, want, rtol=1e-6, atol=1e-5)

    module = ANT.Normalize(preset=name, max_pixel_value=EXPLICIT)
    batch = torch.from_numpy(img.astype(np.int32)).permute(2, 0, 1)[None].to(torch.float32)
    got = module(batch)[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-5)

    # without the explicit value the preset's own 10000 applies
    default = resolve_spec(preset=name).apply(img)
    np.testing.assert_allclose(
        default, _expected(img, preset.mean, preset.std, 10000.0), rtol=1e-6, atol=1e-5
    )


def test_explicit_max_pixel_value_beats_a_stats_record():
    record = {"mean": [0.1, 0.2], "std": [0.05, 0.1], "max_pixel_value": 10000}
    img = np.arange(2 * 3 * 2, dtype=np.float32).reshape(2, 3, 2) * 300.0
    spec = resolve_spec(stats=record, max_pixel_value=EXPLICIT)
    assert spec.max_pixel_value == EXPLICIT
    np.testing.assert_allclose(
        spec.apply(img),
        _expected(img, record["mean"], record["std"], EXPLICIT),
        rtol=1e-6,
        atol=1e-5,
    )
