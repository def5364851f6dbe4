"""``Denormalize`` as a ``torch.nn.Module``: viewable uint8 images from normalized batches,
the inverse of a fixed-statistics :class:`albu_norm.torch.Normalize` (as
``albu_norm.Denormalize`` on the CPU)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from albu_norm.spec import NormalizationSpec, resolve_spec
from albu_norm.torch._checks import (
    ChannelValues,
    channel_message,
    check_batch,
    check_layout,
    check_loaded_constants,
    keep_precision,
    spec_of,
)

__all__ = ["Denormalize"]


class Denormalize(nn.Module):
    """Map normalized values back to viewable uint8 images on their device: the inverse of a
    fixed-statistics :class:`albu_norm.torch.Normalize`, as ``albu_norm.Denormalize``.

    Formula, per channel c: ``img = round((values * std[c] + mean[c]) * max_pixel_value)``,
    clipped to [0, 255] (round half to even, as numpy's ``rint``); evaluated in float32 as
    ``values * (std * max) + mean * max``. With a preset of the other channel order (caffe)
    the channels are turned back to the input order. The round trip of uint8 images through
    :class:`Normalize` is lossless.

    Args:
        mean: as :class:`Normalize`.
        std: as :class:`Normalize`.
        max_pixel_value: as :class:`Normalize`; None means 255.
        preset: as :class:`Normalize`.
        stats: as :class:`Normalize`.
        input_channel_order: as :class:`Normalize`.
        layout: the layout of the *output* images: "NCHW" (default) or "NHWC" (for viewing).
    Shape:
        input (N, C, H, W) float (the output of :class:`Normalize`); output uint8 of ``layout``.
    Raises:
        ValueError: a per-image spec (no fixed inverse); as :class:`Normalize` when called.
        TypeError: an input that is not a floating-point tensor.
    Example:
        >>> import torch
        >>> import albu_norm.torch as ANT
        >>> x = torch.tensor([0, 128, 255], dtype=torch.uint8).view(1, 3, 1, 1)
        >>> values = ANT.Normalize(preset="caffe")(x)
        >>> ANT.Denormalize(preset="caffe")(values).flatten().tolist()
        [0, 128, 255]
    """

    scale: torch.Tensor  # (C, 1, 1) float32: std * max_pixel_value
    offset: torch.Tensor  # (C, 1, 1) float32: mean * max_pixel_value

    def __init__(
        self,
        mean: ChannelValues | None = None,
        std: ChannelValues | None = None,
        max_pixel_value: float | None = None,
        preset: str | None = None,
        stats: Any = None,
        input_channel_order: str = "RGB",
        *,
        layout: str = "NCHW",
    ) -> None:
        spec = resolve_spec(
            "standard",
            mean,
            std,
            max_pixel_value,
            preset=preset,
            stats=stats,
            input_channel_order=input_channel_order,
        )
        super().__init__()
        self._setup(spec, layout)

    @classmethod
    def from_spec(cls, spec: NormalizationSpec, *, layout: str = "NCHW") -> Denormalize:
        """The inverse of a fixed-statistics spec.

        Raises:
            ValueError: a per-image spec; unknown layout.
        """
        if not isinstance(spec, NormalizationSpec):
            raise TypeError(
                f"spec must be an albu_norm NormalizationSpec, got {type(spec).__name__}."
            )
        module = cls.__new__(cls)
        nn.Module.__init__(module)
        module._setup(spec, layout)
        return module

    @classmethod
    def from_transform(cls, transform: Any, *, layout: str = "NCHW") -> Denormalize:
        """The inverse of an ``albu_norm.Normalize`` / ``Denormalize`` (or ``ANT.Normalize``)."""
        return cls.from_spec(spec_of(transform), layout=layout)

    def _setup(self, spec: NormalizationSpec, layout: str) -> None:
        if spec.per_image:
            raise ValueError(
                f"normalization={spec.normalization!r} has no fixed inverse: its statistics "
                "differ per image. Use albu_norm.functional.per_image_statistics(img, mode) "
                "with albu_norm.functional.denormalize on the CPU."
            )
        self.spec = spec
        self.layout = check_layout(layout)
        for name, value in _inverse_constants(spec).items():
            self.register_buffer(name, value)

    def _apply(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return keep_precision(self, super()._apply(fn, *args, **kwargs), _inverse_constants)

    def _load_from_state_dict(
        self, state_dict: Any, prefix: str, *args: Any, **kwargs: Any
    ) -> None:
        check_loaded_constants(self, state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def extra_repr(self) -> str:
        return f"source={self.spec.source!r}, layout={self.layout!r}"

    def forward(self, values: torch.Tensor) -> torch.Tensor:
        """uint8 images of ``values`` (see the class docstring), in ``layout``."""
        check_batch(values, "NCHW", floats_only=True)
        channels = int(values.shape[1])  # concrete under torch.compile(dynamic=True)
        count = int(self.offset.shape[0])
        if count != 1 and count != channels:  # not `in`: Dynamo (dynamic=True) gets it wrong
            raise ValueError(channel_message(self.spec, count, channels, values.shape, "NCHW"))
        restored = torch.addcmul(self.offset, values.float(), self.scale)
        restored = restored.round_().clamp_(0, 255).to(torch.uint8)
        if self.spec.reverse_channels:
            if channels != 3:
                raise ValueError(
                    f"{self.spec.source} is in {self.spec.channel_order} order: turning it back "
                    f"to {self.spec.input_channel_order} needs 3 channels, got {channels}."
                )
            restored = restored.flip(1)
        if self.layout == "NHWC":
            return restored.permute(0, 2, 3, 1).contiguous()
        return restored


def _inverse_constants(spec: NormalizationSpec) -> dict[str, torch.Tensor]:
    """The buffers of Denormalize: ``scale = std * max``, ``offset = mean * max`` (C, 1, 1)
    float32, max 255 when the spec follows the dtype."""
    mean, std = spec.fixed
    count = max(len(mean), len(std))
    top = 255.0 if spec.max_pixel_value is None else spec.max_pixel_value
    mean64 = torch.tensor(mean, dtype=torch.float64).expand(count)
    std64 = torch.tensor(std, dtype=torch.float64).expand(count)
    return {
        "scale": (std64 * top).float().reshape(count, 1, 1),
        "offset": (mean64 * top).float().reshape(count, 1, 1),
    }
