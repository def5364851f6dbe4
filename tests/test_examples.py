"""The examples run end to end on the repository's photos: every example in one fresh process
(as a user runs them), their printed results checked."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HAS_PIL = importlib.util.find_spec("PIL") is not None  # eval_transforms.py compares with PIL
EXAMPLES = ("quickstart.py", "dataset_stats.py", "families.py") + (
    ("eval_transforms.py",) if HAS_PIL else ()
)
SEPARATOR = "=== example: "

RUN_ALL = f"""
import runpy, sys
for name in {EXAMPLES!r}:
    print({SEPARATOR!r} + name, flush=True)
    sys.argv = [name]
    runpy.run_path(str({str(ROOT / "examples")!r}) + "/" + name, run_name="__main__")
"""


@pytest.fixture(scope="module")
def outputs() -> dict[str, str]:
    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", RUN_ALL],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    parts = result.stdout.split(SEPARATOR)[1:]
    return {part.split("\n", 1)[0]: part.split("\n", 1)[1] for part in parts}


def test_quickstart_runs(outputs):
    out = outputs["quickstart.py"]
    assert "identical output: True" in out and "preset: timm/" in out
    assert "mean R +0.00 G +0.00 B +0.00 | std R 1.00 G 1.00 B 1.00" in out  # per image
    assert "-0.00" not in out and len(out.strip().splitlines()) <= 20


def test_dataset_stats_example_runs(outputs):
    out = outputs["dataset_stats.py"]
    assert "4 images, 910724 pixels per channel" in out
    assert "saved Normalize config: stats = {'mean': [0.47" in out


def test_families_example_runs(outputs):
    out = outputs["families.py"]
    assert "caffe round trip lossless: True" in out
    assert "image_per_channel round trip lossless: True" in out
    assert "HF config == preset siglip: True" in out


@pytest.mark.skipif(not HAS_PIL, reason="examples/eval_transforms.py needs Pillow")
def test_eval_transforms_example_runs(outputs):
    out = outputs["eval_transforms.py"]
    assert "pipeline: ['ResizeCrop', 'Normalize']" in out
    pil_mean = float(out.splitlines()[-1].split()[1])
    assert pil_mean < 1e-6  # resample="pil": the recipe's own pixels
    assert out.count("x") >= 4  # one row per photo
