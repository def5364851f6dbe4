"""albu_norm on PyTorch devices: normalization as a ``torch.nn.Module`` from the same spec as
``albu_norm.Normalize``, a pipeline splitter and a device loader.

uint8 crosses the DataLoader's worker boundary and the PCIe bus (a quarter of the float32
bytes); the normalization runs on the device, into float32, float16 or bfloat16:

* :class:`Normalize` / :class:`Denormalize`: modules built from the arguments of
  ``albu_norm.Normalize`` (``from_transform``, ``from_spec``): the same numbers;
* :func:`split_pipeline`: a Compose ending in ``albu_norm.Normalize`` [+ ``ToTensorV2``] ->
  (the same pipeline emitting uint8, its device module);
* :func:`fold_normalization`: a model whose first convolution absorbed a fixed normalization,
  taking raw pixels;
* :class:`DeviceLoader`: moves batches to the device (pinned, non-blocking, on a side CUDA
  stream) and normalizes the images there.

Imports torch (``import albu_norm`` never does). See ``docs/gpu.md``.
"""

from __future__ import annotations

try:
    import torch  # noqa: F401
except ModuleNotFoundError as error:  # pragma: no cover - exercised without torch installed
    if error.name != "torch":
        raise
    raise ModuleNotFoundError(
        "albu_norm.torch needs PyTorch, which is not installed. Install it for your platform "
        "(https://pytorch.org), e.g. `pip install 'albu_norm[torch]'`; the rest of albu_norm "
        "works without it.",
        name="torch",
    ) from error

from albu_norm.torch.denormalize import Denormalize
from albu_norm.torch.fold import FoldedNormalization, fold_normalization
from albu_norm.torch.loader import DeviceLoader
from albu_norm.torch.normalize import Normalize
from albu_norm.torch.pipeline import split_pipeline

__all__ = [
    "Denormalize",
    "DeviceLoader",
    "FoldedNormalization",
    "Normalize",
    "fold_normalization",
    "split_pipeline",
]
