"""Conformance (issue 16, item 6): every mode x backend x dtype x image against ONE float64
reference (tests/reference_modes.py, written from the mode table's formulas), under ONE stated
elementwise bound (``reference_modes.conformance_bound``). No backend is ever compared with
another.

Modes: every per-image row of ``albu_norm.modes`` and "standard" with the ImageNet preset
(torchvision's published numbers). Backends: the numpy core (``normalize_per_image`` /
``normalize``, with and without a mask), its batch path (``normalize_images``), the transform
inside ``A.Compose`` (``image=`` and ``images=``, with and without ``mask_key``), the torch
module on the CPU (NCHW, with and without ``masked=True``; uint8 both through its CPU route,
exact histograms and 256-entry tables, and through the route a CUDA batch takes, float64
statistics and affine) and ONNX Runtime (the torch module
exported by ``torch.onnx.export(..., dynamo=True)``, one export per mode and masking, cached;
and the graph ``albu_norm.onnx.prepend_normalization`` builds, for its raw uint8/uint16 input).
dtypes: uint8, uint16, float32, float64 (float images on the 0-1 scale). Images: a photo crop,
a dark image (0..3), a near-uniform image (dtype max with one value one step below), a nearly
flat image (a photo squeezed into a few levels far from 0, where float32 cancellation shows),
an image with one uniform channel; with masks: letterbox bars (a rectangle), a disk on the
photo and on the nearly flat image (no rectangle: the masked reductions), the near-uniform
image with bars (the TF floor's N = kept values), a one-pixel mask, an empty mask (every value
= fill).
The masked backends also get the unmasked images with a full mask.

A registered row is computed to the reference by every backend or refused at construction
with a ValueError naming it; a row with an unknown primitive is refused by every backend.

Run ``python tests/test_conformance.py`` for a table of the worst error per backend and dtype
(as a multiple of the bound, and in float32 ulps).
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, Optional
from unittest import mock

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # also when run as a script

import albumentations as A
import cv2
import numpy as np
import pytest
from reference_modes import conformance_bound, reference, ulps

import albu_norm as AN
import albu_norm.functional as F
from albu_norm.modes import MODES, Mode, per_image_names, register_mode, unregister_mode

# --------------------------------------------------------------------------------------------
# Modes, dtypes, images
# --------------------------------------------------------------------------------------------

#: torchvision's ImageNet statistics (torchvision/transforms docs, references/classification):
#: golden numbers from outside, not read from albu_norm's registry.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
MODE_NAMES = ("standard", *per_image_names())
DTYPES = ("uint8", "uint16", "float32", "float64")
MAX_VALUE = {"uint8": 255.0, "uint16": 65535.0, "float32": 1.0, "float64": 1.0}
#: Every value of an image with no kept pixel, in the masked backends: not 0, so an output
#: that is 0 for another reason (a zero scale) cannot pass for it.
FILL = -1.5
H, W = 24, 32
PHOTOS = Path(__file__).resolve().parent.parent / "examples" / "images"


def _crop(name: str, top: int, left: int) -> np.ndarray:
    bgr = cv2.imread(str(PHOTOS / f"{name}.jpg"), cv2.IMREAD_COLOR)
    assert bgr is not None, f"missing photo {name}"
    return np.ascontiguousarray(
        cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)[top : top + H, left : left + W]
    )


PHOTO = _crop("astronaut", 80, 180)  # face, hair, background: a wide range of values
FLAT_SOURCE = _crop("chelsea", 120, 200)  # fur: a narrow range


def _in_units(u8: np.ndarray, dtype: str) -> np.ndarray:
    """A uint8 photo in ``dtype``'s units (uint16: x 257, the full 16-bit range; floats / 255)."""
    if dtype == "uint8":
        return u8.copy()
    if dtype == "uint16":
        return u8.astype(np.uint16) * np.uint16(257)
    return (u8.astype(np.float64) / 255).astype(dtype)


def _dark(dtype: str) -> np.ndarray:  # the raw values 0..3 (floats: 0..3 / 255)
    levels = PHOTO // 64
    return levels.astype(dtype) if dtype.startswith("uint") else _in_units(levels, dtype)


def _near_uniform(dtype: str) -> np.ndarray:
    """dtype max everywhere, one value one step below (floats: 1 - 2**-24, float32's step)."""
    img = np.full((H, W, 3), MAX_VALUE[dtype], dtype=dtype)
    img[10, 7, 1] = MAX_VALUE[dtype] - 1 if dtype.startswith("uint") else 1 - 2.0**-24
    return img


def _nearly_flat(dtype: str) -> np.ndarray:
    """A photo squeezed into a few levels far from 0: |center| / spread of 40 to 1000."""
    if dtype == "uint8":
        return (FLAT_SOURCE // 64 + 100).astype(np.uint8)
    if dtype == "uint16":
        return (FLAT_SOURCE // 16).astype(np.uint16) + np.uint16(50_000)
    return (FLAT_SOURCE.astype(np.float64) / 255 * 1e-3 + 0.5).astype(dtype)


def _flat_channel(dtype: str) -> np.ndarray:  # the green channel uniform
    img = PHOTO.copy()
    img[..., 1] = 77
    return _in_units(img, dtype)


def _bars(img: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Zero bars of ``rows`` rows at the top and bottom, and the mask of the rest."""
    img = img.copy()
    img[:rows] = 0
    img[-rows:] = 0
    mask = np.zeros((H, W), np.uint8)
    mask[rows:-rows] = 1
    return img, mask


def _disk() -> np.ndarray:
    """A centered disk: kept pixels that fill no rectangle (the masked reductions)."""
    rows, cols = np.mgrid[:H, :W]
    radius = min(H, W) / 2 - 1
    return ((rows - (H - 1) / 2) ** 2 + (cols - (W - 1) / 2) ** 2 <= radius**2).astype(np.uint8)


def _one_pixel() -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    mask[3, 4] = 1
    return mask


class Case(NamedTuple):
    name: str
    image: np.ndarray
    mask: Optional[np.ndarray]  # None: every pixel counts


def cases(dtype: str, *, masked: bool) -> list[Case]:
    """The images of one dtype; with ``masked`` also the masked cases (the unmasked images then
    go with a full mask, which must change nothing)."""
    photo = _in_units(PHOTO, dtype)
    found = [
        Case("photo", photo, None),
        Case("dark", _dark(dtype), None),
        Case("near_uniform", _near_uniform(dtype), None),
        Case("nearly_flat", _nearly_flat(dtype), None),
        Case("flat_channel", _flat_channel(dtype), None),
    ]
    if masked:
        found += [
            Case("letterbox", *_bars(photo, 4)),
            Case("near_uniform_bars", *_bars(_near_uniform(dtype), 6)),
            Case("disk_mask", photo, _disk()),
            Case("nearly_flat_disk", _nearly_flat(dtype), _disk()),
            Case("single_pixel_mask", photo, _one_pixel()),
            Case("empty_mask", photo, np.zeros((H, W), np.uint8)),
        ]
    return found


def expected(case: Case, mode: Mode, dtype: str, *, masked: bool) -> Any:
    """The reference of a case (a full mask for the unmasked cases of a masked backend)."""
    if mode.center == "fixed":
        return reference(
            case.image, mode, mean=IMAGENET_MEAN, std=IMAGENET_STD, max_pixel_value=MAX_VALUE[dtype]
        )
    fill = FILL if masked else 0.0
    return reference(case.image, mode, case.mask, fill=fill)


# --------------------------------------------------------------------------------------------
# Backends: build(mode name) -> run(images (N, H, W, C), masks (N, H, W) or None) -> float32
# --------------------------------------------------------------------------------------------

Run = Callable[[np.ndarray, Optional[np.ndarray]], np.ndarray]


class Backend(NamedTuple):
    name: str
    build: Callable[[str], Run]
    masked: bool
    numpy_core: bool  # the bound's uint8 rule: a correctly rounded float64-built table
    per_image_tables: bool = False  # that rule for the per-image rows only (torch on the CPU)
    torch: bool = False  # needs torch (and ONNX Runtime when onnx)
    onnx: bool = False
    prepend: bool = False  # albu_norm.onnx's prepended graph: onnx and ONNX Runtime, raw dtypes


def _mode_arguments(mode: str) -> dict[str, Any]:
    return {"preset": "imagenet"} if mode == "standard" else {"normalization": mode}


def _core(mode: str) -> Run:
    def run(images: np.ndarray, masks: Optional[np.ndarray]) -> np.ndarray:
        if mode == "standard":
            return np.stack([F.normalize(img, IMAGENET_MEAN, IMAGENET_STD) for img in images])
        return np.stack([F.normalize_per_image(img, mode) for img in images])

    return run


def _core_masked(mode: str) -> Run:
    def run(images: np.ndarray, masks: Optional[np.ndarray]) -> np.ndarray:
        assert masks is not None
        return np.stack(
            [
                F.normalize_per_image(img, mode, mask=mask, fill=FILL)
                for img, mask in zip(images, masks)
            ]
        )

    return run


def _batch(mode: str) -> Run:
    def run(images: np.ndarray, masks: Optional[np.ndarray]) -> np.ndarray:
        if mode == "standard":
            return F.normalize_images(images, "standard", IMAGENET_MEAN, IMAGENET_STD)
        return F.normalize_images(images, mode)

    return run


def _batch_masked(mode: str) -> Run:
    def run(images: np.ndarray, masks: Optional[np.ndarray]) -> np.ndarray:
        return F.normalize_images(images, mode, masks=masks, fill=FILL)

    return run


def _transform(mode: str, *, batch: bool = False, masked: bool = False) -> Run:
    extra = {"mask_key": "mask", "fill": FILL} if masked else {}
    pipeline = A.Compose([AN.Normalize(**_mode_arguments(mode), **extra)])

    def run(images: np.ndarray, masks: Optional[np.ndarray]) -> np.ndarray:
        if batch:
            data = {"images": images, **({"masks": masks} if masked else {})}
            return np.asarray(pipeline(**data)["images"])
        results = []
        for index, img in enumerate(images):
            data = {
                "image": img,
                **({"mask": masks[index]} if masked and masks is not None else {}),
            }
            results.append(pipeline(**data)["image"])
        return np.stack(results)

    return run


def _torch_module(mode: str, *, masked: bool) -> Any:
    import albu_norm.torch as ANT

    extra = {"masked": True, "fill": FILL} if masked else {}
    return ANT.Normalize(**_mode_arguments(mode), **extra).eval()


def _nchw(images: np.ndarray) -> Any:
    import torch

    return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))


def _torch(mode: str, *, masked: bool = False, device_route: bool = False) -> Run:
    """The torch module on the CPU; ``device_route``: with uint8 taking the route a CUDA batch
    takes (float64 statistics and affine), not the CPU's histograms and tables."""
    import torch

    module = _torch_module(mode, masked=masked)

    def run(images: np.ndarray, masks: Optional[np.ndarray]) -> np.ndarray:
        route = mock.patch("albu_norm.torch.normalize._histogram_route", return_value=False)
        with torch.no_grad(), route if device_route else contextlib.nullcontext():
            if masked:
                assert masks is not None
                values = module(_nchw(images), mask=torch.from_numpy(masks != 0))
            else:
                values = module(_nchw(images))
        return values.numpy().transpose(0, 2, 3, 1)

    return run


#: The dtypes of the ONNX exports. Unmasked: all four. Masked: uint8 and float32 only (the
#: dtypes a deployed model receives), to keep the file under a minute on 2 cores: an export
#: costs about 0.5 s per input dtype unmasked and 1 s masked, and past the input's cast to
#: float64 the masked graph is the same for every dtype.
ONNX_DTYPES = {False: DTYPES, True: ("uint8", "float32")}


def _each_dtype(module: Any, dtypes: tuple[str, ...], masked: bool) -> Any:
    """The torch module applied to one batch of each of ``dtypes``: one ONNX export instead of
    one per dtype (the exported graph holds the module's graph once per input dtype)."""
    import torch

    class EachDtype(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm = module

        def forward(self, *inputs: Any) -> Any:
            if masked:
                *images, mask = inputs
                return tuple(self.norm(x, mask=mask) for x in images)
            return tuple(self.norm(x) for x in inputs)

    return EachDtype().eval()


@functools.cache
def onnx_session(row: Mode, masked: bool) -> Any:
    """An ONNX Runtime session of the torch module of ``row`` (one input per dtype of
    ``ONNX_DTYPES[masked]``, then the mask), exported once per process and row (keyed by the
    row, not its name: a name registered again with other fields is exported again): dynamic
    batch size, H and W those of the cases."""
    mode = row.name
    import onnxruntime as ort
    import torch

    dtypes = ONNX_DTYPES[masked]
    bundle = _each_dtype(_torch_module(mode, masked=masked), dtypes, masked)
    example: tuple[Any, ...] = tuple(
        torch.zeros((2, 3, H, W), dtype=getattr(torch, d)) for d in dtypes
    )
    if masked:
        example += (torch.ones((2, H, W), dtype=torch.bool),)
    batch = torch.export.Dim("batch", min=1, max=1024)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's own deprecation/info warnings
        program = torch.onnx.export(
            bundle,
            example,
            dynamic_shapes=(tuple({0: batch} for _ in example),),  # forward(*inputs)
            dynamo=True,
            verbose=False,
        )
        program.save(buffer)  # type: ignore[union-attr]
    return ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])


def _onnx(mode: str, *, masked: bool = False) -> Run:
    session = onnx_session(MODES[mode], masked)
    dtypes = ONNX_DTYPES[masked]

    def run(images: np.ndarray, masks: Optional[np.ndarray]) -> np.ndarray:
        # one batch per dtype of the session: this one, the others zeros of its shape
        batch = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
        position = dtypes.index(images.dtype.name)
        feeds = [batch if d == images.dtype.name else np.zeros(batch.shape, d) for d in dtypes]
        if masked:
            assert masks is not None
            feeds.append(masks != 0)
        names = [i.name for i in session.get_inputs()]
        outputs = session.run(None, dict(zip(names, feeds)))
        return np.asarray(outputs[position]).transpose(0, 2, 3, 1)

    return run


#: The raw input dtypes of albu_norm.onnx.prepend_normalization.
PREPEND_DTYPES = ("uint8", "uint16")


@functools.cache
def prepended_session(row: Mode, dtype: str) -> Any:
    """ONNX Runtime on an identity model (N, 3, H, W) with ``row``'s normalization prepended
    by albu_norm.onnx (NHWC ``dtype`` input); keyed by the row, as :func:`onnx_session`."""
    import onnxruntime as ort
    from onnx import TensorProto, helper

    import albu_norm.onnx as ANO

    dims = ["N", 3, "H", "W"]
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, dims)
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, dims)
    graph = helper.make_graph([helper.make_node("Identity", ["input"], ["output"])], "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    spec = AN.resolve_spec(**_mode_arguments(row.name))
    prepended = ANO.prepend_normalization(model, spec, input_dtype=dtype)
    return ort.InferenceSession(prepended.SerializeToString(), providers=["CPUExecutionProvider"])


def _prepended(mode: str) -> Run:
    AN.resolve_spec(**_mode_arguments(mode))  # an unknown primitive is refused here, at build

    def run(images: np.ndarray, masks: Optional[np.ndarray]) -> np.ndarray:
        session = prepended_session(MODES[mode], images.dtype.name)
        (out,) = session.run(None, {"images": np.ascontiguousarray(images)})
        return np.asarray(out).transpose(0, 2, 3, 1)

    return run


BACKENDS = (
    Backend("core", _core, masked=False, numpy_core=True),
    Backend("core_masked", _core_masked, masked=True, numpy_core=True),
    Backend("batch", _batch, masked=False, numpy_core=True),
    Backend("batch_masked", _batch_masked, masked=True, numpy_core=True),
    Backend("transform", _transform, masked=False, numpy_core=True),
    Backend("transform_masked", functools.partial(_transform, masked=True), True, numpy_core=True),
    Backend("transform_images", functools.partial(_transform, batch=True), False, True),
    Backend(
        "transform_images_masked",
        functools.partial(_transform, batch=True, masked=True),
        masked=True,
        numpy_core=True,
    ),
    Backend("torch", _torch, masked=False, numpy_core=False, per_image_tables=True, torch=True),
    Backend(
        "torch_masked",
        functools.partial(_torch, masked=True),
        masked=True,
        numpy_core=False,
        per_image_tables=True,
        torch=True,
    ),
    Backend(
        "torch_device_route",
        functools.partial(_torch, device_route=True),
        masked=False,
        numpy_core=False,
        torch=True,
    ),
    Backend(
        "torch_device_route_masked",
        functools.partial(_torch, masked=True, device_route=True),
        masked=True,
        numpy_core=False,
        torch=True,
    ),
    Backend("onnx", _onnx, masked=False, numpy_core=False, torch=True, onnx=True),
    Backend(
        "onnx_masked",
        functools.partial(_onnx, masked=True),
        masked=True,
        numpy_core=False,
        torch=True,
        onnx=True,
    ),
)
BACKENDS += (Backend("onnx_prepended", _prepended, masked=False, numpy_core=False, prepend=True),)
BY_NAME = {backend.name: backend for backend in BACKENDS}


def applicable(mode: Mode, backend: Backend) -> bool:
    """A mask (with outside="normalize") is for per-image statistics: fixed rows go unmasked."""
    return mode.per_image or not backend.masked


def require(backend: Backend) -> None:
    """Skip (under pytest) a backend whose optional dependencies are missing."""
    if backend.torch:
        pytest.importorskip("torch")
        pytest.importorskip("albu_norm.torch")
    if backend.onnx:
        pytest.importorskip("onnxruntime")
        pytest.importorskip("onnxscript")
    if backend.prepend:
        pytest.importorskip("onnx")
        pytest.importorskip("onnxruntime")


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


class Finding(NamedTuple):
    """The worst element of one case: its error as a multiple of the bound, and in ulps."""

    case: str
    ratio: float  # max |out - ref| / bound (inf: a nonzero error where the bound is 0)
    ulps: float  # max |out - ref| in float32 ulps of ref (inf: nonzero where ref is 0)
    error: float
    where: tuple[int, ...]
    out: float
    ref: float

    def __str__(self) -> str:
        return (
            f"{self.case}: |out - ref| = {self.error:.3g} = {self.ratio:.3g} x bound "
            f"({self.ulps:.3g} ulps) at {self.where}: out={self.out!r}, ref={self.ref!r}"
        )


def _finding(case: Case, out: np.ndarray, ref: Any, bound: np.ndarray) -> Finding:
    assert out.dtype == np.float32, f"{case.name}: output dtype {out.dtype}, expected float32"
    assert out.shape == ref.values.shape, f"{case.name}: output shape {out.shape}"
    error = np.abs(out.astype(np.float64) - ref.values)
    error = np.where(np.isnan(out), np.inf, error)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(error == 0, 0.0, error / bound)
    where = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    in_ulps = np.where(np.isnan(out), np.inf, ulps(out, ref))
    return Finding(
        case.name,
        float(ratio[where]),
        float(in_ulps.max()),
        float(error[where]),
        tuple(int(i) for i in where),
        float(out[where]),
        float(ref.values[where]),
    )


def measure(mode: Mode, backend: Backend, dtype: str, run: Optional[Run] = None) -> list[Finding]:
    """Every case of ``dtype`` through ``backend`` (one batch), each against the reference."""
    found = cases(dtype, masked=backend.masked)
    images = np.stack([case.image for case in found])
    full = np.ones((H, W), np.uint8)
    masks = np.stack([full if case.mask is None else case.mask for case in found])
    run = backend.build(mode.name) if run is None else run
    out = np.asarray(run(images, masks if backend.masked else None))
    assert out.shape == images.shape, f"output shape {out.shape}, expected {images.shape}"
    findings = []
    for index, case in enumerate(found):
        ref = expected(case, mode, dtype, masked=backend.masked)
        tables = backend.numpy_core or (backend.per_image_tables and mode.per_image)
        bound = conformance_bound(ref, dtype, numpy_core=tables)
        findings.append(_finding(case, out[index], ref, bound))
    return findings


def failures(findings: list[Finding], label: str) -> list[tuple[float, str]]:
    """(multiple of the bound, description) of each case beyond the bound."""
    return [(f.ratio, f"{label} {f}") for f in findings if not f.ratio <= 1.0]


def report(problems: list[tuple[float, str]], limit: int = 12) -> str:
    """The failing cases, worst first, at most ``limit`` of them."""
    worst = [line for _, line in sorted(problems, key=lambda item: -item[0])]
    more = f"\n... and {len(worst) - limit} more" if len(worst) > limit else ""
    return f"{len(worst)} failing case(s):\n" + "\n".join(worst[:limit]) + more


def dtypes_of(backend: Backend) -> tuple[str, ...]:
    if backend.prepend:
        return PREPEND_DTYPES
    return ONNX_DTYPES[backend.masked] if backend.onnx else DTYPES


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


EACH = "each"  # the dtype parameter of an ONNX test: every dtype of ONNX_DTYPES, one export


def _parameters() -> list[Any]:
    """(mode, backend, dtype) for every applicable pair, mode by mode: an ONNX backend is one
    test per mode (its export made once, in one worker) that loops over its dtypes; spread
    through the list, the slow exports are shared out by xdist's chunks."""
    found = []
    for mode in MODE_NAMES:
        for backend in BACKENDS:
            if applicable(MODES[mode], backend):
                for dtype in (EACH,) if backend.onnx else dtypes_of(backend):
                    found.append(
                        pytest.param(mode, backend.name, dtype, id=f"{mode}-{backend.name}-{dtype}")
                    )
    return found


@pytest.mark.parametrize(("mode", "backend", "dtype"), _parameters())
def test_backend_matches_the_reference(mode: str, backend: str, dtype: str) -> None:
    chosen = BY_NAME[backend]
    require(chosen)
    run = chosen.build(mode)
    problems = []
    for each in dtypes_of(chosen) if dtype == EACH else (dtype,):
        findings = measure(MODES[mode], chosen, each, run)
        problems += failures(findings, f"[{mode} {backend} {each}]")
    assert not problems, report(problems)


def test_the_cases_are_what_they_claim() -> None:
    """The images exercise what the module docstring says (so the bound is tested where it is
    tight): the TF floor acting (N = every value; N = the kept values), |center| / spread
    beyond 40, a uniform channel's exact zeros, fill."""
    tf = MODES["per_image_standardization"]
    for dtype in DTYPES:
        by_name = {case.name: case for case in cases(dtype, masked=True)}
        near = reference(by_name["near_uniform"].image, tf)
        assert near.spread.max() == 1 / np.sqrt(H * W * 3), dtype
        bars = by_name["near_uniform_bars"]
        assert bars.mask is not None
        kept = int(bars.mask.sum()) * 3
        assert reference(bars.image, tf, bars.mask).spread.max() == 1 / np.sqrt(kept), dtype
        flat = reference(by_name["nearly_flat"].image, MODES["image"])
        assert float((np.abs(flat.center) / flat.spread).min()) > 40, dtype
        one = reference(by_name["flat_channel"].image, MODES["image_per_channel"])
        assert one.exact[..., 1].all() and not one.exact[..., [0, 2]].any(), dtype
        empty = by_name["empty_mask"]
        assert (reference(empty.image, MODES["image"], empty.mask, fill=FILL).values == FILL).all()


# A registered row: every backend computes it from its primitives, or refuses it clearly.
REGISTERED = (
    Mode("mean_range", "mean", "range", True, source="conformance test"),
    Mode("per_channel_standardization", "mean", "std", True, floor="tf", source="test"),
)


@pytest.fixture(params=REGISTERED, ids=lambda row: row.name)
def registered(request: pytest.FixtureRequest) -> Iterator[Mode]:
    row = register_mode(request.param)
    try:
        yield row
    finally:
        unregister_mode(row.name)


def _available(backend: Backend) -> bool:
    try:
        require(backend)
    except pytest.skip.Exception:
        return False
    return True


def _one_case(backend: Backend) -> tuple[np.ndarray, Optional[np.ndarray]]:
    return PHOTO[None], (np.ones((1, H, W), np.uint8) if backend.masked else None)


def _build(backend: Backend, mode: str) -> Run:
    """The backend's run for ``mode``; the numpy functions, which have no construction, are
    called once (they check the mode first)."""
    run = backend.build(mode)
    if backend.name in ("core", "core_masked", "batch", "batch_masked"):
        run(*_one_case(backend))
    return run


@pytest.mark.parametrize("backend", [backend.name for backend in BACKENDS])
def test_a_registered_mode_is_computed_or_refused(registered: Mode, backend: str) -> None:
    chosen = BY_NAME[backend]
    require(chosen)
    try:
        run = _build(chosen, registered.name)
    except ValueError as error:
        assert registered.name in str(error), str(error)
        # the numpy core has every primitive of these rows: it must compute them
        assert not chosen.numpy_core, f"{backend} refused {registered}: {error}"
        return
    problems = []
    for dtype in dtypes_of(chosen):
        findings = measure(registered, chosen, dtype, run)
        problems += failures(findings, f"[{registered.name} {backend} {dtype}]")
    assert not problems, report(problems)


@pytest.mark.parametrize("backend", [backend.name for backend in BACKENDS])
def test_a_row_with_an_unknown_primitive_is_refused_at_construction(backend: str) -> None:
    chosen = BY_NAME[backend]
    require(chosen)
    row = register_mode(Mode("median_iqr_test", "median", "std", True, source="test"))
    try:
        with pytest.raises(ValueError, match=r"median_iqr_test.*'median'"):
            _build(chosen, row.name)
    finally:
        unregister_mode(row.name)


# --------------------------------------------------------------------------------------------
# The table of worst errors: python tests/test_conformance.py
# --------------------------------------------------------------------------------------------


def worst_errors(*, registered: bool = False) -> list[tuple[str, str, float, float, int]]:
    """Print (and return) per backend and dtype the worst error over every mode and image, as a
    multiple of the bound and in float32 ulps of the reference, with the number of failing
    (mode, image) cases. ``registered``: the rows the tests register (REGISTERED) instead of
    the built-in modes."""
    names = tuple(row.name for row in REGISTERED) if registered else MODE_NAMES
    rows = []
    for row in REGISTERED if registered else ():
        register_mode(row)
    try:
        for backend in BACKENDS:
            if not _available(backend):
                print(f"{backend.name}: skipped (torch / onnxruntime / onnxscript missing)")
                continue
            runs = {}
            for mode in names:
                if not applicable(MODES[mode], backend):
                    continue
                try:
                    runs[mode] = _build(backend, mode)
                except Exception as error:  # a refusal or a failed export: shown, not fatal
                    print(f"{backend.name} {mode}: {type(error).__name__}: {error}")
            for dtype in dtypes_of(backend) if runs else ():
                findings = []
                for mode, run in runs.items():
                    findings += [(mode, f) for f in measure(MODES[mode], backend, dtype, run)]
                failing = [(mode, f) for mode, f in findings if not f.ratio <= 1.0]
                ratio = max(f.ratio for _, f in findings)
                in_ulps = max(f.ulps for _, f in findings)
                rows.append((backend.name, dtype, ratio, in_ulps, len(failing)))
                for mode, finding in failing:
                    print(f"FAIL [{mode} {backend.name} {dtype}] {finding}")
    finally:
        for row in REGISTERED if registered else ():
            unregister_mode(row.name)
    print(f"\nModes: {', '.join(names)}")
    print(f"| {'backend':<24} | {'dtype':<8} | worst / bound | worst ulps | failing |")
    print(f"|{'-' * 26}|{'-' * 10}|{'-' * 15}|{'-' * 12}|{'-' * 9}|")
    for name, dtype, ratio, in_ulps, failing in rows:
        print(f"| {name:<24} | {dtype:<8} | {ratio:>13.3g} | {in_ulps:>10.3g} | {failing:>7} |")
    return rows


if __name__ == "__main__":
    worst_errors()
    worst_errors(registered=True)
