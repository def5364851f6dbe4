"""Hydra/OmegaConf configs instantiate albu_norm transforms and whole pipelines."""

from __future__ import annotations

import numpy as np
import pytest

import albu_norm as AN

import reference

hydra_utils = pytest.importorskip("hydra.utils")
omegaconf = pytest.importorskip("omegaconf")

PIPELINE = """
_target_: albumentations.Compose
transforms:
  - _target_: albumentations.CenterCrop
    height: 128
    width: 128
  - _target_: albu_norm.Normalize
    preset: clip
  - _target_: albu_norm.Normalize
    mean: [0.0, 0.0, 0.0]
    std: [1.0, 1.0, 1.0]
    max_pixel_value: 1.0
"""


def test_single_transform():
    transform = hydra_utils.instantiate({"_target_": "albu_norm.Normalize", "preset": "clip"})
    assert isinstance(transform, AN.Normalize) and transform.preset == "clip"


@pytest.mark.parametrize("convert", ["none", "all"])
def test_whole_pipeline_from_yaml(convert, astronaut):
    config = omegaconf.OmegaConf.create(PIPELINE)
    pipeline = hydra_utils.instantiate(config, _convert_=convert)
    out = pipeline(image=astronaut)["image"]
    crop = astronaut[192:320, 192:320]
    clip = ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))
    np.testing.assert_allclose(out, reference.fixed(crop, *clip, 255.0), atol=1e-5)


def test_bad_value_names_the_key():
    with pytest.raises(Exception, match="preset"):
        hydra_utils.instantiate({"_target_": "albu_norm.Normalize", "preset": "clipp"})
