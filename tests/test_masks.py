"""Statistics from the pixels that matter: masks, nodata, padding and whole volumes, against
float64 references over the kept pixels, nnU-Net's formula and MONAI's NormalizeIntensity."""

from __future__ import annotations

import albumentations as A
import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import images

import albu_norm as AN
from albu_norm import functional as F
from albu_norm.robust import normalize_robust
from albu_norm.stats import RunningStats

import reference
from checks import check_saved_arguments

MODES = F.PER_IMAGE_NORMALIZATIONS


def masked_reference(img, mode, kept, outside="normalize", fill=0.0):
    """Float64: the mode's statistics over the kept pixels, applied to every pixel."""
    x = img.astype(np.float64)
    x3 = x[..., None] if x.ndim == 2 else x
    values = x3[kept]  # (N, C)
    if len(values) == 0:
        return np.full(img.shape, fill)
    per_channel = mode.endswith("per_channel")
    axis = 0 if per_channel else None
    if mode.startswith("min_max"):
        center = values.min(axis=axis)
        spread = values.max(axis=axis) - center
    else:
        center = values.mean(axis=axis)
        spread = np.sqrt(((values - center) ** 2).mean(axis=axis))
        if mode == "per_image_standardization":
            spread = np.maximum(spread, 1 / np.sqrt(values.size))
        uniform = values.min(axis=axis) == values.max(axis=axis)
        spread = np.where(uniform, 0.0, spread)
    out = np.where(spread == 0, 0.0, (x3 - center) / np.where(spread == 0, 1, spread))
    if outside == "fill":
        out[~kept] = fill
    return out.reshape(img.shape)


def masks_for(shape, kind, rng):
    height, width = shape[:2]
    if kind == "empty":
        return np.zeros((height, width), np.uint8)
    if kind == "one":
        mask = np.zeros((height, width), bool)
        mask[rng.integers(height), rng.integers(width)] = True
        return mask
    if kind == "full":
        return np.ones((height, width), np.float32)
    return (rng.random((height, width)) < 0.5).astype(np.uint8)


@settings(max_examples=120)
@given(
    img=images(kinds=("random", "uniform"), layouts=("contiguous", "strided")),
    mode=st.sampled_from(MODES),
    kind=st.sampled_from(["empty", "one", "full", "random"]),
    outside=st.sampled_from(["normalize", "fill"]),
    seed=st.integers(0, 2**16),
)
def test_every_mode_over_the_kept_pixels(img, mode, kind, outside, seed):
    mask = masks_for(img.shape, kind, np.random.default_rng(seed))
    out = F.normalize_per_image(img, mode, mask=mask, outside=outside, fill=-3.0)
    ref = masked_reference(img, mode, mask != 0, outside, -3.0)
    assert np.all(np.isfinite(out))
    if kind == "empty":
        assert np.all(out == -3.0)  # no kept pixel: every value is fill
        return
    kept = mask != 0
    inside = np.abs(ref[kept]).max() + 1 if ref[kept].size else 1
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=2e-5 * inside)


@given(
    img=hnp.arrays(np.uint8, (6, 7, 3), elements=st.integers(0, 3)),
    value=st.one_of(st.integers(0, 3), st.tuples(*[st.integers(0, 3)] * 3)),
    mode=st.sampled_from(MODES),
)
def test_ignore_value_leaves_out_pixels_equal_in_every_channel(img, value, mode):
    target = np.broadcast_to(np.asarray(value), (3,))
    kept = ~np.all(img == target, axis=2)
    out = F.normalize_per_image(img, mode, ignore_value=value, outside="fill")
    np.testing.assert_allclose(out, masked_reference(img, mode, kept, "fill"), atol=2e-5, rtol=1e-5)


def test_one_kept_value_gives_exact_zeros():
    img = np.arange(12, dtype=np.float32).reshape(3, 4)
    mask = np.zeros((3, 4), np.uint8)
    mask[1, 2] = 1
    for mode in MODES:
        out = F.normalize_per_image(img, mode, mask=mask)
        assert out[1, 2] == 0.0 and np.all(out == 0.0)  # zero spread: the scale is 0


def test_letterbox_inside_the_photo_equals_the_unpadded_photo(photo):
    """The issue's pipeline: inside the photo, exactly the per-channel standardization of the
    resized photo; without the mask the black bars shift it."""
    photo = np.ascontiguousarray(photo[: photo.shape[0] * 3 // 5])  # never square: bars
    resize = A.Compose([A.LongestMaxSize(256)])
    resized = resize(image=photo)["image"]
    pipeline = A.Compose(
        [
            A.LongestMaxSize(256),
            A.PadIfNeeded(256, 256, border_mode=cv2.BORDER_CONSTANT, fill=0, fill_mask=0),
            AN.Normalize(normalization="image_per_channel", mask_key="valid"),
        ],
        additional_targets={"valid": "mask"},
    )
    ones = np.ones(photo.shape[:2], np.uint8)
    out = pipeline(image=photo, valid=ones, mask=ones)  # AlbumentationsX needs mask= as well
    inside = out["valid"] != 0
    assert inside.sum() == resized.shape[0] * resized.shape[1] < inside.size
    expected = reference.per_image(resized, "image_per_channel").reshape(-1, 3)
    np.testing.assert_allclose(out["image"][inside], expected, atol=2e-5)
    unmasked = A.Compose(
        [*pipeline.transforms[:2], AN.Normalize(normalization="image_per_channel")]
    )
    shifted = unmasked(image=photo)["image"][inside]
    assert np.abs(shifted - expected).max() > 0.1  # the bars change the photo's statistics


def test_nnunet_masked_zscore(photo):
    """nnU-Net ZScoreNormalization with use_mask_for_norm (nnunetv2 preprocessing/normalization/
    default_normalization_schemes.py), by its formula: mean/std over the mask, the outside 0."""
    img = photo[..., 1].astype(np.float32)
    mask = np.zeros(img.shape, bool)
    mask[20:120, 30:200] = True
    expected = np.zeros_like(img, dtype=np.float64)
    values = img[mask].astype(np.float64)
    expected[mask] = (values - values.mean()) / max(values.std(), 1e-8)
    out = F.normalize_per_image(img, "image", mask=mask, outside="fill", fill=0.0)
    np.testing.assert_allclose(out, expected, atol=2e-5)


def test_monai_normalize_intensity_nonzero_channel_wise(photo):
    """MONAI NormalizeIntensity(nonzero=True, channel_wise=True) on a padded photo (the photo
    kept nonzero): statistics over the nonzero pixels per channel, zeros kept."""
    torch = pytest.importorskip("torch")
    transforms = pytest.importorskip("monai.transforms")
    padded = np.zeros((photo.shape[0] + 40, photo.shape[1], 3), np.float32)
    padded[20:-20] = np.maximum(photo, 1)
    monai = transforms.NormalizeIntensity(nonzero=True, channel_wise=True)
    expected = monai(torch.from_numpy(np.moveaxis(padded, -1, 0).copy())).numpy()
    out = F.normalize_per_image(padded, "image_per_channel", ignore_value=0, outside="fill")
    np.testing.assert_allclose(np.moveaxis(out, -1, 0), expected, atol=2e-5)


def test_volumes_whole_or_per_slice():
    rng = np.random.default_rng(0)
    dark, bright = rng.integers(0, 60, (8, 9), np.uint8), rng.integers(100, 255, (8, 9), np.uint8)
    volume = np.stack([dark, bright])  # (D, H, W)
    whole = A.Compose([AN.Normalize(normalization="image")])(volume=volume)["volume"]
    np.testing.assert_allclose(
        whole, reference.per_image(volume.reshape(16, 9), "image").reshape(volume.shape), atol=2e-5
    )
    assert whole[0].mean() < -0.5 < 0.5 < whole[1].mean()  # the contrast between slices is kept
    sliced = A.Compose([AN.Normalize(normalization="image", per_slice=True)])(volume=volume)
    for index in range(2):
        np.testing.assert_allclose(
            sliced["volume"][index], reference.per_image(volume[index], "image"), atol=2e-5
        )
    volumes = np.stack([volume, volume[::-1]])
    out = A.Compose([AN.Normalize(normalization="image")])(volumes=volumes)["volumes"]
    np.testing.assert_array_equal(out[0], whole)


def test_volume_with_mask3d_and_batches_with_masks():
    rng = np.random.default_rng(1)
    volume = rng.integers(0, 255, (3, 6, 7, 2), np.uint8)
    mask3d = rng.random((3, 6, 7)) < 0.6
    pipeline = A.Compose(
        [AN.Normalize(normalization="image_per_channel", mask_key="mask", outside="fill")]
    )
    out = pipeline(volume=volume, mask3d=mask3d.astype(np.uint8))["volume"]
    tall = volume.reshape(18, 7, 2)
    expected = masked_reference(tall, "image_per_channel", mask3d.reshape(18, 7), "fill")
    np.testing.assert_allclose(out.reshape(18, 7, 2), expected, atol=2e-5)
    batch = volume  # three images, one mask each
    out = pipeline(images=batch, masks=mask3d.astype(np.uint8))["images"]
    for index in range(3):
        expected = masked_reference(batch[index], "image_per_channel", mask3d[index], "fill")
        np.testing.assert_allclose(out[index], expected, atol=2e-5)


def test_fixed_statistics_fill_outside():
    img = np.full((4, 5, 3), 128, np.uint8)
    mask = np.zeros((4, 5), np.uint8)
    mask[:2] = 1
    out = AN.Normalize(mask_key="mask", outside="fill", fill=-9.0)(image=img, mask=mask)["image"]
    np.testing.assert_allclose(
        out[:2],
        reference.fixed(img[:2], (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), 255.0),
        atol=1e-6,
    )
    assert np.all(out[2:] == -9.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mask_key": "mask"}, "with fixed statistics they would change nothing"),
        ({"normalization": "image", "outside": "fill"}, "nothing would be filled"),
        ({"normalization": "image", "outside": "crop", "mask_key": "mask"}, "outside must be"),
        ({"normalization": "image", "ignore_value": {0, 1}}, "not the channel order"),
        (
            {"normalization": "image", "mask_key": "m", "outside": "fill", "fill": float("nan")},
            "fill must be",
        ),
    ],
)
def test_masking_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AN.Normalize(**kwargs)


def test_missing_or_undeclared_mask_target_is_a_clear_error():
    def transform():
        return AN.Normalize(normalization="image", mask_key="valid")

    img, mask = np.zeros((4, 6), np.uint8), np.ones((4, 6), np.uint8)
    with pytest.raises(ValueError, match="the call has none: pass valid="):
        A.Compose([transform()], additional_targets={"valid": "mask"})(image=img, mask=mask)
    # not declared: a flip before Normalize would not move it (silently wrong statistics)
    with pytest.raises(ValueError, match="'valid' is not declared as a mask target"):
        A.Compose([A.HorizontalFlip(p=1), transform()])(image=img, valid=mask)
    with pytest.raises(ValueError, match="declared as 'image'"):
        A.Compose([transform()], additional_targets={"valid": "image"})(image=img, valid=img)
    with pytest.raises(ValueError, match="shape"):
        F.normalize_per_image(np.zeros((4, 4), np.uint8), "image", mask=np.ones((3, 4)))


def test_misspelt_mask_key_suggests_the_close_target_first():
    img, mask = np.zeros((4, 6), np.uint8), np.ones((4, 6), np.uint8)
    pipeline = A.Compose([AN.Normalize(normalization="image", mask_key="msk")])
    with pytest.raises(ValueError, match=r"^Normalize\(mask_key='msk'\): the call has no 'msk' "
                       r"target\. Did you mean mask_key='mask'\?"):  # fmt: skip
        pipeline(image=img, mask=mask)
    declared = A.Compose(
        [AN.Normalize(normalization="image", mask_key="lung_msk")],
        additional_targets={"lung_mask": "mask"},
    )
    with pytest.raises(ValueError, match=r"Did you mean mask_key='lung_mask'\?"):
        declared(image=img, mask=mask, lung_mask=mask)  # AlbumentationsX wants 'mask' too
    # the default name with a batch: its fallback 'masks' is used, no suggestion
    batch = A.Compose([AN.Normalize(normalization="image", mask_key="mask")])
    out = batch(images=np.stack([img + 1, img + 2]), masks=np.stack([mask, mask]))
    assert out["images"].shape == (2, 4, 6)


@pytest.mark.parametrize("method", ["percentile_zscore", "percentile_min_max", "median_iqr"])
@pytest.mark.parametrize("per_channel", [False, True])
def test_robust_over_the_kept_pixels(photo, method, per_channel):
    mask = np.zeros(photo.shape[:2], bool)
    mask[50:250, 40:300] = True
    out = normalize_robust(photo, method, per_channel=per_channel, mask=mask, outside="fill")
    ref = reference.robust(photo[50:250, 40:300], method, per_channel=per_channel)
    np.testing.assert_allclose(out[50:250, 40:300], ref, atol=2e-5, rtol=1e-5)
    assert np.all(out[~mask] == 0)


def test_masked_normalization_inverts(photo):
    mask = np.zeros(photo.shape[:2], bool)
    mask[10:100, 10:100] = True
    out = F.normalize_per_image(photo, "image_per_channel", mask=mask)
    stats = F.per_image_statistics(photo, "image_per_channel", mask=mask)
    restored = F.denormalize(out, stats["mean"], stats["std"], stats["max_pixel_value"])
    np.testing.assert_array_equal(restored, photo)


def test_dataset_statistics_leave_nodata_out():
    rng = np.random.default_rng(3)
    tiles = [rng.integers(1, 10000, (20, 20, 4), np.uint16) for _ in range(3)]
    for tile in tiles:
        tile[:5] = 0  # nodata rows
    stats = RunningStats(ignore_value=0)
    for tile in tiles:
        stats.update(tile)
    values = np.concatenate([tile[5:].reshape(-1, 4) for tile in tiles]).astype(np.float64)
    result = stats.result(percentiles=(50,))
    np.testing.assert_allclose(result.mean_raw, values.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(result.std_raw, values.std(axis=0), rtol=1e-10)
    np.testing.assert_allclose(result.percentiles_raw[50.0], np.percentile(values, 50, axis=0))


def test_new_arguments_are_saved():
    for transform in (
        AN.Normalize(
            normalization="image",
            mask_key="valid",
            ignore_value=(0, 0, 0),
            outside="fill",
            fill=-1.0,
            per_slice=True,
        ),
        AN.RobustNormalize(mask_key="mask", ignore_value=0),
    ):
        check_saved_arguments(transform)
        restored = A.from_dict(A.to_dict(transform))
        assert A.to_dict(restored) == A.to_dict(transform)


@given(
    value=st.floats(-1e6, 1e6),
    seed=st.integers(0, 2**16),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_dataset_statistics_compare_nodata_in_the_image_dtype(value, seed, dtype):
    # Class: one rule for nodata everywhere. A float image holds float32(0.1), never 0.1: the
    # value is compared in the image's dtype, by RunningStats as by the per-image modes (0.1.0's
    # RunningStats compared in float64 and kept every nodata pixel of a float32 image).
    rng = np.random.default_rng(seed)
    img = rng.uniform(-1e6, 1e6, (6, 5, 2)).astype(dtype)
    img[rng.random((6, 5)) < 0.4] = dtype(value)
    nodata = np.all(img == dtype(value), axis=2)
    kept = img[~nodata].astype(np.float64)
    stats = RunningStats(ignore_value=value).update(img)
    assert stats.pixels == len(kept)
    if len(kept):
        np.testing.assert_allclose(stats.result().mean_raw, kept.mean(axis=0), rtol=1e-12)
        out = F.normalize_per_image(img, "image_per_channel", ignore_value=value, outside="fill")
        assert np.all(out[nodata] == 0.0)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "0", {0}])
def test_dataset_statistics_refuse_a_nodata_value_that_matches_nothing(value):
    with pytest.raises(ValueError, match="ignore_value"):
        RunningStats(ignore_value=value)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("ignore_value", [None, 0.0])
def test_dataset_statistics_refuse_nan_among_the_kept_pixels(bad, ignore_value):
    # The masked path takes min/max from OpenCV, which skips NaN: the moments must catch it.
    img = np.random.default_rng(4).random((9, 8, 3)).astype(np.float32)
    img[:3] = 0.0
    img[6, 2, 1] = bad
    stats = RunningStats(ignore_value=ignore_value).update(img[:5])
    before = stats.result().mean_raw
    with pytest.raises(ValueError, match="NaN or Inf"):
        stats.update(img)
    np.testing.assert_array_equal(stats.result().mean_raw, before)


@settings(max_examples=40, deadline=None)
@given(
    top=st.floats(1e307, 1.7e308),
    low=st.floats(-1.7e308, 1.7e308),
    mode=st.sampled_from(sorted(F.PER_IMAGE_NORMALIZATIONS)),
)
def test_finite_float64_images_at_the_top_of_the_range_are_not_refused_with_a_mask(top, low, mode):
    # the finiteness check of the masked path must not overflow (max + min was inf here)
    img = np.full((6, 5, 3), top)
    img[2, 3, 1] = low
    mask = np.ones((6, 5), np.uint8)
    mask[0] = 0
    out = F.normalize_per_image(img, mode, mask=mask)
    assert np.isfinite(out).all()
