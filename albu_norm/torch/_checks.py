"""Validation and shared helpers of :mod:`albu_norm.torch`: one rule, one message each (what
was wrong, what was expected, how to fix it), as :mod:`albu_norm._checks` for the core."""

from __future__ import annotations

from typing import Any, Union, cast

import torch
from torch import nn

from albu_norm.spec import NormalizationSpec

ChannelValues = Union[float, tuple[float, ...], list[float]]
LAYOUTS = ("NCHW", "NHWC")
# torch.uint16 exists from PyTorch 2.3 on
UINT16 = getattr(torch, "uint16", None)
#: Input dtypes; None max_pixel_value follows the dtype (255, 65535, 1.0 for floats).
INPUT_DTYPES = tuple(
    dtype
    for dtype in (
        torch.uint8,
        UINT16,
        torch.float16,
        torch.bfloat16,
        torch.float32,
        torch.float64,
    )
    if dtype is not None
)
OUTPUT_DTYPES = (torch.float32, torch.float16, torch.bfloat16)


def spec_of(transform: Any) -> NormalizationSpec:
    spec = getattr(transform, "spec", None)
    if isinstance(spec, NormalizationSpec):
        return spec
    kind = f"{type(transform).__module__}.{type(transform).__name__}"
    hint = ""
    if type(transform).__module__.startswith("albumentations"):
        hint = (
            " Replace albumentations' Normalize by albu_norm.Normalize, which takes the same "
            "arguments (note: it follows the dtype for max_pixel_value)."
        )
    raise TypeError(
        f"from_transform takes an albu_norm transform with a .spec (albu_norm.Normalize, "
        f"albu_norm.Denormalize, albu_norm.torch.Normalize), got {kind}.{hint} A resolved spec "
        "goes to from_spec."
    )


def keep_precision(module: nn.Module, result: Any, constants: Any) -> Any:
    """After ``module.to(dtype)`` / ``.half()``: the constants keep their own dtype (their
    digits are part of the numbers), recomputed from the spec on the buffers' new device."""
    spec = getattr(module, "spec", None)
    if spec is None or spec.per_image:
        return result
    for name, value in constants(spec).items():
        buffer = module._buffers.get(name)
        if buffer is not None and buffer.dtype != value.dtype:
            module._buffers[name] = value.to(buffer.device)
    return result


def check_loaded_constants(module: nn.Module, state_dict: Any, prefix: str) -> None:
    """A module's buffers are its spec's numbers, not trained weights: a state_dict whose
    constants are another normalization's is refused (loading it would leave the module
    computing one normalization while its spec and repr say another).

    Raises:
        ValueError: a ``scale`` or ``offset`` in ``state_dict`` differs from the module's
            (relative 1e-6; float16 copies of the same numbers pass).
    """
    for name in ("scale", "offset"):
        ours, theirs = module._buffers.get(name), state_dict.get(prefix + name)
        if ours is None or not isinstance(theirs, torch.Tensor):
            continue  # torch reports missing and unexpected keys itself
        same = theirs.shape == ours.shape and torch.allclose(
            theirs.detach().to("cpu", torch.float64),
            ours.detach().to("cpu", torch.float64),
            rtol=1e-3 if theirs.dtype in (torch.float16, torch.bfloat16) else 1e-6,
            atol=0.0,
        )
        if not same:
            spec: NormalizationSpec = getattr(module, "spec")  # noqa: B009
            raise ValueError(
                f"the state_dict's {prefix + name} is another normalization's than this "
                f"{type(module).__name__}'s ({spec.source}, {spec.normalization}): its "
                "constants come from the spec, not from training. Build the module from the "
                "spec the checkpoint was made with (from_spec(spec), or the same arguments)."
            )


def check_layout(layout: object) -> str:
    if layout not in LAYOUTS:
        raise ValueError(
            f"layout must be 'NCHW' (a batch of ToTensorV2 outputs) or 'NHWC' (a batch of "
            f"HWC arrays), got {layout!r}."
        )
    return str(layout)


def check_output_dtype(dtype: object) -> torch.dtype:
    if dtype not in OUTPUT_DTYPES:
        raise TypeError(
            f"dtype must be torch.float32, torch.float16 or torch.bfloat16, got {dtype!r}."
        )
    return cast(torch.dtype, dtype)


def check_batch(images: object, layout: str, *, floats_only: bool = False) -> None:
    name = "values" if floats_only else "images"
    if not isinstance(images, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor of shape {shape_text(layout)}, got "
            f"{type(images).__name__}. Convert numpy batches with torch.from_numpy(...)."
        )
    if floats_only and not images.is_floating_point():
        raise TypeError(
            f"{name} must be floating-point (normalized values), got dtype {images.dtype}."
        )
    if images.dtype not in INPUT_DTYPES:
        raise TypeError(
            f"{name} has dtype {images.dtype}, which albu_norm does not support; expected "
            "torch.uint8, torch.uint16 or a float dtype (float16, bfloat16, float32, float64). "
            f"Convert it first, e.g. {name}.to(torch.uint8) for 0-255 values or "
            f"{name}.float() for values on the 0-1 scale."
        )
    if images.ndim != 4:
        fix = f"{name}.unsqueeze(0)" if images.ndim == 3 else "a batch of 3-D images"
        raise ValueError(
            f"{name} must be a batch of shape {shape_text(layout)} (layout {layout!r}), got "
            f"shape {tuple(images.shape)} ({images.ndim} dimensions). One image: use {fix}."
        )
    if images.numel() == 0 and not exporting():
        raise ValueError(f"{name} is empty (shape {tuple(images.shape)}): nothing to normalize.")


def shape_text(layout: str) -> str:
    return "(N, C, H, W)" if layout == "NCHW" else "(N, H, W, C)"


def channel_message(
    spec: NormalizationSpec, count: int, channels: int, shape: Any, layout: str
) -> str:
    origin = "mean/std" if spec.origin == "explicit" else spec.source
    plural = "s" if channels != 1 else ""
    message = (
        f"{origin} has {count} channel values but the batch has {channels} channel{plural} "
        f"(shape {tuple(shape)}, layout {layout!r}). "
    )
    other = shape[3] if layout == "NCHW" else shape[1]
    if other == count and channels != count:
        alternative = "NHWC" if layout == "NCHW" else "NCHW"
        return message + f"Is the batch {alternative}? Pass layout={alternative!r}."
    fix = f"Use a preset or mean/std with {channels} value{plural} (one value serves every channel)"
    if channels == 1 and count == 3:
        fix += ", or repeat the gray channel: images.expand(-1, 3, -1, -1)"
    return message + fix + "."


def check_out(out: object, view: torch.Tensor, dtype: torch.dtype) -> None:
    wanted = (tuple(view.shape), dtype, view.device)
    if not isinstance(out, torch.Tensor) or (tuple(out.shape), out.dtype, out.device) != wanted:
        got = (
            (tuple(out.shape), out.dtype, out.device)
            if isinstance(out, torch.Tensor)
            else type(out).__name__
        )
        raise ValueError(
            f"out must be a tensor of shape {wanted[0]}, dtype {dtype} on {view.device} (the "
            f"output of this batch), got {got}."
        )
    if not out.is_contiguous():
        raise ValueError("out must be contiguous (torch.empty(shape, dtype=..., device=...)).")
    if _extents_overlap(out, view):
        # reading channels while writing others (a BGR reversal, per-image statistics) would
        # read values already overwritten: refused for every mode, not computed wrongly
        raise ValueError(
            "out shares memory with the images (out=images, or a view of them): the output "
            "would overwrite pixels still to be read. Pass a separate tensor as out, or omit "
            "out to get a new one."
        )


def _extent(tensor: torch.Tensor) -> tuple[int, int]:
    """[first, last] byte addresses a tensor's elements span (any strides, views included)."""
    start = tensor.data_ptr()
    if tensor.numel() == 0:
        return start, start - 1
    low = sum((n - 1) * s for n, s in zip(tensor.shape, tensor.stride()) if s < 0)
    high = sum((n - 1) * s for n, s in zip(tensor.shape, tensor.stride()) if s > 0)
    size = tensor.element_size()
    return start + low * size, start + high * size + size - 1


def _extents_overlap(a: torch.Tensor, b: torch.Tensor) -> bool:
    """True when the memory spans of two tensors intersect (the same storage, or two tensors
    over one numpy buffer): conservative for interleaved views that touch no common element."""
    if a.device != b.device:
        return False
    (a_first, a_last), (b_first, b_last) = _extent(a), _extent(b)
    return a_first <= b_last and b_first <= a_last


def check_fill_fits(fill: float, dtype: torch.dtype) -> None:
    """``fill`` (output units) must be finite in the output dtype (float16 tops at 65504)."""
    largest = float(torch.finfo(dtype).max)
    if abs(fill) > largest:
        raise ValueError(
            f"fill={fill:g} does not fit the output dtype {dtype} (largest finite value "
            f"{largest:g}): it would become inf. Pass a fill within +-{largest:g}, or "
            "dtype=torch.float32."
        )


def exporting() -> bool:
    """True while tracing, compiling or exporting (no out= and in-place ops there)."""
    compiler = getattr(torch, "compiler", None)
    compiling = getattr(compiler, "is_compiling", None)  # PyTorch >= 2.3
    return bool(
        torch.jit.is_tracing()
        or torch.onnx.is_in_onnx_export()
        or (compiling is not None and compiling())
    )
