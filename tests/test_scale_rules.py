"""Scale rules at the seams (issue 17): a statistics record's max_pixel_value of 255 or 65535
with no dtype describes the uint8/uint16 data it came from; applied to a float image on the
0-1 scale it must not divide by 255 a second time. Reference: the formula
(x / max_pixel_value - mean) / std in float64, with the dtype rule's max_pixel_value."""

from __future__ import annotations

import numpy as np
import pytest

import albu_norm as AN

MEAN, STD = (0.5, 0.4, 0.3), (0.25, 0.2, 0.1)


def _reference(img: np.ndarray, max_pixel_value: float) -> np.ndarray:
    return (img.astype(np.float64) / max_pixel_value - np.array(MEAN)) / np.array(STD)


@pytest.mark.parametrize("scale", [255, 65535, 255.0])
@pytest.mark.parametrize("with_mixed_flag", [False, True])
def test_a_record_without_dtype_scales_by_the_data_not_twice(scale, with_mixed_flag):
    record = {"mean": list(MEAN), "std": list(STD), "max_pixel_value": scale}
    if with_mixed_flag:
        record["mixed_dtypes"] = False
    rng = np.random.default_rng(0)
    transform = AN.Normalize(stats=record)
    floats = rng.random((6, 5, 3), dtype=np.float32)
    np.testing.assert_allclose(transform(image=floats)["image"], _reference(floats, 1.0), atol=2e-6)
    for dtype, top in ((np.uint8, 255), (np.uint16, 65535)):
        ints = rng.integers(0, top + 1, (6, 5, 3)).astype(dtype)
        np.testing.assert_allclose(transform(image=ints)["image"], _reference(ints, top), atol=2e-6)
    with pytest.raises(ValueError, match="0-1 scale"):  # 0-255 floats: a clear error
        transform(image=floats * 255)


def test_a_record_with_another_scale_keeps_it():
    record = {"mean": list(MEAN), "std": list(STD), "max_pixel_value": 10000}
    img = np.random.default_rng(1).integers(0, 10001, (6, 5, 3)).astype(np.uint16)
    out = AN.Normalize(stats=record)(image=img)["image"]
    np.testing.assert_allclose(out, _reference(img, 10000.0), atol=2e-6)
