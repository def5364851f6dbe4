"""The preset registry: named normalization constants with their source.

A :class:`Preset` is a frozen record: per-channel ``mean`` and ``std`` in units of
``max_pixel_value`` (the 0-1 scale: a uint8 value of 255 is 1.0), the channel order the model
was trained with, and where the numbers come from. Built-in presets (values copied exactly from
the defining source; all in RGB order):

* imagenet: mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225);
  dinov2 and convnext use the same numbers.
* inception: mean (0.5, 0.5, 0.5), std (0.5, 0.5, 0.5) (pixels to [-1, 1]);
  vit and siglip use the same numbers.
* clip: mean (0.48145466, 0.4578275, 0.40821073), std (0.26862954, 0.26130258, 0.27577711);
  eva uses the same numbers.
* yolo: mean (0, 0, 0), std (1, 1, 1) (pixels / 255 only).
* dpn: mean (124/255, 117/255, 104/255), std 1/(0.0167*255) for every channel.

Mean subtraction in 0-255 units (``out = img - mean`` on uint8; stored on the 0-1 scale as
``mean / 255`` with std ``1 / 255``), in BGR order; ``Normalize`` fed an RGB image emits BGR
for these (see its ``input_channel_order``):

* caffe: Keras ``mode="caffe"`` (VGG16/19, ResNet50 v1): mean (103.939, 116.779, 123.68), std 1.
* detectron2: mean (103.530, 116.280, 123.675), std 1 (MSRA/Detectron1 caffe models);
  mmdet_caffe: the same numbers, MMDetection's caffe-style backbones.

And in RGB order: ssd_vgg: torchvision's SSD300-VGG16, mean (0.48235, 0.45882, 0.40784) with
std 1/255, i.e. ``img - 255 * mean`` on uint8.

Sources (repository and file):

* imagenet: huggingface/pytorch-image-models ``timm/data/constants.py`` (IMAGENET_DEFAULT_MEAN,
  IMAGENET_DEFAULT_STD), the statistics of the torchvision ImageNet models.
* inception: ``timm/data/constants.py`` (IMAGENET_INCEPTION_MEAN, IMAGENET_INCEPTION_STD): maps
  [0, 1] to [-1, 1] as the TF-slim Inception models do.
* clip: openai/CLIP ``clip/clip.py`` (``_transform``); mlfoundations/open_clip
  ``src/open_clip/constants.py`` (OPENAI_DATASET_MEAN, OPENAI_DATASET_STD).
* yolo: ultralytics/ultralytics ``ultralytics/engine/predictor.py`` (``BasePredictor.preprocess``
  divides by 255 and subtracts nothing).
* dpn: ``timm/data/constants.py`` (IMAGENET_DPN_MEAN, IMAGENET_DPN_STD).
* vit: Google's ViT/AugReg checkpoints, ``timm/models/vision_transformer.py`` (their pretrained
  configs use IMAGENET_INCEPTION_MEAN/STD); huggingface ``google/vit-base-patch16-224``
  ``preprocessor_config.json`` (image_mean = image_std = 0.5).
* siglip: huggingface/transformers ``src/transformers/models/siglip/image_processing_siglip.py``
  (IMAGENET_STANDARD_MEAN/STD = 0.5); google-research/big_vision maps pixels to [-1, 1].
* dinov2: facebookresearch/dinov2 ``dinov2/data/transforms.py`` (IMAGENET_DEFAULT_MEAN/STD).
* convnext: ``timm/models/convnext.py`` (``_cfg``: IMAGENET_DEFAULT_MEAN/STD), as in
  facebookresearch/ConvNeXt.
* eva: ``timm/models/eva.py`` (``_cfg``: OPENAI_CLIP_MEAN/STD), EVA and EVA-02.
* caffe: keras-team/keras ``keras/src/applications/imagenet_utils.py``
  (``_preprocess_numpy_input``, mode "caffe": RGB to BGR, then subtract the ImageNet mean).
* detectron2: facebookresearch/detectron2 ``detectron2/config/defaults.py``
  (``_C.MODEL.PIXEL_MEAN``, ``_C.MODEL.PIXEL_STD``; BGR since ``INPUT.FORMAT`` is BGR).
* mmdet_caffe: open-mmlab/mmdetection ``configs/rpn/rpn_r50_caffe_fpn_1x_coco.py`` (mean, std
  and ``to_rgb=False``).
* ssd_vgg: pytorch/vision ``torchvision/models/detection/ssd.py`` (``ssd300_vgg16``:
  ``image_mean``, ``image_std``).
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from albu_norm._checks import (
    CHANNEL_ORDERS,
    check_channel_order,
    check_max_pixel_value,
    check_mean_std,
)

__all__ = [
    "CHANNEL_ORDERS",
    "Preset",
    "get_preset",
    "list_presets",
    "register_preset",
    "unregister_preset",
]


@dataclass(frozen=True)
class Preset:
    """A named set of normalization constants.

    Attributes:
        name: registry key, e.g. "imagenet".
        mean: per-channel means in units of max_pixel_value (0-1 scale), as a tuple of floats.
        std: per-channel standard deviations in the same units, each > 0 (a single mean or
            std value is repeated to the other's length).
        channel_order: "RGB" or "BGR": the order of ``mean``/``std`` and of the model's input.
        source: where the numbers come from (repository and file, or paper).
        max_pixel_value: the pixel value that ``mean``/``std`` call 1.0, when it is not the
            dtype's default (e.g. 4095 for 12-bit data stored as uint16); None follows the dtype.
    """

    name: str
    mean: tuple[float, ...]
    std: tuple[float, ...]
    channel_order: str = "RGB"
    source: str = ""
    max_pixel_value: float | None = None

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ValueError(f"a preset needs a non-empty string name, got {self.name!r}.")
        try:
            mean, std = check_mean_std(self.mean, self.std)
            check_channel_order(self.channel_order)
            if self.max_pixel_value is not None:
                object.__setattr__(
                    self, "max_pixel_value", check_max_pixel_value(self.max_pixel_value)
                )
        except ValueError as error:
            raise ValueError(f"preset {self.name!r}: {error}") from None
        channels = max(len(mean), len(std))
        object.__setattr__(self, "mean", mean * (channels // len(mean)))
        object.__setattr__(self, "std", std * (channels // len(std)))


_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_INCEPTION_MEAN = (0.5, 0.5, 0.5)
_INCEPTION_STD = (0.5, 0.5, 0.5)
_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
_TIMM = "huggingface/pytorch-image-models timm/data/constants.py"
# Constants published in 0-255 units, stored on the 0-1 scale like every preset: on uint8 the
# result is exactly ``img - mean_255`` (up to float64 rounding, far below float32's).
_PER_255_UNIT = (1 / 255, 1 / 255, 1 / 255)


def _per_255(*values: float) -> tuple[float, ...]:
    return tuple(v / 255 for v in values)


_BUILTIN = (
    Preset(
        "imagenet", _IMAGENET_MEAN, _IMAGENET_STD, source=f"{_TIMM} (IMAGENET_DEFAULT_MEAN/STD)"
    ),
    Preset(
        "inception",
        _INCEPTION_MEAN,
        _INCEPTION_STD,
        source=f"{_TIMM} (IMAGENET_INCEPTION_MEAN/STD)",
    ),
    Preset(
        "clip",
        _CLIP_MEAN,
        _CLIP_STD,
        source="openai/CLIP clip/clip.py (_transform); mlfoundations/open_clip "
        "src/open_clip/constants.py (OPENAI_DATASET_MEAN/STD)",
    ),
    Preset(
        "yolo",
        (0.0, 0.0, 0.0),
        (1.0, 1.0, 1.0),
        source="ultralytics/ultralytics ultralytics/engine/predictor.py "
        "(BasePredictor.preprocess: im /= 255)",
    ),
    Preset(
        "dpn",
        (124 / 255, 117 / 255, 104 / 255),
        tuple([1 / (0.0167 * 255)] * 3),
        source=f"{_TIMM} (IMAGENET_DPN_MEAN/STD)",
    ),
    Preset(
        "vit",
        _INCEPTION_MEAN,
        _INCEPTION_STD,
        source="huggingface/pytorch-image-models timm/models/vision_transformer.py (Google ViT/"
        "AugReg configs: IMAGENET_INCEPTION_MEAN/STD); google/vit-base-patch16-224 "
        "preprocessor_config.json",
    ),
    Preset(
        "siglip",
        _INCEPTION_MEAN,
        _INCEPTION_STD,
        source="huggingface/transformers src/transformers/models/siglip/image_processing_siglip.py "
        "(IMAGENET_STANDARD_MEAN/STD)",
    ),
    Preset(
        "dinov2",
        _IMAGENET_MEAN,
        _IMAGENET_STD,
        source="facebookresearch/dinov2 dinov2/data/transforms.py (IMAGENET_DEFAULT_MEAN/STD)",
    ),
    Preset(
        "convnext",
        _IMAGENET_MEAN,
        _IMAGENET_STD,
        source="huggingface/pytorch-image-models timm/models/convnext.py (_cfg: "
        "IMAGENET_DEFAULT_MEAN/STD)",
    ),
    Preset(
        "eva",
        _CLIP_MEAN,
        _CLIP_STD,
        source="huggingface/pytorch-image-models timm/models/eva.py (_cfg: OPENAI_CLIP_MEAN/STD)",
    ),
    Preset(
        "caffe",
        _per_255(103.939, 116.779, 123.68),
        _PER_255_UNIT,
        channel_order="BGR",
        source="keras-team/keras keras/src/applications/imagenet_utils.py "
        "(_preprocess_numpy_input, mode='caffe')",
    ),
    Preset(
        "detectron2",
        _per_255(103.530, 116.280, 123.675),
        _PER_255_UNIT,
        channel_order="BGR",
        source="facebookresearch/detectron2 detectron2/config/defaults.py "
        "(_C.MODEL.PIXEL_MEAN, _C.MODEL.PIXEL_STD)",
    ),
    Preset(
        "mmdet_caffe",
        _per_255(103.530, 116.280, 123.675),
        _PER_255_UNIT,
        channel_order="BGR",
        source="open-mmlab/mmdetection configs/rpn/rpn_r50_caffe_fpn_1x_coco.py "
        "(mean, std, to_rgb=False)",
    ),
    Preset(
        "ssd_vgg",
        (0.48235, 0.45882, 0.40784),
        _PER_255_UNIT,
        source="pytorch/vision torchvision/models/detection/ssd.py (ssd300_vgg16: image_mean, "
        "image_std)",
    ),
)

BUILTIN_PRESETS: frozenset[str] = frozenset(p.name for p in _BUILTIN)
_BUILTIN_BY_LOWER = {name.lower(): name for name in BUILTIN_PRESETS}
_registry: dict[str, Preset] = {p.name: p for p in _BUILTIN}
_lock = threading.Lock()


def list_presets() -> list[str]:
    """Names of every registered preset (built-in and user-registered), sorted."""
    return sorted(_registry)


def get_preset(name: str) -> Preset:
    """Return the preset registered under ``name``.

    Raises:
        TypeError: name is not a string.
        ValueError: no preset has that name; the message lists close matches and all names.
    """
    if not isinstance(name, str):
        raise TypeError(f"preset name must be a string, got {type(name).__name__}.")
    try:
        return _registry[name]
    except KeyError:
        raise ValueError(_unknown_message(name)) from None


def _unknown_message(name: str) -> str:
    close = difflib.get_close_matches(name.lower(), list(_registry), n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return (
        f"unknown preset {name!r}.{hint} Known presets: {', '.join(list_presets())}. "
        "Register your own with albu_norm.register_preset(name, mean=..., std=...)."
    )


def register_preset(
    name: str,
    mean: Sequence[float],
    std: Sequence[float],
    *,
    channel_order: str = "RGB",
    source: str = "user",
    max_pixel_value: float | None = None,
    overwrite: bool = False,
) -> Preset:
    """Register a preset under ``name`` and return it.

    Args:
        name: registry key. Built-in names cannot be replaced.
        mean: per-channel means in units of max_pixel_value (0-1 scale).
        std: per-channel standard deviations in the same units, each finite and > 0.
        channel_order: "RGB" (default) or "BGR".
        source: where the numbers come from; shown in docs and reprs.
        max_pixel_value: the pixel value mean/std call 1.0 when not the dtype's default.
        overwrite: replace an earlier user preset of the same name.
    Raises:
        ValueError: invalid values (see :class:`Preset`); the name is built in; the name is taken
            and overwrite is False.

    A saved pipeline stores the preset *name*: a process that loads it must register the preset
    again (with the same values) before loading.
    """
    preset = Preset(
        name,
        mean,  # type: ignore[arg-type]  # checked (ordered numbers) by Preset
        std,  # type: ignore[arg-type]
        channel_order=channel_order,
        source=source,
        max_pixel_value=max_pixel_value,
    )
    with _lock:
        if name in BUILTIN_PRESETS:
            raise ValueError(
                f"{name!r} is a built-in preset and cannot be replaced; choose another name."
            )
        twin = _BUILTIN_BY_LOWER.get(name.lower())
        if twin is not None:
            raise ValueError(
                f"{name!r} differs from the built-in preset {twin!r} only by case; a second name "
                "for other numbers would be mistaken for it. Choose a distinct name."
            )
        if name in _registry and not overwrite and _registry[name] != preset:
            raise ValueError(
                f"a preset named {name!r} is already registered with other values; pass "
                "overwrite=True to replace it, or choose another name."
            )
        _registry[name] = preset
    return preset


def unregister_preset(name: str) -> None:
    """Remove a user-registered preset. Built-in presets cannot be removed.

    Raises:
        ValueError: the name is built in, or not registered.
    """
    with _lock:
        if name in BUILTIN_PRESETS:
            raise ValueError(f"{name!r} is a built-in preset and cannot be removed.")
        if name not in _registry:
            raise ValueError(_unknown_message(name))
        del _registry[name]
