"""albu_norm.geometry and ResizeCrop: sizes and offsets against the rules as torchvision, timm
and open_clip write them (re-typed here), the resamplers against Pillow and OpenCV called
directly, serialization and errors."""

from __future__ import annotations

import builtins
import math

import albumentations as A
import cv2
import numpy as np
import pytest

import albu_norm as AN
from albu_norm.geometry import center_crop_or_pad, resize, resized_size

from checks import check_saved_arguments

Image = pytest.importorskip("PIL.Image")


def torchvision_short_side(height: int, width: int, size: int) -> tuple[int, int]:
    # torchvision/transforms/functional.py, _compute_resized_output_size (one size)
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = size, int(size * long / short)
    new_width, new_height = (new_short, new_long) if width <= height else (new_long, new_short)
    return new_height, new_width


def keep_ratio(height: int, width: int, target: tuple[int, int], longest: float):
    # timm/data/transforms.py and open_clip/transform.py, ResizeKeepRatio.get_params
    ratio_h, ratio_w = height / target[0], width / target[1]
    ratio = max(ratio_h, ratio_w) * longest + min(ratio_h, ratio_w) * (1.0 - longest)
    return tuple(round(x / ratio) for x in (height, width))


@pytest.mark.parametrize(
    ("height", "width"), [(512, 512), (300, 451), (451, 300), (480, 640), (1000, 7), (17, 35)]
)
@pytest.mark.parametrize("target", [(224, 224), (235, 235), (1024, 768), (100, 300)])
def test_resized_sizes_follow_the_libraries(height, width, target):
    if target[0] == target[1]:
        expected = torchvision_short_side(height, width, target[0])
    else:
        expected = keep_ratio(height, width, target, 0.0)
    assert resized_size((height, width), target, "shortest") == expected
    assert resized_size((height, width), target, "longest") == keep_ratio(
        height, width, target, 1.0
    )
    assert resized_size((height, width), target, "squash") == target


def test_truncation_and_rounding_differ_where_the_libraries_differ():
    # 480x641 to a 256 square: int(256 * 641 / 480) = 341 (341.87), round would give 342
    assert resized_size((480, 641), (256, 256), "shortest") == (256, 341)
    # ResizeKeepRatio (non-square target): ratio min(480 / 256, 641 / 257) = 1.875, rounded
    assert resized_size((480, 641), (256, 257), "shortest") == (256, 342)


@pytest.mark.parametrize(("side", "crop"), [(235, 224), (236, 224), (225, 224), (7, 4), (4, 4)])
def test_center_crop_offsets_round_half_to_even(side, crop):
    img = np.arange(side * side, dtype=np.int32).reshape(side, side)
    top = round((side - crop) / 2.0)  # torchvision CenterCrop
    np.testing.assert_array_equal(
        center_crop_or_pad(img, (crop, crop)), img[top : top + crop, top : top + crop]
    )
    if (side - crop) % 4 == 3:  # e.g. 235 - 224 = 11: round(5.5) = 6, floor division gives 5
        assert top == (side - crop) // 2 + 1


def test_pad_where_the_crop_is_larger():
    img = np.full((3, 5, 3), 9, np.uint8)
    out = center_crop_or_pad(img, (6, 4), fill=(1, 2, 3))
    assert out.shape == (6, 4, 3)
    # rows: 1 before, 2 after ((6 - 3) // 2, (6 - 3 + 1) // 2); columns: round(1 / 2.0) = 0
    np.testing.assert_array_equal(out[0], np.tile([1, 2, 3], (4, 1)))
    np.testing.assert_array_equal(out[4:], np.tile([1, 2, 3], (2, 4, 1)))
    np.testing.assert_array_equal(out[1:4], img[:, 0:4])


@pytest.mark.parametrize("interpolation", ["bicubic", "bilinear", "nearest", "lanczos", "box"])
def test_pil_resampler_is_pillow_on_the_rgb_image(astronaut, interpolation):
    filters = {
        "bicubic": Image.BICUBIC,
        "bilinear": Image.BILINEAR,
        "nearest": Image.NEAREST,
        "lanczos": Image.LANCZOS,
        "box": Image.BOX,
    }
    for size in ((235, 317), (600, 700)):  # down and up
        expected = np.asarray(Image.fromarray(astronaut).resize(size[::-1], filters[interpolation]))
        np.testing.assert_array_equal(resize(astronaut, size, interpolation, "pil"), expected)


def test_pil_resampler_float32_and_gray(astronaut):
    gray = astronaut[..., 0].astype(np.float32) / 255
    expected = np.asarray(Image.fromarray(gray).resize((100, 90), Image.BICUBIC))
    np.testing.assert_array_equal(resize(gray, (90, 100), "bicubic", "pil"), expected)
    with pytest.raises(ValueError, match="uint8 or float32 images, got uint16"):
        resize(astronaut.astype(np.uint16), (90, 100), "bicubic", "pil")


def test_opencv_resampler_areas_when_shrinking(astronaut):
    np.testing.assert_array_equal(
        resize(astronaut, (100, 120), "bicubic"),
        cv2.resize(astronaut, (120, 100), interpolation=cv2.INTER_AREA),
    )
    np.testing.assert_array_equal(
        resize(astronaut, (600, 700), "bicubic"),
        cv2.resize(astronaut, (700, 600), interpolation=cv2.INTER_CUBIC),
    )
    np.testing.assert_array_equal(  # an explicit flag is used as given
        resize(astronaut, (100, 120), cv2.INTER_CUBIC),
        cv2.resize(astronaut, (120, 100), interpolation=cv2.INTER_CUBIC),
    )


def test_pil_missing_is_a_clear_import_error(astronaut, monkeypatch):
    real_import = builtins.__import__

    def no_pil(name, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pil)
    with pytest.raises(ImportError, match="resample='pil' resizes with Pillow"):
        resize(astronaut, (10, 10), "bicubic", "pil")


def test_resize_crop_in_a_pipeline_moves_the_mask(astronaut):
    transform = AN.ResizeCrop(size=(224, 224), resize_size=(235, 235), resample="pil")
    mask = (astronaut[..., 0] > 128).astype(np.uint8)
    out = A.Compose([transform])(image=astronaut, mask=mask)
    height, width = astronaut.shape[:2]
    new = torchvision_short_side(height, width, 235)
    top, left = (round((n - 224) / 2.0) for n in new)
    expected = np.asarray(Image.fromarray(astronaut).resize(new[::-1], Image.BICUBIC))
    np.testing.assert_array_equal(out["image"], expected[top : top + 224, left : left + 224])
    resized_mask = cv2.resize(mask, new[::-1], interpolation=cv2.INTER_NEAREST)
    np.testing.assert_array_equal(out["mask"], resized_mask[top : top + 224, left : left + 224])


def test_eval_transforms_serialize_with_the_resampler(tmp_path, astronaut):
    for resample in ("opencv", "pil"):
        pipeline = AN.eval_transforms("timm/resnet50.a1_in1k", resample=resample)
        path = tmp_path / f"{resample}.yaml"
        A.save(pipeline, str(path), data_format="yaml")
        loaded = AN.load(str(path))
        assert loaded.transforms[0].resample == resample
        np.testing.assert_array_equal(
            loaded(image=astronaut)["image"], pipeline(image=astronaut)["image"]
        )
    check_saved_arguments(AN.ResizeCrop(size=(8, 8), resize_size=(9, 9)))


def test_timm_geometry_from_the_record():
    # resnet50.a1_in1k: 224, crop_pct 0.95 -> floor(224 / 0.95) = 235 (timm transforms_factory)
    resize_crop = AN.eval_transforms("timm/resnet50.a1_in1k").transforms[0]
    assert (resize_crop.size, resize_crop.resize_size) == ((224, 224), (235, 235))
    assert math.floor(224 / 0.95) == 235
    border = AN.eval_transforms("timm/deepseek_vit_412m.deepseek_v4_flash_vision_exp")
    mean = AN.get_preset("timm/deepseek_vit_412m.deepseek_v4_flash_vision_exp").mean
    assert border.transforms[0].resize_mode == "longest"
    assert border.transforms[0].fill == tuple(round(255 * v) for v in mean)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": (0, 4)}, "size must be"),
        ({"resize_mode": "short"}, "resize_mode"),
        ({"resample": "pillow"}, "resample"),
        ({"interpolation": "cubic"}, "interpolation 'cubic' is unknown"),
        ({"interpolation": cv2.INTER_CUBIC, "resample": "pil"}, "is an OpenCV flag"),
    ],
)
def test_resize_crop_errors(kwargs, message):
    arguments = {"size": (8, 8), "resize_size": (9, 9), **kwargs}
    with pytest.raises(ValueError, match=message):
        AN.ResizeCrop(**arguments)


@pytest.mark.parametrize("resample", ["opencv", "pil"])
@pytest.mark.parametrize("shape", [(1, 500, 3), (500, 1, 3), (1, 500)])
def test_an_extreme_aspect_ratio_keeps_a_side_of_at_least_one_pixel(resample, shape):
    pytest.importorskip("PIL")

    transform = AN.ResizeCrop(
        size=(224, 224), resize_size=(224, 224), resize_mode="longest", resample=resample
    )
    out = transform(image=np.zeros(shape, np.uint8))["image"]
    assert out.shape[:2] == (224, 224)
