"""Saving and loading pipelines: to_dict/from_dict, JSON/YAML files, fresh processes, pickle."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import albumentations as A
import numpy as np
import pytest
import yaml

import albu_norm as AN

from checks import check_saved_arguments

CONFIGS = [
    {"preset": "clip"},
    {"mean": [0.1, 0.2, 0.3], "std": [0.3, 0.2, 0.1], "max_pixel_value": 255.0},
    {"normalization": "image_per_channel"},
    {"normalization": "min_max"},
]


def pipeline(**kwargs) -> A.Compose:
    return A.Compose([A.CenterCrop(96, 96), AN.Normalize(**kwargs)])


def test_dict_keeps_preset_name_and_p():
    saved = A.to_dict(pipeline(preset="clip"))["transform"]["transforms"][1]
    assert saved == {
        "__class_fullname__": "albu_norm.transforms.Normalize",
        "p": 1.0,
        "mean": None,
        "std": None,
        "max_pixel_value": None,
        "normalization": "standard",
        "preset": "clip",
        "stats": None,
        "input_channel_order": "RGB",
        "mask_key": None,
        "ignore_value": None,
        "outside": "normalize",
        "fill": 0.0,
        "per_slice": False,
    }


@pytest.mark.parametrize("kwargs", CONFIGS)
@pytest.mark.parametrize("data_format", ["json", "yaml"])
def test_file_round_trip(kwargs, data_format, tmp_path, astronaut):
    original = pipeline(**kwargs)
    path = tmp_path / f"pipeline.{data_format}"
    A.save(original, str(path), data_format=data_format)
    text = path.read_text()
    loaded_dict = yaml.safe_load(text) if data_format == "yaml" else json.loads(text)
    assert loaded_dict["transform"]["transforms"][1]["__class_fullname__"] == (
        "albu_norm.transforms.Normalize"
    )
    for loaded in (AN.load(path), A.load(str(path), data_format=data_format)):
        np.testing.assert_array_equal(
            loaded(image=astronaut)["image"], original(image=astronaut)["image"]
        )


def _run_fresh(code: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1"}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("preset", "imagnet", "preset"),
        ("std", [0.2, -0.1, 0.2], "std"),
        ("mean", [0.1, 0.2], "mean has 2 values and std has 3"),
        ("normalization", "per_pixel", "normalization"),
    ],
)
def test_bad_value_in_config_fails_at_load_naming_the_key(key, value, match, tmp_path):
    path = tmp_path / "pipeline.yaml"
    A.save(pipeline(mean=[0.1, 0.2, 0.3], std=[0.3, 0.2, 0.1]), str(path), data_format="yaml")
    config = yaml.safe_load(path.read_text())
    config["transform"]["transforms"][1][key] = value
    if key == "preset":
        config["transform"]["transforms"][1].update(mean=None, std=None)
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ValueError, match=match):
        AN.load(path)


def test_user_preset_must_be_registered_before_loading(tmp_path):
    AN.register_preset("lab_scans", mean=(0.2, 0.2, 0.2), std=(0.1, 0.1, 0.1))
    try:
        path = tmp_path / "pipeline.json"
        A.save(pipeline(preset="lab_scans"), str(path))
    finally:
        AN.unregister_preset("lab_scans")
    with pytest.raises(ValueError, match="unknown preset 'lab_scans'"):
        AN.load(path)


@pytest.mark.parametrize("kwargs", CONFIGS)
def test_pickle(kwargs, astronaut):
    original = pipeline(**kwargs)
    clone = pickle.loads(pickle.dumps(original))
    np.testing.assert_array_equal(
        clone(image=astronaut)["image"], original(image=astronaut)["image"]
    )


def every_transform(tmp_path: Path) -> list:
    """One configured instance of every public transform class."""
    mean_image = tmp_path / "mean_image.npy"
    np.save(mean_image, np.full((96, 96, 3), 120.0, np.float32), allow_pickle=False)
    return [
        AN.Normalize(preset="caffe"),
        AN.Normalize(normalization="per_image_standardization"),
        AN.Denormalize(preset="clip"),
        AN.RobustNormalize(method="median_iqr", per_channel=True),
        AN.RobustNormalize(method="dataset_clip_zscore", clip_range=(10, 240), mean=100, std=50),
        AN.PerPixelNormalize(mean_image=str(mean_image)),
        AN.LocalContrastNormalize(kernel_size=5, floor=2.0),
    ]


def test_every_transform_saves_exactly_its_init_arguments(tmp_path):
    for transform in every_transform(tmp_path):
        check_saved_arguments(transform)


ALBU_NORM_FIRST = """
import pickle, sys
import albu_norm, albu_norm.functional, albu_norm.stats, albu_norm.cli, albu_norm.spec
heavy = sorted(m for m in ("albumentations", "pydantic", "torch") if m in sys.modules)
assert not heavy, f"the core imported {heavy}"
import numpy as np
import albumentations as A  # albu_norm's transforms register as Albumentations loads
outputs = {}
for name in NAMES:
    for suffix in ("json", "yaml"):
        pipeline = A.load(f"{name}.{suffix}", data_format=suffix)
        pipeline = pickle.loads(pickle.dumps(albu_norm.load(f"{name}.{suffix}")))
        outputs[f"{name}.{suffix}"] = pipeline(image=np.load(f"{name}.input.npy"))["image"]
np.savez("outputs.npz", **outputs)
"""

ALBUMENTATIONS_FIRST = """
import albumentations as A
try:
    A.load("0.json")
except KeyError as error:
    print("KeyError", error)
import albu_norm  # Albumentations is loaded: the transforms register at once
A.load("0.json")
print("loaded")
"""


def test_fresh_processes_load_every_transform(tmp_path, astronaut):
    """Two fresh processes: the core alone imports neither Albumentations, pydantic nor torch,
    and every transform class saved as JSON and YAML loads there (A.load after albu_norm,
    albu_norm.load, pickle) with the same output; Albumentations imported first cannot load
    before albu_norm is imported (a KeyError naming the class), and can right after."""
    names = []
    expected = {}
    for index, transform in enumerate(every_transform(tmp_path)):
        original = A.Compose([A.CenterCrop(96, 96), transform])
        image = astronaut
        if isinstance(transform, AN.Denormalize):
            image = AN.Normalize(preset="clip")(image=astronaut)["image"]
        name = str(index)
        names.append(name)
        np.save(tmp_path / f"{name}.input.npy", image)
        for suffix in ("json", "yaml"):
            A.save(original, str(tmp_path / f"{name}.{suffix}"), data_format=suffix)
            expected[f"{name}.{suffix}"] = original(image=image)["image"]
    result = _run_fresh(f"NAMES = {names!r}\n" + ALBU_NORM_FIRST, tmp_path)
    assert result.returncode == 0, result.stderr
    outputs = np.load(tmp_path / "outputs.npz")
    assert sorted(outputs.files) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(outputs[key], value, err_msg=key)

    result = _run_fresh(ALBUMENTATIONS_FIRST, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "KeyError 'albu_norm.transforms." in result.stdout and "loaded" in result.stdout


def test_denormalize_is_a_sibling_of_normalize_not_a_subclass():
    """Denormalize takes no mode and no mask: it does not inherit Normalize's fields."""
    denorm = AN.Denormalize(preset="imagenet")
    assert not isinstance(denorm, AN.Normalize)
    assert "normalization" not in denorm.get_transform_init_args()
    assert "mask_key" not in denorm.get_transform_init_args()
    with pytest.raises((TypeError, ValueError)):
        AN.Denormalize(preset="imagenet", mask_key="valid")  # type: ignore[call-arg]
    # both still save under their own key and load back
    pipeline = A.Compose([AN.Normalize(preset="imagenet"), AN.Denormalize(preset="imagenet")])
    loaded = A.from_dict(A.to_dict(pipeline))
    assert [type(t) for t in loaded.transforms] == [AN.Normalize, AN.Denormalize]


def test_letterbox_config_warning_and_its_documented_workaround(tmp_path, astronaut):
    import warnings

    import cv2
    import yaml

    from albu_norm.transforms._compat import IS_ALBUMENTATIONSX

    pipeline = A.Compose(
        [
            A.LongestMaxSize(256),
            A.PadIfNeeded(256, 256, border_mode=cv2.BORDER_CONSTANT, fill=0, fill_mask=0),
            AN.Normalize(normalization="image"),
        ]
    )
    config = A.to_dict(pipeline)
    if not IS_ALBUMENTATIONSX:  # docs/serialization.md: 2.0.8 warns on every load
        with pytest.warns(UserWarning, match="'padding' are not valid for transform PadIfNeeded"):
            A.from_dict(config)
    for step in config["transform"]["transforms"]:
        if step["__class_fullname__"] == "PadIfNeeded":
            step.pop("padding", None)
    path = tmp_path / "pipeline.yaml"
    with open(path, "w") as file:
        yaml.safe_dump(config, file)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = AN.load(str(path))
    np.testing.assert_array_equal(
        loaded(image=astronaut)["image"], pipeline(image=astronaut)["image"]
    )
