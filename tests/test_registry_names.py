"""Preset names at the seams (issue 17): a case or whitespace twin of any built-in name, family
or model, cannot be registered; a look-up that differs only by case is told the right name; a
non-string pattern is a clear error."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import albu_norm as AN
from albu_norm.presets import BUILTIN_PRESETS

FAMILIES = sorted(BUILTIN_PRESETS)
MODELS = ["timm/resnet50.a1_in1k", "open_clip/ViT-B-32:openai"]


def _twin(draw: st.DrawFn, name: str) -> str:
    """name with its letters' case changed at random and spaces around it (not name itself)."""
    flips = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
    cased = "".join(c.swapcase() if flip else c for c, flip in zip(name, flips))
    left, right = draw(st.sampled_from(["", " ", "\t"])), draw(st.sampled_from(["", " ", "\n"]))
    twin = left + cased + right
    return twin if twin != name else name.upper() + " "


@st.composite
def family_twins(draw: st.DrawFn) -> str:
    return _twin(draw, draw(st.sampled_from(FAMILIES)))


@st.composite
def model_twins(draw: st.DrawFn) -> str:
    return _twin(draw, draw(st.sampled_from(MODELS)))


@settings(max_examples=60, deadline=None)
@given(name=st.one_of(family_twins(), model_twins()))
def test_a_twin_of_a_built_in_name_cannot_be_registered(name):
    with pytest.raises(ValueError, match=r"built-in|reserved"):
        AN.register_preset(name, mean=(0.5, 0.5, 0.5), std=(0.2, 0.2, 0.2))
    assert name not in AN.list_presets()


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("ImageNet", "imagenet"),
        ("imagenet ", "imagenet"),
        ("CLIP", "clip"),
        ("timm/ResNet50.a1_in1k", "timm/resnet50.a1_in1k"),
        ("Timm/resnet50.a1_in1k", "timm/resnet50.a1_in1k"),
        ("open_clip/vit-b-32:openai", "open_clip/ViT-B-32:openai"),
        ("OPEN_CLIP/ViT-B-32:openai", "open_clip/ViT-B-32:openai"),
    ],
)
def test_a_look_up_that_differs_only_by_case_suggests_the_name(typed, meant):
    with pytest.raises(ValueError, match=re.escape(f"Did you mean {meant!r}")):
        AN.get_preset(typed)
    with pytest.raises(ValueError, match=re.escape(f"Did you mean {meant!r}")):
        AN.Normalize(preset=typed)


@pytest.mark.parametrize("pattern", [3, b"timm/*", ["timm/*"]])
def test_a_non_string_pattern_is_a_clear_error(pattern):
    with pytest.raises(TypeError, match="pattern must be a shell-style pattern string"):
        AN.list_presets(pattern)
