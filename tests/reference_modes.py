"""One float64 reference for every row of the mode table, and the conformance bound.

Written from the formulas of :mod:`albu_norm.modes` (its module docstring), reading only the
fields of a :class:`~albu_norm.modes.Mode` row: ``center``, ``spread``, ``per_channel``,
``floor``. Nothing of albu_norm's arithmetic is imported (``albu_norm.modes`` only for the
row type), so a backend that reads the table wrongly cannot agree with it by sharing code.

The formula, per group (one channel, or every channel pooled) of the values that count (the
kept pixels with a mask; every pixel without):

* center ``c``: ``"fixed"`` the spec's ``mean * max_pixel_value``; ``"mean"`` the mean of the
  counted values; ``"min"`` their minimum;
* spread ``s``: ``"fixed"`` ``std * max_pixel_value``; ``"std"`` the population std (ddof=0)
  of the counted values; ``"range"`` maximum - minimum;
* floor: ``"tf"`` ``s = max(s, 1 / sqrt(N))``, N the number of counted values of the group
  (kept pixels x channels pooled, kept pixels per channel); ``"none"`` nothing;
* ``out = (x - c) / s`` for every value of the group, the pixels left out by a mask included
  (``outside="normalize"``);
* a uniform group (every counted value equal) gives exact zeros (no epsilon; with the TF floor
  too: a zero spread stays zero, and ``x - c`` is 0 on every counted value);
* no kept pixel at all: every value is ``fill``.

Fixed statistics (``center == "fixed"``) are evaluated as ``(x / max_pixel_value - mean) /
std``, torchvision's formula.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from albu_norm.modes import Mode

EPS32 = float(np.finfo(np.float32).eps)
#: Beyond this |center| / spread the float32 evaluation of ``x * scale + offset`` is no longer
#: accurate; a backend must switch to float64 there, so the bound stops growing.
RATIO_CAP = 64.0
#: The default value of every output of an image with no kept pixel.
DEFAULT_FILL = 0.0


@dataclass(frozen=True)
class Reference:
    """The float64 result of a row on an image, and what the bound needs to know about it.

    Attributes:
        values: float64, the image's shape: the formula's result.
        center: float64, the image's shape: each value's group center, in input units.
        spread: float64, the image's shape: each value's group spread (floored), input units.
        exact: bool, the image's shape: where the output must equal ``values`` exactly (a
            uniform group: 0; no kept pixel: fill).
    """

    values: np.ndarray
    center: np.ndarray
    spread: np.ndarray
    exact: np.ndarray


def as_float64(img: np.ndarray) -> np.ndarray:
    """The input's values in float64 (integers as integers, floats as their values)."""
    if img.dtype.kind not in "uif":
        raise TypeError(f"reference: unsupported dtype {img.dtype}")
    return img.astype(np.float64)


def reference(
    img: np.ndarray,
    mode: Mode,
    mask: np.ndarray | None = None,
    *,
    mean: tuple[float, ...] | None = None,
    std: tuple[float, ...] | None = None,
    max_pixel_value: float | None = None,
    fill: float = DEFAULT_FILL,
) -> Reference:
    """``mode``'s row evaluated in float64 on ``img`` ((H, W) or (H, W, C)).

    Args:
        img: the image, any integer or float dtype.
        mode: the row (only its center, spread, per_channel and floor fields are read).
        mask: (H, W), nonzero where the pixel counts in the statistics; None: every pixel.
        mean, std, max_pixel_value: the spec's numbers, for a ``"fixed"`` row only.
        fill: every output value when the mask keeps no pixel.
    Raises:
        ValueError: a primitive the reference does not know (it is written from the formulas
            of the table's documented primitives only).
    """
    x = as_float64(img)
    x3 = x[..., None] if x.ndim == 2 else x
    channels = x3.shape[-1]
    if mode.center == "fixed" or mode.spread == "fixed":
        return _fixed(x, x3, mode, mean, std, max_pixel_value)
    kept = np.ones(x3.shape[:2], bool) if mask is None else np.asarray(mask) != 0
    if kept.shape != x3.shape[:2]:
        raise ValueError(f"mask shape {kept.shape} does not fit the image {img.shape}")
    values = np.empty(x3.shape, np.float64)
    center = np.zeros(x3.shape, np.float64)
    spread = np.zeros(x3.shape, np.float64)
    exact = np.zeros(x3.shape, bool)
    if not kept.any():
        values.fill(fill)
        exact.fill(True)
        return Reference(*(a.reshape(x.shape) for a in (values, center, spread, exact)))
    groups = [[c] for c in range(channels)] if mode.per_channel else [list(range(channels))]
    for group in groups:
        counted = x3[kept][:, group].ravel()  # kept pixels x the group's channels
        c, s = _center(counted, mode), _spread(counted, mode)
        s = _floor(s, counted.size, mode)
        uniform = counted.min() == counted.max()
        block = x3[..., group]
        center[..., group], spread[..., group] = c, s
        if uniform:  # exact zeros, whatever the floor: no spread to divide by
            values[..., group] = 0.0
            exact[..., group] = True
        else:
            values[..., group] = (block - c) / s
    return Reference(*(a.reshape(x.shape) for a in (values, center, spread, exact)))


def _fixed(
    x: np.ndarray,
    x3: np.ndarray,
    mode: Mode,
    mean: tuple[float, ...] | None,
    std: tuple[float, ...] | None,
    max_pixel_value: float | None,
) -> Reference:
    if mode.center != "fixed" or mode.spread != "fixed":
        raise ValueError(f"reference: row {mode} mixes fixed and per-image statistics")
    if mean is None or std is None or max_pixel_value is None:
        raise ValueError("reference: a fixed row needs mean, std and max_pixel_value")
    channels = x3.shape[-1]
    m = np.broadcast_to(np.asarray(mean, np.float64), (channels,))
    s = np.broadcast_to(np.asarray(std, np.float64), (channels,))
    values = (x3 / float(max_pixel_value) - m) / s
    center = np.broadcast_to(m * max_pixel_value, x3.shape)
    spread = np.broadcast_to(s * max_pixel_value, x3.shape)
    exact = np.zeros(x3.shape, bool)
    return Reference(*(np.array(a).reshape(x.shape) for a in (values, center, spread, exact)))


def _mean(counted: np.ndarray) -> float:
    return math.fsum(counted.tolist()) / counted.size  # correctly rounded sum


def _center(counted: np.ndarray, mode: Mode) -> float:
    if mode.center == "mean":
        return _mean(counted)
    if mode.center == "min":
        return float(counted.min())
    raise ValueError(f"reference: unknown center {mode.center!r} (row {mode.name!r})")


def _spread(counted: np.ndarray, mode: Mode) -> float:
    if mode.spread == "std":  # population std, two passes
        deviations = counted - _mean(counted)
        return math.sqrt(math.fsum((deviations * deviations).tolist()) / counted.size)
    if mode.spread == "range":
        return float(counted.max()) - float(counted.min())
    raise ValueError(f"reference: unknown spread {mode.spread!r} (row {mode.name!r})")


def _floor(spread: float, count: int, mode: Mode) -> float:
    if mode.floor == "tf":  # tf.image.per_image_standardization: max(std, 1 / sqrt(N))
        return max(spread, 1.0 / math.sqrt(count))
    if mode.floor == "none":
        return spread
    raise ValueError(f"reference: unknown floor {mode.floor!r} (row {mode.name!r})")


def conformance_bound(ref: Reference, input_dtype: object, *, numpy_core: bool) -> np.ndarray:
    """The elementwise bound every backend's float32 output is held to, against ``ref``.

    * uint8 input through a float64-built table, correctly rounded to float32 (the numpy
      core, every mode; the torch module on the CPU, the per-image modes):
      ``|out - ref| <= eps32 * |ref|``;
    * everything else (uint16, float32, float64 input; every other route of the torch module,
      and ONNX Runtime): ``|out - ref| <= 4 * eps32 * (|ref| + 2 * min(|c| / s, 64))``, with ``c``
      and ``s`` the group's center and spread in input units: the float32 evaluation of
      ``x * (1 / s) - c / s`` errs by a few ulps of the terms summed, and past
      ``|c| / s = 64`` a backend must evaluate in float64, so the term stops growing;
    * where the result is exact by definition (a uniform group: 0; no kept pixel: fill), the
      bound is 0: ``out`` must equal ``ref`` exactly.

    ``eps32`` is float32's machine epsilon, 2**-23.

    Args:
        ref: the reference of the case (:func:`reference`).
        input_dtype: the dtype of the image the backend received.
        numpy_core: the backend maps uint8 through float64-built tables (albu_norm's numpy core:
            functions, batch path, transform; the torch module's per-image modes on the CPU).
    Returns:
        float64 array of ref's shape.
    """
    magnitude = np.abs(ref.values)
    if numpy_core and np.dtype(input_dtype) == np.uint8:
        bound = EPS32 * magnitude
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(ref.spread > 0, np.abs(ref.center) / ref.spread, 0.0)
        bound = 4 * EPS32 * (magnitude + 2 * np.minimum(ratio, RATIO_CAP))
    return np.where(ref.exact, 0.0, bound)


def ulps(out: np.ndarray, ref: Reference) -> np.ndarray:
    """|out - ref| in float32 ulps of ref (inf for a nonzero error where ref is 0)."""
    values = ref.values
    error = np.abs(out.astype(np.float64) - values)
    with np.errstate(divide="ignore", invalid="ignore"):
        spacing = np.spacing(np.abs(values).astype(np.float32)).astype(np.float64)
        return np.where(values != 0, error / spacing, np.where(error == 0, 0.0, np.inf))
