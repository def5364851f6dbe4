"""Prepend a normalization to an ONNX model (``onnx`` alone: no torch).

The new nodes read the raw batch, compute the spec's formula (the row of the mode table it was
built with: :mod:`albu_norm.modes`) and write the tensor the model's input had, under the same
name; the model's own nodes are untouched. Arithmetic:

* fixed statistics: ``x * scale[c] + offset[c]`` with the CPU kernels' float64 constants
  (:meth:`~albu_norm.spec.NormalizationSpec.affine_constants`), in float32, or in float64 where
  float32 would be inaccurate (``|offset| > 64``: caffe-style presets), as the torch module;
* per-image rows: the row's center (``mean``: ReduceMean, ``min``: ReduceMin) and spread
  (``std``: the square root of the mean squared deviation, two passes, ddof=0; ``range``:
  ReduceMax - ReduceMin) over (H, W) per channel or (C, H, W) pooled, the TF floor ``max(s, 1 /
  sqrt(N))``, exact zeros for a uniform group (min == max), in float64; ``(x - c) / s`` for the
  rows that ``divide``, ``(x - c) * (1 / s)`` otherwise;
* the result is cast to the model input's element type.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from albu_norm._kernels import float32_constants_ok
from albu_norm.modes import check_supported
from albu_norm.spec import NormalizationSpec, as_spec

__all__ = ["INPUT_DTYPES", "LAYOUTS", "METADATA_KEY", "prepend_normalization", "read_spec"]

#: The ``metadata_props`` key of the stored record (JSON: spec, layout, input_dtype).
METADATA_KEY = "albu_norm.normalization"
LAYOUTS = ("NHWC", "NCHW")
INPUT_DTYPES = {"uint8": (TensorProto.UINT8, np.uint8), "uint16": (TensorProto.UINT16, np.uint16)}
_MAX_PROTO_BYTES = 2**31 - 2**20  # protobuf's 2 GB limit, with a margin for the graph
_PREFIX = "albu_norm/"
# the primitives of this backend (see _per_image); its floors are those of albu_norm.modes
_CENTERS = ("fixed", "mean", "min")
_SPREADS = ("fixed", "std", "range")

ModelSource = Union[str, "os.PathLike[str]", onnx.ModelProto]


def prepend_normalization(
    model: ModelSource,
    normalization: Any,
    output: Union[str, os.PathLike[str], None] = None,
    *,
    layout: str = "NHWC",
    input_dtype: str = "uint8",
) -> onnx.ModelProto:
    """A new ONNX model that takes raw pixels and normalizes them before ``model``'s graph.

    Args:
        model: the path of an ``.onnx`` file (external weight files are read from its folder)
            or an ``onnx.ModelProto`` (not changed; one with external weights must have them
            loaded, ``onnx.load(path)`` does, or be given by its path). Its single graph input
            is the normalized batch (N, C, H, W), float32/float16/float64/bfloat16.
        normalization: an ``albu_norm.Normalize`` transform (anything with a ``.spec``), a
            preset name or a :class:`~albu_norm.spec.NormalizationSpec`; any mode of the table,
            unmasked.
        output: where to write the new model (optional). Weights go to an external file
            ``<output name>.data`` beside it when the model had external data or is larger than
            protobuf's 2 GB.
        layout: "NHWC" (a batch of decoded images, the default) or "NCHW" of the raw input.
        input_dtype: "uint8" or "uint16": the raw input's element type (the dtype rule of a spec
            without max_pixel_value: 255 or 65535).
    Returns:
        the new model: input ``images`` (``images_1``, ... when the model already uses that
        name) of ``input_dtype``, shape (N, H, W, C) or (N, C, H, W) with the model's batch,
        channel and spatial dimensions (dynamic where the model's are; a dynamic channel
        dimension becomes the count the spec's constants fit, 3 for a channel reversal);
        outputs, nodes and weights of ``model``; the spec in ``metadata_props``
        (:data:`METADATA_KEY`, read back by :func:`read_spec`).
    Raises:
        TypeError: ``model`` or ``normalization`` of another type.
        ValueError: a bad ``layout``/``input_dtype``; a masked spec (a mask is not an input);
            a model with other than one graph input, a non-float or non-4-D input, a channel
            count the spec does not fit; a model that already carries a normalization; an
            ai.onnx opset below 13.
    Example:
        >>> import albu_norm as AN, albu_norm.onnx as ANO       # doctest: +SKIP
        >>> ANO.prepend_normalization("model.onnx", AN.Normalize(preset="inception"),
        ...                           "model_uint8.onnx", layout="NHWC")  # doctest: +SKIP
    """
    if layout not in LAYOUTS:
        raise ValueError(
            f"layout must be 'NHWC' (a batch of HWC images) or 'NCHW' (channels first), got "
            f"{layout!r}."
        )
    if input_dtype not in INPUT_DTYPES:
        raise ValueError(
            f"input_dtype must be 'uint8' or 'uint16' (the raw pixels), got {input_dtype!r}."
        )
    spec = _spec(normalization)
    proto, external = _load(model)
    if read_spec(proto) is not None:
        raise ValueError(
            "the model already takes raw pixels (it carries an albu_norm normalization in its "
            "metadata): prepend to the original model instead."
        )
    graph = proto.graph
    initializers = {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise ValueError(
            f"the model has {len(inputs)} graph inputs ({[i.name for i in inputs]}); "
            "prepend_normalization needs exactly one, the (N, C, H, W) image batch."
        )
    (model_input,) = inputs
    tensor_type = model_input.type.tensor_type
    if tensor_type.elem_type not in (
        TensorProto.FLOAT,
        TensorProto.FLOAT16,
        TensorProto.DOUBLE,
        TensorProto.BFLOAT16,
    ):
        raise ValueError(
            f"the model's input {model_input.name!r} has element type "
            f"{TensorProto.DataType.Name(tensor_type.elem_type)}; a normalized batch is float."
        )
    dims = list(tensor_type.shape.dim)
    if len(dims) != 4:
        raise ValueError(
            f"the model's input {model_input.name!r} has {len(dims)} dimensions; expected an "
            "(N, C, H, W) image batch."
        )
    channels = dims[1].dim_value if dims[1].HasField("dim_value") else None
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset < 13:
        raise ValueError(
            f"the model's ai.onnx opset is {opset}; prepend_normalization needs 13 or later "
            "(onnx.version_converter.convert_version(model, 13) converts it)."
        )
    builder = _Builder(opset, {n for node in graph.node for n in (*node.input, *node.output)})
    raw = builder.unique("images")
    x = raw
    if layout == "NHWC":
        x = builder.node("Transpose", [x], perm=[0, 3, 1, 2])
    if spec.per_image:
        y = _per_image(builder, x, spec)
    else:
        y = _fixed(builder, x, spec, INPUT_DTYPES[input_dtype][1], channels)
    builder.node("Cast", [y], to=tensor_type.elem_type, output=model_input.name)

    order = [0, 2, 3, 1] if layout == "NHWC" else [0, 1, 2, 3]
    new_input = helper.make_tensor_value_info(raw, INPUT_DTYPES[input_dtype][0], None)
    # the constants fix the channel count where the model's is dynamic: 3 for a channel
    # reversal, or the number of per-channel values (onnxruntime then refuses another count at
    # the input, instead of a Gather that silently keeps 3 of 4 channels)
    fixed_channels = channels
    if fixed_channels is None and not spec.per_image:
        count = len(spec.affine_constants(INPUT_DTYPES[input_dtype][1])[0])
        fixed_channels = 3 if spec.reverse_channels else (count if count > 1 else None)
    for index in order:
        new_dim = new_input.type.tensor_type.shape.dim.add()
        new_dim.CopyFrom(dims[index])
        if index == 1 and fixed_channels is not None:
            new_dim.Clear()
            new_dim.dim_value = fixed_channels
    result = onnx.ModelProto()
    result.CopyFrom(proto)
    nodes = [*builder.nodes, *result.graph.node]
    del result.graph.node[:]
    result.graph.node.extend(nodes)
    result.graph.initializer.extend(builder.initializers)
    position = [i.name for i in result.graph.input].index(model_input.name)
    result.graph.input.remove(result.graph.input[position])
    result.graph.input.insert(position, new_input)
    record = {"spec": spec.to_dict(), "layout": layout, "input_dtype": input_dtype}
    entry = result.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(record)
    if output is not None:
        _save(result, Path(output), external or _weight_bytes(result) > _MAX_PROTO_BYTES)
    return result


def read_spec(model: ModelSource) -> Optional[NormalizationSpec]:
    """The :class:`~albu_norm.spec.NormalizationSpec` a model carries (written by
    :func:`prepend_normalization`), or None for a model without one.

    Args:
        model: the path of an ``.onnx`` file (its weights are not read) or an
            ``onnx.ModelProto``.
    Raises:
        TypeError: ``model`` of another type.
        ValueError: the stored record is not a valid spec (the message names the field).
    """
    proto = model if isinstance(model, onnx.ModelProto) else _load_graph_only(model)
    record = read_record(proto)
    return None if record is None else NormalizationSpec.from_dict(record["spec"])


def read_record(proto: onnx.ModelProto) -> Optional[dict[str, Any]]:
    """The stored record (``spec``, ``layout``, ``input_dtype``), or None."""
    for entry in proto.metadata_props:
        if entry.key == METADATA_KEY:
            try:
                record = json.loads(entry.value)
            except json.JSONDecodeError as error:
                raise ValueError(f"{METADATA_KEY} in the model is not JSON: {error}") from None
            if not isinstance(record, dict) or "spec" not in record:
                raise ValueError(f"{METADATA_KEY} in the model has no 'spec' record.")
            return record
    return None


# --------------------------------------------------------------------------------------------


def _spec(normalization: Any) -> NormalizationSpec:
    spec = as_spec(normalization)
    if spec.masked or spec.ignore_value is not None:
        raise ValueError(
            "cannot prepend a masked normalization (masked=True or ignore_value): the model "
            "has no mask input. Use the spec without the mask."
        )
    check_supported(spec.mode, "albu_norm.onnx", centers=_CENTERS, spreads=_SPREADS)
    return spec


def _load(model: ModelSource) -> tuple[onnx.ModelProto, bool]:
    """(the model with its weights, whether it had external data)."""
    if isinstance(model, onnx.ModelProto):
        return model, _has_external(model)
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(
            f"model must be the path of an .onnx file or an onnx.ModelProto, got "
            f"{type(model).__name__}."
        )
    path = Path(model)
    proto = _load_graph_only(path)
    external = _has_external(proto)
    if external:
        onnx.load_external_data_for_model(proto, str(path.parent))
    return proto, external


def _load_graph_only(model: Any) -> onnx.ModelProto:
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(
            f"model must be the path of an .onnx file or an onnx.ModelProto, got "
            f"{type(model).__name__}."
        )
    try:
        return onnx.load(str(model), load_external_data=False)
    except Exception as error:  # OSError, protobuf's DecodeError, ...
        raise ValueError(f"cannot read ONNX model {model}: {error}") from None


def _has_external(proto: onnx.ModelProto) -> bool:
    return any(t.data_location == TensorProto.EXTERNAL for t in proto.graph.initializer)


def _weight_bytes(proto: onnx.ModelProto) -> int:
    return sum(len(t.raw_data) for t in proto.graph.initializer)


def _save(proto: onnx.ModelProto, path: Path, external: bool) -> None:
    if external:
        data = path.with_name(path.name + ".data")
        if data.exists():  # onnx appends to an existing file: start it anew
            data.unlink()
        onnx.save_model(
            proto,
            str(path),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=path.name + ".data",
        )
    else:
        onnx.save_model(proto, str(path))


class _Builder:
    """Nodes and initializers with names that do not collide with the model's."""

    def __init__(self, opset: int, taken: set[str]) -> None:
        self.opset = opset
        self.taken = set(taken)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def unique(self, name: str) -> str:
        candidate, index = name, 0
        while candidate in self.taken:
            index += 1
            candidate = f"{name}_{index}"
        self.taken.add(candidate)
        return candidate

    def constant(self, value: Any, dtype: Any) -> str:
        name = self.unique(f"{_PREFIX}c{len(self.initializers)}")
        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def node(
        self, op: str, inputs: list[str], *, output: Optional[str] = None, **attrs: Any
    ) -> str:
        out = output if output is not None else self.unique(f"{_PREFIX}{op}_{len(self.nodes)}")
        name = self.unique(f"{_PREFIX}node_{len(self.nodes)}_{op}")
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        return out

    def reduce(self, op: str, x: str, axes: list[int]) -> str:
        """A Reduce* over ``axes``, keepdims (axes an input from opset 18; ReduceSum from 13)."""
        if self.opset >= 18 or (op == "ReduceSum" and self.opset >= 13):
            return self.node(op, [x, self.constant(axes, np.int64)], keepdims=1)
        return self.node(op, [x], axes=axes, keepdims=1)


def _fixed(
    builder: _Builder, x: str, spec: NormalizationSpec, dtype: Any, channels: Optional[int]
) -> str:
    scale, offset = spec.affine_constants(dtype)
    if channels is not None and len(scale) not in (1, channels):
        raise ValueError(
            f"{spec.source} has {len(scale)} channel values but the model's input has "
            f"{channels} channels. Use a preset or mean/std with {channels} values (or one)."
        )
    if spec.reverse_channels:
        if channels not in (None, 3):
            raise ValueError(
                f"{spec.source} reverses the channels ({spec.input_channel_order} input, "
                f"{spec.channel_order} model), which needs 3 channels; the model takes "
                f"{channels}. Pass input_channel_order={spec.channel_order!r}."
            )
        x = builder.node("Gather", [x, builder.constant([2, 1, 0], np.int64)], axis=1)
    wide = not float32_constants_ok(scale, offset)
    numpy_type, onnx_type = (
        (np.float64, TensorProto.DOUBLE) if wide else (np.float32, TensorProto.FLOAT)
    )
    x = builder.node("Cast", [x], to=onnx_type)
    if spec.clip_range is not None:
        low, high = (builder.constant(v, numpy_type) for v in spec.clip_range)
        x = builder.node("Clip", [x, low, high])
    shape = (1, -1, 1, 1)
    x = builder.node("Mul", [x, builder.constant(scale.reshape(shape), numpy_type)])
    return builder.node("Add", [x, builder.constant(offset.reshape(shape), numpy_type)])


def _per_image(builder: _Builder, x: str, spec: NormalizationSpec) -> str:
    """The row's statistics per image (and channel) in float64, then its affine."""
    mode = spec.mode
    axes = [2, 3] if mode.per_channel else [1, 2, 3]
    x = builder.node("Cast", [x], to=TensorProto.DOUBLE)
    zero = builder.constant(0.0, np.float64)
    one = builder.constant(1.0, np.float64)
    low = builder.reduce("ReduceMin", x, axes)
    high = builder.reduce("ReduceMax", x, axes)
    mean = builder.reduce("ReduceMean", x, axes) if mode.needs_moments else None
    center = mean if mode.center == "mean" else low  # "min": check_supported let in no other
    if mode.spread == "std":
        deviation = builder.node("Sub", [x, mean])  # type: ignore[list-item]
        squared = builder.node("Mul", [deviation, deviation])
        spread = builder.node("Sqrt", [builder.reduce("ReduceMean", squared, axes)])
    else:  # "range"
        spread = builder.node("Sub", [high, low])
    if mode.floor == "tf":  # max(s, 1 / sqrt(N)), N the values per group
        shape = builder.node("Shape", [x])
        start = builder.constant([axes[0]], np.int64)
        end = builder.constant([4], np.int64)
        sizes = builder.node("Slice", [shape, start, end])
        count = builder.node(
            "Cast", [builder.reduce("ReduceProd", sizes, [0])], to=TensorProto.DOUBLE
        )
        floor = builder.node("Div", [one, builder.node("Sqrt", [count])])
        spread = builder.node("Max", [spread, floor])
    uniform = builder.node("Equal", [low, high])
    spread = builder.node("Where", [uniform, zero, spread])
    center = builder.node("Where", [uniform, low, center])  # type: ignore[list-item]
    positive = builder.node("Greater", [spread, zero])
    safe = builder.node("Where", [positive, spread, one])
    shifted = builder.node("Sub", [x, center])
    if mode.divide:
        quotient = builder.node("Div", [shifted, safe])
        return builder.node("Where", [positive, quotient, zero])
    scale = builder.node("Where", [positive, builder.node("Div", [one, safe]), zero])
    return builder.node("Mul", [shifted, scale])
