"""Where albu_norm meets Albumentations' machinery (issue 17): every composition takes the
statistics mask of the call it is in (a replay: the replay call's mask, never the recorded
one), a replay record holds no arrays, every image/mask target combination works or is a
ValueError naming the missing target (never a StopIteration, which silently ends an enclosing
``map``), and a mask is checked against its image's full shape in every entry point.

References: the float64 formula of tests/reference_modes.py, over the mask of the call.
"""

from __future__ import annotations

import itertools
import json

import albumentations as A
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import albu_norm as AN
from albu_norm import functional as F
from albu_norm.modes import get_mode
from tests.reference_modes import reference

EPS32 = float(np.finfo(np.float32).eps)
MODES = F.PER_IMAGE_NORMALIZATIONS


def _assert_reference(out: np.ndarray, img: np.ndarray, mode: str, mask: np.ndarray) -> None:
    ref = reference(img, get_mode(mode), mask).values
    bound = 8 * EPS32 * (np.abs(ref) + 1.0)
    np.testing.assert_array_less(np.abs(out.astype(np.float64) - ref), bound + 1e-30)


def _masks(draw: st.DrawFn, shape: tuple[int, int]) -> np.ndarray:
    flat = draw(st.lists(st.booleans(), min_size=shape[0] * shape[1], max_size=shape[0] * shape[1]))
    mask = np.array(flat, np.uint8).reshape(shape)
    mask[draw(st.integers(0, shape[0] - 1)), draw(st.integers(0, shape[1] - 1))] = 1
    return mask


@st.composite
def _two_masks(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    return _masks(draw, (12, 10)), _masks(draw, (12, 10))


def _compositions(mode: str) -> dict[str, tuple[A.BaseCompose, str]]:
    """name -> (pipeline, the mask target's name)."""

    def norm(key: str = "mask") -> AN.Normalize:
        return AN.Normalize(normalization=mode, mask_key=key)

    return {
        "Compose": (A.Compose([norm()]), "mask"),
        "strict Compose": (A.Compose([norm()], strict=True), "mask"),
        "Sequential": (A.Compose([A.Sequential([norm()], p=1)]), "mask"),
        "OneOf": (A.Compose([A.OneOf([norm()], p=1)]), "mask"),
        "SomeOf": (A.Compose([A.SomeOf([norm()], n=1, p=1)]), "mask"),
        "additional target": (
            A.Compose([norm("valid")], additional_targets={"valid": "mask"}),
            "valid",
        ),
        "ReplayCompose": (A.ReplayCompose([norm()]), "mask"),
    }


@pytest.mark.parametrize("mode", MODES)
@settings(max_examples=15, deadline=None)
@given(masks=_two_masks())
def test_every_composition_takes_the_mask_of_its_own_call(mode, masks):
    img = np.random.default_rng(0).integers(0, 256, (12, 10, 3), np.uint8)
    for pipeline, key in _compositions(mode).values():
        for mask in masks:  # the second call must not see the first call's mask
            # AlbumentationsX wants the canonical 'mask' next to an additional mask target:
            # a mask of ones there, which the statistics must not use
            other = {} if key == "mask" else {"mask": np.ones_like(mask)}
            out = pipeline(image=img, **{key: mask}, **other)["image"]
            _assert_reference(out, img, mode, mask)


@pytest.mark.parametrize("mode", MODES)
@settings(max_examples=15, deadline=None)
@given(masks=_two_masks())
def test_a_replay_takes_the_replay_calls_mask_and_its_record_is_json(mode, masks):
    recorded_mask, replay_mask = masks
    img = np.random.default_rng(1).integers(0, 256, (12, 10, 3), np.uint8)
    pipeline = A.ReplayCompose(
        [A.HorizontalFlip(p=0.5), AN.Normalize(normalization=mode, mask_key="mask")]
    )
    record = pipeline(image=img, mask=recorded_mask)["replay"]
    text = json.dumps(record)  # no arrays in the recorded parameters
    flipped = record["transforms"][0]["applied"]
    replayed = A.ReplayCompose.replay(json.loads(text), image=img, mask=replay_mask)["image"]
    seen_img = img[:, ::-1] if flipped else img
    seen_mask = replay_mask[:, ::-1] if flipped else replay_mask
    _assert_reference(replayed, seen_img, mode, seen_mask)


def test_a_replay_without_the_mask_target_is_a_clear_error():
    img = np.zeros((8, 8, 3), np.uint8)
    pipeline = A.ReplayCompose([AN.Normalize(normalization="image", mask_key="mask")])
    record = pipeline(image=img, mask=np.ones((8, 8), np.uint8))["replay"]
    with pytest.raises(ValueError, match="pass mask="):
        A.ReplayCompose.replay(record, image=img)


IMAGE_TARGETS = {
    "image": (8, 6, 3),
    "images": (2, 8, 6, 3),
    "volume": (3, 8, 6, 3),
    "volumes": (2, 3, 8, 6, 3),
}
MASK_TARGETS = {"mask": (8, 6), "masks": (2, 8, 6), "mask3d": (3, 8, 6), "masks3d": (2, 3, 8, 6)}
# the mask target each image target reads with mask_key="mask" (docs/masks.md)
READS = {"image": "mask", "images": "masks", "volume": "mask3d", "volumes": "masks3d"}


@pytest.mark.parametrize(
    ("image_target", "mask_target", "composed"),
    list(itertools.product(IMAGE_TARGETS, MASK_TARGETS, (False, True))),
)
def test_every_target_combination_works_or_names_the_missing_target(
    image_target, mask_target, composed
):
    img = np.random.default_rng(2).integers(0, 256, IMAGE_TARGETS[image_target], np.uint8)
    mask = np.ones(MASK_TARGETS[mask_target], np.uint8)
    transform = AN.Normalize(normalization="image", mask_key="mask")
    call = A.Compose([transform]) if composed else transform
    data = {image_target: img, mask_target: mask}
    if mask_target == READS[image_target]:
        out = call(**data)[image_target]
        assert out.shape == img.shape and out.dtype == np.float32
        return
    try:
        call(**data)
    except ValueError as error:  # never StopIteration, KeyError, IndexError
        message = str(error)
        assert READS[image_target] in message or "dimensions" in message or "shape" in message
    else:
        pytest.fail(f"{image_target}= with only {mask_target}= was accepted")


def test_image_with_only_masks_is_not_a_stop_iteration_inside_map():
    transform = AN.Normalize(normalization="image", mask_key="mask")
    calls = [dict(image=np.zeros((4, 4, 3), np.uint8), masks=np.ones((1, 4, 4), np.uint8))]
    with pytest.raises(ValueError, match="'mask'"):
        list(map(lambda data: transform(**data), calls))


@pytest.mark.parametrize("per_slice", [False, True])
@pytest.mark.parametrize("composed", [False, True])
def test_a_volume_mask_must_have_the_volumes_shape_not_only_its_row_count(per_slice, composed):
    # (2, 32, 16) has as many rows in all as (4, 16, 16): the tall reshape would accept it
    volume = np.random.default_rng(3).integers(0, 256, (4, 16, 16), np.uint8)
    transform = AN.Normalize(normalization="image", mask_key="mask", per_slice=per_slice)
    call = A.Compose([transform], is_check_shapes=False) if composed else transform
    with pytest.raises(ValueError, match="shape"):
        call(volume=volume, mask3d=np.ones((2, 32, 16), np.uint8))


@pytest.mark.parametrize("composed", [False, True])
def test_a_batch_of_masks_must_have_the_batchs_shape(composed):
    images = np.random.default_rng(4).integers(0, 256, (4, 16, 16), np.uint8)
    transform = AN.Normalize(normalization="image", mask_key="mask")
    call = A.Compose([transform], is_check_shapes=False) if composed else transform
    for masks in (np.ones((2, 32, 16), np.uint8), [np.ones((32, 16), np.uint8)] * 2):
        with pytest.raises(ValueError, match="shape"):
            call(images=images, masks=masks)
    ragged = [images[0], images[1, :8]]
    with pytest.raises(ValueError, match="shape"):
        transform(images=ragged, masks=[np.ones((16, 16), np.uint8)] * 2)
