"""One rule, one message: the numpy core (albu_norm.Normalize) and the torch module answer the
same bad input with the same error class and the same message (issue 16, item 3)."""

from __future__ import annotations

import numpy as np
import pytest

import albu_norm as AN

torch = pytest.importorskip("torch")
ANT = pytest.importorskip("albu_norm.torch")

RNG = np.random.default_rng(16)
IMAGE = RNG.integers(0, 256, (8, 10, 3), dtype=np.uint8)


def _both(cpu, gpu):
    """(type, message) of the errors of the two calls."""
    with pytest.raises((TypeError, ValueError)) as on_cpu:
        cpu()
    with pytest.raises((TypeError, ValueError)) as on_torch:
        gpu()
    return on_cpu.value, on_torch.value


def _batch(img):
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))[None]


def test_float_batch_on_the_0_255_scale_is_refused_by_both():
    img = IMAGE.astype(np.float32)  # 0-255 values, but float: the dtype rule says 0-1
    cpu, gpu = _both(
        lambda: AN.Normalize(preset="imagenet")(image=img),
        lambda: ANT.Normalize(preset="imagenet")(_batch(img)),
    )
    assert type(cpu) is type(gpu) is ValueError
    for error in (cpu, gpu):
        assert "0-1 scale" in str(error) and "max_pixel_value=255" in str(error)
        assert "255" in str(error)
    # on the 0-1 scale both accept it, and give the formula's numbers
    scaled = img / 255.0
    out = ANT.Normalize(preset="imagenet")(_batch(scaled))[0].numpy().transpose(1, 2, 0)
    mean, std = np.array((0.485, 0.456, 0.406)), np.array((0.229, 0.224, 0.225))
    ref = (scaled.astype(np.float64) - mean) / std
    np.testing.assert_allclose(out, ref, rtol=0, atol=4e-6)


def test_check_values_false_skips_the_scale_check_and_says_so():
    img = IMAGE.astype(np.float32)
    out = ANT.Normalize(preset="imagenet", check_values=False)(_batch(img))
    assert float(out.amax()) > 100  # the documented opt-out: the 0-255 values pass unchecked
    with pytest.raises(ValueError, match="check_values"):
        ANT.Normalize(preset="imagenet", check_values="no")


@pytest.mark.parametrize("kind", ["complex", "nan"])
def test_bad_masks_are_refused_by_both(kind):
    if kind == "complex":
        mask = np.ones(IMAGE.shape[:2], np.complex64)
    else:
        mask = np.ones(IMAGE.shape[:2], np.float32)
        mask[2, 3] = np.nan
    cpu, gpu = _both(
        lambda: AN.resolve_spec("image", masked=True).apply(IMAGE, mask),
        lambda: ANT.Normalize(normalization="image", masked=True)(
            _batch(IMAGE), mask=torch.from_numpy(mask)[None]
        ),
    )
    assert type(cpu) is type(gpu)
    assert str(cpu) == str(gpu).replace("torch.", "")  # the dtype as each library names it


def test_mask_presence_and_ignore_value_length_have_one_message():
    cpu, gpu = _both(
        lambda: AN.resolve_spec("image", masked=True).apply(IMAGE, None),
        lambda: ANT.Normalize(normalization="image", masked=True)(_batch(IMAGE)),
    )
    assert type(cpu) is type(gpu) is ValueError
    assert str(cpu).split(":")[0] == str(gpu).split(":")[0]  # the fix says how, per backend
    cpu, gpu = _both(
        lambda: AN.Normalize(normalization="image", ignore_value=(0, 0))(image=IMAGE),
        lambda: ANT.Normalize(normalization="image", ignore_value=(0, 0))(_batch(IMAGE)),
    )
    assert type(cpu) is type(gpu) is ValueError
    for error in (cpu, gpu):
        assert "ignore_value has 2 channel values" in str(error)
        assert "one per channel" in str(error)
