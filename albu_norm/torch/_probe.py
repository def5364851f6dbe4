"""The checks of :func:`albu_norm.torch.fold_normalization` that run the model on a probe batch:
the layer folded is the first one the input reaches, and the folded model computes what
``nn.Sequential(Normalize, model)`` computes."""

from __future__ import annotations

from typing import Any, Optional

import torch
from torch import nn

from albu_norm.spec import NormalizationSpec

_PADS = (nn.ZeroPad2d, nn.ConstantPad2d)


def check_first_leaf(
    model: nn.Module, name: str, conv: nn.Conv2d, probe_size: tuple[int, int]
) -> Optional[str]:
    """Run a probe through ``model`` with hooks: the first leaf module called must be ``conv``,
    or a ZeroPad2d/ConstantPad2d whose output goes straight into it, on the model's input
    itself. Returns the name of that pad (None without one)."""
    probe = torch.zeros((1, conv.in_channels, *probe_size), dtype=conv.weight.dtype)
    probe = probe.to(conv.weight.device)
    calls: list[tuple[str, nn.Module, Any, Any]] = []

    class _Stop(Exception):
        pass

    def hook(module: nn.Module, args: Any, output: Any, *, module_name: str) -> None:
        calls.append((module_name, module, args[0] if args else None, output))
        if module is conv or len(calls) > 2:
            raise _Stop

    handles = [
        module.register_forward_hook(lambda m, a, o, n=module_name: hook(m, a, o, module_name=n))
        for module_name, module in model.named_modules()
        if module is conv or not list(module.children())
    ]
    was_training = {m: m.training for m in model.modules()}
    model.eval()
    try:
        with torch.no_grad():
            model(probe)
    except _Stop:
        pass
    except Exception as error:
        raise ValueError(
            f"the model failed on a probe batch of shape {tuple(probe.shape)} "
            f"({type(error).__name__}: {error}). Pass probe_size=(H, W) that the model takes."
        ) from None
    finally:
        for handle in handles:
            handle.remove()
        for module, training in was_training.items():
            module.training = training
    if not calls:
        raise ValueError("the model called no module on its input: nothing to fold into.")
    first_name, first, first_input, first_output = calls[0]
    if first_input is not probe:
        raise ValueError(
            f"the first layer ({first_name!r}, {type(first).__name__}) does not receive the "
            "model's input itself (the forward computes something before it): the "
            "normalization cannot be folded. Keep albu_norm.torch.Normalize in front instead."
        )
    if first is conv:
        return None
    pad = first
    if (
        isinstance(pad, _PADS)
        and len(calls) > 1
        and calls[1][1] is conv
        and calls[1][2] is first_output
    ):
        if any(p < 0 for p in pad.padding):
            raise ValueError(f"{first_name!r} crops (negative padding {pad.padding}): not folded.")
        return first_name
    raise ValueError(
        f"the first layer the input reaches is {first_name!r} ({type(first).__name__}), not the "
        f"convolution {name!r}: only a first Conv2d (optionally behind a ZeroPad2d or "
        "ConstantPad2d) can absorb the normalization. Pass layer= if another Conv2d comes "
        "first, or keep albu_norm.torch.Normalize in front of the model."
    )


def check_probe(
    model: nn.Module,
    folded: Any,
    spec: NormalizationSpec,
    channels: int,
    probe_size: tuple[int, int],
    hint: str = "",
) -> None:
    """The folded model against ``Sequential(Normalize, model)`` on a random uint8 probe (eval
    mode, no gradients, the modes restored): within 1e-3 of the output's magnitude."""
    from albu_norm.torch.normalize import Normalize

    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (2, channels, *probe_size), generator=generator)
    images = images.to(torch.uint8).to(folded.fill.device)
    raw = images.permute(0, 2, 3, 1).contiguous() if folded.layout == "NHWC" else images
    normalize = Normalize.from_spec(spec, layout=folded.layout).to(folded.fill.device)
    modules = [*model.modules(), *folded.modules()]
    was_training = {m: m.training for m in modules}
    try:
        model.eval()
        folded.eval()
        with torch.no_grad():
            inputs = normalize(raw).to(folded.fill.dtype)
            try:
                expected = model(inputs)
            except RuntimeError as error:
                raise ValueError(
                    f"the model fails on a probe batch of {probe_size[0]} x {probe_size[1]} "
                    f"images ({error}): pass probe_size=(H, W), an input size the model takes."
                    f"{hint}"
                ) from None
            try:
                got = folded(raw)
            except RuntimeError as error:
                raise ValueError(
                    f"the folded model fails on a probe batch ({error}): the model's input must "
                    "reach its first convolution only. Keep albu_norm.torch.Normalize in front "
                    f"instead.{hint}"
                ) from None
    finally:
        for module, training in was_training.items():
            module.training = training
    # every tensor of the output (a tuple, list or dict of them too) must agree
    got_leaves, expected_leaves = _tensor_leaves(got), _tensor_leaves(expected)
    pairs = list(zip(got_leaves, expected_leaves))
    if not expected_leaves or len(got_leaves) != len(expected_leaves):
        raise ValueError(
            "the model's output holds no tensor the probe can compare, or the folded model's "
            f"output has another structure: the fold cannot be verified.{hint}"
        )
    for got_leaf, expected_leaf in pairs:
        if got_leaf.shape != expected_leaf.shape:
            difference, magnitude = float("inf"), float("nan")
        else:
            difference = float((got_leaf.double() - expected_leaf.double()).abs().max())
            magnitude = float(expected_leaf.double().abs().max())
        if difference <= 1e-3 * max(magnitude, 1e-6):
            continue
        raise ValueError(
            f"the folded model differs from Sequential(Normalize, model) on a probe batch by "
            f"{difference:.3g} (output magnitude {magnitude:.3g}): the model's input must reach "
            f"its first convolution only. Keep albu_norm.torch.Normalize in front instead.{hint}"
        )


def _tensor_leaves(output: Any) -> list[torch.Tensor]:
    """The tensors of a model output: a tensor, or nested tuples, lists and dicts of them."""
    if isinstance(output, torch.Tensor):
        return [output]
    if isinstance(output, (tuple, list)):
        return [leaf for item in output for leaf in _tensor_leaves(item)]
    if isinstance(output, dict):
        return [leaf for key in sorted(output, key=str) for leaf in _tensor_leaves(output[key])]
    return []
