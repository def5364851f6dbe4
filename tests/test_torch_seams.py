"""Where the torch module meets torch and ONNX (issue 17): out= that shares the input's memory,
a fill outside the output dtype, DeviceLoader with masked modules and 2 workers, torch.compile
(static and dynamic), a state_dict of another spec, and the ONNX export of every mode, masked
and unmasked, with dynamic batch, height and width, by both exporters, in onnxruntime.

References: tests/reference_modes.py (float64, from the formulas), never another backend."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import albumentations as A  # noqa: E402

import albu_norm as AN  # noqa: E402
import albu_norm.torch as ANT  # noqa: E402
from albu_norm import functional as F  # noqa: E402
from albu_norm.modes import get_mode  # noqa: E402
from tests.reference_modes import reference  # noqa: E402

EPS32 = float(np.finfo(np.float32).eps)
PER_IMAGE = F.PER_IMAGE_NORMALIZATIONS
IMAGENET = dict(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), max_pixel_value=255.0)


def _reference_batch(images: np.ndarray, mode: str, masks: np.ndarray | None = None) -> np.ndarray:
    """(N, C, H, W) float64 of an (N, C, H, W) batch, image by image."""
    row = get_mode(mode)
    fixed = IMAGENET if row.center == "fixed" else {}
    out = []
    for index, img in enumerate(images):
        mask = None if masks is None else masks[index]
        out.append(reference(img.transpose(1, 2, 0), row, mask, **fixed).values)
    return np.stack(out).transpose(0, 3, 1, 2)


def _assert_reference(values: np.ndarray, ref: np.ndarray, fixed: bool) -> None:
    # fixed: float32 affine terms up to |x * scale| + |offset| ~ 4.6 (imagenet); per-image:
    # the float64 result rounded once
    bound = 4 * EPS32 * (np.abs(ref) + (4.7 if fixed else 0.0)) + 1e-30
    error = np.abs(values.astype(np.float64) - ref)
    assert np.all(error <= bound), float((error - bound).max())


def _batch(rng, n=3, h=20, w=24) -> np.ndarray:
    return rng.integers(0, 256, (n, 3, h, w), np.uint8)


# ------------------------------------------------------------------------------------ out=


@pytest.mark.parametrize(
    "args",
    [{"preset": "imagenet"}, {"preset": "caffe"}] + [{"normalization": mode} for mode in PER_IMAGE],
)
def test_out_sharing_the_inputs_memory_is_refused(args):
    images = torch.rand(2, 3, 8, 6)
    module = ANT.Normalize(**args)
    before = images.clone()
    for out in (images, images.view(2, 3, 8, 6), images.as_strided((2, 3, 8, 6), (144, 48, 6, 1))):
        with pytest.raises(ValueError, match="shares memory with the images"):
            module(images, out=out)
    nhwc = torch.rand(2, 8, 6, 3)  # an NHWC input and an NCHW out over the same storage
    aliased = torch.as_strided(nhwc, (2, 3, 8, 6), (144, 48, 6, 1))
    with pytest.raises(ValueError, match="shares memory"):
        ANT.Normalize(**args, layout="NHWC")(nhwc, out=aliased)
    assert torch.equal(images, before)


# ------------------------------------------------------------------------------------ fill


@pytest.mark.parametrize(
    ("dtype", "fill"),
    [
        (torch.float16, 1e6),
        (torch.float16, -65520.0),  # rounds to -inf in float16
        (torch.bfloat16, 3.4e38),  # float32 holds it, bfloat16 tops at about 3.39e38
        (torch.bfloat16, -3.4e38),
    ],
)
def test_a_fill_outside_the_output_dtype_is_refused_at_construction(dtype, fill):
    assert not torch.isfinite(torch.tensor(fill, dtype=torch.float32).to(dtype))
    with pytest.raises(ValueError, match="does not fit the output dtype"):
        ANT.Normalize(normalization="image", masked=True, outside="fill", fill=fill, dtype=dtype)


def test_a_fill_inside_the_output_dtype_is_kept():
    module = ANT.Normalize(
        normalization="image", masked=True, outside="fill", fill=-60000.0, dtype=torch.float16
    )
    images = torch.randint(0, 256, (1, 3, 4, 4), dtype=torch.uint8)
    mask = torch.zeros(1, 4, 4, dtype=torch.uint8)
    mask[0, :2] = 1
    out = module(images, mask=mask)
    assert torch.all(out[0, :, 2:] == -60000.0) and torch.isfinite(out).all()


# ---------------------------------------------------------------------------- state_dict


def test_a_state_dict_of_another_spec_is_refused_and_the_same_spec_loads():
    imagenet, clip = ANT.Normalize(preset="imagenet"), ANT.Normalize(preset="clip")
    with pytest.raises(ValueError, match="another normalization's"):
        clip.load_state_dict(imagenet.state_dict())
    model = torch.nn.Sequential(ANT.Normalize(preset="clip"), torch.nn.Conv2d(3, 2, 1))
    other = torch.nn.Sequential(ANT.Normalize(preset="imagenet"), torch.nn.Conv2d(3, 2, 1))
    with pytest.raises(ValueError, match=r"0\.scale"):
        model.load_state_dict(other.state_dict())
    with pytest.raises(ValueError, match="another normalization's"):
        ANT.Denormalize(preset="clip").load_state_dict(ANT.Denormalize().state_dict())
    # the same spec loads, also from a float16 copy, and .to(dtype) afterwards is consistent
    same = ANT.Normalize(mean=IMAGENET["mean"], std=IMAGENET["std"])
    same.load_state_dict(ANT.Normalize(preset="imagenet").half().state_dict())
    same.load_state_dict(ANT.Normalize(preset="imagenet").state_dict())
    rng = np.random.default_rng(0)
    images = _batch(rng)
    for module in (same, same.half(), same.to(torch.float64)):
        values = module(torch.from_numpy(images)).numpy()
        _assert_reference(values, _reference_batch(images, "standard"), fixed=True)


# ------------------------------------------------------------------------------ compile


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch's own, inside torch.compile
@pytest.mark.parametrize("dynamic", [False, True])
@pytest.mark.parametrize("mode", ["standard", "image", "min_max_per_channel"])
def test_torch_compile_static_and_dynamic(mode, dynamic):
    torch._dynamo.reset()
    module = torch.compile(ANT.Normalize(normalization=mode), dynamic=dynamic)
    rng = np.random.default_rng(1)
    for shape in ((2, 16, 12), (3, 20, 24)):
        images = _batch(rng, *shape)
        values = module(torch.from_numpy(images)).numpy()
        _assert_reference(values, _reference_batch(images, mode), fixed=mode == "standard")


# ---------------------------------------------------------------------------- DeviceLoader


class _Letterboxed(torch.utils.data.Dataset):
    """The repository's photos letterboxed to 64 x 64, with their "valid" masks."""

    def __init__(self) -> None:
        from pathlib import Path

        import cv2

        folder = Path(__file__).resolve().parents[1] / "examples" / "images"
        self.photos = [cv2.imread(str(p))[..., ::-1].copy() for p in sorted(folder.glob("*.jpg"))]
        self.pipeline = A.Compose(
            [
                A.LongestMaxSize(max_size=64),
                A.PadIfNeeded(64, 64, border_mode=0, fill=0, fill_mask=0),
            ],
            additional_targets={"valid": "mask"},
        )

    def __len__(self) -> int:
        return len(self.photos)

    def __getitem__(self, index: int):
        photo = self.photos[index]
        ones = np.ones(photo.shape[:2], np.uint8)
        out = self.pipeline(image=photo, mask=ones, valid=ones)  # AlbumentationsX wants "mask"
        return {"image": torch.from_numpy(out["image"]), "valid": torch.from_numpy(out["valid"])}


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["image", "per_image_standardization"])
def test_device_loader_runs_masked_modules_over_a_letterbox_pipeline_with_2_workers(mode):
    dataset = _Letterboxed()
    loader = torch.utils.data.DataLoader(dataset, batch_size=2, num_workers=2)
    module = ANT.Normalize.from_transform(
        AN.Normalize(normalization=mode, mask_key="valid"), layout="NHWC"
    )
    assert module.mask_key == "valid"
    seen = 0
    for batch in ANT.DeviceLoader(loader, device="cpu", normalize=module):
        masks = batch["valid"].numpy()
        assert 0 < masks.mean() < 1  # the bars are left out
        assert batch["image"].dtype == torch.float32 and batch["image"].shape[1] == 3
        seen += len(masks)
    assert seen == len(dataset)
    # the values, batch by batch, against the float64 reference over each image's mask
    for raw in loader:
        normalized = ANT.DeviceLoader([raw], device="cpu", normalize=module)
        (out,) = list(normalized)
        images = raw["image"].numpy().transpose(0, 3, 1, 2)
        _assert_reference(
            out["image"].numpy(), _reference_batch(images, mode, raw["valid"].numpy()), False
        )


def test_device_loader_with_a_masked_module_needs_the_masks():
    module = ANT.Normalize(normalization="image", masked=True)
    batch = {"image": torch.zeros(2, 3, 4, 4, dtype=torch.uint8)}
    with pytest.raises(ValueError, match="no mask tensor at mask_key='mask'"):
        list(ANT.DeviceLoader([batch], device="cpu", normalize=module))
    images, masks = torch.zeros(2, 3, 4, 4, dtype=torch.uint8), torch.ones(2, 4, 4)
    with pytest.raises(ValueError, match="mask_key"):
        list(ANT.DeviceLoader([(images, masks)], device="cpu", normalize=module))
    (out,) = list(ANT.DeviceLoader([(images, masks)], device="cpu", normalize=module, mask_key=1))
    assert out[0].dtype == torch.float32 and torch.equal(out[1], masks)
    with pytest.raises(ValueError, match="masked=False"):
        ANT.DeviceLoader([], device="cpu", normalize=ANT.Normalize(), mask_key="mask")


# ---------------------------------------------------------------------------------- ONNX


class _Masked(torch.nn.Module):
    def __init__(self, module) -> None:
        super().__init__()
        self.module = module

    def forward(self, images, mask):
        return self.module(images, mask=mask)


def _export(module, masked: bool, dynamo: bool) -> bytes:
    rng = np.random.default_rng(2)
    images = torch.from_numpy(_batch(rng, 2, 16, 12))
    mask = torch.from_numpy((rng.random((2, 16, 12)) > 0.3).astype(np.uint8))
    args = (images, mask) if masked else (images,)
    names = ["images", "mask"] if masked else ["images"]
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporters' own deprecation/info warnings
        if dynamo:
            batch = torch.export.Dim("batch", min=1, max=1024)
            height = torch.export.Dim("height", min=2, max=4096)
            width = torch.export.Dim("width", min=2, max=4096)
            shapes = {"images": {0: batch, 2: height, 3: width}}
            if masked:
                shapes["mask"] = {0: batch, 1: height, 2: width}
            program = torch.onnx.export(
                module, args, dynamic_shapes=shapes, input_names=names, dynamo=True
            )
            program.save(buffer)
        else:
            axes = {"images": {0: "batch", 2: "height", 3: "width"}}
            if masked:
                axes["mask"] = {0: "batch", 1: "height", 2: "width"}
            torch.onnx.export(
                module, args, buffer, input_names=names, dynamic_axes=axes, dynamo=False
            )
    return buffer.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize("dynamo", [True, False], ids=["dynamo", "torchscript"])
@pytest.mark.parametrize(
    ("mode", "masked"),
    [("standard", False)] + [(mode, masked) for mode in PER_IMAGE for masked in (False, True)],
)
def test_every_mode_exports_with_dynamic_shapes_and_runs_in_onnxruntime(mode, masked, dynamo):
    ort = pytest.importorskip("onnxruntime")
    if dynamo:
        pytest.importorskip("onnxscript")
    module = ANT.Normalize(normalization=mode, masked=masked).eval()
    model = _export(_Masked(module) if masked else module, masked, dynamo)
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(3)
    images = _batch(rng, 3, 20, 24)  # another batch size, height and width than exported
    masks = (rng.random((3, 20, 24)) > 0.3).astype(np.uint8)
    masks[2] = 0  # an image with no kept pixel: every value is fill
    feed = {"images": images, **({"mask": masks} if masked else {})}
    (values,) = session.run(None, feed)
    ref = _reference_batch(images, mode, masks if masked else None)
    _assert_reference(values, ref, fixed=mode == "standard")


@pytest.mark.slow
def test_the_export_recipe_of_docs_gpu_md_runs_as_written(tmp_path, monkeypatch):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "gpu.md").read_text()
    section = page[page.index("## Export to ONNX") : page.index("## `DeviceLoader`")]
    (recipe,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporters' own deprecation/info warnings
        exec(compile(recipe, "docs/gpu.md", "exec"), namespace)
    rng = np.random.default_rng(4)
    images = rng.integers(0, 256, (3, 3, 40, 56), np.uint8)  # another batch and image size
    with torch.no_grad():
        eager = namespace["model"](torch.from_numpy(images)).numpy()
    for name in ("model.onnx", "model_ts.onnx"):
        session = ort.InferenceSession(str(tmp_path / name), providers=["CPUExecutionProvider"])
        (values,) = session.run(None, {session.get_inputs()[0].name: images})
        assert values.shape == eager.shape == (3, 8, 38, 54)
        np.testing.assert_allclose(values, eager, atol=1e-4)


def test_the_onnx_extra_that_the_docs_name_installs_what_export_needs():
    from importlib.metadata import requires

    onnx_extra = {
        requirement.split(">")[0].split(";")[0].strip()
        for requirement in requires("albu_norm") or []
        if 'extra == "onnx"' in requirement
    }
    assert {"onnx", "onnxscript", "onnxruntime"} <= onnx_extra


@pytest.mark.slow
def test_the_cuda_check_script_runs_on_the_cpu():
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "cuda_check.py"
    done = subprocess.run(
        [sys.executable, str(script), "--device", "cpu", "--files", "16", "--epochs", "1"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "| check | worst error | bound | result | s |" in done.stdout
    assert "FAIL" not in done.stdout and "checks passed" in done.stdout


def test_out_overlapping_the_images_in_one_numpy_buffer_is_refused():
    # two tensors over one buffer have two storages: the check compares the memory spans
    buffer = np.random.default_rng(5).random(2 * 3 * 8 * 8 + 8).astype(np.float32)
    images = torch.from_numpy(buffer[:-8]).view(2, 3, 8, 8)
    out = torch.from_numpy(buffer[8:]).view(2, 3, 8, 8)
    with pytest.raises(ValueError, match="shares memory"):
        ANT.Normalize(preset="imagenet")(images, out=out)
    separate = torch.from_numpy(np.empty(2 * 3 * 8 * 8, np.float32)).view(2, 3, 8, 8)
    values = ANT.Normalize(preset="imagenet")(images, out=separate).numpy()
    assert values is not None and np.isfinite(values).all()


def test_device_loader_takes_a_negative_index_for_the_masks():
    module = ANT.Normalize(normalization="image", masked=True)
    images, labels = torch.zeros(2, 3, 4, 4, dtype=torch.uint8), torch.tensor([0, 1])
    masks = torch.ones(2, 4, 4)
    batches = [(images, labels, masks)]
    (out,) = list(ANT.DeviceLoader(batches, device="cpu", normalize=module, mask_key=-1))
    assert out[0].dtype == torch.float32 and torch.equal(out[2], masks)
    with pytest.raises(ValueError, match="mask_key=-3"):  # -3 is the images themselves
        list(ANT.DeviceLoader(batches, device="cpu", normalize=module, mask_key=-3))
