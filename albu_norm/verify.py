"""Does a model's normalization match a pipeline's? Compare what each side says, field by field.

The model side (:func:`read_model_side`): an ONNX model with a prepended normalization
(:func:`albu_norm.onnx.read_spec`, its input size from the graph), or a model's own config file
(timm ``pretrained_cfg`` / ``config.json``, Hugging Face ``preprocessor_config.json``,
open_clip ``open_clip_config.json``: :func:`albu_norm.model_configs.read_model_config`, the
input size and crop where the file has them).

The pipeline side (:func:`read_pipeline_side`): a pipeline saved with ``A.save`` (JSON/YAML,
loaded with :func:`albu_norm.load`) whose last ``albu_norm.Normalize`` is compared, and whose
output size is found by running it on a blank image; or a preset name (its numbers, input size
and crop).

The fields: the mode; mean and std (0-1 scale, in the model's channel order) and the scale
(``max_pixel_value``; the dtype rule counts as 255 for uint8 images); the channel order (input
-> model); the input size (H, W) and the crop fraction where both sides know them. Numbers
agree within a relative 1e-6 (configs round their decimals).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from albu_norm.model_configs import _config_file, read_model_config
from albu_norm.presets import get_preset
from albu_norm.spec import NormalizationSpec, resolve_spec

__all__ = [
    "Comparison",
    "InputStatistics",
    "Side",
    "compare",
    "network_input_statistics",
    "plot_histograms",
    "read_model_side",
    "read_pipeline_side",
]

PathLike = Union[str, "os.PathLike[str]"]
_RELATIVE = 1e-6
_PIPELINE_SUFFIXES = (".json", ".yaml", ".yml")


@dataclass(frozen=True)
class Side:
    """What one side says: its spec, and the input size (H, W) and crop fraction it implies
    (None where it does not say); a pipeline side keeps its loaded pipeline."""

    spec: NormalizationSpec
    source: str
    input_size: Optional[tuple[int, int]] = None
    crop_pct: Optional[float] = None
    pipeline: Any = field(default=None, compare=False, repr=False)
    #: the dtype of the images the model takes (a prepended ONNX model records it), under
    #: which both sides' dtype rule (max_pixel_value None) is read
    input_dtype: str = "uint8"


@dataclass(frozen=True)
class InputStatistics:
    """Per-channel statistics of what the network receives: the pipeline's outputs on a folder
    of images, pooled over every pixel (float64 sums)."""

    images: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    histograms: tuple[Any, ...]  # per channel: (counts, edges) over [low, high], 100 bins

    def table(self) -> str:
        lines = [
            f"network input over {self.images} images (per channel, all pixels):",
            f"{'channel':>7} {'mean':>10} {'std':>10} {'min':>10} {'max':>10}",
        ]
        for c, values in enumerate(zip(self.mean, self.std, self.low, self.high)):
            lines.append(f"{c:>7} " + " ".join(f"{v:>10.4f}" for v in values))
        return "\n".join(lines)


@dataclass(frozen=True)
class Row:
    """One field: both sides' values as text (None: that side does not say) and whether they
    agree (None: not compared)."""

    name: str
    model: Optional[str]
    pipeline: Optional[str]
    same: Optional[bool]


@dataclass(frozen=True)
class Comparison:
    """The result of :func:`compare`: ``agree`` is True when no compared field differs."""

    model: Side
    pipeline: Side
    rows: list[Row] = field(default_factory=list)

    @property
    def agree(self) -> bool:
        return all(row.same is not False for row in self.rows)

    @property
    def differences(self) -> list[Row]:
        return [row for row in self.rows if row.same is False]

    def table(self) -> str:
        """A plain-text table of every field (``differs`` marks a difference, ``?`` a side that
        does not say)."""
        header = ("field", f"model ({self.model.source})", f"pipeline ({self.pipeline.source})")
        cells = [
            (
                row.name,
                "?" if row.model is None else row.model,
                "?" if row.pipeline is None else row.pipeline,
                {True: "same", False: "DIFFERS", None: "-"}[row.same],
            )
            for row in self.rows
        ]
        widths = [max(len(header[i]), *(len(c[i]) for c in cells)) for i in range(3)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
        lines += ["  ".join(c[i].ljust(widths[i]) for i in range(3)) + "  " + c[3] for c in cells]
        return "\n".join(lines)


def compare(model: Union[PathLike, Side], pipeline: Union[PathLike, str, Side]) -> Comparison:
    """Compare a model's normalization with a pipeline's (see the module docstring).

    Args:
        model: an ``.onnx`` model with a prepended normalization, a model config ``.json``
            file or folder, or a :class:`Side`.
        pipeline: a saved pipeline (``.json``/``.yaml``/``.yml``), a preset name, or a
            :class:`Side`.
    Returns:
        a :class:`Comparison` (``.agree``, ``.rows``, ``.table()``).
    Raises:
        ValueError: a file that cannot be read, an ONNX model without a stored normalization, a
            pipeline without an ``albu_norm.Normalize``, an unknown preset.
    """
    model_side = model if isinstance(model, Side) else read_model_side(model)
    pipeline_side = pipeline if isinstance(pipeline, Side) else read_pipeline_side(pipeline)
    return Comparison(model_side, pipeline_side, _rows(model_side, pipeline_side))


def read_model_side(path: PathLike) -> Side:
    """The model side of :func:`compare` from an ``.onnx`` file or a model config."""
    path = Path(path)
    if path.suffix.lower() == ".onnx":
        return _onnx_side(path)
    read_model_config(path)  # ValueError names the file and what it looked for
    spec = resolve_spec(model_config=path)
    size, crop = _config_geometry(_json(_config_file(path)))
    return Side(spec, path.name, size, crop)


def read_pipeline_side(pipeline: Union[PathLike, str]) -> Side:
    """The pipeline side of :func:`compare` from a saved pipeline or a preset name."""
    path = Path(pipeline)
    if (
        not path.is_file()
        and isinstance(pipeline, str)
        and path.suffix.lower() not in (_PIPELINE_SUFFIXES)
    ):
        preset = get_preset(pipeline)  # ValueError with close names
        size = None if preset.input_size is None else tuple(preset.input_size[1:])
        return Side(resolve_spec(preset=pipeline), f"preset {pipeline}", size, preset.crop_pct)  # type: ignore[arg-type]
    if path.suffix.lower() not in _PIPELINE_SUFFIXES:
        raise ValueError(
            f"the pipeline must be a file saved with A.save (.json, .yaml or .yml) or a preset "
            f"name, got {pipeline}."
        )
    if not path.is_file():
        raise ValueError(f"pipeline file {path} does not exist.")
    from albu_norm import load

    try:
        compose = load(path)
    except Exception as error:  # KeyError of an unknown class, YAML errors, ...
        raise ValueError(f"cannot load pipeline {path}: {type(error).__name__}: {error}") from None
    transforms = list(_flatten(compose))
    normalizers = [t for t in transforms if isinstance(getattr(t, "spec", None), NormalizationSpec)]
    if not normalizers:
        names = [type(t).__name__ for t in transforms]
        raise ValueError(
            f"pipeline {path} has no albu_norm.Normalize to compare (it has {names}); "
            "albumentations' Normalize carries no spec: replace it by albu_norm.Normalize."
        )
    return Side(
        normalizers[-1].spec, path.name, _output_size(compose), _crop_pct(transforms), compose
    )


def network_input_statistics(pipeline: Side, images: PathLike) -> InputStatistics:
    """Run the pipeline (a preset: its ``Normalize`` alone) on every image of a folder (or glob)
    and pool its outputs per channel: what the network sees. A well-matched normalization gives
    means near 0 and stds near 1 on data like the training set's.

    Raises:
        ValueError: no images found, an undecodable file, outputs that are not (H, W, C) or
            (C, H, W) with the same channel count.
    """
    import numpy as np

    from albu_norm.stats.files import find_images, read_image

    compose = pipeline.pipeline
    if compose is None:  # a preset: its normalization alone

        def compose(image: Any) -> dict[str, Any]:
            return {"image": pipeline.spec.apply(image)}

    outputs = []
    for path in find_images([images]):
        out = compose(image=read_image(path))["image"]
        array = np.asarray(out.numpy() if hasattr(out, "numpy") else out, dtype=np.float64)
        if array.ndim == 2:
            array = array[..., None]
        elif array.ndim == 3 and array.shape[0] in (1, 3) and array.shape[-1] not in (1, 3):
            array = array.transpose(1, 2, 0)  # ToTensorV2's (C, H, W)
        outputs.append(array.reshape(-1, array.shape[-1]))
    channels = {o.shape[1] for o in outputs}
    if len(channels) != 1:
        raise ValueError(f"the pipeline's outputs have different channel counts {channels}.")
    values = np.concatenate(outputs)
    low, high = values.min(axis=0), values.max(axis=0)
    histograms = tuple(
        np.histogram(values[:, c], bins=100, range=(low[c], max(high[c], low[c] + 1e-6)))
        for c in range(values.shape[1])
    )
    return InputStatistics(
        len(outputs),
        tuple(values.mean(axis=0).tolist()),
        tuple(values.std(axis=0).tolist()),
        tuple(low.tolist()),
        tuple(high.tolist()),
        histograms,
    )


def plot_histograms(statistics: InputStatistics, path: PathLike) -> bool:
    """Write the per-channel histograms of the network input to a PNG; False (nothing
    written) when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ModuleNotFoundError:
        return False
    figure, axis = plt.subplots(figsize=(7, 3.5))
    for c, (counts, edges) in enumerate(statistics.histograms):
        axis.stairs(counts, edges, label=f"channel {c}")
    axis.set_xlabel("network input value")
    axis.set_ylabel("pixels")
    axis.set_title(f"network input over {statistics.images} images")
    axis.legend()
    figure.tight_layout()
    figure.savefig(str(path), dpi=100)
    plt.close(figure)
    return True


# --------------------------------------------------------------------------------------------


def _onnx_side(path: Path) -> Side:
    try:
        from albu_norm.onnx import read_spec
    except ModuleNotFoundError as error:
        raise ValueError(f"reading {path} needs the onnx package: {error}") from None
    import onnx

    spec = read_spec(path)
    if spec is None:
        raise ValueError(
            f"{path} carries no albu_norm normalization in its metadata: prepend one with "
            "albu_norm.onnx.prepend_normalization, or compare the model's config file instead."
        )
    proto = onnx.load(str(path), load_external_data=False)
    dims = list(proto.graph.input[0].type.tensor_type.shape.dim)
    from albu_norm.onnx.prepend import read_record

    record = read_record(proto) or {}
    hw = (dims[1], dims[2]) if record.get("layout") == "NHWC" else (dims[2], dims[3])
    size = None
    if len(dims) == 4 and all(d.HasField("dim_value") for d in hw):
        size = (int(hw[0].dim_value), int(hw[1].dim_value))
    input_dtype = str(record.get("input_dtype", "uint8"))
    return Side(spec, path.name, size, None, input_dtype=input_dtype)


def _json(path: Path) -> Mapping[str, Any]:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, Mapping) else {}


def _config_geometry(
    record: Mapping[str, Any],
) -> tuple[Optional[tuple[int, int]], Optional[float]]:
    """(input size, crop fraction) of a timm, Hugging Face or open_clip config, where it says."""
    timm = record.get("pretrained_cfg", record)
    if isinstance(timm, Mapping) and isinstance(timm.get("input_size"), (list, tuple)):
        size = timm["input_size"][-2:]
        crop = timm.get("crop_pct")
        return (int(size[0]), int(size[1])), None if crop is None else float(crop)
    if "crop_size" in record or "size" in record:  # Hugging Face image processor
        crop_size = _hw(record.get("crop_size")) if record.get("do_center_crop", True) else None
        resize = record.get("size")
        size = crop_size or _hw(resize)
        short = resize.get("shortest_edge") if isinstance(resize, Mapping) else None
        crop_pct = crop_size[0] / short if crop_size and short else None
        return size, crop_pct
    vision = record.get("model_cfg", {}).get("vision_cfg", {})
    image_size = vision.get("image_size") if isinstance(vision, Mapping) else None
    if image_size is not None:  # open_clip
        return _hw(image_size), None
    return None, None


def _hw(value: Any) -> Optional[tuple[int, int]]:
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return (int(value[0]), int(value[1]))
    if isinstance(value, Mapping) and "height" in value and "width" in value:
        return (int(value["height"]), int(value["width"]))
    return None


def _flatten(transform: Any) -> Any:
    children = getattr(transform, "transforms", None)
    if children is None:
        yield transform
        return
    for child in children:
        yield from _flatten(child)


def _output_size(compose: Any) -> Optional[tuple[int, int]]:
    """The (H, W) the pipeline gives a blank 480 x 640 RGB image, if it runs on one."""
    import numpy as np

    try:
        out = compose(image=np.zeros((480, 640, 3), np.uint8))["image"]
    except Exception:  # a pipeline that needs other targets: the size stays unknown
        return None
    shape = tuple(out.shape)
    if len(shape) == 3 and shape[0] in (1, 3) and shape[-1] not in (1, 3):  # ToTensorV2: CHW
        return (int(shape[1]), int(shape[2]))
    return (int(shape[0]), int(shape[1]))


def _crop_pct(transforms: list[Any]) -> Optional[float]:
    """crop height / resized shorter side, for a SmallestMaxSize (or Resize) then CenterCrop."""
    resized = None
    for transform in transforms:
        kind = type(transform).__name__
        if kind == "SmallestMaxSize":
            size = getattr(transform, "max_size", None)
            resized = size[0] if isinstance(size, (list, tuple)) else size
        elif kind == "Resize":
            resized = getattr(transform, "height", None)
        elif kind == "CenterCrop" and resized:
            return float(transform.height) / float(resized)
    return None


def _numbers(values: Any) -> str:
    return ", ".join(f"{v:.6g}" for v in values)


def _close(a: Any, b: Any) -> bool:
    a, b = tuple(a), tuple(b)
    if len(a) != len(b):
        a, b = (a * len(b), b) if len(a) == 1 else (a, b * len(a)) if len(b) == 1 else (a, b)
    return len(a) == len(b) and all(
        math.isclose(x, y, rel_tol=_RELATIVE, abs_tol=1e-9) for x, y in zip(a, b)
    )


def _rows(model: Side, pipeline: Side) -> list[Row]:
    m, p = model.spec, pipeline.spec
    rows = [Row("normalization", m.normalization, p.normalization, m.mode == p.mode)]
    if not m.per_image and not p.per_image:
        (m_mean, m_std), (p_mean, p_std) = m.fixed, p.fixed
        rows.append(Row("mean", _numbers(m_mean), _numbers(p_mean), _close(m_mean, p_mean)))
        rows.append(Row("std", _numbers(m_std), _numbers(p_std), _close(m_std, p_std)))
        rule = _DTYPE_RULE.get(model.input_dtype, 255.0)  # the images the model takes
        scales = [rule if s.max_pixel_value is None else s.max_pixel_value for s in (m, p)]
        rows.append(
            Row(
                "max_pixel_value",
                _scale_text(m, model.input_dtype),
                _scale_text(p, model.input_dtype),
                math.isclose(scales[0], scales[1], rel_tol=_RELATIVE),
            )
        )
        clips = [None if s.clip_range is None else _numbers(s.clip_range) for s in (m, p)]
        if clips != [None, None]:
            rows.append(
                Row("clip_range", clips[0] or "none", clips[1] or "none", clips[0] == clips[1])
            )
    orders = [f"{s.input_channel_order} -> {s.channel_order}" for s in (m, p)]
    same_order = m.reverse_channels == p.reverse_channels and (
        m.per_image or m.channel_order == p.channel_order
    )
    rows.append(Row("channel order (input -> model)", orders[0], orders[1], same_order))
    sizes = [
        None if s.input_size is None else f"{s.input_size[0]} x {s.input_size[1]}"
        for s in (model, pipeline)
    ]
    rows.append(Row("input size (H x W)", sizes[0], sizes[1], _both(sizes, sizes[0] == sizes[1])))
    crops = [None if s.crop_pct is None else f"{s.crop_pct:.4g}" for s in (model, pipeline)]
    same_crop = None
    if model.crop_pct is not None and pipeline.crop_pct is not None:
        same_crop = abs(model.crop_pct - pipeline.crop_pct) <= 0.005
    rows.append(Row("crop fraction", crops[0], crops[1], same_crop))
    return rows


def _both(values: list[Optional[str]], same: bool) -> Optional[bool]:
    return None if None in values else same


#: The dtype rule's max_pixel_value of the input dtypes a prepended model records.
_DTYPE_RULE = {"uint8": 255.0, "uint16": 65535.0}


def _scale_text(spec: NormalizationSpec, input_dtype: str = "uint8") -> str:
    if spec.max_pixel_value is None:
        return f"dtype rule ({_DTYPE_RULE.get(input_dtype, 255.0):g} for {input_dtype})"
    return f"{spec.max_pixel_value:g}"
