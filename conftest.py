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

# .ci/run: with ALBU_NORM_SKIPPED_LOG set, the node id of every skipped test or module is
# appended to that file (the run with only the [test] extra), so that the run with every
# integration installed reruns exactly those.
_SKIPPED_LOG = os.environ.get("ALBU_NORM_SKIPPED_LOG")


def _log_skipped(report) -> None:
    if _SKIPPED_LOG and report.skipped and not hasattr(report, "wasxfail"):
        with open(_SKIPPED_LOG, "a", encoding="utf-8") as log:
            log.write(report.nodeid + "\n")


def pytest_runtest_logreport(report) -> None:
    _log_skipped(report)


def pytest_collectreport(report) -> None:
    _log_skipped(report)
