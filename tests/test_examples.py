"""The examples run end to end on the repository's photos."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_example(name: str) -> str:
    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_quickstart_runs():
    out = run_example("quickstart.py")
    assert "identical output: True" in out and "preset: timm/" in out
    assert "mean R +0.00 G +0.00 B +0.00 | std R 1.00 G 1.00 B 1.00" in out  # per image
    assert "-0.00" not in out and len(out.strip().splitlines()) <= 20


def test_dataset_stats_example_runs():
    out = run_example("dataset_stats.py")
    assert "4 images, 910724 pixels per channel" in out
    assert "saved Normalize config: stats = {'mean': [0.47" in out


def test_families_example_runs():
    out = run_example("families.py")
    assert "caffe round trip lossless: True" in out
    assert "image_per_channel round trip lossless: True" in out
    assert "HF config == preset siglip: True" in out
