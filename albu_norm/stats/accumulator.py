"""The accumulator of dataset statistics.

:class:`RunningStats` keeps sufficient statistics of every image fed to it, per channel, and per
dtype (a folder may mix 8- and 16-bit files):

* uint8 and uint16 images: exact histograms (256 or 65536 bins, int64 counts), from which the
  mean, std, min, max and percentiles are exact;
* float32 and float64 images: count, mean and M2 (sum of squared deviations) in float64, merged
  with the parallel form of Welford's algorithm (Chan, Golub and LeVeque, "Algorithms for
  computing the sample variance", 1983), plus min and max. Each image's values are scaled by an
  exact power of two first and the moments kept in those units, so the whole float64 range
  works (squares of 1e200 do not overflow, squares of 1e-200 do not underflow);
* optionally (``per_pixel=True``, images of one shape and dtype) a per-pixel running mean and
  M2 over images: the "mean image" / "std image" of Caffe-style normalization.

Several dtypes are put on one scale, each image divided by its own dtype's maximum (255,
65535, or 1 for floats), as :class:`albu_norm.Normalize` does; one dtype keeps its raw units.
``ignore_value`` leaves nodata pixels out (a pixel is left out when every channel equals it).

Two accumulators merge exactly (the result equals one pass over all images), so the work can be
split across processes or machines (:mod:`albu_norm.stats.files`). Every pixel weighs the
same: mixed image sizes weigh by pixel count, not by image. ``std`` is the population standard
deviation (ddof=0). A rejected image leaves the accumulator unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from albu_norm._checks import (
    Masking,
    check_channel_order,
    check_ignore_value,
    check_image,
    check_max_pixel_value,
    check_percentile,
    default_max_pixel_value,
    num_channels,
    raise_not_finite,
)
from albu_norm._statistics import (
    HISTOGRAM_BINS,
    histogram,
    histogram_percentile,
    kept_pixels,
    masked_min_max,
    min_max,
    weighted_percentile,
)
from albu_norm.stats.result import StatsResult

__all__ = ["RunningStats"]

# (count, mean, m2, exponent): moments of float values in units of 2**exponent
Moments = tuple[int, np.ndarray, np.ndarray, int]
# The exponent of all-zero values: below any other, so that merging keeps the other's units.
_ZERO_EXPONENT = -1100


class RunningStats:
    """Mergeable per-channel statistics of a stream of images.

    Args:
        per_pixel: also keep a per-pixel mean and M2 over images (all images must then have
            the same shape and dtype, and no ignore_value).
        ignore_value: nodata: a pixel whose every channel equals it (one number, or one per
            channel, in the images' raw units) is left out of every statistic.

    Feed images with :meth:`update` (shape (H, W) or (H, W, C), uint8/uint16/float32/float64;
    all images of one accumulator share their channel count), combine accumulators with
    :meth:`merge`, read the results with :meth:`result`.

    Raises:
        TypeError, ValueError: as :func:`albu_norm.functional.check_image`; a channel count
            different from earlier images; NaN/Inf in a float image; with ``per_pixel=True``,
            a different shape or dtype. The accumulator is unchanged after a rejected image.
    """

    def __init__(self, *, per_pixel: bool = False, ignore_value: Any = None) -> None:
        if per_pixel and ignore_value is not None:
            raise ValueError("per_pixel statistics cannot leave pixels out: drop ignore_value.")
        self.per_pixel = per_pixel
        self.ignore_value: Optional[tuple[float, ...]] = check_ignore_value(ignore_value)
        self.channels = 0
        self.images = 0
        self.histograms: dict[str, np.ndarray] = {}  # dtype -> (C, bins) int64
        self.moments: dict[str, Moments] = {}  # dtype -> float moments
        self.extremes: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # dtype -> (min, max)
        self.pixel_dtype: Optional[str] = None
        self.pixel_mean: Any = None  # (H, W, C) float64, in units of 2**pixel_exponent
        self.pixel_m2: Any = None
        self.pixel_min: Any = None  # raw units
        self.pixel_max: Any = None
        self.pixel_exponent = _ZERO_EXPONENT

    @property
    def dtypes(self) -> tuple[str, ...]:
        """The dtypes fed so far, sorted."""
        return tuple(sorted({*self.histograms, *self.moments}))

    @property
    def dtype(self) -> Optional[np.dtype]:
        """The dtype of every image fed so far; None when empty or mixed."""
        return np.dtype(self.dtypes[0]) if len(self.dtypes) == 1 else None

    @property
    def histogram(self) -> Optional[np.ndarray]:
        """The exact (C, bins) histogram of a single integer dtype; None otherwise."""
        return (
            self.histograms[self.dtypes[0]] if len(self.dtypes) == 1 and self.histograms else None
        )

    @property
    def pixels(self) -> int:
        """Pixels counted so far, per channel (left-out pixels excluded)."""
        counted = sum(int(h[0].sum()) for h in self.histograms.values())
        return counted + sum(m[0] for m in self.moments.values())

    # ------------------------------------------------------------------ feeding

    def update(self, img: np.ndarray) -> RunningStats:
        """Add one image; returns self. A rejected image leaves the accumulator unchanged."""
        img = check_image(img)
        channels = num_channels(img)
        if self.channels and channels != self.channels:
            raise ValueError(
                f"image has {channels} channel(s), but earlier images had {self.channels}: "
                "one accumulator takes one channel count. Read the images alike (e.g. "
                "read_image(path, color='rgb'))."
            )
        view = img.reshape(img.shape[0], img.shape[1], channels)
        kept = self._kept(view)
        key = str(img.dtype)
        # compute every contribution first, then commit: a rejection changes nothing
        counts = moments = extremes = None
        if img.dtype in HISTOGRAM_BINS:
            counts = _add(
                self.histograms.get(key), histogram(view, HISTOGRAM_BINS[img.dtype], kept)
            )
        else:
            image_moments, low, high = _float_moments(view, kept)
            moments = _merge_moments(self.moments.get(key), image_moments)
            if low is not None and high is not None:
                old = self.extremes.get(key)
                extremes = (
                    (low, high)
                    if old is None
                    else (np.minimum(old[0], low), np.maximum(old[1], high))
                )
        pixel_state = self._per_pixel_update(view, key) if self.per_pixel else None
        if counts is not None:
            self.histograms[key] = counts
        if moments is not None:
            self.moments[key] = moments
        if extremes is not None:
            self.extremes[key] = extremes
        if pixel_state is not None:
            self.__dict__.update(pixel_state)
        self.channels = channels
        self.images += 1
        return self

    def _kept(self, view: np.ndarray) -> Optional[np.ndarray]:
        """uint8 (H, W) mask of the pixels that count (None: all of them), by the rule of the
        per-image modes (:func:`albu_norm._statistics.kept_pixels`)."""
        kept = kept_pixels(view, None, Masking(ignore_value=self.ignore_value))
        return None if kept is None else kept.view(np.uint8)

    def _per_pixel_update(self, view: np.ndarray, key: str) -> dict[str, Any]:
        if self.pixel_mean is not None and (
            self.pixel_mean.shape != view.shape or self.pixel_dtype != key
        ):
            raise ValueError(
                f"per_pixel=True needs images of one shape and dtype: got {view.shape} {key} "
                f"after {self.pixel_mean.shape} {self.pixel_dtype}. Resize or convert the "
                "images first, or use per_pixel=False."
            )
        values = view.astype(np.float64)
        exponent = max(_exponent_of(values), self.pixel_exponent)
        scaled = _times_power_of_two(values, -exponent)
        if self.pixel_mean is None:
            mean, m2 = np.zeros(view.shape), np.zeros(view.shape)
            low, high = values.copy(), values.copy()
        else:
            shift = self.pixel_exponent - exponent  # <= 0: rescale the old moments
            mean = _times_power_of_two(self.pixel_mean, shift)
            m2 = _times_power_of_two(self.pixel_m2, 2 * shift)
            low, high = np.minimum(self.pixel_min, values), np.maximum(self.pixel_max, values)
        k = self.images + 1  # Welford over images
        delta = scaled - mean
        mean = mean + delta / k
        m2 = m2 + delta * (scaled - mean)
        return {
            "pixel_dtype": key,
            "pixel_mean": mean,
            "pixel_m2": m2,
            "pixel_min": low,
            "pixel_max": high,
            "pixel_exponent": exponent,
        }

    # ------------------------------------------------------------------ merging

    def merge(self, other: RunningStats) -> RunningStats:
        """Add the statistics of ``other`` (as if its images had been fed here); returns self.

        Raises:
            ValueError: different channel counts, per_pixel settings, ignore values or
                per-pixel shapes. Self is unchanged then.
        """
        if other.images == 0:
            return self
        if self.per_pixel != other.per_pixel or self.ignore_value != other.ignore_value:
            raise ValueError(
                "cannot merge accumulators with different per_pixel or ignore_value settings."
            )
        if self.channels and other.channels and self.channels != other.channels:
            raise ValueError(
                f"cannot merge statistics of {self.channels}-channel and {other.channels}-"
                "channel images."
            )
        pixel_state = self._merged_per_pixel(other) if self.per_pixel else None
        for key, counts in other.histograms.items():
            self.histograms[key] = _add(self.histograms.get(key), counts)
        for key, moments in other.moments.items():
            self.moments[key] = _merge_moments(self.moments.get(key), moments)
        for key, (low, high) in other.extremes.items():
            old = self.extremes.get(key)
            self.extremes[key] = (
                (low, high) if old is None else (np.minimum(old[0], low), np.maximum(old[1], high))
            )
        if pixel_state is not None:
            self.__dict__.update(pixel_state)
        self.channels = self.channels or other.channels
        self.images += other.images
        return self

    def _merged_per_pixel(self, other: RunningStats) -> Optional[dict[str, Any]]:
        if other.pixel_mean is None:
            return None
        if self.pixel_mean is None:
            return {
                k: v.copy() if isinstance(v, np.ndarray) else v
                for k, v in vars(other).items()
                if k.startswith("pixel_")
            }
        if self.pixel_mean.shape != other.pixel_mean.shape or self.pixel_dtype != other.pixel_dtype:
            raise ValueError(
                f"per-pixel statistics of {self.pixel_mean.shape} {self.pixel_dtype} and "
                f"{other.pixel_mean.shape} {other.pixel_dtype} images cannot be merged."
            )
        exponent = max(self.pixel_exponent, other.pixel_exponent)
        a_shift, b_shift = self.pixel_exponent - exponent, other.pixel_exponent - exponent
        mean_a = _times_power_of_two(self.pixel_mean, a_shift)
        m2_a = _times_power_of_two(self.pixel_m2, 2 * a_shift)
        mean_b = _times_power_of_two(other.pixel_mean, b_shift)
        m2_b = _times_power_of_two(other.pixel_m2, 2 * b_shift)
        n_a, n_b = self.images, other.images
        delta = mean_b - mean_a
        return {
            "pixel_mean": mean_a + delta * (n_b / (n_a + n_b)),
            "pixel_m2": m2_a + m2_b + delta * delta * (n_a * n_b / (n_a + n_b)),
            "pixel_min": np.minimum(self.pixel_min, other.pixel_min),
            "pixel_max": np.maximum(self.pixel_max, other.pixel_max),
            "pixel_exponent": exponent,
        }

    # ------------------------------------------------------------------ results

    def result(
        self,
        max_pixel_value: float | None = None,
        percentiles: Sequence[float] = (0.5, 99.5),
        channel_order: str = "RGB",
    ) -> StatsResult:
        """The statistics so far, in raw units and on the 0-1 scale of ``max_pixel_value``.

        Args:
            max_pixel_value: the value that maps to 1.0; None follows the dtype (255 for uint8,
                65535 for uint16, 1.0 for floats). Images of several dtypes are on one scale
                already (each divided by its dtype's maximum): then it must be None.
            percentiles: which percentiles (0-100) to report; exact for integer images (numpy's
                default 'linear' definition), not available for float images (empty).
            channel_order: "RGB" or "BGR", the order of the images' channels (RGB for
                :func:`albu_norm.stats.read_image`, BGR for ``cv2.imread``); recorded, so that
                a model of the other order gets its channels reversed.
        Raises:
            ValueError: no pixel was counted; an unknown channel_order; max_pixel_value not a
                finite number > 0, or given for mixed dtypes; a percentile outside [0, 100].
        """
        if self.pixels == 0:
            raise ValueError(
                "no pixels were counted: no image was added, or every pixel was ignore_value."
            )
        if max_pixel_value is not None:
            max_pixel_value = check_max_pixel_value(max_pixel_value)
        check_channel_order(channel_order)
        quantiles = [check_percentile(q) for q in percentiles]
        dtypes = self.dtypes
        if len(dtypes) == 1:
            scale = max_pixel_value or default_max_pixel_value(np.dtype(dtypes[0]))
            units = {dtypes[0]: 1.0}  # raw units
            label = dtypes[0]
        else:
            if max_pixel_value is not None:
                raise ValueError(
                    f"the images have several dtypes ({', '.join(dtypes)}), each put on the 0-1 "
                    "scale by its own maximum: max_pixel_value does not apply. Leave it None."
                )
            scale = 1.0
            units = {key: default_max_pixel_value(np.dtype(key)) for key in dtypes}
            label = "mixed (" + ", ".join(dtypes) + ")"
        count, mean, m2, exponent = self._combined_moments(units)
        low, high = self._extremes(units)
        mean_raw = np.ldexp(mean, exponent)
        std_raw = np.ldexp(np.sqrt(np.maximum(m2 / count, 0.0)), exponent)
        table = {}
        if not self.moments and quantiles:
            table = {q: _percentile(self.histograms, units, q) for q in quantiles}
        pixel_mean = pixel_std = pixel_range = None
        if self.pixel_mean is not None and self.pixel_m2 is not None:
            pixel_mean = np.ldexp(self.pixel_mean, self.pixel_exponent)
            pixel_std = np.ldexp(
                np.sqrt(np.maximum(self.pixel_m2 / self.images, 0.0)), self.pixel_exponent
            )
            pixel_range = self.pixel_max - self.pixel_min
        return StatsResult(
            dtype=label,
            images=self.images,
            pixels=count,
            max_pixel_value=float(scale),
            mean_raw=tuple(float(v) for v in mean_raw),
            std_raw=tuple(float(v) for v in std_raw),
            min_raw=tuple(float(v) for v in low),
            max_raw=tuple(float(v) for v in high),
            percentiles_raw={q: tuple(float(v) for v in values) for q, values in table.items()},
            channel_order=channel_order,
            mixed_dtypes=len(dtypes) > 1,
            pixel_mean=pixel_mean,
            pixel_std=pixel_std,
            pixel_range=pixel_range,
        )

    def _combined_moments(self, units: dict[str, float]) -> Moments:
        total: Optional[Moments] = None
        for key, counts in self.histograms.items():
            total = _merge_moments(total, _histogram_moments(counts, units[key]))
        for key, (count, mean, m2, exponent) in self.moments.items():
            if count:
                total = _merge_moments(total, _scaled((count, mean, m2, exponent), units[key]))
        assert total is not None  # pixels > 0
        return total

    def _extremes(self, units: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        lows, highs = [], []
        for key, counts in self.histograms.items():
            occupied = [np.flatnonzero(c) for c in counts]
            if all(len(o) for o in occupied):
                lows.append(np.array([o[0] for o in occupied]) / units[key])
                highs.append(np.array([o[-1] for o in occupied]) / units[key])
        for key, (low, high) in self.extremes.items():
            lows.append(low / units[key])
            highs.append(high / units[key])
        return np.min(lows, axis=0), np.max(highs, axis=0)

    # ------------------------------------------------------------------ pickling (for workers)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        # ship only the occupied part of a 65536-bin table
        state["histograms"] = {k: _sparse(v) for k, v in self.histograms.items()}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["histograms"] = {k: _dense(v) for k, v in state["histograms"].items()}
        self.__dict__.update(state)


def _add(total: Optional[np.ndarray], counts: np.ndarray) -> np.ndarray:
    return counts.copy() if total is None else total + counts


def _exponent_of(values: np.ndarray) -> int:
    """The power of two that puts max|values| in [0.5, 1); ``_ZERO_EXPONENT`` for all zeros.

    Raises:
        ValueError: NaN or Inf among the values.
    """
    magnitude = max(abs(float(values.min())), abs(float(values.max()))) if values.size else 0.0
    if not math.isfinite(magnitude):
        raise_not_finite(values, "dataset statistics")
    return math.frexp(magnitude)[1] if magnitude else _ZERO_EXPONENT


def _float_moments(
    view: np.ndarray, kept: Optional[np.ndarray]
) -> tuple[Moments, Optional[np.ndarray], Optional[np.ndarray]]:
    """(count, mean, M2, exponent) of a float image's counted pixels, and their min and max.

    Raises:
        ValueError: NaN or Inf among the counted values.
    """
    channels = view.shape[2]
    values = view.reshape(-1, channels)
    if kept is not None:
        mask = kept.view(bool)
        if not mask.any():
            return (0, np.zeros(channels), np.zeros(channels), 0), None, None
        low, high = masked_min_max(view, mask)
        values = values[mask.ravel()]
    else:
        low, high = min_max(view, per_channel=True)
    exponent = _exponent_of(np.concatenate([low, high]))  # raises on Inf (and NaN from numpy)
    scaled = _times_power_of_two(values.astype(np.float64), -exponent)
    mean = scaled.mean(axis=0)
    if not all(math.isfinite(v) for v in mean.tolist()):  # NaN that a masked minMaxLoc skips
        raise_not_finite(view, "dataset statistics")
    deviations = scaled - mean
    m2 = np.einsum("ij,ij->j", deviations, deviations)
    return (len(values), mean, m2, exponent), low, high


def _times_power_of_two(values: np.ndarray, exponent: int) -> np.ndarray:
    """``values * 2**exponent``, exact as ``np.ldexp`` (a power of two only moves the exponent),
    by a multiplication (10x faster) wherever 2**exponent is a normal float64; ``values``
    itself for exponent 0 (callers never modify it in place)."""
    if exponent == 0:
        return values
    if -1022 <= exponent <= 1023:
        return values * math.ldexp(1.0, exponent)
    return np.ldexp(values, exponent)


def _merge_moments(a: Optional[Moments], b: Moments) -> Moments:
    """Chan et al. (1983): combine (n_a, mean_a, M2_a) with (n_b, mean_b, M2_b), after putting
    both in the units of the larger exponent (exact scaling by powers of two)."""
    if a is None or a[0] == 0:
        return b
    if b[0] == 0:
        return a
    exponent = max(a[3], b[3])
    (n_a, mean_a, m2_a), (n_b, mean_b, m2_b) = (
        (n, _times_power_of_two(mean, e - exponent), _times_power_of_two(m2, 2 * (e - exponent)))
        for n, mean, m2, e in (a, b)
    )
    total = n_a + n_b
    delta = mean_b - mean_a
    mean = mean_a + delta * (n_b / total)
    m2 = m2_a + m2_b + delta * delta * (n_a * n_b / total)
    return total, mean, m2, exponent


def _scaled(moments: Moments, unit: float) -> Moments:
    """Moments of values divided by ``unit``."""
    count, mean, m2, exponent = moments
    if unit == 1.0:
        return moments
    return count, mean / unit, m2 / (unit * unit), exponent


def _histogram_moments(histogram: np.ndarray, unit: float) -> Moments:
    """Exact mean (integer sums) and two-pass M2 from (C, bins) histograms, in units of
    ``unit``: (count, mean, M2, exponent 0)."""
    means, m2s = [], []
    count = int(histogram[0].sum())
    for counts in histogram:
        occupied = np.flatnonzero(counts)
        total = sum(int(counts[v]) * int(v) for v in occupied)
        mean = total / count if count else 0.0
        deviations = occupied - mean
        means.append(mean / unit)
        m2s.append(float(np.dot(counts[occupied], deviations * deviations)) / (unit * unit))
    return count, np.array(means), np.array(m2s), 0


def _percentile(histograms: dict[str, np.ndarray], units: dict[str, float], q: float) -> np.ndarray:
    """Exact percentile (numpy's "linear") per channel over histograms of one or several
    integer dtypes, each on the scale of its unit."""
    if len(histograms) == 1:
        ((key, counts),) = histograms.items()
        return histogram_percentile(counts, q) / units[key]
    channels = next(iter(histograms.values())).shape[0]
    values = []
    for c in range(channels):
        levels = np.concatenate([np.flatnonzero(h[c]) / units[k] for k, h in histograms.items()])
        weights = np.concatenate([h[c][np.flatnonzero(h[c])] for h in histograms.values()])
        order = np.argsort(levels, kind="stable")
        values.append(weighted_percentile(levels[order], weights[order], q))
    return np.array(values)


def _sparse(histogram: np.ndarray) -> tuple[tuple[int, ...], np.ndarray, np.ndarray]:
    index = np.flatnonzero(histogram)
    return histogram.shape, index, histogram.ravel()[index]


def _dense(packed: tuple[tuple[int, ...], np.ndarray, np.ndarray]) -> np.ndarray:
    shape, index, counts = packed
    histogram = np.zeros(int(np.prod(shape)), dtype=np.int64)
    histogram[index] = counts
    return histogram.reshape(shape)
