"""Shared hypothesis strategies: images of every supported dtype, shape, channel count, layout
and value kind, and batches of them. Every property test draws its inputs here."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

DTYPES = (np.uint8, np.uint16, np.float32, np.float64)
REJECTED_DTYPES = (bool, np.int8, np.int16, np.int32, np.int64, np.float16, np.complex64)


def values(dtype: np.dtype, kind: str = "moderate") -> st.SearchStrategy:
    """Elements of an image: the dtype's whole range for integers; for floats "moderate"
    (|x| <= 1e6), "extreme" (the dtype's whole finite range) or "tiny" (|x| <= 1e-150, float64
    only: squares underflow)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "u":
        return st.integers(0, int(np.iinfo(dtype).max))
    width = dtype.itemsize * 8
    if kind == "extreme":
        limit = float(np.finfo(dtype).max)
    elif kind == "tiny" and dtype == np.float64:
        limit = 1e-150
    else:
        limit = 1e6
    return st.floats(-limit, limit, allow_nan=False, allow_infinity=False, width=width)


@st.composite
def images(
    draw,
    dtypes=DTYPES,
    channels=(None, *range(1, 9)),
    max_side: int = 10,
    batch: bool = False,
    kinds=("random", "uniform", "extreme", "tiny"),
    layouts=("contiguous", "strided", "read-only"),
):
    """An (H, W) or (H, W, C) image (or an (N, ...) batch) that albu_norm must accept."""
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    count = draw(st.sampled_from(channels))
    shape: tuple[int, ...] = (draw(st.integers(1, max_side)), draw(st.integers(1, max_side)))
    if count is not None:
        shape += (count,)
    if batch:
        shape = (draw(st.integers(1, 3)), *shape)
    kind = draw(st.sampled_from(kinds))
    elements = values(dtype, "moderate" if kind in ("random", "uniform") else kind)
    if kind == "uniform":
        return np.full(shape, draw(elements), dtype=dtype)
    array = draw(hnp.arrays(dtype, shape, elements=elements))
    layout = draw(st.sampled_from(layouts))
    if layout == "strided":  # a non-contiguous view of a larger array
        axis = -2 if count is not None else -1
        array = (
            np.repeat(array, 2, axis=axis)[..., ::2, :] if count else array.repeat(2, -1)[..., ::2]
        )
    elif layout == "read-only":
        array.flags.writeable = False
    return array


def channel_count(img: np.ndarray, batch: bool = False) -> int:
    """C of an (H, W[, C]) image, or of an (N, H, W[, C]) batch."""
    spatial = 3 if batch else 2
    return 1 if img.ndim == spatial else int(img.shape[-1])
