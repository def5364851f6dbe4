"""The accumulator of dataset statistics.

:class:`RunningStats` keeps sufficient statistics of every image fed to it, per channel:

* uint8 and uint16 images: exact histograms (256 or 65536 bins, int64 counts), from which the
  mean, std, min, max and percentiles are exact;
* float32 and float64 images: count, sum of values and M2 (sum of squared deviations) in float64,
  merged with the parallel form of Welford's algorithm (Chan, Golub and LeVeque, "Algorithms for
  computing the sample variance", 1983), plus min and max;
* optionally (``per_pixel=True``, fixed-size images) a per-pixel running mean and M2 over images:
  the "mean image" / "std image" of Caffe-style normalization.

Two accumulators merge exactly (the result equals one pass over all images), so the work can be
split across processes or machines (:mod:`albu_norm.stats.files`). Every pixel weighs the
same: mixed image sizes weigh by pixel count, not by image. ``std`` is the population standard
deviation (ddof=0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from albu_norm._checks import check_image, default_max_pixel_value, num_channels
from albu_norm._statistics import HISTOGRAM_BINS, histogram, histogram_percentile
from albu_norm.stats.result import StatsResult

__all__ = ["RunningStats"]


class RunningStats:
    """Mergeable per-channel statistics of a stream of images.

    Args:
        per_pixel: also keep a per-pixel mean and M2 over images (all images must then have
            the same shape).

    Feed images with :meth:`update` (shape (H, W) or (H, W, C), uint8/uint16/float32/float64;
    all images of one accumulator share dtype and channel count), combine accumulators with
    :meth:`merge`, read the results with :meth:`result`.

    Raises:
        TypeError, ValueError: as :func:`albu_norm.functional.check_image`; a dtype or channel
            count different from earlier images; NaN/Inf in a float image; a different shape
            with ``per_pixel=True``.
    """

    def __init__(self, *, per_pixel: bool = False) -> None:
        self.per_pixel = per_pixel
        self.dtype: np.dtype | None = None
        self.channels = 0
        self.images = 0
        self.pixels = 0  # per channel
        self.histogram: Any = None  # (C, bins) int64, integer dtypes
        self.sum: Any = None  # (C,) float64 mean * count, float dtypes
        self.m2: Any = None  # (C,) float64, float dtypes
        self.minimum: Any = None  # (C,) float64, float dtypes
        self.maximum: Any = None
        self.pixel_mean: Any = None  # (H, W, C) float64, per_pixel
        self.pixel_m2: Any = None

    # ------------------------------------------------------------------ feeding

    def update(self, img: np.ndarray) -> RunningStats:
        """Add one image; returns self."""
        img = check_image(img)
        self._start_or_check(img.dtype, num_channels(img))
        view = img.reshape(img.shape[0], img.shape[1], self.channels)
        if self.histogram is not None:
            self.histogram += histogram(view, self.histogram.shape[1])
        else:
            self._update_float(view)
        if self.per_pixel:
            self._update_per_pixel(view)
        self.images += 1
        self.pixels += view.shape[0] * view.shape[1]
        return self

    def _start_or_check(self, dtype: np.dtype, channels: int) -> None:
        if self.dtype is None:
            self.dtype, self.channels = np.dtype(dtype), channels
            bins = HISTOGRAM_BINS.get(self.dtype)
            if bins is not None:
                self.histogram = np.zeros((channels, bins), dtype=np.int64)
            else:
                self.sum = np.zeros(channels)
                self.m2 = np.zeros(channels)
                self.minimum = np.full(channels, np.inf)
                self.maximum = np.full(channels, -np.inf)
            return
        if np.dtype(dtype) != self.dtype or channels != self.channels:
            raise ValueError(
                f"image has dtype {np.dtype(dtype)} and {channels} channel(s), but earlier "
                f"images had dtype {self.dtype} and {self.channels}: one accumulator takes one "
                "kind of image. Convert the images to one dtype and channel count first."
            )

    def _update_float(self, view: np.ndarray) -> None:
        values = view.reshape(-1, self.channels)
        count = values.shape[0]
        mean = values.mean(axis=0, dtype=np.float64)
        if not np.all(np.isfinite(mean)):
            raise ValueError("image contains NaN or Inf; its statistics would be NaN.")
        deviations = values - mean  # float64 for float64 input; float32 input promotes
        m2 = np.einsum("ij,ij->j", deviations, deviations, dtype=np.float64)
        self._merge_moments(count, mean, m2)
        self.minimum = np.minimum(self.minimum, values.min(axis=0))
        self.maximum = np.maximum(self.maximum, values.max(axis=0))

    def _merge_moments(self, count: int, mean: np.ndarray, m2: np.ndarray) -> None:
        """Chan et al. (1983): combine (n_a, mean_a, M2_a) with (n_b, mean_b, M2_b)."""
        assert self.sum is not None and self.m2 is not None
        total = self.pixels + count
        if total == 0:
            return
        mean_a = self.sum / self.pixels if self.pixels else np.zeros_like(mean)
        delta = mean - mean_a
        self.m2 = self.m2 + m2 + delta * delta * (self.pixels * count / total)
        self.sum = self.sum + mean * count

    def _update_per_pixel(self, view: np.ndarray) -> None:
        if self.pixel_mean is None:
            self.pixel_mean = np.zeros(view.shape)
            self.pixel_m2 = np.zeros(view.shape)
            self.pixel_min = np.full(view.shape, np.inf)
            self.pixel_max = np.full(view.shape, -np.inf)
        elif self.pixel_mean.shape != view.shape:
            raise ValueError(
                f"per_pixel=True needs images of one shape: got {view.shape} after "
                f"{self.pixel_mean.shape}. Resize the images first, or use per_pixel=False."
            )
        assert self.pixel_m2 is not None
        k = self.images + 1  # Welford over images
        delta = view - self.pixel_mean
        self.pixel_mean += delta / k
        self.pixel_m2 += delta * (view - self.pixel_mean)
        np.minimum(self.pixel_min, view, out=self.pixel_min)
        np.maximum(self.pixel_max, view, out=self.pixel_max)

    # ------------------------------------------------------------------ merging

    def merge(self, other: RunningStats) -> RunningStats:
        """Add the statistics of ``other`` (as if its images had been fed here); returns self."""
        if other.dtype is None:
            return self
        if self.dtype is None:
            self.__dict__.update(_copy_state(other))
            return self
        self._start_or_check(other.dtype, other.channels)
        if self.per_pixel != other.per_pixel:
            raise ValueError("cannot merge accumulators with and without per_pixel statistics.")
        if self.histogram is not None:
            assert other.histogram is not None
            self.histogram += other.histogram
        else:
            assert other.sum is not None and other.m2 is not None
            mean_b = other.sum / other.pixels
            self._merge_moments(other.pixels, mean_b, other.m2)
            self.minimum = np.minimum(self.minimum, other.minimum)
            self.maximum = np.maximum(self.maximum, other.maximum)
        if self.per_pixel and other.pixel_mean is not None:
            self._merge_per_pixel(other)
        self.images += other.images
        self.pixels += other.pixels
        return self

    def _merge_per_pixel(self, other: RunningStats) -> None:
        if self.pixel_mean is None:
            self.pixel_mean, self.pixel_m2 = other.pixel_mean.copy(), other.pixel_m2.copy()
            self.pixel_min, self.pixel_max = other.pixel_min.copy(), other.pixel_max.copy()
            return
        if self.pixel_mean.shape != other.pixel_mean.shape:
            raise ValueError(
                f"per-pixel statistics of shapes {self.pixel_mean.shape} and "
                f"{other.pixel_mean.shape} cannot be merged."
            )
        n_a, n_b = self.images, other.images
        delta = other.pixel_mean - self.pixel_mean
        self.pixel_mean = self.pixel_mean + delta * (n_b / (n_a + n_b))
        self.pixel_m2 = self.pixel_m2 + other.pixel_m2 + delta * delta * (n_a * n_b / (n_a + n_b))
        self.pixel_min = np.minimum(self.pixel_min, other.pixel_min)
        self.pixel_max = np.maximum(self.pixel_max, other.pixel_max)

    # ------------------------------------------------------------------ results

    def result(
        self, max_pixel_value: float | None = None, percentiles: Sequence[float] = (0.5, 99.5)
    ) -> StatsResult:
        """The statistics so far, in raw units and on the 0-1 scale of ``max_pixel_value``.

        Args:
            max_pixel_value: the value that maps to 1.0; None follows the dtype (255 for uint8,
                65535 for uint16, 1.0 for floats).
            percentiles: which percentiles (0-100) to report; exact for integer images (numpy's
                default 'linear' definition), not available for float images (empty).
        Raises:
            ValueError: no image was fed.
        """
        if self.dtype is None or self.pixels == 0:
            raise ValueError("no images were added: there are no statistics to report.")
        scale = default_max_pixel_value(self.dtype) if max_pixel_value is None else max_pixel_value
        if self.histogram is not None:
            mean, std, low, high = _histogram_moments(self.histogram, self.pixels)
            quantiles = {float(q): histogram_percentile(self.histogram, q) for q in percentiles}
        else:
            assert self.sum is not None and self.m2 is not None
            mean = self.sum / self.pixels
            std = np.sqrt(np.maximum(self.m2 / self.pixels, 0.0))
            low, high = self.minimum, self.maximum
            quantiles = {}
        pixel_mean = pixel_std = pixel_range = None
        if self.pixel_mean is not None and self.pixel_m2 is not None:
            pixel_mean = self.pixel_mean
            pixel_std = np.sqrt(np.maximum(self.pixel_m2 / self.images, 0.0))
            pixel_range = self.pixel_max - self.pixel_min
        return StatsResult(
            dtype=str(self.dtype),
            images=self.images,
            pixels=self.pixels,
            max_pixel_value=float(scale),
            mean_raw=tuple(float(v) for v in mean),
            std_raw=tuple(float(v) for v in std),
            min_raw=tuple(float(v) for v in low),
            max_raw=tuple(float(v) for v in high),
            percentiles_raw={q: tuple(float(v) for v in values) for q, values in quantiles.items()},
            pixel_mean=pixel_mean,
            pixel_std=pixel_std,
            pixel_range=pixel_range,
        )

    # ------------------------------------------------------------------ pickling (for workers)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if state["histogram"] is not None:  # ship only the occupied part of a 65536-bin table
            state["histogram"] = _sparse(state["histogram"])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if isinstance(state.get("histogram"), tuple):
            state["histogram"] = _dense(state["histogram"])
        self.__dict__.update(state)


def _copy_state(other: RunningStats) -> dict[str, Any]:
    return {
        key: value.copy() if isinstance(value, np.ndarray) else value
        for key, value in other.__dict__.items()
    }


def _sparse(histogram: np.ndarray) -> tuple[tuple[int, ...], np.ndarray, np.ndarray]:
    index = np.flatnonzero(histogram)
    return histogram.shape, index, histogram.ravel()[index]


def _dense(packed: tuple[tuple[int, ...], np.ndarray, np.ndarray]) -> np.ndarray:
    shape, index, counts = packed
    histogram = np.zeros(int(np.prod(shape)), dtype=np.int64)
    histogram[index] = counts
    return histogram.reshape(shape)


def _histogram_moments(
    histogram: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exact mean (integer sums), two-pass std, min and max from (C, bins) histograms."""
    levels = np.arange(histogram.shape[1])
    means, stds, lows, highs = [], [], [], []
    for counts in histogram:
        total = sum(int(c) * int(v) for v, c in zip(levels[counts > 0], counts[counts > 0]))
        mean = total / count
        occupied = np.flatnonzero(counts)
        deviations = occupied - mean
        variance = float(np.dot(counts[occupied], deviations * deviations)) / count
        means.append(mean)
        stds.append(math.sqrt(variance))
        lows.append(float(occupied[0]))
        highs.append(float(occupied[-1]))
    return np.array(means), np.array(stds), np.array(lows), np.array(highs)
