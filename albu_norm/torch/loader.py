""":class:`DeviceLoader`: batches of any loader moved to a device and normalized there."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Callable, Optional, Union, cast

import torch

__all__ = ["DeviceLoader"]

_IMAGE_KEYS = ("image", "images")


class DeviceLoader:
    """Wrap an iterable of batches: every tensor moved to ``device``, the images normalized
    there by ``normalize`` (e.g. an ``albu_norm.torch.Normalize``).

    A batch is a tensor (the images), a tuple or list whose first element is the images, or a
    dict whose key "image" or "images" holds them; every tensor in it (nested lists, tuples and
    dicts too) is moved, anything else passes through, and the batch keeps its type.

    On CUDA, as timm's ``PrefetchLoader`` (``timm/data/loader.py``): the next batch is copied
    (``non_blocking=True`` from pinned memory: tensors the DataLoader did not pin are pinned
    here) and normalized on a side ``torch.cuda.Stream`` while the current one is used; the
    default stream waits for the side stream (``wait_stream``) before a batch is handed out,
    and every tensor made on the side stream is marked as used by the default stream
    (``record_stream``), so that the caching allocator does not reuse its memory early. On
    other devices: plain ``.to(device)``, in order.

    Args:
        loader: any iterable of batches, e.g. a ``torch.utils.data.DataLoader`` (create it with
            ``pin_memory=True`` on CUDA: pinning then happens in its background thread).
        device: where the batches go, e.g. "cuda", "cuda:1", "cpu".
        normalize: applied to the images on the device; an ``nn.Module`` is moved to
            ``device`` once (``.to(device)``, in place). None: the images are only moved.
        mask_key: where a masked ``normalize`` (its spec has ``masked=True``: per-image
            statistics over a mask) finds each batch's (N, H, W) statistics masks: a key of a
            dict batch, or an index of a tuple/list batch. None: the module's ``mask_key``
            (``ANT.Normalize.from_transform`` copies the CPU transform's, e.g. "valid"), else
            "mask"; a tuple batch needs the index. The masks are moved to ``device`` and passed
            as ``normalize(images, mask=masks)``; they stay in the batch.
    Raises:
        ValueError: a CUDA device without CUDA available; a masked ``normalize`` whose masks
            are not in a batch (when iterated), or mask_key given for an unmasked one.
        TypeError: (when iterated) a batch of another kind, or images that are not a tensor.
    Example:
        >>> import torch
        >>> import albu_norm.torch as ANT
        >>> batches = [(torch.zeros(2, 3, 4, 4, dtype=torch.uint8), torch.tensor([0, 1]))]
        >>> loader = ANT.DeviceLoader(batches, device="cpu", normalize=ANT.Normalize())
        >>> images, targets = next(iter(loader))
        >>> images.dtype, len(loader)
        (torch.float32, 1)
    """

    def __init__(
        self,
        loader: Iterable[Any],
        device: Union[str, torch.device] = "cuda",
        normalize: Optional[Callable[..., torch.Tensor]] = None,
        mask_key: Union[str, int, None] = None,
    ) -> None:
        self.loader = loader
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"device {str(self.device)!r}: CUDA is not available here "
                "(torch.cuda.is_available() is False). Pass device='cpu' (or another device)."
            )
        if isinstance(normalize, torch.nn.Module):
            normalize = normalize.to(self.device)
        self.normalize = normalize
        spec = getattr(normalize, "spec", None)
        self.masked = bool(spec is not None and spec.masking.masked)
        if mask_key is not None and not self.masked:
            raise ValueError(
                f"mask_key={mask_key!r} names the statistics masks of a masked normalization, "
                "but normalize takes none (its spec has masked=False): drop mask_key, or build "
                "the module with masked=True (or from a transform with mask_key)."
            )
        self.mask_key = mask_key if mask_key is not None else getattr(normalize, "mask_key", None)

    def __len__(self) -> int:
        return len(self.loader)  # type: ignore[arg-type]

    @property
    def dataset(self) -> Any:
        """The wrapped loader's dataset."""
        return self.loader.dataset  # type: ignore[attr-defined]

    @property
    def sampler(self) -> Any:
        """The wrapped loader's sampler (``loader.sampler.set_epoch(epoch)`` under DDP)."""
        return self.loader.sampler  # type: ignore[attr-defined]

    def __iter__(self) -> Iterator[Any]:
        if self.device.type == "cuda":
            return self._iter_streamed(torch.cuda)  # pragma: no cover - needs a GPU
        return (self._prepare(batch, non_blocking=False) for batch in self.loader)

    def _iter_streamed(self, streams: Any) -> Iterator[Any]:
        """Prefetch on a side stream of ``streams`` (``torch.cuda``): batch k + 1 is copied and
        normalized while batch k is in use."""
        side = streams.Stream(device=self.device)
        current = streams.current_stream(self.device)
        ready: Any = None
        first = True
        for batch in self.loader:
            with streams.stream(side):
                upcoming = self._prepare(_map(batch, _pin), non_blocking=True)
            if not first:
                yield ready
            first = False
            # the consumer's stream waits for the copies and the normalization of `upcoming`,
            # and the allocator keeps their memory until the consumer's stream is done with it
            current.wait_stream(side)
            for tensor in _tensors(upcoming):
                tensor.record_stream(current)
            ready = upcoming
        if not first:
            yield ready

    def _prepare(self, batch: Any, *, non_blocking: bool) -> Any:
        images, rebuild = _split(batch)
        images = images.to(self.device, non_blocking=non_blocking)
        rest = _map(rebuild.rest, lambda t: t.to(self.device, non_blocking=non_blocking))
        if self.masked:
            images = self.normalize(images, mask=self._masks(batch, rest))  # type: ignore[misc]
        elif self.normalize is not None:
            images = self.normalize(images)
        return rebuild(images, rest)

    def _masks(self, batch: Any, rest: Any) -> torch.Tensor:
        """The batch's statistics masks (already on the device): see ``mask_key``."""
        key = self.mask_key
        if isinstance(batch, Mapping):
            key = "mask" if key is None else key
            found = rest.get(key) if isinstance(key, str) else None
        elif isinstance(batch, (tuple, list)) and isinstance(key, int):
            index = key if key >= 0 else len(batch) + key  # -1: the last item
            # rest is the batch without its first element, the images
            found = rest[index - 1] if 0 < index < len(batch) else None
        else:
            found = None
        if not isinstance(found, torch.Tensor):
            keys = list(batch) if isinstance(batch, Mapping) else f"{len(batch)} items"
            raise ValueError(
                f"the normalization is masked (per-image statistics over each batch's (N, H, "
                f"W) masks), but the batch has no mask tensor at mask_key={key!r} (batch: "
                f"{keys}). Collate the masks moved with the images into the batch (a dict "
                "batch's 'mask' key, or pass DeviceLoader(..., mask_key=...): a key, or the "
                "index in a tuple batch)."
            )
        return found


class _Rebuild:
    """How to put a batch back together after its images were replaced."""

    def __init__(self, kind: str, batch: Any, key: Any = None) -> None:
        self.kind, self.batch, self.key = kind, batch, key
        if kind == "tensor":
            self.rest: Any = None
        elif kind == "sequence":
            self.rest = list(batch[1:])
        else:
            self.rest = {k: v for k, v in batch.items() if k != key}

    def __call__(self, images: torch.Tensor, rest: Any) -> Any:
        if self.kind == "tensor":
            return images
        if self.kind == "sequence":
            items = [images, *rest]
            if isinstance(self.batch, list):
                return items
            if hasattr(self.batch, "_fields"):  # a namedtuple
                return type(self.batch)(*items)
            return tuple(items)
        merged = {k: images if k == self.key else rest[k] for k in self.batch}
        return merged if type(self.batch) is dict else _same_mapping(self.batch, merged)


def _split(batch: Any) -> tuple[torch.Tensor, _Rebuild]:
    if isinstance(batch, torch.Tensor):
        return batch, _Rebuild("tensor", batch)
    if isinstance(batch, (tuple, list)) and batch:
        rebuild = _Rebuild("sequence", batch)
        images = batch[0]
    elif isinstance(batch, Mapping):
        keys = [k for k in _IMAGE_KEYS if k in batch]
        if len(keys) != 1:
            raise TypeError(
                "a dict batch needs exactly one of the keys 'image' and 'images' (the images "
                f"to normalize), got keys {sorted(map(str, batch))}."
            )
        rebuild = _Rebuild("mapping", batch, keys[0])
        images = batch[keys[0]]
    else:
        raise TypeError(
            "DeviceLoader takes batches that are a tensor, a tuple/list with the images first, "
            f"or a dict with 'image' or 'images'; got {type(batch).__name__}."
        )
    if not isinstance(images, torch.Tensor):
        raise TypeError(
            f"the batch's images must be a torch.Tensor, got {type(images).__name__}. Collate "
            "them into one tensor (torch's default_collate does, for equal-sized images)."
        )
    return images, rebuild


def _map(value: Any, function: Callable[[torch.Tensor], torch.Tensor]) -> Any:
    """``value`` with ``function`` applied to every tensor in it (nested lists, tuples, dicts);
    containers keep their type, anything else passes through."""
    if isinstance(value, torch.Tensor):
        return function(value)
    if isinstance(value, Mapping):
        items = {k: _map(v, function) for k, v in value.items()}
        return items if type(value) is dict else _same_mapping(value, items)
    if isinstance(value, (list, tuple)):
        mapped = [_map(v, function) for v in value]
        if isinstance(value, list):
            return mapped
        return type(value)(*mapped) if hasattr(value, "_fields") else tuple(mapped)
    return value


def _same_mapping(original: Mapping[Any, Any], items: dict[Any, Any]) -> Any:
    try:
        return cast(Any, type(original))(items)
    except TypeError:  # a mapping type that cannot be built from a dict
        return items


def _pin(tensor: torch.Tensor) -> torch.Tensor:  # pragma: no cover - needs a GPU
    return tensor if tensor.device.type != "cpu" or tensor.is_pinned() else tensor.pin_memory()


def _tensors(value: Any) -> Iterator[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _tensors(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item)
