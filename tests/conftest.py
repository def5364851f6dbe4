"""Shared fixtures: the repository's real photos, hypothesis profiles."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, settings

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

# tests/data/v*/generate.py wrote the saved configs with an old version: not tests, and their
# doctest import would collide (two modules named "generate")
collect_ignore_glob = ["data/*"]
# the EfficientNet-Lite0 architecture of the deployment tests needs torch (the nearest
# conftest's collect_ignore_glob is the one pytest reads for tests/)
if importlib.util.find_spec("torch") is None:
    collect_ignore_glob.append("lite0.py")

# CI is deterministic (derandomize); the "dev" profile explores with fresh random examples.
settings.register_profile(
    "ci",
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

IMAGES_DIR = Path(__file__).resolve().parent.parent / "examples" / "images"
PHOTO_NAMES = ("astronaut", "chelsea", "coffee", "rocket")


def load_photo(name: str) -> np.ndarray:
    """A real photo from examples/images as an RGB uint8 (H, W, 3) array."""
    bgr = cv2.imread(str(IMAGES_DIR / f"{name}.jpg"), cv2.IMREAD_COLOR)
    assert bgr is not None, f"missing test photo {name}"
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


@pytest.fixture(params=PHOTO_NAMES)
def photo(request: pytest.FixtureRequest) -> np.ndarray:
    return load_photo(request.param)


@pytest.fixture
def astronaut() -> np.ndarray:
    return load_photo("astronaut")
