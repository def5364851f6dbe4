""":func:`split_pipeline`: an Albumentations pipeline ending in ``albu_norm.Normalize`` split
into the same pipeline emitting uint8 (for the DataLoader's workers) and the normalization as a
device module (for the training loop)."""

from __future__ import annotations

import copy
from typing import Any

import torch

from albu_norm.torch.normalize import Normalize

__all__ = ["split_pipeline"]


def split_pipeline(pipeline: Any, *, dtype: torch.dtype = torch.float32) -> tuple[Any, Normalize]:
    """Split ``A.Compose([..., AN.Normalize(...)[, ToTensorV2()]])`` into the pipeline without
    its Normalize and the :class:`Normalize` module of the same spec.

    The split pipeline gives the images the Normalize received (uint8 for uint8 input), with
    ``ToTensorV2`` kept when it was there; its output batched by a DataLoader and passed through
    the module equals the original pipeline's output (per-image modes included: Normalize was
    the last pixel transform, so its statistics are those of the final crop either way).

    Layout of the module: "NCHW" when the pipeline ends in ``ToTensorV2`` (the collate of CHW
    tensors), "NHWC" otherwise (the collate of HWC arrays). Its output is (N, C, H, W).

    The user's pipeline is not modified: the returned one is a deep copy (with its own random
    state, the same configuration: bbox/keypoint params, additional targets, seed, ...).

    Args:
        pipeline: an ``albumentations.Compose`` whose top-level transforms end in one
            ``albu_norm.Normalize`` with ``p=1``, optionally followed by ``ToTensorV2``.
        dtype: the module's output dtype (torch.float32, torch.float16 or torch.bfloat16).
    Returns:
        ``(cpu_pipeline, module)``.
    Raises:
        TypeError: pipeline is not an ``A.Compose``.
        ValueError: a Compose with ``p < 1``; no ``albu_norm.Normalize``; Normalize inside
            OneOf/SomeOf/Sequential/another wrapper, followed by a transform other than
            ``ToTensorV2``, with ``p < 1``, or more than one Normalize;
            ``albumentations.Normalize`` in its place. Each message says why.
    Example:
        >>> import albumentations as A
        >>> import albu_norm as AN
        >>> import albu_norm.torch as ANT
        >>> from albumentations.pytorch import ToTensorV2
        >>> train = A.Compose([A.HorizontalFlip(), AN.Normalize(preset="clip"), ToTensorV2()])
        >>> cpu_pipeline, norm = ANT.split_pipeline(train)
        >>> [type(t).__name__ for t in cpu_pipeline], norm.layout
        (['HorizontalFlip', 'ToTensorV2'], 'NCHW')
    """
    import albumentations as A

    from albu_norm.transforms import Denormalize as CPUDenormalize
    from albu_norm.transforms import Normalize as CPUNormalize

    def is_normalize(transform: Any) -> bool:
        return isinstance(transform, CPUNormalize) and not isinstance(transform, CPUDenormalize)

    if not isinstance(pipeline, A.Compose):
        raise TypeError(
            f"split_pipeline takes an albumentations.Compose, got {type(pipeline).__name__}."
        )
    if pipeline.p < 1:
        raise ValueError(
            f"the Compose has p={pipeline.p}: it skips Normalize (and everything else) at "
            "random, while a device module would normalize every batch. Use p=1."
        )
    transforms = list(pipeline.transforms)
    found = list(_find(transforms, is_normalize, "pipeline"))
    if not found:
        albumentations_normalize = [
            name for name, t in _find(transforms, _is_albumentations_normalize, "pipeline")
        ]
        if albumentations_normalize:
            raise ValueError(
                f"{albumentations_normalize[0]} is albumentations.Normalize: replace it by "
                "albu_norm.Normalize (the same arguments; it follows the dtype for "
                "max_pixel_value), whose spec the device module takes."
            )
        raise ValueError(
            "the pipeline has no albu_norm.Normalize: there is nothing to move to the device."
        )
    if len(found) > 1:
        names = ", ".join(name for name, _ in found)
        raise ValueError(
            f"the pipeline has {len(found)} albu_norm.Normalize ({names}); one device module "
            "can replace one Normalize. Keep a single Normalize, last."
        )
    name, normalize = found[0]
    if not any(t is normalize for t in transforms):
        raise ValueError(
            f"Normalize is inside a {_wrapper_name(transforms, name)} ({name}): it is applied "
            "only when the wrapper applies it, while a device module would normalize every "
            "batch. Put Normalize at the top level of the Compose, last."
        )
    index = next(i for i, t in enumerate(transforms) if t is normalize)
    after = transforms[index + 1 :]
    others = [t for t in after if not _is_to_tensor(t)]
    if others or len(after) > 1:
        following = ", ".join(type(t).__name__ for t in after)
        raise ValueError(
            f"Normalize is followed by {following}: it must be the last pixel transform (only "
            "ToTensorV2 may follow), since moving it after other transforms would change "
            "what they compute. Move Normalize to the end of the pipeline."
        )
    if normalize.p < 1:
        raise ValueError(
            f"Normalize has p={normalize.p}: it normalizes only some images, while a device "
            "module would normalize every batch. Use p=1."
        )
    cpu_pipeline = _without(copy.deepcopy(pipeline), index)
    layout = "NCHW" if after else "NHWC"
    return cpu_pipeline, Normalize.from_spec(normalize.spec, layout=layout, dtype=dtype)


def _without(pipeline: Any, index: int) -> Any:
    """``pipeline`` (a copy of the user's) without its transform at ``index``."""
    kept = [t for i, t in enumerate(pipeline.transforms) if i != index]
    rebuild = getattr(pipeline, "_create_new_instance", None)
    if rebuild is not None:
        # AlbumentationsX compiles a Compose's children when it is built: rebuild it with the
        # same configuration and random state (what its `compose - Transform` does)
        return rebuild(kept)
    pipeline.transforms = kept  # albumentations 2.0.x reads the list at every call
    return pipeline


def _find(transforms: list[Any], predicate: Any, prefix: str) -> Any:
    """(path, transform) of every transform matching predicate, wrappers searched too."""
    for index, transform in enumerate(transforms):
        path = f"{prefix}.transforms[{index}]" if prefix == "pipeline" else f"{prefix}[{index}]"
        if predicate(transform):
            yield path, transform
        children = getattr(transform, "transforms", None)
        if isinstance(children, (list, tuple)):
            yield from _find(list(children), predicate, f"{path}.transforms")


def _wrapper_name(transforms: list[Any], path: str) -> str:
    """The class name of the top-level wrapper that holds the transform at ``path``."""
    top = int(path.split("[", 1)[1].split("]", 1)[0])
    return type(transforms[top]).__name__


def _is_to_tensor(transform: Any) -> bool:
    return type(transform).__name__ == "ToTensorV2" and type(transform).__module__.startswith(
        "albumentations"
    )


def _is_albumentations_normalize(transform: Any) -> bool:
    cls = type(transform)
    return cls.__name__ == "Normalize" and cls.__module__.startswith("albumentations")
