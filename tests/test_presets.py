"""The preset registry: golden constants from the sources, lookup, registration."""

from __future__ import annotations

import dataclasses

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
BGR = {"caffe", "detectron2", "mmdet_caffe"}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_builtin_constants_exact(name):
    preset = AN.get_preset(name)
    assert preset.mean == GOLDEN[name][0]
    assert preset.std == GOLDEN[name][1]
    assert preset.channel_order == ("BGR" if name in BGR else "RGB")
    assert preset.name == name
    assert "/" in preset.source and len(preset.source) > 20  # repository/file named


def test_list_presets_has_the_builtins():
    assert set(GOLDEN) <= set(AN.list_presets())
    assert AN.list_presets() == sorted(AN.list_presets())


def test_unknown_name_lists_close_matches():
    with pytest.raises(ValueError, match="Did you mean 'clip'"):
        AN.get_preset("clp")
    with pytest.raises(ValueError, match="Known presets: caffe, clip"):
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
    ],
)
def test_register_rejects(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AN.register_preset(**kwargs)


def test_builtins_cannot_be_removed():
    with pytest.raises(ValueError, match="built-in"):
        AN.unregister_preset("clip")
