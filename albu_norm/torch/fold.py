"""Fold a fixed normalization into a model's first convolution: the model then takes raw pixels.

A fixed normalization is the per-channel affine ``y[c] = x[c] * scale[c] + shift[c]``
(``scale = 1 / (max_pixel_value * std)``, ``shift = -mean / std``, after the channel reversal
of a BGR spec). A convolution is linear, so ``conv(y) = conv'(x)`` with the weights
``W'[:, c] = W[:, c] * scale[c]`` and the bias ``b' = b + sum W[:, c] * shift[c]``, everywhere
the kernel sees real pixels. At the borders a zero-padded convolution of ``y`` sees the
normalized value 0, which is the raw value ``mean[c] * max_pixel_value``
(:attr:`~albu_norm.spec.NormalizationSpec.neutral_fill`), not raw 0: the fold pads the raw
input with that value per channel and runs the convolution without padding, so every output
pixel is the same, borders included. Reflect, replicate and circular padding commute with a
per-channel affine: they stay on the convolution.
"""

from __future__ import annotations

import copy
from typing import Any, Optional, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from albu_norm.spec import NormalizationSpec, as_spec
from albu_norm.torch._checks import check_layout
from albu_norm.torch._probe import check_first_leaf, check_probe

__all__ = ["FoldedNormalization", "fold_normalization"]

Normalization = Union[str, NormalizationSpec, Any]


class FoldedNormalization(nn.Module):
    """A model whose first convolution absorbed a fixed normalization (made by
    :func:`fold_normalization`).

    Shape:
        input (N, C, H, W) or (N, H, W, C) per ``layout``, raw pixels: uint8, uint16 or float
        on the spec's ``max_pixel_value`` scale (255 when the spec follows the dtype rule), in
        the input's channel order. Output: the model's.
    Attributes:
        model: the folded copy of the model (its first convolution has the folded weights).
        spec: the normalization it absorbed.
        layout: "NCHW" or "NHWC".
        padding: (left, right, top, bottom) raw padding applied in front, with ``fill``.
    """

    fill: torch.Tensor  # (1, C, 1, 1), the raw value of each input channel that normalizes to 0

    def __init__(
        self,
        model: nn.Module,
        spec: NormalizationSpec,
        layout: str,
        padding: tuple[int, int, int, int],
        fill: torch.Tensor,
        reverse_first: bool,
    ) -> None:
        super().__init__()
        self.model = model
        self.spec = spec
        self.layout = layout
        self.padding = padding
        self.reverse_first = reverse_first
        self.register_buffer("fill", fill)  # its dtype is the model's: .half() moves both

    def extra_repr(self) -> str:
        return f"source={self.spec.source!r}, layout={self.layout!r}, padding={self.padding}"

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Run the model on raw ``images`` (see the class docstring)."""
        view = images.permute(0, 3, 1, 2) if self.layout == "NHWC" else images
        if self.reverse_first:
            view = view.flip(1)
        return self.model(self._padded(view))

    def _padded(self, view: torch.Tensor) -> torch.Tensor:
        """The raw batch as the model's dtype, padded with ``fill`` per channel (one fill and
        one converting copy; no padding: the conversion alone)."""
        left, right, top, bottom = self.padding
        if not any(self.padding):
            return view.to(self.fill.dtype, memory_format=torch.contiguous_format)
        n, c, h, w = view.shape
        if torch.jit.is_tracing() or torch.onnx.is_in_onnx_export():
            values = view.to(self.fill.dtype) - self.fill
            return F.pad(values, (left, right, top, bottom)) + self.fill
        out = torch.empty(
            (n, c, h + top + bottom, w + left + right), dtype=self.fill.dtype, device=view.device
        )
        out.copy_(self.fill.expand_as(out))
        out[:, :, top : top + h, left : left + w].copy_(view)
        return out


def fold_normalization(
    model: nn.Module,
    normalization: Normalization,
    *,
    layer: Optional[str] = None,
    layout: str = "NCHW",
    probe_size: tuple[int, int] = (64, 64),
) -> FoldedNormalization:
    """A new module that takes raw pixels and computes ``model(normalize(images))``, with the
    normalization folded into the model's first convolution (the caller's model is not changed).

    Formula: the fixed normalization ``y[c] = x[c] * scale[c] + shift[c]`` (``scale = 1 /
    (max_pixel_value * std)``, ``shift = -mean / std``) folded into the first ``nn.Conv2d``:
    ``W'[:, c] = W[:, c] * scale[c]``, ``b' = b + sum over c, kh, kw of W[:, c] * shift[c]``
    (per group of a grouped convolution), computed in float64 and rounded to the weights'
    dtype once. Zero padding (the conv's ``padding`` ints, tuples, ``'same'``, or an
    ``nn.ZeroPad2d``/``nn.ConstantPad2d`` in front of it) becomes a raw padding with
    ``spec.neutral_fill`` (the raw value that normalizes to the padding's value), so the border
    pixels are the same as well. A BGR spec's channel reversal is folded into the order of the
    weights' input channels (a grouped first conv: the input is flipped instead).

    After folding, a probe batch (random uint8 pixels of ``probe_size``) runs through the folded
    model and through ``nn.Sequential(albu_norm.torch.Normalize, model)`` (both in eval mode,
    on copies): they must agree within 1e-3 of the output's magnitude, or the fold is refused.

    Args:
        model: an ``nn.Module`` whose input goes straight into a ``Conv2d`` (optionally through
            a ``ZeroPad2d``/``ConstantPad2d``); any padding mode, stride, dilation, groups.
        normalization: an ``albu_norm.Normalize`` transform (or anything with a ``.spec``, such
            as ``albu_norm.torch.Normalize``), a preset name, or a
            :class:`~albu_norm.spec.NormalizationSpec`; fixed statistics only.
        layer: the name of the first convolution (``dict(model.named_modules())`` key) when it
            is not the first ``nn.Conv2d`` in module order.
        layout: "NCHW" or "NHWC" (channels-last raw batches, permuted in front).
        probe_size: (H, W) of the probe batch (a model that only takes one size needs it).
    Returns:
        a :class:`FoldedNormalization`: input (N, C, H, W) or (N, H, W, C), uint8 or float on
        the spec's ``max_pixel_value`` scale (255 under the dtype rule); cast to the weights'
        dtype inside. Its training/eval mode is the model's.
    Raises:
        TypeError: ``model`` is not an ``nn.Module``; ``normalization`` of another type.
        ValueError: a per-image, masked or clipping spec (statistics of each image do not fold:
            keep ``albu_norm.torch.Normalize`` in front, or use
            ``albu_norm.onnx.prepend_normalization``); no ``Conv2d`` (or ``layer`` is not
            one); a first layer that is not that convolution (e.g. a ``Linear``); a conv reached
            by something other than the model's input; a channel count the spec does not fit;
            a bad ``layout``; a probe that fails or disagrees.
    Example:
        >>> import torch
        >>> from torch import nn
        >>> import albu_norm.torch as ANT
        >>> model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())
        >>> folded = ANT.fold_normalization(model, "imagenet")
        >>> images = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8)
        >>> reference = nn.Sequential(ANT.Normalize(preset="imagenet"), model)(images)
        >>> bool(torch.allclose(folded(images), reference, atol=1e-4))
        True
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    if any(isinstance(m, FoldedNormalization) for m in model.modules()):
        raise ValueError(
            "the model already has a normalization folded in (a FoldedNormalization): folding "
            "another would normalize twice. Fold into the original model instead."
        )
    layout = check_layout(layout)
    spec = _spec(normalization)
    folded = copy.deepcopy(model)
    name, conv = _first_conv(folded, layer)
    pad_name = check_first_leaf(folded, name, conv, probe_size)
    scale, shift = spec.affine_constants(np.uint8)  # float64, model channel order
    channels = conv.in_channels
    _check_channels(spec, scale, channels)
    scale = np.broadcast_to(scale, (channels,)).astype(np.float64)
    shift = np.broadcast_to(shift, (channels,)).astype(np.float64)
    reverse = spec.reverse_channels
    # raw value of each model channel that normalizes to 0 (the zero-padding's value)
    neutral = -shift / scale
    padding, fill = _raw_padding(folded, pad_name, conv, neutral, scale, shift)
    permute = reverse and conv.groups == 1
    _fold_weights(conv, scale, shift, permute)
    if reverse and permute:
        fill = fill[::-1]  # the pad happens on the raw (input-order) channels
    weight = conv.weight
    fill_tensor = torch.tensor(np.ascontiguousarray(fill), dtype=weight.dtype)
    result = FoldedNormalization(
        folded,
        spec,
        layout,
        padding,
        fill_tensor.reshape(1, -1, 1, 1).to(weight.device),
        reverse and not permute,
    )
    result.train(model.training)
    hint = ""
    if type(conv).forward is not nn.Conv2d.forward:
        hint = (
            f" The first convolution {name!r} is a {type(conv).__name__}, whose own forward may "
            "pad its input (TF 'SAME' ports, e.g. timm's Conv2dSame): replace it by nn.ZeroPad2d "
            "+ nn.Conv2d with the same weights to fold."
        )
    check_probe(model, result, spec, channels, probe_size, hint)
    return result


def _spec(normalization: Normalization) -> NormalizationSpec:
    spec = as_spec(normalization)
    keep = (
        "Keep the normalization in front of the model (nn.Sequential(albu_norm.torch.Normalize"
        ".from_spec(spec), model)), or prepend it to an ONNX model with "
        "albu_norm.onnx.prepend_normalization."
    )
    if spec.per_image:
        raise ValueError(
            f"cannot fold normalization={spec.normalization!r}: it computes its statistics from "
            f"each image, and only fixed statistics (normalization='standard') fold into a "
            f"convolution's weights. {keep}"
        )
    if spec.masked or spec.ignore_value is not None:
        raise ValueError(
            "cannot fold a masked normalization (masked=True or ignore_value): the pixels left "
            f"out depend on each image's mask. Use an unmasked spec to fold, or: {keep}"
        )
    if spec.clip_range is not None:
        raise ValueError(f"cannot fold clip_range={spec.clip_range}: a clip is not affine. {keep}")
    return spec


def _first_conv(model: nn.Module, layer: Optional[str]) -> tuple[str, nn.Conv2d]:
    modules = dict(model.named_modules())
    if layer is not None:
        found = modules.get(layer)
        if not isinstance(found, nn.Conv2d):
            kind = "no such module" if found is None else type(found).__name__
            convs = [n for n, m in modules.items() if isinstance(m, nn.Conv2d)][:5]
            raise ValueError(
                f"layer={layer!r} must name an nn.Conv2d of the model, got {kind}. The first "
                f"Conv2d layers by module order: {convs}."
            )
        return layer, found
    for name, module in modules.items():
        if isinstance(module, nn.Conv2d):
            return name, module
    raise ValueError(
        f"{type(model).__name__} has no nn.Conv2d to fold the normalization into: a first layer "
        "that is not a convolution cannot absorb it. Keep albu_norm.torch.Normalize in front of "
        "the model instead."
    )


def _check_channels(spec: NormalizationSpec, scale: np.ndarray, channels: int) -> None:
    if len(scale) not in (1, channels):
        raise ValueError(
            f"{spec.source} has {len(scale)} channel values but the first convolution takes "
            f"{channels} input channels. Use a preset or mean/std with {channels} values (or one)."
        )
    if spec.reverse_channels and channels != 3:
        raise ValueError(
            f"{spec.source} reverses the channels ({spec.input_channel_order} input, "
            f"{spec.channel_order} model), which needs 3 input channels; the first convolution "
            f"takes {channels}. Pass input_channel_order={spec.channel_order!r}."
        )


def _raw_padding(
    model: nn.Module,
    pad_name: Optional[str],
    conv: nn.Conv2d,
    neutral: np.ndarray,
    scale: np.ndarray,
    shift: np.ndarray,
) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """Take the zero padding off the conv (and a pad in front, replaced by nn.Identity): the
    (left, right, top, bottom) raw padding and its per-channel raw fill value."""
    left = right = top = bottom = 0
    fill = neutral
    value = 0.0
    if pad_name is not None:
        pad = dict(model.named_modules())[pad_name]
        left, right, top, bottom = pad.padding
        value = float(getattr(pad, "value", 0.0))
        fill = (value - shift) / scale  # the raw value that normalizes to the pad's value
        _replace(model, pad_name, nn.Identity())
    if conv.padding_mode == "zeros":
        conv_pad = _conv_padding(conv)
        if any(conv_pad) and pad_name is not None and value != 0.0:
            raise ValueError(
                f"{pad_name!r} pads with {value} and the convolution pads with zeros too: two "
                "different fill values cannot become one raw padding. Fold by hand."
            )
        left, right, top, bottom = (a + b for a, b in zip((left, right, top, bottom), conv_pad))
        conv.padding = (0, 0)
        if any(conv_pad) and pad_name is None:
            fill = neutral
    return (left, right, top, bottom), fill


def _conv_padding(conv: nn.Conv2d) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) of a zero-padded conv's ``padding`` (ints, 'same', 'valid')."""
    if conv.padding == "valid":
        return (0, 0, 0, 0)
    if conv.padding == "same":  # PyTorch's split: the extra pixel at the end
        sides = []
        for dilation, size in zip(conv.dilation, conv.kernel_size):
            total = dilation * (size - 1)
            sides.append((total // 2, total - total // 2))
        (top, bottom), (left, right) = sides
        return (left, right, top, bottom)
    pad_h, pad_w = (int(p) for p in conv.padding)
    return (pad_w, pad_w, pad_h, pad_h)


def _fold_weights(conv: nn.Conv2d, scale: np.ndarray, shift: np.ndarray, permute: bool) -> None:
    """W'[:, c] = W[:, c] * scale[c], b' = b + sum W[:, c] * shift[c] (per group), in float64;
    ``permute``: the weights' input channels reversed (the raw channels of a BGR spec)."""
    weight = conv.weight.detach().to(torch.float64)
    out_channels, per_group = weight.shape[:2]
    groups = conv.groups
    rows = out_channels // groups
    # the model channel each weight input channel reads, per output channel: (Cout, Cin/groups)
    scale_rows = torch.tensor(scale, dtype=torch.float64).reshape(groups, per_group)
    shift_rows = torch.tensor(shift, dtype=torch.float64).reshape(groups, per_group)
    scale_rows = scale_rows.repeat_interleave(rows, dim=0).to(weight.device)
    shift_rows = shift_rows.repeat_interleave(rows, dim=0).to(weight.device)
    bias = torch.zeros(out_channels, dtype=torch.float64, device=weight.device)
    if conv.bias is not None:
        bias = conv.bias.detach().to(torch.float64)
    bias = bias + (weight.sum(dim=(2, 3)) * shift_rows).sum(dim=1)
    weight = weight * scale_rows[:, :, None, None]
    if permute:
        weight = weight.flip(1)
    dtype = conv.weight.dtype
    with torch.no_grad():
        conv.weight.copy_(weight.to(dtype))
        if conv.bias is None:
            conv.bias = nn.Parameter(bias.to(dtype), requires_grad=conv.weight.requires_grad)
        else:
            conv.bias.copy_(bias.to(dtype))


def _replace(model: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, module)
