"""The mode table: every normalization mode as one row of data, read by every backend.

A mode says how the center ``c`` and the spread ``s`` of ``out = (x - c) / s`` are found:

==============================  ========  ========  ===========  =======  ======  ==========
``normalization``               center    spread    per_channel  floor    divide  source
==============================  ========  ========  ===========  =======  ======  ==========
``standard``                    fixed     fixed     yes          none     no      [1]
``image``                       mean      std       no           none     no      [2]
``image_per_channel``           mean      std       yes          none     no      [2]
``min_max``                     min       range     no           none     yes     [2]
``min_max_per_channel``         min       range     yes          none     yes     [2]
``per_image_standardization``   mean      std       no           tf       no      [3]
==============================  ========  ========  ===========  =======  ======  ==========

* ``center``: ``"fixed"`` (the spec's mean, times max_pixel_value), ``"mean"`` (the mean of the
  values counted), ``"min"`` (their minimum);
* ``spread``: ``"fixed"`` (std times max_pixel_value), ``"std"`` (the population std, ddof=0),
  ``"range"`` (maximum - minimum);
* ``per_channel``: statistics of each channel, or pooled over every value of the image;
* ``floor``: ``"tf"`` is TensorFlow's ``max(s, 1 / sqrt(N))`` with N the number of values the
  spread is taken over (the kept values, with a mask); ``"none"`` leaves the spread as it is;
* ``divide``: evaluate ``(x - c) / s`` (exact 0 and 1 at the ends: the min-max modes) rather than
  ``(x - c) * (1 / s)``.

Every per-image mode maps a uniform image (or channel) to exact zeros: no epsilon.

Sources: [1] torchvision ``transforms.Normalize`` / albumentations ``Normalize`` "standard";
[2] albumentations ``Normalize`` (2.x), ``albucore/functions.py`` ``normalize_per_image``;
[3] ``tf.image.per_image_standardization``, ``tensorflow/python/ops/image_ops_impl.py``.

How a backend reads the table: :func:`get_mode` turns a name into its :class:`Mode` (the only
place a mode name is looked at), and :func:`check_supported` refuses, when a spec or module is
built, a row whose center, spread or floor the backend has no primitive for. Adding a mode is
one :func:`register_mode` call (and its reference formula in ``tests/``): every backend then
computes it from its primitives, or refuses it clearly.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "CENTERS",
    "FIXED",
    "FLOORS",
    "MODES",
    "SPREADS",
    "Mode",
    "check_supported",
    "get_mode",
    "mode_names",
    "per_image_names",
    "register_mode",
    "unregister_mode",
    "z_score",
]

#: The primitives of the numpy core and the torch module (a backend may know fewer).
CENTERS = ("fixed", "mean", "min")
SPREADS = ("fixed", "std", "range")
FLOORS = ("none", "tf")
#: The targets every built-in mode accepts.
ALL_TARGETS = ("image", "images", "volume", "volumes")


@dataclass(frozen=True)
class Mode:
    """One row of the mode table (see the module docstring for the meaning of each field).

    Raises:
        ValueError: an empty name; fixed center without fixed spread (or the reverse);
            ``divide`` with a spread other than ``"range"`` is allowed, so are unknown
            primitives (a backend refuses those at construction, :func:`check_supported`).
    """

    name: str
    center: str
    spread: str
    per_channel: bool
    floor: str = "none"
    divide: bool = False
    targets: tuple[str, ...] = ALL_TARGETS
    source: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"a mode needs a name (a non-empty string), got {self.name!r}.")
        if (self.center == "fixed") != (self.spread == "fixed"):
            raise ValueError(
                f"mode {self.name!r}: center and spread are both 'fixed' (the spec's mean/std) "
                f"or both statistics of the image, got center={self.center!r}, "
                f"spread={self.spread!r}."
            )
        object.__setattr__(self, "targets", tuple(self.targets))

    @property
    def per_image(self) -> bool:
        """True when the statistics come from each image (not from the spec)."""
        return self.center != "fixed"

    @property
    def needs_moments(self) -> bool:
        """True when the mean or the std of the image is needed."""
        return self.center == "mean" or self.spread == "std"

    @property
    def needs_range(self) -> bool:
        """True when the minimum or maximum of the image is needed."""
        return self.center == "min" or self.spread == "range"


_BUILT_IN = (
    Mode("standard", "fixed", "fixed", True, source="torchvision transforms.Normalize"),
    Mode("image", "mean", "std", False, source="albucore normalize_per_image 'image'"),
    Mode(
        "image_per_channel",
        "mean",
        "std",
        True,
        source="albucore normalize_per_image 'image_per_channel'",
    ),
    Mode("min_max", "min", "range", False, divide=True, source="albucore 'min_max'"),
    Mode(
        "min_max_per_channel",
        "min",
        "range",
        True,
        divide=True,
        source="albucore 'min_max_per_channel'",
    ),
    Mode(
        "per_image_standardization",
        "mean",
        "std",
        False,
        floor="tf",
        source="tf.image.per_image_standardization, tensorflow/python/ops/image_ops_impl.py",
    ),
)
BUILT_IN_NAMES = tuple(mode.name for mode in _BUILT_IN)

#: The table: name -> row. Read through :func:`get_mode`; changed only by :func:`register_mode`.
MODES: dict[str, Mode] = {mode.name: mode for mode in _BUILT_IN}
#: The row of fixed statistics (the spec's mean/std).
FIXED = _BUILT_IN[0]


def mode_names() -> tuple[str, ...]:
    """Every value ``normalization`` may take, in table order."""
    return tuple(MODES)


def per_image_names() -> tuple[str, ...]:
    """The modes whose statistics come from each image."""
    return tuple(name for name, mode in MODES.items() if mode.per_image)


def get_mode(normalization: object, *, per_image: bool | None = None) -> Mode:
    """The row of ``normalization``.

    Args:
        normalization: a mode name (or a :class:`Mode`, returned as it is).
        per_image: True: only per-image modes are allowed; False: only fixed ones.
    Raises:
        ValueError: an unknown name (the message lists the modes and close matches), or a mode
            of the wrong kind.
    """
    if isinstance(normalization, Mode):
        mode = normalization
    else:
        found = MODES.get(normalization) if isinstance(normalization, str) else None
        allowed = per_image_names() if per_image else mode_names()
        if found is None or (per_image is not None and found.per_image != per_image):
            close = difflib.get_close_matches(str(normalization), allowed, n=2)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise ValueError(
                f"normalization must be one of {', '.join(repr(m) for m in allowed)}; got "
                f"{normalization!r}.{hint}"
            )
        mode = found
    return mode


def check_supported(
    mode: Mode,
    backend: str,
    *,
    centers: Iterable[str] = CENTERS,
    spreads: Iterable[str] = SPREADS,
    floors: Iterable[str] = FLOORS,
) -> Mode:
    """Refuse a row that ``backend`` has no primitive for (called when a spec or module is built).

    Raises:
        ValueError: the row's center, spread or floor is not among the backend's primitives.
    """
    for field, value, known in (
        ("center", mode.center, tuple(centers)),
        ("spread", mode.spread, tuple(spreads)),
        ("floor", mode.floor, tuple(floors)),
    ):
        if value not in known:
            raise ValueError(
                f"normalization={mode.name!r} needs the {field} {value!r}, which {backend} cannot "
                f"compute (it knows {', '.join(repr(k) for k in known)}). Use another mode, or "
                "add that primitive to the backend."
            )
    return mode


def register_mode(mode: Mode, *, overwrite: bool = False) -> Mode:
    """Add a row to the table (``normalization=mode.name`` then works everywhere it can).

    Raises:
        TypeError: mode is not a :class:`Mode`.
        ValueError: the name is a built-in mode, or taken and ``overwrite`` is False.
    """
    if not isinstance(mode, Mode):
        raise TypeError(f"register_mode takes a Mode, got {type(mode).__name__}.")
    if mode.name in BUILT_IN_NAMES:
        raise ValueError(f"{mode.name!r} is a built-in mode and cannot be replaced.")
    if mode.name in MODES and not overwrite:
        raise ValueError(f"mode {mode.name!r} is registered already; pass overwrite=True.")
    MODES[mode.name] = mode
    return mode


def unregister_mode(name: str) -> None:
    """Remove a registered (not built-in) row.

    Raises:
        ValueError: a built-in or unknown name.
    """
    if name in BUILT_IN_NAMES or name not in MODES:
        raise ValueError(f"{name!r} is not a registered (non-built-in) mode.")
    del MODES[name]


def z_score(per_channel: bool) -> Mode:
    """The row of the plain z-score (``image`` or ``image_per_channel``), for RobustNormalize's
    clipped z-score."""
    return MODES["image_per_channel" if per_channel else "image"]
