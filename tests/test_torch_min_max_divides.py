"""The torch module's min-max rows divide: ``(x - min) / (max - min)`` in float64, rounded to
float32, not ``(x - min) * (1 / (max - min))``. The two differ only where the quotient is a
float32 rounding midpoint and the reciprocal is inexact: here min = -9, max = 40 (spread 49,
whose float64 ``49 * (1 / 49)`` is not 1) and values x with ``(x + 9) / 49`` exactly halfway
between two float32 numbers (all scaled by 2**-5 to stay on the 0-1 scale; the modes are
invariant to powers of two)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ANT = pytest.importorskip("albu_norm.torch")


HALFWAY = [
    float.fromhex(h)
    for h in (
        "-0x1.eeap-16",
        "-0x1.d62p-16",
        "-0x1.bdap-16",
        "-0x1.a52p-16",
        "-0x1.8cap-16",
        "-0x1.742p-16",
        "-0x1.5bap-16",
        "-0x1.432p-16",
    )
]


def _values() -> np.ndarray:
    return np.array([-9.0, 40.0, *HALFWAY, 0.0, 1.0, 31.5], dtype=np.float64) * 2.0**-5


def test_the_values_are_float32_midpoints_of_the_quotient():
    x = _values()
    assert (x.astype(np.float32).astype(np.float64) == x).all()  # float32 inputs, exactly
    low, spread = x.min(), x.max() - x.min()
    quotient, product = (x - low) / spread, (x - low) * (1.0 / spread)
    assert (quotient.astype(np.float32) != product.astype(np.float32)).sum() >= 4


@pytest.mark.parametrize("input_dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("mode", ["min_max", "min_max_per_channel"])
def test_min_max_is_the_float64_quotient_rounded_once(mode, input_dtype):
    x = _values()
    image = np.stack([x, x[::-1]])[None, :, None, :]  # (1, 2, 1, W): two channels, same range
    want = ((image - x.min()) / (x.max() - x.min())).astype(np.float32)
    module = ANT.Normalize(normalization=mode)
    out = module(torch.from_numpy(image).to(input_dtype)).numpy()
    np.testing.assert_array_equal(out, want)
    assert out.min() == 0.0 and out.max() == 1.0


def test_min_max_masked_is_the_float64_quotient_rounded_once():
    x = _values()
    image = np.concatenate([x, [5.0, -7.0]])[None, None, None, :]  # two left-out pixels
    kept = np.ones((1, 1, image.shape[-1]), dtype=bool)
    kept[..., -2:] = False
    want = ((image - x.min()) / (x.max() - x.min())).astype(np.float32)
    module = ANT.Normalize(normalization="min_max", masked=True)
    out = module(torch.from_numpy(image).float(), mask=torch.from_numpy(kept)).numpy()
    np.testing.assert_array_equal(out, want)
