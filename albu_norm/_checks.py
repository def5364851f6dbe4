"""Every validation rule of albu_norm, once, with one message per rule.

Private: the public functions (:mod:`albu_norm.functional`, :mod:`albu_norm.robust`,
:mod:`albu_norm.spatial`), the spec resolver (:mod:`albu_norm.spec`), the preset registry and the
dataset statistics call these; nothing else validates images or statistics. Messages say what
was wrong, what was expected and how to fix it, with the actual values.

Dtype rule (the one scale rule of the package): ``max_pixel_value=None`` means 255 for uint8,
65535 for uint16 and 1.0 for float32/float64 images.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any, Union, cast

import cv2
import numpy as np

from albu_norm.modes import BUILT_IN_NAMES, MODES, Mode, check_supported, get_mode

Values = Union[float, Sequence[float]]

#: The built-in modes whose statistics come from the image itself (rows of
#: :mod:`albu_norm.modes`; :func:`albu_norm.modes.per_image_names` includes registered ones).
PER_IMAGE_NORMALIZATIONS: tuple[str, ...] = tuple(
    name for name in BUILT_IN_NAMES if MODES[name].per_image
)
#: Every built-in value of ``normalization``; "standard" uses fixed mean/std.
NORMALIZATIONS: tuple[str, ...] = BUILT_IN_NAMES

#: Input dtypes of the core.
SUPPORTED_DTYPES: tuple[np.dtype, ...] = tuple(
    np.dtype(t) for t in (np.uint8, np.uint16, np.float32, np.float64)
)
_MAX_VALUES = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}

#: The most channels an image may have. Every mode is exact up to this count (above OpenCV's own
#: limit of 128 channels per array, OpenCV 5, the kernels route to numpy); more channels are
#: almost always a channel-first array.
MAX_CHANNELS = 512

CHANNEL_ORDERS = ("RGB", "BGR")
#: What happens to pixels left out of the statistics (by a mask or ignore_value).
OUTSIDE = ("normalize", "fill")


def check_image(img: object, *, name: str = "img") -> np.ndarray:
    """Validate an image and return it as a C-contiguous array (a copy only when needed).

    Args:
        img: image, shape (H, W) or (H, W, C) with 1 <= C <= 512; uint8, uint16, float32 or
            float64.
        name: how the image is called in error messages.
    Returns:
        the same data as a C-contiguous array (the input itself when it already is one).
    Raises:
        TypeError: img is not a numpy array, or has an unsupported dtype.
        ValueError: img is not 2- or 3-dimensional, is empty, or has more than 512 channels.
    """
    if not isinstance(img, np.ndarray):
        raise TypeError(
            f"{name} must be a numpy array of shape (H, W) or (H, W, C), got {type(img).__name__}. "
            "Convert it with np.asarray(...)."
        )
    if img.dtype not in SUPPORTED_DTYPES:
        supported = ", ".join(str(d) for d in SUPPORTED_DTYPES)
        raise TypeError(
            f"{name} has dtype {img.dtype}, which albu_norm does not support; expected one of "
            f"{supported}. Convert it first, e.g. {name}.astype(np.float32)."
        )
    if img.ndim not in (2, 3):
        raise ValueError(
            f"{name} must have shape (H, W) or (H, W, C), got shape {img.shape} ({img.ndim} "
            "dimensions). Pass batches of shape (N, H, W, C) through a transform's images= "
            "argument, one image at a time to the core functions."
        )
    if img.size == 0:
        raise ValueError(f"{name} is empty (shape {img.shape}); there is nothing to normalize.")
    if img.ndim == 3 and img.shape[2] > MAX_CHANNELS:
        raise ValueError(
            f"{name} has {img.shape[2]} channels (shape {img.shape}); at most {MAX_CHANNELS} are "
            "supported. Is the channel axis first? albu_norm expects (H, W, C): use "
            "np.moveaxis(img, 0, -1)."
        )
    return np.ascontiguousarray(img)


def num_channels(img: np.ndarray) -> int:
    """Number of channels of an (H, W) or (H, W, C) image: 1 for (H, W)."""
    return 1 if img.ndim == 2 else int(img.shape[2])


def default_max_pixel_value(dtype: np.dtype | type) -> float:
    """The dtype rule: the value that maps to 1.0 when ``max_pixel_value`` is None.

    255 for uint8, 65535 for uint16, 1.0 for float32 and float64 (float images are taken to be
    on the 0-1 scale already).
    """
    return _MAX_VALUES.get(np.dtype(dtype), 1.0)


#: The largest value a float image may hold under the dtype rule (max_pixel_value=None takes
#: float images to be on the 0-1 scale); above it the image is almost surely 0-255 data.
FLOAT_SCALE_LIMIT = 2.0


def float_scale_message(name: str, what: str, largest: float) -> str:
    """The one message of the 0-1 scale rule (the numpy core and the torch module)."""
    return (
        f"{name} is {what} with values up to {largest:g}, but max_pixel_value=None takes float "
        "images to be on the 0-1 scale (the dtype rule). Pass max_pixel_value=255 for 0-255 "
        "data (or the maximum of your data), or scale the images to [0, 1] first "
        "(A.ToFloat(max_value=255))."
    )


def check_float_scale(img: np.ndarray) -> float | None:
    """Under the dtype rule, a float image must be on the 0-1 scale (values up to 2 allowed).

    Returns:
        the float image's largest magnitude (NaN if it holds NaN), for the kernels' overflow
        check; None for an integer image.
    Raises:
        ValueError: a float image with values beyond 2: 0-255 (or other) data that the dtype
            rule would not divide by its maximum.
    """
    if img.dtype.kind != "f":
        return None
    largest = float(cv2.norm(img.reshape(img.shape[0], -1), cv2.NORM_INF))
    if largest > FLOAT_SCALE_LIMIT:
        raise ValueError(float_scale_message("img", f"a {img.dtype} image", largest))
    return largest


def check_normalization(normalization: object, *, per_image: bool | None = None) -> Mode:
    """The mode table's row of ``normalization``, refused unless the numpy core has every
    primitive it names.

    Args:
        normalization: a mode name (or a row).
        per_image: True: only per-image modes; False: only fixed statistics; None: any.
    Raises:
        ValueError: unknown mode (the message lists the modes and close matches), a mode of the
            wrong kind, or a row whose center, spread or floor the core cannot compute.
    """
    return check_supported(get_mode(normalization, per_image=per_image), "albu_norm's numpy core")


def channel_values(value: object, name: str) -> tuple[float, ...]:
    """A number or an *ordered* sequence of numbers as a tuple of floats (not yet range-checked).

    Accepts int/float, numpy scalars and arrays, lists, tuples and other ordered sequences
    (e.g. OmegaConf's ListConfig).

    Raises:
        ValueError: a string, a set or a mapping (their order is not the channel order), a
            bool, an empty or nested sequence, or anything that is not a number.
    """
    if isinstance(value, np.ndarray):
        if value.ndim > 1:
            raise ValueError(
                f"{name} must be one number or a flat list of numbers, got an array "
                f"of shape {value.shape}."
            )
        value = value.tolist()
    if isinstance(value, (str, bytes)):
        raise ValueError(
            f"{name} must be a number or a list of numbers, got the string {value!r}. Write "
            f"{name}=(0.485, 0.456, 0.406), not a string."
        )
    if isinstance(value, (Set, Mapping)):
        raise ValueError(
            f"{name} must be an ordered list of numbers (one per channel), got a "
            f"{type(value).__name__} {value!r}, whose order is not the channel order. Use a "
            "list or tuple."
        )
    items: Iterable[Any]
    if _is_number(value):
        items = (value,)
    elif isinstance(value, Sequence) or (
        hasattr(value, "__len__") and hasattr(value, "__getitem__")
    ):
        items = list(value)  # type: ignore[call-overload]
        if not items:
            raise ValueError(f"{name} is empty: give one number, or one per channel.")
    else:
        raise ValueError(
            f"{name} must be a number or a list of numbers, got {type(value).__name__} {value!r}."
        )
    floats = []
    for item in items:
        if not _is_number(item):
            raise ValueError(
                f"{name} must hold numbers only, got {item!r} ({type(item).__name__}) in {value!r}."
            )
        floats.append(as_float(item))
    return tuple(floats)


def as_float(value: object) -> float:
    """A real number as a float: NaN for anything else, +-Inf for an integer beyond float64
    (the callers' finiteness checks then reject it with their ValueError)."""
    if not _is_number(value):
        return math.nan
    try:
        return float(cast(float, value))
    except OverflowError:  # a Python int beyond float64, e.g. from a JSON file
        return math.inf if cast(int, value) > 0 else -math.inf


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def check_mean(mean: object, name: str = "mean") -> tuple[float, ...]:
    """``mean`` as a tuple of finite floats.

    Raises:
        ValueError: not a number or ordered list of numbers (see :func:`channel_values`), or a
            value is NaN/Inf.
    """
    values = channel_values(mean, name)
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{name} must be finite numbers, got {values}.")
    return values


def check_std(std: object, name: str = "std") -> tuple[float, ...]:
    """``std`` as a tuple of finite floats > 0.

    Raises:
        ValueError: not a number or ordered list of numbers, or a value that is not finite and
            > 0 (a zero std would divide by zero).
    """
    values = channel_values(std, name)
    if not all(math.isfinite(v) and v > 0 for v in values):
        raise ValueError(
            f"{name} must be finite numbers > 0 for every channel, got {values}. A zero std "
            "would divide by zero; check the statistics you passed."
        )
    return values


def check_mean_std(mean: object, std: object) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Checked mean and std, whose lengths must be equal or one of them 1.

    Raises:
        ValueError: as :func:`check_mean` and :func:`check_std`; lengths that fit no channel
            count (e.g. 2 and 3).
    """
    mean_values, std_values = check_mean(mean), check_std(std)
    if len(mean_values) != len(std_values) and 1 not in (len(mean_values), len(std_values)):
        raise ValueError(
            f"mean has {len(mean_values)} values and std has {len(std_values)}; give both one "
            "value per channel (or one value for all channels)."
        )
    return mean_values, std_values


def check_max_pixel_value(max_pixel_value: object) -> float:
    """``max_pixel_value`` as a finite float > 0.

    Raises:
        ValueError: not a number, or not finite and > 0.
    """
    value = as_float(max_pixel_value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(
            f"max_pixel_value must be a finite number > 0, got {max_pixel_value!r}. Leave it as "
            "None to follow the dtype (255 for uint8, 65535 for uint16, 1.0 for floats)."
        )
    return value


def check_channel_order(order: object, name: str = "channel_order") -> str:
    """``order`` if it is "RGB" or "BGR".

    Raises:
        ValueError: anything else.
    """
    if order not in CHANNEL_ORDERS:
        raise ValueError(f"{name} must be 'RGB' or 'BGR', got {order!r}.")
    return str(order)


def check_channel_count(
    count: int,
    channels: int,
    shape: tuple[int, ...],
    origin: str = "mean/std",
    fix: str | None = None,
) -> None:
    """Raise unless ``count`` per-channel values fit an image of ``channels`` channels.

    Args:
        count: how many per-channel values there are.
        channels: the image's channel count.
        shape: the image's shape, for the message.
        origin: what holds the values, for the message ("mean", "preset 'imagenet'", ...).
        fix: how to fix it; default: pass values of the right length.
    Raises:
        ValueError: count is neither 1 nor ``channels``.
    """
    if count in (1, channels):
        return
    plural = "s" if channels != 1 else ""
    if fix is None:
        fix = f"Pass {origin} with {channels} value{plural}, or one value for all channels."
    raise ValueError(
        f"{origin} has {count} channel values but the image has {channels} channel{plural} "
        f"(shape {shape}). {fix}"
    )


def check_percentile(q: object) -> float:
    """One percentile as a float in [0, 100].

    Raises:
        ValueError: not a number in [0, 100].
    """
    value = as_float(q)
    if not 0 <= value <= 100:
        raise ValueError(f"percentiles must be in [0, 100], got {q!r}.")
    return value


def check_percentiles(percentiles: object, name: str = "percentiles") -> tuple[float, float]:
    """``(low, high)`` with 0 <= low < high <= 100.

    Raises:
        ValueError: not two numbers in that order and range.
    """
    values = channel_values(percentiles, name)
    if len(values) != 2 or not 0 <= values[0] < values[1] <= 100:
        raise ValueError(
            f"{name} must be (low, high) with 0 <= low < high <= 100, got {percentiles!r}."
        )
    return values[0], values[1]


def check_range(clip_range: object, name: str = "clip_range") -> tuple[float, float]:
    """``(low, high)``: finite numbers with low < high.

    Raises:
        ValueError: not two finite numbers with low < high.
    """
    values = channel_values(clip_range, name)
    if len(values) != 2 or not all(math.isfinite(v) for v in values) or not values[0] < values[1]:
        raise ValueError(f"{name} must be (low, high) with finite low < high, got {clip_range!r}.")
    return values[0], values[1]


def check_mask(mask: object, shape: tuple[int, ...], name: str = "mask") -> np.ndarray:
    """A statistics mask as a boolean (H, W) array (nonzero = the pixel counts).

    Args:
        mask: array of shape (H, W) or (H, W, 1), any real or bool dtype; shape[:2] of the image.
        shape: the image's shape.
    Raises:
        TypeError: not a numpy array, or not a real/bool dtype.
        ValueError: a shape other than the image's (H, W); NaN in a float mask.
    """
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"{name} must be a numpy array of shape (H, W), got {type(mask).__name__}.")
    if mask.ndim == 3 and mask.shape[2] == 1:
        mask = mask[..., 0]
    if mask.shape != tuple(shape[:2]):
        raise ValueError(
            f"{name} has shape {mask.shape} but the image has shape {tuple(shape)}: a statistics "
            "mask is (H, W), moved with the image by the same crops, pads and flips (pass it as "
            "a mask target of the same call)."
        )
    check_mask_kind(mask.dtype.kind, mask.dtype, name)
    if mask.dtype.kind == "f" and np.isnan(mask).any():
        raise ValueError(mask_nan_message(name))
    return mask != 0 if mask.dtype != bool else np.ascontiguousarray(mask)


def check_mask_kind(kind: str, dtype: object, name: str = "mask") -> None:
    """A mask holds booleans or real numbers (numpy kind b, i, u or f): one rule for the numpy
    core and the torch module.

    Raises:
        TypeError: any other kind (complex, strings, objects).
    """
    if kind not in "biuf":
        raise TypeError(f"{name} must hold booleans or real numbers, got dtype {dtype}.")


def mask_nan_message(name: str = "mask") -> str:
    """The one message for NaN in a float mask."""
    return f"{name} holds NaN; use 0 for pixels to leave out, nonzero to keep."


def check_outside(outside: object, fill: object) -> tuple[str, float]:
    """``outside`` ("normalize" or "fill") and a finite ``fill`` within float32's range.

    Raises:
        ValueError: anything else.
    """
    if outside not in OUTSIDE:
        raise ValueError(f"outside must be 'normalize' or 'fill', got {outside!r}.")
    value = as_float(fill)
    if not (math.isfinite(value) and abs(value) <= float(np.finfo(np.float32).max)):
        raise ValueError(f"fill must be a finite number within float32's range, got {fill!r}.")
    return str(outside), value


def check_ignore_value(ignore_value: object) -> tuple[float, ...] | None:
    """None, or the nodata value(s) as a tuple of floats (one, or one per channel).

    Raises:
        ValueError: not a number or an ordered list of finite numbers.
    """
    if ignore_value is None:
        return None
    values = channel_values(ignore_value, "ignore_value")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"ignore_value must be finite numbers, got {values}.")
    return values


@dataclass(frozen=True)
class Masking:
    """What is left out of the statistics, and what becomes of it: checked once, when made.

    Attributes:
        masked: a statistics mask ((H, W), nonzero = the pixel counts) comes with each call.
        ignore_value: nodata in raw input units (one number, or one per channel): pixels whose
            every channel equals it are left out; or None.
        outside: "normalize" (left-out pixels get the same affine, TorchIO's choice) or "fill"
            (they become ``fill``, nnU-Net's).
        fill: the value of left-out pixels with ``outside="fill"``, and of every pixel when no
            pixel is kept, in output units.
    Raises:
        ValueError: as :func:`check_outside` and :func:`check_ignore_value`; ``outside="fill"``
            with nothing left out.
    """

    masked: bool = False
    ignore_value: Any = None  # a number or a sequence; stored as a tuple of floats or None
    outside: str = "normalize"
    fill: float = 0.0

    def __post_init__(self) -> None:
        outside, fill = check_outside(self.outside, self.fill)
        object.__setattr__(self, "fill", fill)
        object.__setattr__(self, "ignore_value", check_ignore_value(self.ignore_value))
        if outside == "fill" and not self.leaves_out:
            raise ValueError(
                "outside='fill' fills the pixels a mask (mask_key) or ignore_value leaves out, "
                "and neither is given: nothing would be filled."
            )

    @property
    def leaves_out(self) -> bool:
        """True when a mask or ignore_value leaves pixels out."""
        return self.masked or self.ignore_value is not None

    def check_for(self, mode: Mode) -> Masking:
        """Refuse a masking that would change nothing for ``mode``'s row.

        Raises:
            ValueError: pixels left out with fixed statistics and ``outside="normalize"``.
        """
        if self.leaves_out and self.outside == "normalize" and not mode.per_image:
            raise ValueError(
                "a mask (mask_key) and ignore_value choose the pixels to leave out of per-image "
                "statistics; with fixed statistics they would change nothing. Pass "
                "outside='fill' to set those pixels to fill, or use a per-image normalization."
            )
        return self

    def check_presence(self, given: bool, how: str = "pass the mask with each call") -> None:
        """One rule for both backends: a mask comes with each call exactly when ``masked``.

        Args:
            given: whether the call brought a mask.
            how: how to pass one in this backend, for the message.
        Raises:
            ValueError: a mask missing with ``masked``, or given without it.
        """
        if self.masked and not given:
            raise ValueError(
                "this normalization takes its statistics over a mask (mask_key / masked=True): "
                f"{how}."
            )
        if given and not self.masked:
            raise ValueError(
                "a mask was given, but this normalization was built without one (no mask_key / "
                "masked=False): pass mask_key=... (masked=True for albu_norm.torch), or drop "
                "the mask."
            )

    def check_ignore_value_fits(self, channels: int, shape: tuple[int, ...]) -> None:
        """ignore_value has one value, or one per channel (both backends).

        Raises:
            ValueError: another count.
        """
        if self.ignore_value is not None:
            check_channel_count(
                len(self.ignore_value),
                channels,
                shape,
                origin="ignore_value",
                fix="Give one value, or one per channel.",
            )


#: Nothing left out.
NO_MASKING = Masking()


def raise_not_finite(img: np.ndarray, what: str) -> None:
    """The one message for NaN/Inf in an image whose statistics are needed.

    Raises:
        ValueError: always.
    """
    raise ValueError(
        f"img contains NaN or Inf (shape {img.shape}, dtype {img.dtype}); the statistics of "
        f"{what} would be NaN. Clean the image first, e.g. np.nan_to_num(img), or use fixed "
        "statistics (normalization='standard')."
    )
