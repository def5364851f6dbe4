"""Independent float64 references, written from the formulas (not from albu_norm's code)."""

from __future__ import annotations

import numpy as np

EPS32 = float(np.finfo(np.float32).eps)


def fixed(img: np.ndarray, mean, std, max_pixel_value: float) -> np.ndarray:
    """(img / max_pixel_value - mean) / std per channel, in float64."""
    x = img.astype(np.float64)
    channels = 1 if x.ndim == 2 else x.shape[-1]
    mean = np.broadcast_to(np.asarray(mean, np.float64), (channels,))
    std = np.broadcast_to(np.asarray(std, np.float64), (channels,))
    if x.ndim == 2:
        return (x / max_pixel_value - mean[0]) / std[0]
    return (x / max_pixel_value - mean) / std


def per_image(img: np.ndarray, mode: str) -> np.ndarray:
    """The per-image modes in float64; a uniform image/channel maps to zeros."""
    x = img.astype(np.float64)
    x3 = x[..., None] if x.ndim == 2 else x
    axes = (0, 1) if mode.endswith("per_channel") else None
    if mode.startswith("min_max"):
        low = x3.min(axis=axes, keepdims=True)
        spread = x3.max(axis=axes, keepdims=True) - low
        center = low
    else:
        center = x3.mean(axis=axes, keepdims=True)
        spread = np.sqrt(((x3 - center) ** 2).mean(axis=axes, keepdims=True))
        if mode == "per_image_standardization":  # TensorFlow's floor, 1/sqrt(H*W*C)
            spread = np.maximum(spread, 1.0 / np.sqrt(x.size))
        uniform = x3.min(axis=axes, keepdims=True) == x3.max(axis=axes, keepdims=True)
        spread = np.where(uniform, 0.0, spread)
    safe = np.where(spread == 0, 1.0, spread)
    out = np.where(spread == 0, 0.0, (x3 - center) / safe)
    return out.reshape(x.shape)


def assert_close(out: np.ndarray, ref: np.ndarray, magnitude: np.ndarray | float = 0.0) -> None:
    """out (float32) equals ref (float64) up to float32 rounding of the affine evaluation.

    ``magnitude`` bounds the size of the terms summed (|img * scale| + |offset|); float32
    arithmetic on them can err by a few ulps of that size. The bound is that of the formula's
    float32 evaluation, whatever route the implementation takes (tests/test_kernels.py holds
    each route to its own, tighter bound).
    """
    assert out.dtype == np.float32
    assert out.shape == ref.shape
    assert np.all(np.isfinite(out))
    bound = 4 * EPS32 * (np.abs(ref) + magnitude) + 1e-30
    error = np.abs(out.astype(np.float64) - ref)
    worst = np.unravel_index(np.argmax(error - bound), error.shape)
    assert np.all(error <= bound), (
        f"max error {error[worst]} > bound {bound[worst] if np.ndim(bound) else bound} "
        f"at {worst}: out={out[worst]}, ref={ref[worst]}"
    )


def robust(img: np.ndarray, method: str, percentiles=None, per_channel=False) -> np.ndarray:
    """The robust methods in float64 (numpy's "linear" percentiles); IQR 0 falls back to the
    range; a zero spread maps to zeros."""
    x = img.astype(np.float64)
    x3 = x[..., None] if x.ndim == 2 else x
    flat = x3.reshape(-1, x3.shape[-1]) if per_channel else x3.reshape(-1, 1)
    if method == "median_iqr":
        low_q, high_q = percentiles or (25, 75)
        low, median, high = np.percentile(flat, [low_q, 50, high_q], axis=0)
        spread = high - low
        full = flat.max(axis=0) - flat.min(axis=0)
        spread = np.where(spread == 0, full, spread)
        out = np.where(spread == 0, 0.0, (x3 - median) / np.where(spread == 0, 1, spread))
        return out.reshape(x.shape)
    low, high = np.percentile(flat, list(percentiles or (0.5, 99.5)), axis=0)
    y = np.clip(x3, low, high)
    if method == "percentile_min_max":
        center, spread = low, high - low
    else:
        values = y.reshape(-1, x3.shape[-1]) if per_channel else y.reshape(-1, 1)
        center, spread = values.mean(axis=0), values.std(axis=0)
    out = np.where(spread == 0, 0.0, (y - center) / np.where(spread == 0, 1, spread))
    return out.reshape(x.shape)
