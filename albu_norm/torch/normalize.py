"""``Normalize`` as a ``torch.nn.Module``: the spec of the CPU transform, applied to batches
of tensors on any device.

It is built from a :class:`albu_norm.spec.NormalizationSpec` (the arguments of
``albu_norm.Normalize``, ``from_transform`` or ``from_spec``) and evaluate the formulas of
:mod:`albu_norm.functional` on (N, C, H, W) or (N, H, W, C) tensors. How
:class:`Normalize` evaluates them:

==========================================  ================================================
spec / input                                evaluation
==========================================  ================================================
per-image mode, uint8 on the CPU            exact 256-bin histograms per image (or image
                                            and channel, ``torch.bincount``; a mask zeroes
                                            the left-out values, then takes their count off
                                            bin 0), float64 statistics from them, and one
                                            256-entry table per group computed in float64
                                            applied with cv2.LUT: correctly rounded outputs
per-image mode, otherwise (CUDA, floats,    statistics per image (or per image and channel)
tracing and export)                         in float64, then ``(x - center) * scale`` in
                                            float64 rounded to float32 (one float64 copy)
fixed, CUDA (and every non-CPU device)      one ``torch.addcmul(offset, x, scale, out=out)``
                                            kernel: reads the input (uint8, NCHW or NHWC),
                                            computes in float32, writes the output; no
                                            temporary
fixed, CPU                                  ``out.copy_(x)`` (the dtype conversion, and the
                                            NHWC -> NCHW transpose), then ``mul_``/``add_`` in
                                            place: no temporary (PyTorch's CPU kernels would
                                            copy a mixed-dtype input to one first)
float32 arithmetic inaccurate (|offset| >   the same in float64 (the constants' float64
64: caffe-style presets), or float64 input  buffers), as :mod:`albu_norm._kernels` does; on
                                            the CPU through a float64 work tensor
==========================================  ================================================

float16/bfloat16 output is the float32 result rounded to that dtype.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch
from torch import nn

from albu_norm._checks import (
    FLOAT_SCALE_LIMIT,
    check_mask_kind,
    float_scale_message,
    mask_nan_message,
)
from albu_norm._kernels import apply_lut, float32_constants_ok
from albu_norm.modes import Mode, check_supported
from albu_norm.spec import NormalizationSpec, resolve_spec
from albu_norm.torch._checks import (
    INPUT_DTYPES,
    LAYOUTS,
    OUTPUT_DTYPES,
    UINT16,
    ChannelValues,
    channel_message,
    check_batch,
    check_fill_fits,
    check_layout,
    check_loaded_constants,
    check_out,
    check_output_dtype,
    exporting,
    keep_precision,
    spec_of,
)

__all__ = ["INPUT_DTYPES", "LAYOUTS", "OUTPUT_DTYPES", "Normalize"]


# rows of the scale buffer: uint8, uint16; floats use row 2
_ROWS = {torch.uint8: 0, **({UINT16: 1} if UINT16 is not None else {})}
_ROW_DTYPES = (np.uint8, np.uint16, np.float32)
# the primitives of this module (see _center_spread); its floors are those of albu_norm.modes
_CENTERS = ("fixed", "mean", "min")
_SPREADS = ("fixed", "std", "range")


class Normalize(nn.Module):
    """Normalize a batch of images on its device: the same spec and numbers as
    ``albu_norm.Normalize``.

    Formulas (see :mod:`albu_norm.functional`), per image n and channel c:

    * ``"standard"``: ``out = (x / max_pixel_value - mean[c]) / std[c]``, evaluated as
      ``x * scale[c] + offset[c]`` with ``scale = 1 / (max_pixel_value * std)`` and
      ``offset = -mean / std``: buffers (3, C, 1, 1), one row per dtype rule (uint8, uint16,
      floats), the CPU kernels' float64 numbers (``NormalizationSpec.affine_constants``)
      rounded to float32;
    * ``"image"`` / ``"image_per_channel"``: ``(x - mean) / std`` with the population
      statistics (ddof=0) of image n (or of its channel c);
    * ``"min_max"`` / ``"min_max_per_channel"``: ``(x - min) / (max - min)``;
    * ``"per_image_standardization"``: ``(x - mean) / max(std, 1 / sqrt(N))`` on the image's
      own values, N = C * H * W, or C times the kept pixels with a mask
      (``tf.image.per_image_standardization``).

    Epsilon policy, as on the CPU: none. An image (or channel) whose values are all equal
    (decided exactly: min == max) gives exact zeros. Per-image statistics are float64.

    Args:
        mean: per-channel means in units of max_pixel_value (0-1 scale), one or C values, in
            the input's channel order; with std. Default: the ImageNet preset.
        std: per-channel standard deviations, same units, each > 0.
        max_pixel_value: the pixel value of 1.0; None follows the preset, else the dtype
            (255 for uint8, 65535 for uint16, 1.0 for float tensors).
        normalization: "standard" or a per-image mode (see above).
        preset: a registered preset name (:func:`albu_norm.list_presets`).
        stats: a statistics file of ``albu-norm stats`` or its record.
        input_channel_order: "RGB" or "BGR": the order of the images; a preset of the other
            order (caffe, detectron2) reverses the channels first.
        masked: a statistics mask comes with each call (``forward(images, mask=...)``), as
            ``mask_key`` on the CPU: per-image statistics over the pixels where it is nonzero.
        ignore_value: nodata (one number, or one per channel): pixels whose every channel
            equals it are left out of the statistics.
        outside: "normalize" (default) or "fill": what the left-out pixels become.
        fill: their value with ``outside="fill"``, and every value of an image with no kept
            pixel.
        layout: "NCHW" (a collate of ``ToTensorV2`` outputs) or "NHWC" (a collate of HWC
            arrays). The output is (N, C, H, W), contiguous, either way.
        dtype: output dtype, torch.float32 (default), torch.float16 or torch.bfloat16.
        check_values: True (default): the checks that read the values, as on the CPU (the core's
            rules and messages): a float batch under the dtype rule (max_pixel_value None) must
            be on the 0-1 scale (values up to 2), a float mask must hold no NaN. Each is one
            reduction over the batch and, on an accelerator, makes the host wait for it (on the
            CPU, 1.35x the time of a fixed-statistics float32 call of 8 x 3 x 512 x 512). False
            skips them: the documented opt-out for a pipeline whose input is known good.
    Shape:
        input (N, C, H, W) or (N, H, W, C) per ``layout``; uint8, uint16, float16, bfloat16,
        float32 or float64, on any device (the module's buffers must be on it: ``.to(device)``).
        Output (N, C, H, W) of ``dtype``, a new contiguous tensor.
    Raises:
        ValueError: at construction, as ``albu_norm.Normalize`` (unknown preset, std <= 0,
            mean/std with a per-image mode, ...), an unknown layout, a mode row whose center or
            spread this module has no primitive for; when called, the core's rules (a float
            batch beyond the 0-1 scale under the dtype rule, a NaN mask, a mask missing or
            unexpected, an ignore_value of the wrong length), a tensor that
            is not 4-D, an empty batch, a channel count the spec's values do not fit, a
            channel reversal on a batch without 3 channels, buffers on another device.
        TypeError: a dtype argument that is not float32/float16/bfloat16; when called, an
            input that is not a tensor or has an unsupported dtype, a complex mask.
    Limits:
        No NaN/Inf or float32-range checks of the images (each would make the host wait for
        the device): NaN/Inf in a per-image mode give NaN outputs where the CPU raises
        ValueError. Fixed
        statistics on uint8 are float32 arithmetic, within 4.8e-7 of the CPU's correctly
        rounded lookup table. Per-image statistics are plain float64 (no power-of-two scaling
        as on the CPU): float64 batches beyond about 1e154 in magnitude, or with a spread
        below about 1e-154, lose their statistics to overflow or underflow.
    Example:
        >>> import torch
        >>> import albu_norm.torch as ANT
        >>> norm = ANT.Normalize(preset="imagenet")
        >>> norm(torch.full((1, 3, 2, 2), 255, dtype=torch.uint8))[0, :, 0, 0]
        tensor([2.2489, 2.4286, 2.6400])
    """

    scale: torch.Tensor  # (3, C, 1, 1) float32: rows for uint8, uint16, float inputs
    offset: torch.Tensor  # (C, 1, 1) float32
    scale64: torch.Tensor  # float64 copies, registered only for the float64 route
    offset64: torch.Tensor

    def __init__(
        self,
        mean: ChannelValues | None = None,
        std: ChannelValues | None = None,
        max_pixel_value: float | None = None,
        normalization: str = "standard",
        preset: str | None = None,
        stats: Any = None,
        input_channel_order: str = "RGB",
        *,
        masked: bool = False,
        ignore_value: Any = None,
        outside: str = "normalize",
        fill: float = 0.0,
        layout: str = "NCHW",
        dtype: torch.dtype = torch.float32,
        check_values: bool = True,
    ) -> None:
        spec = resolve_spec(
            normalization,
            mean,
            std,
            max_pixel_value,
            preset=preset,
            stats=stats,
            input_channel_order=input_channel_order,
            masked=masked,
            ignore_value=ignore_value,
            outside=outside,
            fill=fill,
        )
        super().__init__()
        self._setup(spec, layout, dtype, check_values)

    @classmethod
    def from_spec(
        cls,
        spec: NormalizationSpec,
        *,
        layout: str = "NCHW",
        dtype: torch.dtype = torch.float32,
        check_values: bool = True,
    ) -> Normalize:
        """The module of a resolved :class:`albu_norm.spec.NormalizationSpec`.

        Raises:
            TypeError: spec is not a NormalizationSpec; dtype as in the constructor.
            ValueError: unknown layout.
        """
        if not isinstance(spec, NormalizationSpec):
            raise TypeError(
                f"spec must be an albu_norm NormalizationSpec, got {type(spec).__name__}. Use "
                "albu_norm.resolve_spec(...) or Normalize.from_transform(transform)."
            )
        module = cls.__new__(cls)
        nn.Module.__init__(module)
        module._setup(spec, layout, dtype, check_values)
        return module

    @classmethod
    def from_transform(
        cls,
        transform: Any,
        *,
        layout: str = "NCHW",
        dtype: torch.dtype = torch.float32,
        check_values: bool = True,
    ) -> Normalize:
        """The module of an ``albu_norm.Normalize`` transform: its spec, the same numbers.

        Raises:
            TypeError: the transform has no albu_norm spec (e.g. ``albumentations.Normalize``:
                replace it by ``albu_norm.Normalize``, which takes the same arguments).
        """
        module = cls.from_spec(
            spec_of(transform), layout=layout, dtype=dtype, check_values=check_values
        )
        module.mask_key = getattr(transform, "mask_key", None)
        return module

    def _setup(
        self, spec: NormalizationSpec, layout: str, dtype: torch.dtype, check_values: bool = True
    ) -> None:
        if not isinstance(check_values, bool):
            raise ValueError(f"check_values must be True or False, got {check_values!r}.")
        self.spec = spec
        #: the batch key of the statistics masks for DeviceLoader (from_transform: the
        #: transform's mask_key); None: "mask"
        self.mask_key: Optional[str] = None
        self.check_values = check_values
        self.layout = check_layout(layout)
        self.dtype = check_output_dtype(dtype)
        check_fill_fits(spec.fill, self.dtype)
        self._float64_rows: tuple[bool, ...] = (False, False, False)
        check_supported(spec.mode, "albu_norm.torch.Normalize", centers=_CENTERS, spreads=_SPREADS)
        if spec.per_image:
            return
        constants = _fixed_constants(spec)
        self._host64 = (constants["scale64"], constants["offset64"])
        self._float64_rows = tuple(
            not float32_constants_ok(scale.numpy(), offset.numpy())
            for scale, offset in zip(constants["scale64"], constants["offset64"])
        )
        for name, value in constants.items():
            # float64 copies only where needed: they do not move to every device (MPS)
            if name in ("scale", "offset") or any(self._float64_rows):
                self.register_buffer(name, value)

    def _apply(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return keep_precision(self, super()._apply(fn, *args, **kwargs), _fixed_constants)

    def _load_from_state_dict(
        self, state_dict: Any, prefix: str, *args: Any, **kwargs: Any
    ) -> None:
        check_loaded_constants(self, state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def extra_repr(self) -> str:
        spec = self.spec
        return (
            f"normalization={spec.normalization!r}, source={spec.source!r}, "
            f"layout={self.layout!r}, dtype={self.dtype}"
        )

    def forward(
        self,
        images: torch.Tensor,
        mask: Optional[torch.Tensor] = None,
        out: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """Normalize ``images`` (see the class docstring). ``mask`` and ``out`` may be passed
        by position too (``torch.onnx.export(..., dynamo=False)`` passes every argument so).

        Args:
            images: the batch, per ``layout``.
            mask: (N, H, W) statistics masks (nonzero = the pixel counts), when the spec is
                ``masked`` (e.g. the collated ``valid`` masks of a letterbox pipeline).
            out: optional (N, C, H, W) contiguous tensor of ``dtype`` on the images' device to
                write into, reused across batches. On the CPU a fresh 38 MB output (64 images
                of 224 x 224) costs more in page faults than the arithmetic; CUDA's caching
                allocator reuses memory by itself.
        Returns:
            ``out``, or a new contiguous (N, C, H, W) tensor of ``dtype``.
        """
        check_batch(images, self.layout)
        view = images.permute(0, 3, 1, 2) if self.layout == "NHWC" else images
        if out is not None:
            check_out(out, view, self.dtype)
        kept = self._kept(view, mask)
        if self.spec.per_image:
            result = self._per_image(view, kept)
        else:
            self._check_fits(view, images.shape)
            self._check_scale(view)
            result = self._fixed(view, out)
        if kept is not None and self.spec.outside == "fill":
            result = result.masked_fill_(~kept, self.spec.fill)
        if out is None or result is out:
            return result
        return out.copy_(result)

    def _kept(self, view: torch.Tensor, mask: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        """(N, 1, H, W) bool: the pixels that count; None when all do."""
        spec = self.spec
        spec.masking.check_presence(
            mask is not None, "call norm(images, mask=masks) with (N, H, W) masks"
        )
        kept = None
        if mask is not None:
            n, _, h, w = view.shape
            if not isinstance(mask, torch.Tensor) or tuple(mask.shape) != (n, h, w):
                shape = tuple(getattr(mask, "shape", ()))
                raise ValueError(
                    f"mask must be an (N, H, W) = {(n, h, w)} tensor (nonzero = the pixel "
                    f"counts), got shape {shape}: collate the masks moved with the images."
                )
            check_mask_kind(_kind(mask.dtype), mask.dtype)
            if self.check_values and mask.is_floating_point() and bool(mask.isnan().any()):
                raise ValueError(mask_nan_message())
            kept = (mask != 0).to(view.device).unsqueeze(1)
        if spec.ignore_value is not None:
            spec.masking.check_ignore_value_fits(int(view.shape[1]), tuple(view.shape))
            nodata = _nodata(view, spec.ignore_value)
            if nodata is not None:
                kept = ~nodata if kept is None else kept & ~nodata
        return kept

    # ----------------------------------------------------------------------------------------

    def _check_fits(self, view: torch.Tensor, shape: torch.Size) -> None:
        channels = int(view.shape[1])  # a concrete int under torch.compile(dynamic=True)
        count = int(self.offset.shape[1])
        if count != 1 and count != channels:  # not `in`: Dynamo (dynamic=True) gets it wrong
            raise ValueError(channel_message(self.spec, count, channels, shape, self.layout))
        if self.spec.reverse_channels and channels != 3:
            raise ValueError(
                f"{self.spec.source} is in {self.spec.channel_order} order and the images in "
                f"{self.spec.input_channel_order}: reversing the channels needs 3, but the batch "
                f"has {channels} (shape {tuple(shape)}, layout {self.layout}). Pass "
                f"input_channel_order={self.spec.channel_order!r}, or 3-channel images."
            )
        if self.offset.device != view.device:
            raise ValueError(
                f"the images are on {view.device} but the module's constants are on "
                f"{self.offset.device}: call norm.to({str(view.device)!r}) once (or use "
                "DeviceLoader, which does)."
            )

    def _check_scale(self, view: torch.Tensor) -> None:
        """The core's 0-1 scale rule for float batches under the dtype rule (max_pixel_value
        None): one reduction, and on an accelerator one wait for it (``check_values=False``
        skips it)."""
        if (
            self.spec.max_pixel_value is None
            and view.is_floating_point()
            and self.check_values
            and not exporting()
        ):
            low, high = torch.aminmax(view)  # one pass, no temporary
            largest = max(-float(low), float(high))
            if largest > FLOAT_SCALE_LIMIT:
                raise ValueError(float_scale_message("images", f"a {view.dtype} batch", largest))

    def _fixed(self, view: torch.Tensor, out: Optional[torch.Tensor] = None) -> torch.Tensor:
        row = _ROWS.get(view.dtype, 2)
        scale, offset = self.scale[row], self.offset[row]
        if self._float64_rows[row]:
            scale, offset = self.scale64[row], self.offset64[row]
        elif view.dtype == torch.float64:  # float64 input: float64 arithmetic, as on the CPU
            # the float64 numbers, kept on the host (float64 buffers would not move to MPS)
            scale, offset = (v[row].to(view.device) for v in self._host64)
        float64 = scale.dtype == torch.float64
        order = [2, 1, 0] if self.spec.reverse_channels else None
        clip = self.spec.clip_range
        if exporting():
            return self._fixed_functional(view, scale, offset, order)
        if clip is not None or view.device.type == "cpu":
            # PyTorch's CPU kernels copy mixed-dtype inputs to a temporary: convert into the
            # output instead, then scale and shift it in place (float64 and float16/bfloat16
            # outputs: a float64 or float32 work tensor, rounded at the end). Whole-batch ops:
            # chunks of a few images were faster alone, and 10x slower with the DataLoader's
            # workers on the same cores (OpenMP regions under oversubscription).
            direct = not float64 and self.dtype == torch.float32
            work = out if direct and out is not None else _empty(view, scale.dtype)
            _copy_channels(work, view, order)
            if clip is not None:
                work.clamp_(clip[0], clip[1])
            work.mul_(scale).add_(offset)  # faster than an in-place addcmul on the CPU
            return work if direct else _round(work, self.dtype)
        # one kernel: reads the input (any dtype), computes in the constants' dtype, writes the
        # output (a float16/bfloat16 output of the float64 route goes through float32)
        if float64 and self.dtype != torch.float32:
            target = _empty(view, torch.float32)
        else:
            target = _empty(view, self.dtype) if out is None else out
        if order is None:
            torch.addcmul(offset, view, scale, out=target)
        else:
            for index, source in enumerate(order):
                torch.addcmul(
                    _channel(offset, index),
                    view[:, source : source + 1],
                    _channel(scale, index),
                    out=target[:, index : index + 1],
                )
        return _round(target, self.dtype)

    def _fixed_functional(
        self,
        view: torch.Tensor,
        scale: torch.Tensor,
        offset: torch.Tensor,
        order: Optional[list[int]],
    ) -> torch.Tensor:
        """The same arithmetic without out= and in-place ops, for tracing and export."""
        if order is not None:
            view = torch.cat([view[:, i : i + 1] for i in order], dim=1)
        values = view.to(scale.dtype)
        clip = self.spec.clip_range
        if clip is not None:
            values = values.clamp(clip[0], clip[1])
        return _round(values * scale + offset, self.dtype)

    def _per_image(self, view: torch.Tensor, kept: Optional[torch.Tensor] = None) -> torch.Tensor:
        n, c = view.shape[:2]
        mode = self.spec.mode
        size = (n, c if mode.per_channel else 1, -1)
        if _histogram_route(view):
            # uint8 on the CPU: exact per-group histograms, float64 statistics from 256 levels,
            # then each group through a 256-entry table computed in float64 (cv2.LUT): every
            # output is the float64 formula correctly rounded, as in the numpy core
            center, spread = _row_statistics(mode, *_histogram_moments(view, kept, size[1]))
            table = _level_table(mode, center, spread)
            normalized = _apply_tables(view, table, size)
            return self._fill_empty(_round(normalized, self.dtype), kept)
        # one float64 copy, contiguous (N, C, H, W): the statistics and the affine work on it
        # (shapes from the tensors, never Python ints: a traced export keeps them dynamic)
        values = view.to(torch.float64, memory_format=torch.contiguous_format, copy=True)
        weights = None if kept is None else _grouped(kept.expand_as(view), mode.per_channel)
        groups = _grouped(values, mode.per_channel)
        moments = _moments(groups, weights, mode.needs_moments)
        center, spread = _row_statistics(mode, *moments)
        normalized = _row_affine(mode, groups, center, spread, not exporting())
        return self._fill_empty(_round(normalized.reshape_as(view), self.dtype), kept)

    def _fill_empty(self, result: torch.Tensor, kept: Optional[torch.Tensor]) -> torch.Tensor:
        """Every value of an image with no kept pixel is ``fill``."""
        if kept is not None:
            empty = ~kept.flatten(1).any(dim=1)
            # on the CPU, asking costs nothing and skips a boolean-index write of the batch
            if exporting() or result.device.type != "cpu" or bool(empty.any()):
                # a broadcast mask (N, 1, 1, 1), not a boolean index: the traced ONNX export
                # of `result[empty] = fill` broadcasts (N,) against the width
                per_image = empty.reshape(-1, 1, 1, 1)
                if exporting():
                    return result.masked_fill(per_image, self.spec.fill)
                result.masked_fill_(per_image, self.spec.fill)
        return result


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

Moments = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def _moments(groups: torch.Tensor, weights: Optional[torch.Tensor], needs_moments: bool) -> Moments:
    """(low, high, count, mean, variance), each (N, G, 1) float64, of each group of ``groups``
    (N, G, L) float64 (G = C per channel, 1 pooled), over the values where ``weights`` (the
    same shape, bool) is True, all of them when None; low = high = 0 without values. Without
    ``needs_moments`` (the min-max rows) mean and variance are zeros: no passes for them."""
    if weights is None:
        low = groups.amin(dim=-1, keepdim=True)
        high = groups.amax(dim=-1, keepdim=True)
        if exporting():  # the count from the tensor (a traced shape would be a constant)
            count = torch.ones_like(groups).sum(dim=-1, keepdim=True)
        else:
            count = torch.full_like(low, groups.shape[-1])
        if not needs_moments:
            return low, high, count, torch.zeros_like(low), torch.zeros_like(low)
        if exporting():  # var_mean's ONNX decomposition divides float64 by a float32 count
            mean = groups.sum(dim=-1, keepdim=True) / count
            deviations = groups - mean
            return low, high, count, mean, (deviations * deviations).sum(-1, True) / count
        variance, mean = torch.var_mean(groups, dim=-1, correction=0, keepdim=True)
        return low, high, count, mean, variance
    inf = torch.tensor(float("inf"), dtype=groups.dtype, device=groups.device)
    count = weights.sum(dim=-1, keepdim=True).to(groups.dtype)
    none_kept = count == 0
    low = torch.where(weights, groups, inf).amin(dim=-1, keepdim=True)
    high = torch.where(weights, groups, -inf).amax(dim=-1, keepdim=True)
    low, high = torch.where(none_kept, 0.0, low), torch.where(none_kept, 0.0, high)
    if not needs_moments:
        return low, high, count, torch.zeros_like(low), torch.zeros_like(low)
    counted = count.clamp(min=1)
    mean = torch.where(weights, groups, 0.0).sum(dim=-1, keepdim=True) / counted
    deviations = torch.where(weights, groups - mean, 0.0)
    variance = (deviations * deviations).sum(dim=-1, keepdim=True) / counted
    return low, high, count, mean, variance


def _grouped(values: torch.Tensor, per_channel: bool) -> torch.Tensor:
    """(N, C, H, W) as (N, G, L) groups: G = C per channel (L = H * W), 1 pooled."""
    return values.flatten(2) if per_channel else values.flatten(1).unsqueeze(1)


def _histogram_route(view: torch.Tensor) -> bool:
    """uint8 on the CPU, outside tracing: statistics from exact histograms (torch.bincount,
    which on CUDA would make the host wait to size its output)."""
    return view.dtype == torch.uint8 and view.device.type == "cpu" and not exporting()


def _histogram_moments(view: torch.Tensor, kept: Optional[torch.Tensor], groups: int) -> Moments:
    """:func:`_moments` of uint8 images (N, C, H, W) in ``groups`` groups per image (C per
    channel, 1 pooled) over the ``kept`` pixels ((N, 1, H, W) bool, None: all), from each
    group's exact 256-bin histogram: the counts are integers, the mean and the (two-pass)
    variance float64 sums of 256 terms."""
    n, c, h, w = view.shape
    values = view if kept is None else view * kept  # left-out values counted at level 0 ...
    rows = values.reshape(n * groups, -1)
    histogram = torch.stack([torch.bincount(row, minlength=256) for row in rows])
    if kept is not None:  # ... and taken off again, exactly
        pixels = kept.reshape(n, -1).view(torch.uint8).sum(dim=1, dtype=torch.int64)
        left = (h * w - pixels) * (c // groups)  # left-out values per group
        histogram[:, 0] -= left.repeat_interleave(groups)
    histogram = histogram.to(torch.float64)  # (N * G, 256), exact below 2**53
    levels = torch.arange(256, dtype=torch.float64)
    count = histogram.sum(dim=1, keepdim=True)
    counted = count.clamp(min=1)
    mean = (histogram * levels).sum(dim=1, keepdim=True) / counted
    variance = (histogram * (levels - mean) ** 2).sum(dim=1, keepdim=True) / counted
    present = histogram > 0
    low = present.to(torch.int8).argmax(dim=1, keepdim=True).to(torch.float64)
    high = 255.0 - present.flip(1).to(torch.int8).argmax(dim=1, keepdim=True).to(torch.float64)
    none_kept = count == 0
    low, high = torch.where(none_kept, 0.0, low), torch.where(none_kept, 0.0, high)
    return tuple(v.reshape(n, groups, 1) for v in (low, high, count, mean, variance))  # type: ignore[return-value]


def _level_table(mode: Mode, center: torch.Tensor, spread: torch.Tensor) -> np.ndarray:
    """(N * G, 256) float32 table of the row's affine (:func:`_row_affine`) at the levels
    0..255 for each group's center and spread (N, G, 1) float64: computed in float64 and
    rounded once to float32."""
    levels = torch.arange(256, dtype=torch.float64).expand(*center.shape[:2], 256)
    values = _row_affine(mode, levels, center, spread, in_place=False)
    return np.ascontiguousarray(values.reshape(-1, 256).to(torch.float32).numpy())


def _row_affine(
    mode: Mode, groups: torch.Tensor, center: torch.Tensor, spread: torch.Tensor, in_place: bool
) -> torch.Tensor:
    """The row's affine of float64 groups (N, G, L): ``(x - c) / s`` for the rows that
    ``divide`` (exact 0 and 1 at the ends of a min-max range), ``(x - c) * (1 / s)`` for the
    others; zeros where the spread is 0 (a uniform group, or one without kept values).
    ``in_place`` overwrites ``groups`` (not while tracing or exporting)."""
    positive = spread > 0
    safe = torch.where(positive, spread, 1.0)
    if mode.divide:
        if not in_place:
            return torch.where(positive, (groups - center) / safe, 0.0)
        return groups.sub_(center).div_(safe).mul_(positive)
    scale = torch.where(positive, 1.0 / safe, 0.0)
    return groups.sub_(center).mul_(scale) if in_place else (groups - center) * scale


def _apply_tables(
    view: torch.Tensor, table: np.ndarray, size: tuple[int, int, int]
) -> torch.Tensor:
    """uint8 (N, C, H, W) on the CPU through one table row per group (``size`` = (N, G, -1)),
    each group one cv2.LUT pass (the core's :func:`~albu_norm._kernels.apply_lut`)."""
    source = view.contiguous().numpy().reshape(table.shape[0], 1, -1)
    out = np.empty(source.shape, dtype=table.dtype)
    for group, row in enumerate(table):
        apply_lut(source[group], row, out[group])
    return torch.from_numpy(out).reshape(view.shape)


def _row_statistics(
    mode: Mode,
    low: torch.Tensor,
    high: torch.Tensor,
    count: torch.Tensor,
    mean: torch.Tensor,
    variance: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(center, spread) of the row ``mode`` from a group's moments. A uniform group (min ==
    max, decided exactly) or one with no kept value gets the center min (0 without values) and
    the spread 0. The TF floor is ``1 / sqrt(N)``, N the number of values counted in the group."""
    uniform = (low == high) | (count == 0)  # exact, unlike a float mean compared with the pixels
    center = {"mean": mean, "min": low}[mode.center]
    spread = {"std": variance.sqrt(), "range": high - low}[mode.spread]
    if mode.floor == "tf":  # tf.image.per_image_standardization: max(std, 1 / sqrt(N))
        spread = torch.maximum(spread, 1.0 / count.clamp(min=1).sqrt())
    return torch.where(uniform, low, center), torch.where(uniform, 0.0, spread)


def _fixed_constants(spec: NormalizationSpec) -> dict[str, torch.Tensor]:
    """The buffers of a fixed-statistics Normalize: ``scale`` and ``offset`` (3, C, 1, 1), one
    row per dtype rule (uint8, uint16, floats), the CPU kernels' float64 numbers
    (:meth:`NormalizationSpec.affine_constants`) in float32, and their float64 values."""
    rows = [spec.affine_constants(dtype) for dtype in _ROW_DTYPES]
    scale64 = torch.tensor(np.stack([scale for scale, _ in rows]), dtype=torch.float64)
    offset64 = torch.tensor(np.stack([offset for _, offset in rows]), dtype=torch.float64)
    scale64, offset64 = (v.reshape(3, -1, 1, 1) for v in (scale64, offset64))
    return {
        "scale": scale64.float(),
        "offset": offset64.float(),
        "scale64": scale64,
        "offset64": offset64,
    }


def _nodata(view: torch.Tensor, ignore_value: tuple[float, ...]) -> Optional[torch.Tensor]:
    """(N, 1, H, W) bool: pixels whose every channel equals ``ignore_value``, by the CPU's rule:
    float images compare in their own dtype (0.1 means bfloat16(0.1) in a bfloat16 batch),
    integer images exactly (a value that is not one of the dtype's integers matches nothing).
    None when nothing can match."""
    if view.is_floating_point():
        data, target = view, torch.tensor(ignore_value, dtype=view.dtype, device=view.device)
    elif view.dtype == torch.uint8:  # native comparison: no float64 copy of the batch
        if not all(v == int(v) and 0 <= v <= 255 for v in ignore_value):
            return None
        data = view
        target = torch.tensor([int(v) for v in ignore_value], dtype=torch.uint8, device=view.device)
    else:
        data = view.to(torch.float64)
        target = torch.tensor(ignore_value, dtype=torch.float64, device=view.device)
    return (data == target.reshape(1, -1, 1, 1)).all(dim=1, keepdim=True)


def _kind(dtype: torch.dtype) -> str:
    """numpy's dtype kind of a torch dtype (b, i, u, f, c), for the core's rules."""
    if dtype == torch.bool:
        return "b"
    if dtype.is_complex:
        return "c"
    if dtype.is_floating_point:
        return "f"
    return "i" if dtype.is_signed else "u"


def _empty(view: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return torch.empty(view.shape, dtype=dtype, device=view.device)


def _copy_channels(target: torch.Tensor, view: torch.Tensor, order: Optional[list[int]]) -> None:
    if order is None:
        target.copy_(view)
        return
    for index, source in enumerate(order):
        target[:, index].copy_(view[:, source])


def _channel(values: torch.Tensor, index: int) -> torch.Tensor:
    return values if values.shape[0] == 1 else values[index : index + 1]


def _round(values: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``values`` as ``dtype``, through float32 (a float16/bfloat16 output is the float32
    result rounded)."""
    if values.dtype != torch.float32:
        values = values.to(torch.float32)
    return values if dtype == torch.float32 else values.to(dtype)
