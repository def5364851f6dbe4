"""The examples run end to end on the repository's photos."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quickstart_runs():
    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "reloaded pipeline gives identical output: True" in result.stdout
    assert result.stdout.count("(224, 224, 3) float32") == 12


def test_dataset_stats_example_runs():
    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "dataset_stats.py")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "4 images, 910724 pixels per channel" in result.stdout
    assert "'stats': None" in result.stdout


def test_families_example_runs():
    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "families.py")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "caffe round trip lossless: True" in result.stdout
    assert "image_per_channel round trip lossless: True" in result.stdout
    assert "HF config == preset siglip: True" in result.stdout
