"""The normalization spec: one resolver, its precedence, one message per rule at every entry."""

from __future__ import annotations

import json

import albumentations as A
import numpy as np
import pytest

import albu_norm as AN
from albu_norm import functional as F
from albu_norm.robust import normalize_clipped
from albu_norm.spec import NormalizationSpec, resolve_spec

IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))  # timm constants.py
STD_RULE = "std must be finite numbers > 0 for every channel"


def test_default_is_imagenet_and_explicit_wins():
    spec = resolve_spec()
    assert (spec.mean, spec.std, spec.source) == (*IMAGENET, "default preset 'imagenet'")
    spec = resolve_spec(mean=0.5, std=0.25)
    assert (spec.mean, spec.std, spec.source) == ((0.5,), (0.25,), "explicit mean/std")
    assert resolve_spec(preset="clip", max_pixel_value=4095).max_pixel_value == 4095.0


def test_a_preset_keeps_its_channel_order_and_reverses_rgb_input():
    spec = resolve_spec(preset="caffe")
    assert spec.channel_order == "BGR" and spec.reverse_channels
    assert not resolve_spec(preset="caffe", input_channel_order="BGR").reverse_channels
    assert not resolve_spec(mean=0.1, std=0.2, input_channel_order="BGR").reverse_channels


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"preset": "clip", "mean": 0.5, "std": 0.5}, "pass either preset='clip' or mean/std"),
        ({"preset": "clip", "stats": {"mean": [0.5], "std": [0.5]}}, "not preset and stats"),
        ({"mean": 0.5}, "std is missing"),
        ({"normalization": "image", "preset": "clip"}, "preset would be ignored"),
        ({"normalization": "imag"}, "Did you mean 'image'"),
        ({"preset": 3}, "preset must be a preset name"),
        ({"mean": {0.1, 0.2, 0.3}, "std": 0.2}, "whose order is not the channel order"),
        ({"mean": "0.5", "std": 0.2}, "got the string '0.5'"),
        ({"mean": 0.5, "std": True}, "std must be a number or a list of numbers, got bool"),
        ({"mean": [0.5, None], "std": 0.2}, "must hold numbers only"),
        ({"mean": 0.5, "std": 0.2, "max_pixel_value": 0}, "max_pixel_value must be a finite"),
        ({"input_channel_order": "RBG"}, "input_channel_order must be 'RGB' or 'BGR'"),
    ],
)
def test_resolver_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        resolve_spec(**kwargs)


def entry_points_with_std(std):
    """Every way to hand the package a std: each must apply the one rule, with one message."""
    img = np.zeros((4, 4, 3), np.uint8)
    return {
        "functional.normalize": lambda: F.normalize(img, 0.5, std),
        "robust.normalize_clipped": lambda: normalize_clipped(img, (0, 1), 0.5, std),
        "Normalize": lambda: AN.Normalize(mean=0.5, std=std),
        "Denormalize": lambda: AN.Denormalize(mean=0.5, std=std),
        "RobustNormalize": lambda: AN.RobustNormalize(
            method="dataset_clip_zscore", clip_range=(0, 1), mean=0.5, std=std
        ),
        "register_preset": lambda: AN.register_preset("bad", mean=(0.5,), std=(std,)),
        "stats record": lambda: AN.Normalize(stats={"mean": [0.5], "std": [std]}),
        "model config": lambda: resolve_spec(model_config={"mean": [0.5], "std": [std]}),
        "spec": lambda: NormalizationSpec(mean=(0.5,), std=(std,)),
    }


@pytest.mark.parametrize("std", [0.0, -1.0, float("inf"), float("nan")])
@pytest.mark.parametrize("entry", list(entry_points_with_std(1.0)))
def test_one_std_rule_everywhere(entry, std):
    with pytest.raises(ValueError, match=STD_RULE):
        entry_points_with_std(std)[entry]()


def test_transform_exposes_its_spec():
    spec = AN.Normalize(preset="clip").spec
    assert spec == resolve_spec(preset="clip")
    assert AN.Normalize(normalization="min_max").spec.per_image


def test_spec_to_dict_is_json():
    record = resolve_spec(preset="caffe").to_dict()
    assert json.loads(json.dumps(record))["channel_order"] == "BGR"


def test_stats_file_scale_rule_and_channel_order(tmp_path):
    """A stats file of uint8 data means the dtype rule: uint8 and float [0, 1] inputs agree;
    a BGR stats file reverses RGB input, as a BGR preset does."""
    path = tmp_path / "stats.json"
    record = {"dtype": "uint8", "max_pixel_value": 255.0, "mean": [0.2, 0.3, 0.4]}
    path.write_text(json.dumps({"stats": {**record, "std": [0.1, 0.2, 0.3]}}))
    transform = AN.Normalize(stats=path)
    assert transform.spec.max_pixel_value is None
    photo = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    np.testing.assert_allclose(
        transform(image=photo)["image"],
        transform(image=(photo / 255.0).astype(np.float32))["image"],
        atol=2e-6,
    )
    path.write_text(json.dumps({**record, "std": [0.1, 0.2, 0.3], "channel_order": "BGR"}))
    bgr = AN.Normalize(stats=path)
    assert bgr.spec.reverse_channels
    saved = A.from_dict(A.to_dict(bgr))  # the saved record keeps the channel order
    assert saved.spec.reverse_channels
    np.testing.assert_array_equal(saved(image=photo)["image"], bgr(image=photo)["image"])


@pytest.mark.parametrize(
    "text", ["{mean: [0.5, std: [0.2]", "mean: 0.5\n", "[1, 2]", "stats: {mean: [1]}", ""]
)
def test_malformed_stats_files_are_value_errors(tmp_path, text):
    path = tmp_path / "stats.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match="stats"):
        AN.Normalize(stats=str(path))
    config = {"__class_fullname__": "albu_norm.transforms.Normalize", "p": 1.0, "stats": str(path)}
    with pytest.raises(ValueError, match="stats"):
        A.from_dict({"transform": config})


@pytest.mark.parametrize("factor", [0.00392156862745098, 0.0039215686, 1 / 255])
def test_rounded_rescale_factor_is_the_dtype_rule(factor):
    config = {"image_mean": [0.5] * 3, "image_std": [0.5] * 3, "rescale_factor": factor}
    assert resolve_spec(model_config=config).max_pixel_value is None
    assert AN.Normalize.from_model_config(config).spec.max_pixel_value is None


def test_model_config_directory(tmp_path):
    (tmp_path / "preprocessor_config.json").write_text(
        json.dumps({"image_mean": [0.5] * 3, "image_std": [0.5] * 3})
    )
    assert resolve_spec(model_config=tmp_path).mean == (0.5, 0.5, 0.5)
    (tmp_path / "preprocessor_config.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"preprocessor_config\.json"):
        resolve_spec(model_config=tmp_path)
