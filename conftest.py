"""Repository-wide pytest setup: no network from Albumentations' update check."""

import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import importlib.util

# albu_norm.torch imports torch, an optional dependency: without it, doctest collection skips it
# (tests/test_torch.py skips itself).
collect_ignore_glob = [] if importlib.util.find_spec("torch") else ["albu_norm/torch/*"]
