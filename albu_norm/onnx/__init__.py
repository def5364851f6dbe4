"""albu_norm for ONNX models: the normalization as the model's first nodes, and its spec stored
in the model (``metadata_props``), so that the model takes raw image batches.

* :func:`prepend_normalization`: a model that takes uint8/uint16 (N, H, W, C) or (N, C, H, W)
  pixels, with any mode of the table (fixed statistics, or the per-image modes as ONNX
  reductions);
* :func:`read_spec`: the :class:`~albu_norm.spec.NormalizationSpec` stored in a model, or None.

Needs the ``onnx`` package only (not torch, not ONNX Runtime); ``import albu_norm`` never
imports it.
"""

from __future__ import annotations

try:
    import onnx  # noqa: F401
except ModuleNotFoundError as error:  # pragma: no cover - exercised without onnx installed
    if error.name != "onnx":
        raise
    raise ModuleNotFoundError(
        "albu_norm.onnx needs the onnx package, which is not installed: `pip install onnx` "
        "(and onnxruntime to run the models). The rest of albu_norm works without it.",
        name="onnx",
    ) from error

from albu_norm.onnx.prepend import METADATA_KEY, prepend_normalization, read_spec

__all__ = ["METADATA_KEY", "prepend_normalization", "read_spec"]
