"""Normalize inside Albumentations pipelines: values, batches, targets, errors."""

from __future__ import annotations

import albumentations as A
import numpy as np
import pytest

import albu_norm as AN

import reference
from checks import check_transform

# Constants typed from their sources (not read from albu_norm): open_clip constants.py,
# timm constants.py.
CLIP = ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))
IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
MODES = ("image", "image_per_channel", "min_max", "min_max_per_channel")


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"preset": "clip"},
        {"preset": "inception"},
        {"mean": 0.5, "std": 0.25},
        {"mean": IMAGENET[0], "std": IMAGENET[1], "max_pixel_value": 255.0},
        *({"normalization": mode} for mode in MODES),
    ],
)
def test_contract_on_photo(photo, kwargs):
    check_transform(AN.Normalize(**kwargs), photo)


@pytest.mark.parametrize("shape", [(20, 30), (20, 30, 1), (20, 30, 5)])
@pytest.mark.parametrize("mode", MODES)
def test_contract_other_channel_counts(shape, mode):
    img = np.random.default_rng(3).integers(0, 65536, size=shape, dtype=np.uint16)
    check_transform(AN.Normalize(normalization=mode), img)


def test_preset_values(photo):
    out = AN.Normalize(preset="clip")(image=photo)["image"]
    np.testing.assert_allclose(out, reference.fixed(photo, *CLIP, 255.0), rtol=0, atol=1e-6)
    out = AN.Normalize()(image=photo)["image"]  # default: ImageNet, as A.Normalize
    np.testing.assert_allclose(out, reference.fixed(photo, *IMAGENET, 255.0), rtol=0, atol=1e-6)


def test_same_numbers_as_albumentations_normalize(photo):
    """For fixed statistics on uint8, A.Normalize (a reference library) gives the same values."""
    ours = AN.Normalize(mean=IMAGENET[0], std=IMAGENET[1], max_pixel_value=255.0)
    theirs = A.Normalize(mean=IMAGENET[0], std=IMAGENET[1], max_pixel_value=255.0)
    np.testing.assert_allclose(ours(image=photo)["image"], theirs(image=photo)["image"], atol=1e-5)


def test_max_pixel_value_follows_dtype(photo):
    """A float image in [0, 1] gives the uint8 numbers (A.Normalize would divide by 255 again)."""
    as_float = (photo / 255.0).astype(np.float32)
    transform = AN.Normalize(preset="imagenet")
    np.testing.assert_allclose(
        transform(image=as_float)["image"], transform(image=photo)["image"], atol=2e-6
    )
    as_uint16 = photo.astype(np.uint16) * 257
    np.testing.assert_allclose(
        transform(image=as_uint16)["image"], transform(image=photo)["image"], atol=2e-6
    )


def test_statistics_come_from_the_crop(photo):
    crop = (slice(40, 200), slice(60, 260))
    pipeline = A.Compose(
        [
            A.Crop(x_min=60, y_min=40, x_max=260, y_max=200),
            AN.Normalize(normalization="image_per_channel"),
        ]
    )
    out = pipeline(image=photo)["image"]
    np.testing.assert_allclose(
        out, reference.per_image(photo[crop], "image_per_channel"), atol=1e-5
    )


def test_realistic_pipeline_with_crops_and_flips(photo):
    pipeline = A.Compose(
        [A.RandomCrop(128, 128), A.HorizontalFlip(p=0.5), AN.Normalize(normalization="image")],
        seed=5,
    )
    out = pipeline(image=photo)["image"].astype(np.float64)
    assert out.shape == (128, 128, 3)
    assert abs(out.mean()) < 1e-5 and abs(out.std() - 1) < 1e-5


@pytest.mark.parametrize("mode", MODES)
def test_batch_gets_per_image_statistics(mode, astronaut):
    dark = (astronaut // 4).astype(np.uint8)
    batch = np.stack([astronaut, dark, np.full_like(astronaut, 9)])
    out = A.Compose([AN.Normalize(normalization=mode)])(images=batch)["images"]
    for index, img in enumerate(batch):
        np.testing.assert_allclose(out[index], reference.per_image(img, mode), atol=1e-5)
    assert np.all(out[2] == 0)  # uniform image: exact zeros


def test_grayscale_batch():
    batch = np.random.default_rng(0).integers(0, 256, size=(3, 16, 16), dtype=np.uint8)
    out = A.Compose([AN.Normalize(normalization="image")])(images=batch)["images"]
    for index, img in enumerate(batch):
        np.testing.assert_allclose(out[index], reference.per_image(img, "image"), atol=1e-5)
    out = A.Compose([AN.Normalize(mean=0.5, std=0.2)])(images=batch)["images"]
    np.testing.assert_allclose(out, reference.fixed(batch, 0.5, 0.2, 255.0), atol=1e-5)


def test_probability_below_one_warns_and_skipped_calls_return_the_input():
    img = np.full((4, 4, 3), 100, np.uint8)
    with pytest.warns(UserWarning, match=r"Normalize\(p=0\) skips 100% of calls"):
        transform = AN.Normalize(p=0.0)
    assert transform(image=img)["image"] is img  # documented: Albumentations returns the input
    assert AN.Normalize().p == 1.0


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"preset": "imagnet"}, "Did you mean 'imagenet'"),
        ({"preset": "clip", "mean": 0.5, "std": 0.5}, "either preset='clip' or mean/std"),
        ({"mean": (0.5, 0.5, 0.5)}, "std is missing"),
        ({"std": (0.5, 0.5, 0.5)}, "mean is missing"),
        ({"mean": 0.5, "std": 0.0}, "std must be finite numbers > 0"),
        ({"mean": 0.5, "std": -2.0}, "std must be finite numbers > 0"),
        ({"mean": float("nan"), "std": 1.0}, "mean must be finite"),
        ({"mean": (0.1, 0.2), "std": (0.1, 0.2, 0.3)}, "mean has 2 values and std has 3"),
        ({"max_pixel_value": 0}, "max_pixel_value must be a finite number > 0"),
        ({"normalization": "image", "preset": "clip"}, "preset would be ignored"),
        ({"normalization": "min_max", "mean": 0.5, "std": 0.5}, "mean and std would be ignored"),
        ({"normalization": "per_pixel"}, "normalization"),
    ],
)
def test_invalid_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AN.Normalize(**kwargs)


@pytest.mark.parametrize("shape", [(16, 16), (16, 16, 5)])
def test_imagenet_on_wrong_channel_count(shape):
    img = np.zeros(shape, np.uint8)
    channels = 1 if len(shape) == 2 else 5
    with pytest.raises(
        ValueError, match=f"preset 'imagenet' has 3 channel values but the image has {channels}"
    ):
        AN.Normalize(preset="imagenet")(image=img)


def test_nan_in_per_image_mode():
    img = np.zeros((8, 8, 3), np.float32)
    img[1, 1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or Inf"):
        AN.Normalize(normalization="image")(image=img)


def test_numpy_statistics_accepted():
    transform = AN.Normalize(mean=np.array(IMAGENET[0]), std=np.array(IMAGENET[1]))
    img = np.full((4, 4, 3), 200, np.uint8)
    np.testing.assert_allclose(
        transform(image=img)["image"], reference.fixed(img, *IMAGENET, 255.0), atol=1e-6
    )


def test_thread_safe(photo):
    """DataLoader-style concurrent calls give the single-threaded results."""
    from concurrent.futures import ThreadPoolExecutor

    transforms = [
        AN.Normalize(preset="clip"),
        AN.Normalize(preset="caffe"),
        *(AN.Normalize(normalization=m) for m in MODES),
        AN.RobustNormalize(),
        AN.RobustNormalize(method="median_iqr", per_channel=True),
        AN.LocalContrastNormalize(),
    ]
    crops = [photo[i : i + 120, i : i + 150] for i in range(0, 80, 10)]
    jobs = [(t, c) for t in transforms for c in crops]
    expected = [t(image=c)["image"] for t, c in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda job: job[0](image=job[1])["image"], jobs * 3))
    for index, result in enumerate(results):
        np.testing.assert_array_equal(result, expected[index % len(jobs)])
