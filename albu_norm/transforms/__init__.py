"""Albumentations adapters: transform classes that validate their arguments and call the core.

No arithmetic lives here: every formula is in :mod:`albu_norm.functional`,
:mod:`albu_norm.robust` and :mod:`albu_norm.spatial`; every argument resolves through
:mod:`albu_norm.spec` or the core's own checks.

Serialization: Albumentations keys a class by its full dotted path, and a saved pipeline names
``albu_norm.transforms.<Name>`` whatever submodule the class lives in (the shared base pins the
key). A process that loads a saved pipeline must have imported albu_norm (or use
:func:`albu_norm.load`).
"""

from albu_norm.transforms.geometry import ResizeCrop
from albu_norm.transforms.normalize import Denormalize, Normalize
from albu_norm.transforms.pipelines import eval_transforms
from albu_norm.transforms.robust import RobustNormalize
from albu_norm.transforms.spatial import LocalContrastNormalize, PerPixelNormalize

__all__ = [
    "Denormalize",
    "LocalContrastNormalize",
    "Normalize",
    "PerPixelNormalize",
    "ResizeCrop",
    "RobustNormalize",
    "eval_transforms",
]
