"""Reusable checker for every transform (as torchvision's check_transform)."""

from __future__ import annotations

import inspect
import pickle

import albumentations as A
import numpy as np


def compose(transform, *extra) -> A.Compose:
    # A dual transform that never fires keeps Albumentations from warning that nothing
    # processes the bboxes/keypoints: they must still come out unchanged.
    return A.Compose(
        [A.HorizontalFlip(p=0.0), *extra, transform],
        # positional: the keyword is `format` in 2.0.x and `coord_format` in AlbumentationsX
        bbox_params=A.BboxParams("pascal_voc", label_fields=["labels"]),
        keypoint_params=A.KeypointParams("xy"),
    )


def check_saved_arguments(transform) -> None:
    """The saved config holds exactly the constructor's parameters (and the class key): a
    parameter missing from both a saved config and its reload would go unnoticed by comparing
    the two, and Albumentations 2.x silently resets a parameter it does not save."""
    saved = A.to_dict(transform)["transform"]
    parameters = set(inspect.signature(type(transform).__init__).parameters) - {"self", "strict"}
    assert set(saved) - {"__class_fullname__"} == parameters, (type(transform), sorted(saved))
    assert saved["__class_fullname__"] == f"albu_norm.transforms.{type(transform).__name__}"


def check_transform(transform, img: np.ndarray, other: np.ndarray | None = None) -> np.ndarray:
    """Assert the contract every albu_norm transform keeps, and return its output on img.

    No mutation of the input; float32 output of the input's shape, never sharing memory with
    it; masks, bboxes and keypoints untouched; identical results after pickle and after a
    to_dict/from_dict round trip; a batch (images=) equal to a loop of single calls.
    """
    before = img.copy()
    height, width = img.shape[:2]
    mask = (np.arange(height * width).reshape(height, width) % 3).astype(np.uint8)
    bboxes = [(1, 2, width - 1, height - 1)]
    keypoints = [(1.5, 2.5)]
    result = compose(transform)(
        image=img, mask=mask, bboxes=bboxes, labels=[7], keypoints=keypoints
    )
    out = result["image"]
    np.testing.assert_array_equal(img, before)
    assert out.dtype == np.float32
    assert out.shape == img.shape
    assert not np.shares_memory(out, img)
    np.testing.assert_array_equal(result["mask"], mask)
    # Albumentations converts boxes to [0, 1] and back: equal up to that float rounding
    np.testing.assert_allclose(np.asarray(result["bboxes"]), np.asarray(bboxes), atol=1e-9)
    np.testing.assert_allclose(np.asarray(result["keypoints"])[:, :2], keypoints, atol=1e-9)
    assert list(result["labels"]) == [7]

    clone = pickle.loads(pickle.dumps(transform))
    np.testing.assert_array_equal(clone(image=img)["image"], out)
    check_saved_arguments(transform)
    restored = A.from_dict(A.to_dict(transform))
    assert A.to_dict(restored) == A.to_dict(transform)
    np.testing.assert_array_equal(restored(image=img)["image"], out)

    other = img[::-1].copy() if other is None else other
    batch = np.stack([img, other])
    batch_out = A.Compose([transform])(images=batch)["images"]
    assert batch_out.dtype == np.float32 and batch_out.shape == batch.shape
    np.testing.assert_array_equal(batch_out[0], out)
    np.testing.assert_array_equal(batch_out[1], transform(image=other)["image"])
    np.testing.assert_array_equal(batch, np.stack([before, other]))
    return out
