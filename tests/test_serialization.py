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


@pytest.mark.parametrize("data_format", ["json", "yaml"])
def test_load_in_fresh_process(data_format, tmp_path, astronaut):
    original = pipeline(preset="clip")
    path = tmp_path / f"pipeline.{data_format}"
    A.save(original, str(path), data_format=data_format)
    np.save(tmp_path / "img.npy", astronaut)
    code = (
        "import numpy as np, albu_norm\n"
        f"t = albu_norm.load({str(path)!r})\n"
        "np.save('out.npy', t(image=np.load('img.npy'))['image'])\n"
    )
    result = _run_fresh(code, tmp_path)
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), original(image=astronaut)["image"])


def test_fresh_process_without_import_fails_loudly(tmp_path):
    """Documented: A.load needs `import albu_norm` first; without it, a KeyError names the class."""
    path = tmp_path / "pipeline.json"
    A.save(pipeline(preset="clip"), str(path))
    result = _run_fresh(f"import albumentations as A; A.load({str(path)!r})", tmp_path)
    assert result.returncode != 0
    assert "albu_norm.transforms.Normalize" in result.stderr


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


@pytest.mark.parametrize("data_format", ["json", "yaml"])
def test_every_transform_round_trips_in_a_fresh_process(data_format, tmp_path, astronaut):
    for index, transform in enumerate(every_transform(tmp_path)):
        original = A.Compose([A.CenterCrop(96, 96), transform])
        image = (
            astronaut
            if not isinstance(transform, AN.Denormalize)
            else (AN.Normalize(preset="clip")(image=astronaut)["image"])
        )
        path = tmp_path / f"pipeline{index}.{data_format}"
        A.save(original, str(path), data_format=data_format)
        np.save(tmp_path / "img.npy", image)
        code = (
            "import numpy as np, pickle, albu_norm\n"
            f"t = albu_norm.load({str(path)!r})\n"
            "t = pickle.loads(pickle.dumps(t))\n"
            "np.save('out.npy', t(image=np.load('img.npy'))['image'])\n"
        )
        result = _run_fresh(code, tmp_path)
        assert result.returncode == 0, (transform, result.stderr)
        np.testing.assert_array_equal(
            np.load(tmp_path / "out.npy"), original(image=image)["image"], err_msg=str(transform)
        )
        assert A.to_dict(A.from_dict(A.to_dict(original))) == A.to_dict(original)
