"""``eval_transforms`` against timm's and open_clip's own evaluation transforms, on the
repository's photos (skipped where timm / open_clip are not installed; CI runs it in the
models environment, ``.ci/run``).

The references are the libraries' pipelines themselves, built from the pretrained configs
without weights: timm ``create_transform(**resolve_data_config(pretrained_cfg=...))``
(``timm/data/transforms_factory.py``), open_clip ``image_transform_v2(PreprocessCfg(...))``
(``open_clip/transform.py``), applied to PIL images as their loaders do.

Tolerances: ``resample="pil"`` gives the libraries' pixels, so the normalized outputs agree to
float32 rounding (|diff| <= 2e-6; Normalize computes ``(x - m) / s`` in float32, torchvision's
``Normalize`` after ``ToTensor``'s ``x / 255``). The default OpenCV resampler is held to a mean
|diff| <= 0.02 per model over the photos and <= 0.05 per photo (measured 0.003-0.015).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import albu_norm as AN
from conftest import PHOTO_NAMES, load_photo

timm = pytest.importorskip("timm")
open_clip = pytest.importorskip("open_clip")
Image = pytest.importorskip("PIL.Image")

# Each differs from the others in crop_pct, crop mode, interpolation or input size.
TIMM_MODELS = (
    "timm/resnet50.a1_in1k",  # 224, crop_pct 0.95 (235: odd margins), bicubic, center
    "timm/convnext_small.fb_in22k_ft_in1k",  # 224, 0.875, bicubic, center
    "timm/resnet18.tv_in1k",  # 224, 0.875, bilinear, center
    "timm/inception_v3.tv_in1k",  # 299, 0.875, bicubic, center
    "timm/convnext_small.in12k_ft_in1k_384",  # 384, 1.0, bicubic, squash
    "timm/volo_d5_448.sail_in1k",  # 448, crop_pct 1.15: resized to 389, padded to 448
    "timm/deepseek_vit_412m.deepseek_v4_flash_vision_exp",  # 392, 1.0, bicubic, border
    "timm/vit_base_patch16_sapiens2.fb",  # (1024, 768), 1.0, bilinear, squash
)
OPEN_CLIP_MODELS = (
    "open_clip/ViT-B-32:laion2b_s34b_b79k",  # 224, bicubic, shortest
    "open_clip/ViT-B-16-SigLIP:webli",  # 224, bicubic, squash
    "open_clip/MobileCLIP-S1:datacompdr",  # 256, bilinear, shortest
    "open_clip/ViT-L-14-CLIPA-336:datacomp1b",  # 336, bilinear, squash
)
PIL_MAX = 2e-6
OPENCV_MEAN = 0.02
OPENCV_PHOTO = 0.05


def library_transform(name: str):
    library, _, rest = name.partition("/")
    if library == "timm":
        from timm.data import create_transform, resolve_data_config
        from timm.models import get_pretrained_cfg

        cfg = get_pretrained_cfg(rest, allow_unregistered=False)
        return create_transform(**resolve_data_config(pretrained_cfg=cfg.to_dict()))
    from open_clip.transform import PreprocessCfg, image_transform_v2, merge_preprocess_dict

    model, tag = rest.split(":")
    preprocess = merge_preprocess_dict(
        dataclasses.asdict(PreprocessCfg()), open_clip.get_pretrained_cfg(model, tag)
    )
    preprocess["size"] = open_clip.get_model_config(model)["vision_cfg"]["image_size"]
    return image_transform_v2(PreprocessCfg(**preprocess), is_train=False)


@pytest.fixture(scope="module")
def photos():
    return [load_photo(name) for name in PHOTO_NAMES]


@pytest.mark.parametrize("name", TIMM_MODELS + OPEN_CLIP_MODELS)
def test_eval_transforms_give_the_library_output(name, photos):
    reference = library_transform(name)
    pil = AN.eval_transforms(name, resample="pil")
    opencv = AN.eval_transforms(name)
    differences = []
    for photo in photos:
        expected = reference(Image.fromarray(photo)).numpy().transpose(1, 2, 0)
        exact = pil(image=photo)["image"]
        assert exact.shape == expected.shape
        assert np.abs(exact - expected).max() <= PIL_MAX, name
        near = opencv(image=photo)["image"]
        assert near.shape == expected.shape
        differences.append(float(np.abs(near - expected).mean()))
    assert max(differences) <= OPENCV_PHOTO, (name, differences)
    assert np.mean(differences) <= OPENCV_MEAN, (name, differences)


@pytest.mark.parametrize("resize_mode", ["shortest", "squash", "longest"])
@pytest.mark.parametrize("size", [(224, 224), (256, 320)])
def test_resize_crop_is_open_clip_geometry_in_every_mode(photos, resize_mode, size):
    """open_clip's modes and sizes beyond the shipped table ("longest", non-square), on
    image_transform directly (mean 0, std 1, so the outputs are the pixels / 255)."""
    from open_clip.transform import image_transform

    # image_transform passes bilinear on, except to ResizeKeepRatio for a non-square "shortest"
    # (its default, bicubic): with bilinear there, that case fails
    bicubic_only = resize_mode == "shortest" and size[0] != size[1]
    reference = image_transform(
        size, is_train=False, mean=(0.0,) * 3, std=(1.0,) * 3, resize_mode=resize_mode,
        interpolation="bilinear",
    )  # fmt: skip
    ours = AN.ResizeCrop(
        size=size, resize_size=size, resize_mode=resize_mode,
        interpolation="bicubic" if bicubic_only else "bilinear", resample="pil",
    )  # fmt: skip
    for photo in photos:
        expected = reference(Image.fromarray(photo)).numpy().transpose(1, 2, 0)
        out = ours(image=photo)["image"].astype(np.float32) / np.float32(255)
        assert out.shape == expected.shape
        assert np.abs(out - expected).max() <= PIL_MAX


@pytest.mark.parametrize("crop_mode", ["center", "squash", "border"])
@pytest.mark.parametrize(
    ("size", "crop_pct"), [((224, 224), 0.9), ((256, 320), 0.875), ((200, 200), 1.15)]
)
def test_resize_crop_is_timm_geometry_in_every_crop_mode(photos, crop_mode, size, crop_pct):
    """timm's transforms_imagenet_eval beyond the shipped table (non-square center and border,
    crop_pct above 1 in every mode); border pads with round(255 * mean)."""
    import math

    from timm.data.transforms_factory import transforms_imagenet_eval

    mean = (0.2, 0.4, 0.6)
    reference = transforms_imagenet_eval(
        img_size=size, crop_pct=crop_pct, crop_mode=crop_mode, interpolation="bicubic",
        mean=mean, std=(1.0, 1.0, 1.0),
    )  # fmt: skip
    ours = AN.ResizeCrop(
        size=size, resize_size=tuple(math.floor(v / crop_pct) for v in size),
        resize_mode={"center": "shortest", "squash": "squash", "border": "longest"}[crop_mode],
        interpolation="bicubic", resample="pil",
        fill=tuple(round(255 * v) for v in mean) if crop_mode == "border" else 0,
    )  # fmt: skip
    for photo in photos:
        expected = reference(Image.fromarray(photo)).numpy().transpose(1, 2, 0)
        out = ours(image=photo)["image"].astype(np.float32) / np.float32(255)
        assert out.shape == expected.shape
        assert np.abs((out - np.float32(mean)) - expected).max() <= PIL_MAX
