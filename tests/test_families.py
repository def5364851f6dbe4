"""Normalization families beyond fixed mean/std: TensorFlow's per-image standardization and
caffe-style BGR mean subtraction, against the sources' own formulas and test cases."""

from __future__ import annotations

import json
import math

import albumentations as A
import numpy as np
import pytest

import albu_norm as AN
from albu_norm import functional as F

from checks import check_transform


def tf_per_image_whitening(x: np.ndarray) -> np.ndarray:
    """TensorFlow's own test reference (tensorflow/python/ops/image_ops_test.py,
    PerImageWhiteningTest._NumpyPerImageWhitening), written out here."""
    num_pixels = np.prod(x.shape)
    mean = np.mean(x)
    stddev = max(np.std(x), 1.0 / math.sqrt(num_pixels))
    y = x.astype(np.float32)
    y -= mean
    y /= stddev
    return y


MODE = "per_image_standardization"


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_tf_basic_arange(dtype):
    """TF's testBasic: an arange image of shape [13, 9, 3] (uint8 wraps, as TF's does)."""
    x = (np.arange(13 * 9 * 3) % (256 if dtype == np.uint8 else 10**6)).astype(dtype)
    x = x.reshape(13, 9, 3)
    out = AN.Normalize(normalization=MODE)(image=x)["image"]
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, tf_per_image_whitening(x), atol=1e-5)  # TF's: 1e-4


def test_tf_uniform_image():
    """TF's testUniformImage: 249 everywhere, [19, 19, 3]: no NaN (here: exact zeros)."""
    out = F.normalize_per_image(np.full((19, 19, 3), 249, np.uint8), MODE)
    assert np.all(out == 0)


def test_tf_batch_whitening():
    """TF's testBatchWhitening: [4, 24, 24, 3] uniform random in [0, 255), per image."""
    batch = np.random.default_rng(0).uniform(0.0, 255.0, (4, 24, 24, 3))
    out = A.Compose([AN.Normalize(normalization=MODE)])(images=batch)["images"]
    for image_out, image in zip(out, batch):
        np.testing.assert_allclose(image_out, tf_per_image_whitening(image), atol=1e-5)


def test_tf_floor_decides_on_near_uniform_image():
    img = np.zeros((19, 19, 3), np.float32)
    img[4, 5, 1] = 0.5
    floor = 1 / math.sqrt(img.size)
    assert img.std() < floor  # the floor, not the std, divides
    out = F.normalize_per_image(img, MODE)
    np.testing.assert_allclose(out, tf_per_image_whitening(img), atol=1e-6)
    assert abs(out[4, 5, 1] - (0.5 - img.mean()) / floor) < 1e-4
    assert not np.isclose(out[4, 5, 1], F.normalize_per_image(img, "image")[4, 5, 1])


def test_tf_uses_raw_uint8_values(astronaut):
    """TF 2.x does not rescale uint8 to [0, 1] here: the floor acts on 0-255 values."""
    as_uint8 = F.normalize_per_image(astronaut, MODE)
    as_float = F.normalize_per_image(astronaut.astype(np.float32), MODE)
    np.testing.assert_allclose(as_uint8, as_float, atol=1e-5)
    check_transform(AN.Normalize(normalization=MODE), astronaut)


# ---------------------------------------------------------------------- caffe / BGR


def keras_caffe(rgb: np.ndarray) -> np.ndarray:
    """keras imagenet_utils mode='caffe': RGB -> BGR, then subtract the BGR ImageNet mean."""
    return rgb[..., ::-1].astype(np.float64) - np.array([103.939, 116.779, 123.68])


def test_caffe_matches_keras_formula(photo):
    out = AN.Normalize(preset="caffe")(image=photo)["image"]
    expected = keras_caffe(photo).astype(np.float32)
    assert np.all(np.abs(out - expected) <= np.spacing(np.abs(expected)))  # correctly rounded


def test_caffe_with_bgr_input_is_not_reversed(photo):
    bgr = np.ascontiguousarray(photo[..., ::-1])
    out = AN.Normalize(preset="caffe", input_channel_order="BGR")(image=bgr)["image"]
    np.testing.assert_allclose(out, keras_caffe(photo), atol=2e-5)


def test_caffe_on_float_input(photo):
    out = AN.Normalize(preset="detectron2")(image=(photo / 255.0).astype(np.float32))["image"]
    expected = photo[..., ::-1].astype(np.float64) - np.array([103.530, 116.280, 123.675])
    np.testing.assert_allclose(out, expected, atol=1e-4)


def test_ssd_vgg_subtracts_in_0_255_units(photo):
    out = AN.Normalize(preset="ssd_vgg")(image=photo)["image"]
    expected = photo.astype(np.float64) - 255 * np.array([0.48235, 0.45882, 0.40784])
    np.testing.assert_allclose(out, expected, atol=2e-5)


def test_bgr_preset_contract_batches_and_serialization(photo):
    transform = AN.Normalize(preset="mmdet_caffe")
    check_transform(transform, photo)
    restored = A.from_dict(A.to_dict(AN.Normalize(preset="caffe", input_channel_order="BGR")))
    assert restored.input_channel_order == "BGR"


def test_bgr_preset_needs_three_channels():
    with pytest.raises(ValueError, match="preset 'caffe' has 3 channel values but the image has 1"):
        AN.Normalize(preset="caffe")(image=np.zeros((8, 8), np.uint8))
    with pytest.raises(ValueError, match="needs a 3-channel image"):  # one value, but BGR
        AN.Normalize(mean=0.5, std=0.2, input_channel_order="BGR")  # no reversal: fine
        F.normalize(np.zeros((8, 8), np.uint8), 0.5, 0.2, reverse_channels=True)


def test_explicit_mean_is_in_input_order(photo):
    mean = (0.1, 0.2, 0.3)
    out = AN.Normalize(mean=mean, std=1.0, input_channel_order="BGR")(image=photo)["image"]
    np.testing.assert_allclose(out, photo / 255.0 - np.array(mean), atol=1e-6)


# ---------------------------------------------------------------------- model configs

# Shapes of real configs: huggingface openai/clip-vit-base-patch32 preprocessor_config.json,
# a timm pretrained_cfg, an open_clip_config.json (values typed from those files' formats).
HF_CLIP = {
    "crop_size": 224,
    "do_center_crop": True,
    "do_normalize": True,
    "do_resize": True,
    "feature_extractor_type": "CLIPFeatureExtractor",
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_std": [0.26862954, 0.26130258, 0.27577711],
    "resample": 3,
    "size": 224,
}


def hf_reference(img: np.ndarray, config: dict) -> np.ndarray:
    """What a Hugging Face image processor computes: rescale, then normalize."""
    x = img.astype(np.float64)
    if config.get("do_rescale", True):
        x = x * config.get("rescale_factor", 1 / 255)
    if config.get("do_normalize", True):
        x = (x - np.array(config["image_mean"])) / np.array(config["image_std"])
    return x


@pytest.mark.parametrize(
    "config",
    [
        HF_CLIP,
        {**HF_CLIP, "do_rescale": True, "rescale_factor": 0.00392156862745098},
        {"image_mean": 0.5, "image_std": 0.5, "do_rescale": True, "rescale_factor": 1 / 127.5},
        {
            "image_mean": [123.675, 116.28, 103.53],
            "image_std": [58.395, 57.12, 57.375],
            "do_rescale": False,
        },
        {**HF_CLIP, "do_normalize": False},
    ],
)
def test_hugging_face_processor_config(config, photo, tmp_path):
    path = tmp_path / "preprocessor_config.json"
    path.write_text(json.dumps(config))
    for source in (config, path):
        transform = AN.Normalize.from_model_config(source)
        np.testing.assert_allclose(
            transform(image=photo)["image"], hf_reference(photo, config), rtol=1e-5, atol=1e-5
        )


def test_timm_and_open_clip_configs(photo):
    timm_cfg = {"mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5), "crop_pct": 0.9}
    hub_cfg = {"architecture": "vit_base_patch16_224", "pretrained_cfg": timm_cfg}
    clip_cfg = {
        "model_cfg": {"embed_dim": 512},
        "preprocess_cfg": {"mean": HF_CLIP["image_mean"], "std": HF_CLIP["image_std"]},
    }
    for config, preset in ((timm_cfg, "inception"), (hub_cfg, "inception"), (clip_cfg, "clip")):
        out = AN.Normalize.from_model_config(config)(image=photo)["image"]
        np.testing.assert_array_equal(out, AN.Normalize(preset=preset)(image=photo)["image"])


def test_model_config_without_normalization():
    with pytest.raises(ValueError, match="no normalization found"):
        AN.Normalize.from_model_config({"architecture": "resnet50"})
    with pytest.raises(ValueError, match="std"):
        AN.Normalize.from_model_config({"mean": [0.5], "std": [0.0]})


# ---------------------------------------------------------------------- the inverse


RGB_PRESETS = [
    name
    for name in AN.list_presets()
    if len(AN.get_preset(name).mean) == 3 and AN.get_preset(name).max_pixel_value is None
]


@pytest.mark.parametrize("preset", RGB_PRESETS)
def test_round_trip_of_uint8_is_lossless(preset, photo):
    values = AN.Normalize(preset=preset)(image=photo)["image"]
    back = AN.Denormalize(preset=preset)(image=values)["image"]
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, photo)


@pytest.mark.parametrize(
    "mode",
    ["image", "image_per_channel", "min_max", "min_max_per_channel", "per_image_standardization"],
)
def test_round_trip_of_per_image_modes(mode, photo):
    crop = photo[50:250, 100:300]
    values = F.normalize_per_image(crop, mode)
    statistics = F.per_image_statistics(crop, mode)
    np.testing.assert_array_equal(F.denormalize(values, **statistics), crop)
    uniform = np.full((6, 6, 3), 77, np.uint8)
    back = F.denormalize(
        F.normalize_per_image(uniform, mode), **F.per_image_statistics(uniform, mode)
    )
    np.testing.assert_array_equal(back, uniform)


def test_denormalize_layouts_and_batches(photo):
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    values = F.normalize(photo, mean, std)
    chw = np.ascontiguousarray(values.transpose(2, 0, 1))
    np.testing.assert_array_equal(F.denormalize(chw, mean, std, layout="CHW"), photo)
    batch = np.stack([chw, chw])
    np.testing.assert_array_equal(F.denormalize(batch, mean, std, layout="NCHW")[1], photo)
    out = A.Compose([AN.Denormalize()])(images=np.stack([values, values]))["images"]
    np.testing.assert_array_equal(out[0], photo)
    gray = photo[..., 0]
    np.testing.assert_array_equal(
        AN.Denormalize(mean=0.5, std=0.25)(image=F.normalize(gray, 0.5, 0.25))["image"], gray
    )


def test_denormalize_torch_tensor_if_available(photo):
    torch = pytest.importorskip("torch")
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    tensor = torch.from_numpy(
        np.ascontiguousarray(F.normalize(photo, mean, std).transpose(2, 0, 1))
    )
    np.testing.assert_array_equal(F.denormalize(tensor, mean, std, layout="CHW"), photo)


def test_denormalize_errors():
    with pytest.raises(ValueError, match="layout"):
        F.denormalize(np.zeros((2, 2, 3), np.float32), 0.5, 0.5, layout="HCW")
    with pytest.raises(ValueError, match="needs 4 dimensions"):
        F.denormalize(np.zeros((2, 2, 3), np.float32), 0.5, 0.5, layout="NCHW")
    with pytest.raises(TypeError, match="numpy array or a torch tensor"):
        F.denormalize([[0.0]], 0.5, 0.5)
    with pytest.raises(ValueError, match="mean has 2 channel values"):
        F.denormalize(np.zeros((2, 2, 3), np.float32), (0.1, 0.2), 0.5)
    with pytest.raises(ValueError, match="NaN"):
        F.denormalize(np.full((2, 2, 1), np.nan, np.float32), 0.5, 0.5)
