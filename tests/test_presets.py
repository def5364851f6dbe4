"""The preset registry: golden constants from the sources, lookup, registration."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

import albu_norm as AN

import reference

# Typed from the defining files (see albu_norm.presets for repository and file).
GOLDEN = {
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    "inception": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    "clip": ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)),
    "yolo": ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
    "dpn": ((124 / 255, 117 / 255, 104 / 255), (1 / (0.0167 * 255),) * 3),
    "vit": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    "siglip": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    "dinov2": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    "convnext": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    "eva": ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)),
    # published in 0-255 units, BGR: keras imagenet_utils (caffe), detectron2 defaults.py,
    # mmdetection caffe configs; torchvision ssd.py (RGB, std 1/255)
    "caffe": ((103.939 / 255, 116.779 / 255, 123.68 / 255), (1 / 255,) * 3),
    "detectron2": ((103.530 / 255, 116.280 / 255, 123.675 / 255), (1 / 255,) * 3),
    "mmdet_caffe": ((103.530 / 255, 116.280 / 255, 123.675 / 255), (1 / 255,) * 3),
    "ssd_vgg": ((0.48235, 0.45882, 0.40784), (1 / 255,) * 3),
}
# Typed from the sources named in each record (read there, not from albu_norm):
GOLDEN.update(
    {
        # tensorflow/tpu .../efficientnet_lite_builder.py: MEAN_RGB = [127.0] * 3, STDDEV 128
        "efficientnet_lite": ((127 / 255,) * 3, (128 / 255,) * 3),
        # facebookresearch/segment-anything segment_anything/modeling/sam.py: pixel_mean/std
        "sam": (
            (123.675 / 255, 116.28 / 255, 103.53 / 255),
            (58.395 / 255, 57.12 / 255, 57.375 / 255),
        ),
        # apple/ml-mobileclip: ToTensor only; open_clip _mccfg mean 0, std 1
        "mobileclip": ((0.0,) * 3, (1.0,) * 3),
        # transformers image_processing_siglip2.py: image_mean = image_std = 0.5
        "siglip2": ((0.5,) * 3, (0.5,) * 3),
        # diffusers image_processor.py VaeImageProcessor.normalize: 2 * x - 1
        "sd_vae": ((0.5,) * 3, (0.5,) * 3),
        # keras imagenet_utils.py mode "tf": x / 127.5 - 1; mode "torch": ImageNet mean/std
        "keras_tf": ((127.5 / 255,) * 3, (127.5 / 255,) * 3),
        "keras_torch": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
        # Megvii-BaseDetection/YOLOX yolox/data/data_augment.py ValTransform: raw 0-255, BGR
        "yolox": ((0.0,) * 3, (1 / 255,) * 3),
        # facebookresearch/Mask2Former configs: PIXEL_MEAN/PIXEL_STD, RGB, 0-255
        "mask2former": (
            (123.675 / 255, 116.28 / 255, 103.53 / 255),
            (58.395 / 255, 57.12 / 255, 57.375 / 255),
        ),
    }
)
BGR = {"caffe", "detectron2", "mmdet_caffe", "yolox"}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_builtin_constants_exact(name):
    preset = AN.get_preset(name)
    assert preset.mean == GOLDEN[name][0]
    assert preset.std == GOLDEN[name][1]
    assert preset.channel_order == ("BGR" if name in BGR else "RGB")
    assert preset.name == name
    assert "/" in preset.source and len(preset.source) > 20  # repository/file named


def test_thirty_or_more_families_each_with_its_source():
    names = AN.list_presets()
    assert len(names) >= 30
    for name in names:
        preset = AN.get_preset(name)
        assert "/" in preset.source and len(preset.source) > 20, name  # repository/file named


@pytest.mark.parametrize(
    ("name", "bands", "first_mean", "last_std"),
    [
        # microsoft/torchgeo torchgeo/datamodules/eurosat.py MEAN/STD (raw DN), B8A last
        ("sentinel2_torchgeo", 13, 1354.40546513, 1231.58581042),
        # zhu-xlab/SSL4EO-S12 ssl4eo_dataset.py S2C_MEAN/S2C_STD
        ("ssl4eo_s12_s2l1c", 13, 1605.57504906, 1136.53823676),
        # IBM/terratorch prithvi_vit.py PRITHVI_V2_MEAN/STD (HLS x 10000)
        ("prithvi_eo_v2", 6, 1087.0, 1049.0),
    ],
)
def test_multispectral_families_on_the_raw_scale(name, bands, first_mean, last_std):
    preset = AN.get_preset(name)
    assert preset.max_pixel_value == 10000 and len(preset.band_names) == bands
    assert preset.mean[0] * 10000 == pytest.approx(first_mean, rel=1e-12)
    assert preset.std[-1] * 10000 == pytest.approx(last_std, rel=1e-12)
    raw = np.full((2, 2, bands), 1500, np.uint16)
    out = AN.Normalize(preset=name)(image=raw)["image"]
    expected = (1500 - np.array(preset.mean) * 10000) / (np.array(preset.std) * 10000)
    np.testing.assert_allclose(out[0, 0], expected, rtol=1e-5)


def test_every_timm_and_open_clip_name_resolves():
    timm_names = AN.list_presets("timm/*")
    clip_names = AN.list_presets("open_clip/*")
    assert len(timm_names) > 1500 and len(clip_names) > 150
    preset = AN.get_preset("timm/vit_base_patch16_clip_224.openai")
    # timm/models/vision_transformer.py: _cfg(mean=OPENAI_CLIP_MEAN, ...), _cfg's crop_pct 0.9
    assert preset.mean == (0.48145466, 0.4578275, 0.40821073)
    assert (preset.input_size, preset.crop_pct, preset.interpolation) == (
        (3, 224, 224),
        0.9,
        "bicubic",
    )
    assert AN.get_preset("timm/resnet50").name == "timm/resnet50.a1_in1k"  # the default tag


def test_model_names_in_transforms_and_configs():
    import albumentations as A

    transform = AN.Normalize(preset="open_clip/ViT-B-32:laion2b_s34b_b79k")
    saved = A.to_dict(transform)["transform"]
    assert saved["preset"] == "open_clip/ViT-B-32:laion2b_s34b_b79k"
    assert A.from_dict(A.to_dict(transform)).spec == transform.spec
    with pytest.raises(ValueError, match=r"Did you mean 'timm/convnext_small\.fb_in22k_ft_in1k'"):
        AN.Normalize(preset="timm/convnext_smal.fb_in22k_ft_in1k")
    with pytest.raises(ValueError, match="reserved for model names"):
        AN.register_preset("timm/mine", mean=(0.5,), std=(0.5,))


def test_eval_transforms_follow_the_model_record(photo):
    import cv2

    pipeline = AN.eval_transforms("timm/resnet50.a1_in1k")  # 224, crop_pct 0.95, bicubic
    # timm transforms_imagenet_eval: the shorter side to floor(224 / 0.95) = 235, the longer
    # int(235 * long / short) (torchvision Resize), crop at int(round((side - 224) / 2.0));
    # the default resampler shrinks with cv2.INTER_AREA
    height, width = photo.shape[:2]
    short, long = sorted((height, width))
    new_long = int(235 * long / short)
    new = (235, new_long) if height <= width else (new_long, 235)
    resized = cv2.resize(photo, new[::-1], interpolation=cv2.INTER_AREA)
    top, left = (round((side - 224) / 2.0) for side in new)
    crop = resized[top : top + 224, left : left + 224]
    out = pipeline(image=photo)["image"]
    assert out.shape == (224, 224, 3)
    np.testing.assert_allclose(
        out, reference.fixed(crop, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), 255.0), atol=1e-5
    )
    squash = AN.eval_transforms("open_clip/MobileCLIP-S1:datacompdr")  # shortest, 256, mean 0
    assert squash(image=photo)["image"].shape == (256, 256, 3)
    with pytest.raises(ValueError, match="defines no input size"):
        AN.eval_transforms("clip")


def test_list_presets_has_the_builtins():
    assert set(GOLDEN) <= set(AN.list_presets())
    assert AN.list_presets() == sorted(AN.list_presets())


def test_unknown_name_lists_close_matches():
    with pytest.raises(ValueError, match="Did you mean 'clip'"):
        AN.get_preset("clp")
    with pytest.raises(ValueError, match="Known presets: arcface, beit, blip, caffe"):
        AN.get_preset("zzzz")
    with pytest.raises(TypeError):
        AN.get_preset(3)  # type: ignore[arg-type]


def test_preset_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        AN.get_preset("imagenet").mean = (0.0, 0.0, 0.0)  # type: ignore[misc]


def test_register_use_and_unregister():
    preset = AN.register_preset(
        "my_data", mean=(0.3, 0.4, 0.5), std=(0.2, 0.2, 0.1), source="stats of my data"
    )
    try:
        assert AN.get_preset("my_data") is preset
        img = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
        out = AN.Normalize(preset="my_data")(image=img)["image"]
        np.testing.assert_allclose(
            out, reference.fixed(img, (0.3, 0.4, 0.5), (0.2, 0.2, 0.1), 255.0), atol=1e-6
        )
        AN.register_preset(
            "my_data", mean=(0.3, 0.4, 0.5), std=(0.2, 0.2, 0.1), source="stats of my data"
        )  # same values again: fine
        with pytest.raises(ValueError, match="already registered"):
            AN.register_preset("my_data", mean=(0.1,), std=(0.1,))
        AN.register_preset("my_data", mean=(0.1,), std=(0.1,), overwrite=True)
        assert AN.get_preset("my_data").mean == (0.1,)
    finally:
        AN.unregister_preset("my_data")
    assert "my_data" not in AN.list_presets()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "imagenet", "mean": (0.1,), "std": (0.1,)}, "built-in"),
        (
            {"name": "x", "mean": (0.1, 0.2), "std": (0.1, 0.2, 0.3)},
            "mean has 2 values and std has 3",
        ),
        ({"name": "x", "mean": (0.1,), "std": (0.0,)}, "std must be finite numbers > 0"),
        ({"name": "x", "mean": (float("inf"),), "std": (1.0,)}, "mean must be finite"),
        ({"name": "x", "mean": (), "std": ()}, "mean is empty"),
        ({"name": "x", "mean": (0.1,), "std": (0.1,), "channel_order": "RBG"}, "channel_order"),
        # a string is not a list of band names ("RGB" is not three names R, G, B)
        ({"name": "x", "mean": (0.1,) * 3, "std": (0.1,), "band_names": "RGB"}, "band_names"),
        ({"name": "x", "mean": (0.1,) * 3, "std": (0.1,), "band_names": ["R", "G"]}, "2 band"),
    ],
)
def test_register_rejects(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AN.register_preset(**kwargs)


def test_builtins_cannot_be_removed():
    with pytest.raises(ValueError, match="built-in"):
        AN.unregister_preset("clip")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("input_size", 224),
        ("input_size", (3, 224)),
        ("input_size", (3, 224.0, 224)),
        ("input_size", (3, 0, 224)),
        ("crop_pct", "0.875"),
        ("crop_pct", 0.0),
        ("crop_pct", float("nan")),
        ("crop_pct", True),
    ],
)
def test_preset_model_fields_are_checked(field, value):
    with pytest.raises(ValueError, match=field):
        AN.Preset("x", (0.5,) * 3, (0.2,) * 3, **{field: value})


def test_open_clip_model_without_a_tag_lists_its_tags():
    # open_clip/pretrained.py lists RN50 with the tags openai, yfcc15m, cc12m
    with pytest.raises(ValueError, match="needs its pretrained tag") as error:
        AN.get_preset("open_clip/RN50")
    message = str(error.value)
    assert "RN50 has 3: 'open_clip/RN50:cc12m', 'open_clip/RN50:openai', " in message
    assert "'open_clip/RN50:yfcc15m'" in message
    with pytest.raises(ValueError, match="RN50 has 3"):
        AN.get_preset("open_clip/rn50")  # the case forgiven in the hint


@pytest.mark.parametrize(
    ("name", "meant"),
    [
        ("CLIP", "clip"),
        ("ImageNet", "imagenet"),
        ("TIMM/resnet50", "timm/resnet50"),
        ("timm/ConvNeXt_small.fb_in22k_ft_in1k", "timm/convnext_small.fb_in22k_ft_in1k"),
        ("open_clip/vit-b-32:laion2b_s34b_b79k", "open_clip/ViT-B-32:laion2b_s34b_b79k"),
    ],
)
def test_a_case_only_difference_gets_the_name(name, meant):
    with pytest.raises(
        ValueError, match=f"Did you mean {re.escape(repr(meant))}\\? .*only by case"
    ):
        AN.get_preset(name)
    AN.get_preset(meant)
