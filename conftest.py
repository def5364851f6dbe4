"""Repository-wide pytest setup: no network from Albumentations' update check."""

import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import importlib.util

# albu_norm.torch imports torch, an optional dependency: without it, doctest collection skips it
# (tests/test_torch.py skips itself).
collect_ignore_glob = [] if importlib.util.find_spec("torch") else ["albu_norm/torch/*"]
# albu_norm.onnx likewise imports onnx (tests/test_onnx_prepend.py skips itself)
if not importlib.util.find_spec("onnx"):
    collect_ignore_glob.append("albu_norm/onnx/*")
