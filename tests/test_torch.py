"""albu_norm.torch: the device modules give the numbers of the CPU transforms (compared with
AN.Normalize and with float64 references written from the formulas in tests/reference.py),
on the repository's photos; errors; buffers; ONNX; split_pipeline; DeviceLoader."""

from __future__ import annotations

import collections
import pickle
from pathlib import Path

import albumentations as A
import cv2
import numpy as np
import pytest

import albu_norm as AN

from reference import assert_close, fixed, per_image

torch = pytest.importorskip("torch")
ANT = pytest.importorskip("albu_norm.torch")
ToTensorV2 = pytest.importorskip("albumentations.pytorch").ToTensorV2

PER_IMAGE = (
    "image",
    "image_per_channel",
    "min_max",
    "min_max_per_channel",
    "per_image_standardization",
)
PHOTOS = Path(__file__).resolve().parent.parent / "examples" / "images"
PHOTO_NAMES = ("astronaut", "chelsea", "coffee", "rocket")
FIXED_BOUND = 2e-6
PER_IMAGE_BOUND = 1e-5


def load_photo(name: str) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(PHOTOS / f"{name}.jpg")), cv2.COLOR_BGR2RGB)


def _photo_batch() -> np.ndarray:
    """(6, 48, 40, 3) uint8: crops of the four photos, a uniform image, and an image whose
    green channel is uniform (the epsilon policy: exact zeros, per image or per channel)."""
    crops = [load_photo(name)[100:148, 120:160] for name in PHOTO_NAMES]
    uniform = np.full_like(crops[0], 77)
    flat_green = crops[1].copy()
    flat_green[..., 1] = 200
    return np.ascontiguousarray(np.stack([*crops, uniform, flat_green]))


BATCH = _photo_batch()  # NHWC uint8
DTYPES = {
    "uint8": (BATCH, torch.uint8),
    **(
        {"uint16": (BATCH.astype(np.uint16) * 257 + 3, torch.uint16)}
        if hasattr(torch, "uint16")  # PyTorch >= 2.3
        else {}
    ),
    "float32": (BATCH.astype(np.float32) / 255, torch.float32),
}


def nchw(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))


def as_tensor(images: np.ndarray, dtype) -> torch.Tensor:
    """numpy -> torch (uint16 through int32: torch.from_numpy takes no uint16 in older
    PyTorch releases)."""
    if images.dtype == np.uint16:
        return torch.from_numpy(images.astype(np.int32)).to(dtype)
    return torch.from_numpy(images)


def to_nhwc(values: torch.Tensor) -> np.ndarray:
    return values.float().permute(0, 2, 3, 1).numpy()


def cpu(transform, images: np.ndarray) -> np.ndarray:
    """AN.Normalize's output on a batch (each image its own statistics)."""
    return transform(images=images)["images"]


def max_error(ours: torch.Tensor, expected: np.ndarray) -> float:
    return float(np.max(np.abs(to_nhwc(ours).astype(np.float64) - expected)))


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------


THREE_CHANNELS = [name for name in AN.list_presets() if len(AN.get_preset(name).mean) == 3]


@pytest.mark.parametrize("preset", THREE_CHANNELS)
def test_every_preset_matches_cpu_and_float64(preset):
    transform = AN.Normalize(preset=preset)
    spec = transform.spec
    module = ANT.Normalize(preset=preset)
    out = module(nchw(BATCH))
    assert out.dtype == torch.float32 and out.shape == (6, 3, 48, 40) and out.is_contiguous()
    assert max_error(out, cpu(transform, BATCH)) <= FIXED_BOUND
    # float64, from the formula, in the model's channel order
    source = BATCH[..., ::-1] if spec.reverse_channels else BATCH
    assert_close(to_nhwc(out), fixed(source, spec.mean, spec.std, 255.0), magnitude=_terms(spec))


def _terms(spec) -> float:
    """The largest |x * scale| + |offset| of uint8 input: the size of the terms float32 sums."""
    return max(1 / s for s in spec.std) + max(abs(m / s) for m, s in zip(spec.mean, spec.std))


@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize("preset", ["imagenet", "caffe"])
def test_dtype_rule_and_layouts(dtype, preset):
    """max_pixel_value=None follows the dtype (255, 65535, 1.0); NHWC input gives the NCHW
    output of the same numbers."""
    images, torch_dtype = DTYPES[dtype]
    expected = cpu(AN.Normalize(preset=preset), images)
    batch = as_tensor(images, torch_dtype)
    nhwc_out = ANT.Normalize(preset=preset, layout="NHWC")(batch)
    nchw_out = ANT.Normalize(preset=preset)(batch.permute(0, 3, 1, 2).contiguous())
    assert nhwc_out.shape == (6, 3, 48, 40) and nhwc_out.is_contiguous()
    torch.testing.assert_close(nhwc_out, nchw_out, rtol=0, atol=0)
    assert max_error(nhwc_out, expected) <= FIXED_BOUND


def test_explicit_statistics_and_max_pixel_value():
    images = BATCH.astype(np.float32)  # 0-255 floats with an explicit max_pixel_value
    args = {"mean": (0.3, 0.4, 0.5), "std": (0.2, 0.25, 0.3), "max_pixel_value": 255.0}
    out = ANT.Normalize(**args, layout="NHWC")(torch.from_numpy(images))
    assert max_error(out, cpu(AN.Normalize(**args), images)) <= FIXED_BOUND
    assert_close(to_nhwc(out), fixed(BATCH, args["mean"], args["std"], 255.0), magnitude=5.0)
    one = ANT.Normalize(mean=0.5, std=0.25)(nchw(BATCH[..., :1]))  # one value, one channel
    assert_close(to_nhwc(one), fixed(BATCH[..., :1], 0.5, 0.25, 255.0), magnitude=6.0)


@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize("mode", PER_IMAGE)
def test_per_image_modes_match_cpu_and_float64(mode, dtype):
    images, torch_dtype = DTYPES[dtype]
    batch = as_tensor(images, torch_dtype)
    out = ANT.Normalize(normalization=mode, layout="NHWC")(batch)
    assert max_error(out, cpu(AN.Normalize(normalization=mode), images)) <= PER_IMAGE_BOUND
    values = to_nhwc(out)
    for index, image in enumerate(images):
        assert_close(values[index], per_image(image, mode))
    assert np.all(values[4] == 0)  # the uniform image: exact zeros, no NaN
    if mode.endswith("per_channel"):
        assert np.all(values[5][..., 1] == 0)  # its uniform channel
        assert np.any(values[5][..., 0] != 0)


def test_uniform_image_is_zero_where_a_float32_mean_is_not_exact():
    """A float32 mean of a uniform image need not equal its pixels (0.1 summed 2697 times):
    the output is exactly 0 all the same (no epsilon, no 1e-9 residue, no NaN)."""
    value = np.float32(0.1)
    images = torch.full((2, 3, 31, 29), float(value), dtype=torch.float32)
    images[1, 0, 0, 0] = 0.2
    for mode in PER_IMAGE:
        out = ANT.Normalize(normalization=mode)(images)
        assert torch.all(out[0] == 0), mode
        assert torch.isfinite(out).all()


def test_per_image_standardization_floor_on_the_images_own_values():
    """TensorFlow's floor max(std, 1/sqrt(C*H*W)) with the std of the image's own values: an
    image of 0s and one 1 has std below the floor (float64 reference)."""
    images = torch.zeros((1, 3, 20, 20), dtype=torch.uint8)
    images[0, 0, 0, 0] = 1
    values = images.double()
    floor = 1 / np.sqrt(values.numel())
    expected = (values - values.mean()) / max(float(values.std(correction=0)), floor)
    assert float(values.std(correction=0)) < floor
    out = ANT.Normalize(normalization="per_image_standardization")(images)
    torch.testing.assert_close(out, expected.float(), rtol=0, atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("args", [{"preset": "clip"}, {"normalization": "image_per_channel"}])
def test_half_outputs_are_the_float32_result_rounded(args, dtype):
    images = nchw(BATCH)
    half = ANT.Normalize(**args, dtype=dtype)(images)
    assert half.dtype == dtype
    torch.testing.assert_close(half, ANT.Normalize(**args)(images).to(dtype), rtol=0, atol=0)
    expected = cpu(AN.Normalize(**args), BATCH)
    # within half a unit in the last place of the dtype of AN.Normalize's float32 values
    ulp = np.spacing(np.abs(expected).astype(np.float32)) * (
        2.0**13 if dtype == torch.float16 else 2.0**16
    )
    assert np.all(np.abs(to_nhwc(half) - expected) <= ulp / 2 + FIXED_BOUND)


def test_bgr_input_of_a_bgr_preset_is_not_reversed():
    bgr = np.ascontiguousarray(BATCH[..., ::-1])
    module = ANT.Normalize(preset="caffe", input_channel_order="BGR", layout="NHWC")
    expected = cpu(AN.Normalize(preset="caffe", input_channel_order="BGR"), bgr)
    assert max_error(module(torch.from_numpy(bgr)), expected) <= FIXED_BOUND
    rgb = ANT.Normalize(preset="caffe", layout="NHWC")(torch.from_numpy(BATCH))
    torch.testing.assert_close(module(torch.from_numpy(bgr)), rgb, rtol=0, atol=0)


@pytest.mark.parametrize(
    "args", [{"preset": "clip"}, {"preset": "caffe"}, {"normalization": "min_max"}]
)
def test_out_buffer_is_written_and_returned(args):
    module = ANT.Normalize(**args, layout="NHWC")
    buffer = torch.full((6, 3, 48, 40), float("nan"))
    result = module(torch.from_numpy(BATCH), out=buffer)
    assert result is buffer
    expected = cpu(AN.Normalize(**args), BATCH)
    assert (
        max_error(buffer, expected) <= PER_IMAGE_BOUND
        if "normalization" in args
        else (max_error(buffer, expected) <= FIXED_BOUND)
    )
    with pytest.raises(ValueError, match=r"out must be a tensor of shape \(6, 3, 48, 40\)"):
        module(torch.from_numpy(BATCH), out=torch.empty(6, 3, 48, 41))
    with pytest.raises(ValueError, match="out must be contiguous"):
        module(torch.from_numpy(BATCH), out=torch.empty(6, 48, 40, 3).permute(0, 3, 1, 2))


def test_clip_range_spec():
    spec = AN.resolve_spec(mean=100.0, std=50.0, max_pixel_value=1.0, clip_range=(20, 230))
    out = ANT.Normalize.from_spec(spec, layout="NHWC")(torch.from_numpy(BATCH))
    expected = (np.clip(BATCH.astype(np.float64), 20, 230) - 100.0) / 50.0
    assert max_error(out, expected) <= FIXED_BOUND


# --------------------------------------------------------------------------------------------
# Construction, buffers, no_grad/autocast, ONNX
# --------------------------------------------------------------------------------------------


def test_from_transform_and_from_spec_take_the_same_spec():
    transform = AN.Normalize(preset="clip")
    for module in (
        ANT.Normalize.from_transform(transform),
        ANT.Normalize.from_spec(transform.spec),
    ):
        assert module.spec == transform.spec
        torch.testing.assert_close(module(nchw(BATCH)), ANT.Normalize(preset="clip")(nchw(BATCH)))
    with pytest.raises(TypeError, match="Replace albumentations' Normalize by albu_norm"):
        ANT.Normalize.from_transform(A.Normalize())
    with pytest.raises(TypeError, match="NormalizationSpec"):
        ANT.Normalize.from_spec({"mean": 0.5})


def test_buffers_move_save_and_keep_their_precision():
    module = ANT.Normalize(preset="caffe")
    assert set(module.state_dict()) == {"scale", "offset", "scale64", "offset64"}
    assert set(ANT.Normalize(preset="imagenet").state_dict()) == {"scale", "offset"}
    expected = module(nchw(BATCH))
    module.half()  # e.g. nn.Sequential(norm, model).half(): the constants keep their digits
    assert module.scale.dtype == torch.float32 and module.scale64.dtype == torch.float64
    torch.testing.assert_close(module(nchw(BATCH)), expected, rtol=0, atol=0)
    fresh = ANT.Normalize(preset="caffe")
    fresh.load_state_dict(module.state_dict())
    clone = pickle.loads(pickle.dumps(module))
    for other in (fresh, clone):
        torch.testing.assert_close(other(nchw(BATCH)), expected, rtol=0, atol=0)
    module.to("meta")  # buffers follow .to(device)
    assert module.offset.device.type == "meta"


def test_no_grad_inference_mode_and_autocast():
    module = ANT.Normalize(preset="imagenet")
    expected = module(nchw(BATCH))
    with torch.no_grad():
        torch.testing.assert_close(module(nchw(BATCH)), expected, rtol=0, atol=0)
    with torch.inference_mode():
        torch.testing.assert_close(module(nchw(BATCH)), expected, rtol=0, atol=0)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = module(nchw(BATCH))
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, expected, rtol=0, atol=0)


def test_non_cpu_code_path_shapes_on_the_meta_device():
    """The single-kernel path of CUDA (mixed-dtype addcmul into the output, per-channel when
    reversing) runs on the meta device: shapes, dtypes and out= rules, without numbers."""
    for args in ({"preset": "clip"}, {"preset": "caffe"}, {"normalization": "min_max"}):
        for layout, shape in (("NCHW", (2, 3, 8, 6)), ("NHWC", (2, 8, 6, 3))):
            for dtype in (torch.float32, torch.bfloat16):
                module = ANT.Normalize(**args, layout=layout, dtype=dtype).to("meta")
                out = module(torch.empty(shape, dtype=torch.uint8, device="meta"))
                assert out.shape == (2, 3, 8, 6) and out.dtype == dtype, (args, layout)


def test_onnx_export_gives_the_same_numbers():
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    import io
    import warnings

    module = ANT.Normalize(preset="imagenet").eval()
    example = nchw(BATCH[:2])
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's own deprecation/info warnings
        batch = torch.export.Dim("batch", min=1, max=1024)
        program = torch.onnx.export(
            module,
            (example,),
            dynamic_shapes={"images": {0: batch}},
            input_names=["images"],
            dynamo=True,
        )
        program.save(buffer)  # type: ignore[union-attr]
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    (values,) = session.run(None, {"images": nchw(BATCH).numpy()})  # another batch size
    expected = cpu(AN.Normalize(preset="imagenet"), BATCH)
    assert values.shape == (6, 3, 48, 40)
    assert float(np.max(np.abs(values.transpose(0, 2, 3, 1) - expected))) <= FIXED_BOUND


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


def test_errors_say_what_is_wrong_and_how_to_fix_it():
    norm = ANT.Normalize(preset="imagenet")
    gray = torch.zeros((2, 1, 8, 8), dtype=torch.uint8)
    with pytest.raises(
        ValueError, match=r"preset 'imagenet' has 3 channel values but the batch has 1 channel "
    ):
        norm(gray)
    with pytest.raises(ValueError, match=r"mean/std has 3 channel values .* 5 channels"):
        ANT.Normalize(mean=(0.1, 0.2, 0.3), std=0.2)(torch.zeros((1, 5, 4, 4), dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"Is the batch NHWC\? Pass layout='NHWC'"):
        norm(torch.zeros((2, 8, 8, 3), dtype=torch.uint8))
    with pytest.raises(TypeError, match=r"dtype torch\.int64, .*; expected torch\.uint8"):
        norm(torch.zeros((2, 3, 8, 8), dtype=torch.int64))
    with pytest.raises(ValueError, match=r"shape \(3, 8, 8\) \(3 dimensions\).*unsqueeze\(0\)"):
        norm(torch.zeros((3, 8, 8), dtype=torch.uint8))
    with pytest.raises(TypeError, match=r"torch\.from_numpy"):
        norm(np.zeros((2, 3, 8, 8), dtype=np.uint8))
    with pytest.raises(ValueError, match="empty"):
        norm(torch.zeros((0, 3, 8, 8), dtype=torch.uint8))
    bgr_gray = AN.NormalizationSpec(mean=(0.5,), std=(0.5,), channel_order="BGR", source="a")
    with pytest.raises(ValueError, match="reversing the channels needs 3, but the batch has 1"):
        ANT.Normalize.from_spec(bgr_gray)(torch.zeros((1, 1, 4, 4), dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"on meta but the module's constants are on cpu"):
        norm(torch.zeros((1, 3, 4, 4), dtype=torch.uint8, device="meta"))
    with pytest.raises(ValueError, match="layout must be 'NCHW'"):
        ANT.Normalize(layout="CHW")
    with pytest.raises(TypeError, match=r"dtype must be torch\.float32"):
        ANT.Normalize(dtype=torch.float64)
    with pytest.raises(ValueError, match="would be ignored"):  # the CPU's resolver, unchanged
        ANT.Normalize(preset="clip", normalization="image")

    masked = ANT.Normalize(normalization="image", masked=True)
    with pytest.raises(ValueError, match="takes its statistics over a mask"):
        masked(torch.zeros((1, 3, 4, 4), dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"mask must be an \(N, H, W\)"):
        masked(torch.zeros((1, 3, 4, 4), dtype=torch.uint8), mask=torch.ones((1, 4, 5)))
    with pytest.raises(ValueError, match="no fixed inverse"):
        ANT.Denormalize.from_transform(AN.Normalize(normalization="min_max"))
    with pytest.raises(TypeError, match="floating-point"):
        ANT.Denormalize()(torch.zeros((1, 3, 4, 4), dtype=torch.uint8))


# --------------------------------------------------------------------------------------------
# Denormalize
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", ["imagenet", "caffe", "clip"])
def test_denormalize_round_trip_and_cpu_equality(preset):
    values = ANT.Normalize(preset=preset)(nchw(BATCH))
    restored = ANT.Denormalize.from_transform(AN.Normalize(preset=preset), layout="NHWC")(values)
    assert restored.dtype == torch.uint8
    np.testing.assert_array_equal(restored.numpy(), BATCH)  # lossless
    expected = AN.Denormalize(preset=preset)(images=to_nhwc(values))["images"]
    np.testing.assert_array_equal(restored.numpy(), expected)
    chw = ANT.Denormalize(preset=preset)(values)
    np.testing.assert_array_equal(chw.numpy(), nchw(BATCH).numpy())


# --------------------------------------------------------------------------------------------
# split_pipeline
# --------------------------------------------------------------------------------------------


def _pipeline(*tail, normalize=None, **compose):
    normalize = normalize or AN.Normalize(preset="clip")
    return A.Compose(
        [A.RandomCrop(40, 32), A.HorizontalFlip(p=0.5), normalize, *tail], seed=137, **compose
    )


@pytest.mark.parametrize("to_tensor", [True, False])
@pytest.mark.parametrize("normalize", [{"preset": "clip"}, {"normalization": "image_per_channel"}])
def test_split_pipeline_gives_the_original_numbers(normalize, to_tensor):
    tail = [ToTensorV2()] if to_tensor else []
    original = _pipeline(*tail, normalize=AN.Normalize(**normalize))
    reference = _pipeline(*tail, normalize=AN.Normalize(**normalize))  # same seed, same draws
    before = [id(t) for t in original.transforms]
    cpu_pipeline, norm = ANT.split_pipeline(original, dtype=torch.float32)
    assert [id(t) for t in original.transforms] == before  # the user's pipeline is untouched
    assert [type(t).__name__ for t in cpu_pipeline] == ["RandomCrop", "HorizontalFlip"] + (
        ["ToTensorV2"] if to_tensor else []
    )
    assert norm.layout == ("NCHW" if to_tensor else "NHWC")
    photos = [load_photo(name) for name in PHOTO_NAMES]
    uint8 = [cpu_pipeline(image=photo)["image"] for photo in photos]
    expected = [reference(image=photo)["image"] for photo in photos]
    assert all(image.dtype in (np.uint8, torch.uint8) for image in uint8)
    batch = torch.stack(uint8) if to_tensor else torch.from_numpy(np.stack(uint8))
    out = norm(batch)
    wanted = torch.stack(expected) if to_tensor else nchw(np.stack(expected))
    torch.testing.assert_close(out, wanted, rtol=0, atol=PER_IMAGE_BOUND)
    # the original still normalizes, with its own random state
    assert original(image=photos[0])["image"].dtype in (np.float32, torch.float32)


def test_split_pipeline_keeps_the_compose_configuration():
    pipeline = _pipeline(bbox_params=A.BboxParams("pascal_voc", label_fields=["labels"]))
    cpu_pipeline, _ = ANT.split_pipeline(pipeline)
    result = cpu_pipeline(image=BATCH[0], bboxes=[(1, 2, 20, 30)], labels=[7])
    assert result["image"].dtype == np.uint8 and list(result["labels"]) == [7]


def test_split_pipeline_refuses_what_it_cannot_split_and_says_why():
    clip = AN.Normalize(preset="clip")
    with pytest.warns(UserWarning, match="skips 50% of calls"):
        half_the_time = AN.Normalize(preset="clip", p=0.5)
    cases = [
        (A.Compose([clip, A.HorizontalFlip()]), "followed by HorizontalFlip"),
        (A.Compose([A.OneOf([clip, A.Blur()])]), r"inside a OneOf \(pipeline.transforms\[0\]"),
        (A.Compose([A.SomeOf([clip], n=1)]), "inside a SomeOf"),
        (A.Compose([A.Sequential([clip])]), "inside a Sequential"),
        (A.Compose([half_the_time]), "Normalize has p=0.5"),
        (A.Compose([clip], p=0.5), "the Compose has p=0.5"),
        (A.Compose([A.HorizontalFlip()]), "no albu_norm.Normalize"),
        (A.Compose([A.Normalize()]), "is albumentations.Normalize: replace it"),
        (A.Compose([clip, AN.Normalize()]), "has 2 albu_norm.Normalize"),
        (A.Compose([clip, ToTensorV2(), A.Blur()]), "followed by ToTensorV2, Blur"),
    ]
    for pipeline, message in cases:
        with pytest.raises(ValueError, match=message):
            ANT.split_pipeline(pipeline)
    with pytest.raises(TypeError, match=r"takes an albumentations\.Compose"):
        ANT.split_pipeline([clip])


# --------------------------------------------------------------------------------------------
# DeviceLoader
# --------------------------------------------------------------------------------------------


class _Photos(torch.utils.data.Dataset):
    def __init__(self, pipeline):
        self.pipeline = pipeline

    def __len__(self):
        return 6

    def __getitem__(self, index):
        image = self.pipeline(image=BATCH[index])["image"]
        return image, {"label": index, "box": torch.tensor([index, 0, 4, 4])}


def test_device_loader_over_a_dataloader():
    pipeline = A.Compose([AN.Normalize(normalization="image"), ToTensorV2()])
    cpu_pipeline, norm = ANT.split_pipeline(pipeline)
    loader = torch.utils.data.DataLoader(_Photos(cpu_pipeline), batch_size=4, num_workers=0)
    device_loader = ANT.DeviceLoader(loader, device="cpu", normalize=norm)
    assert len(device_loader) == 2 and device_loader.dataset is loader.dataset
    seen = 0
    for images, targets in device_loader:
        expected = np.stack(
            [pipeline(image=img)["image"].numpy() for img in BATCH[seen : seen + len(images)]]
        )
        assert images.dtype == torch.float32
        assert float(np.max(np.abs(images.numpy() - expected))) <= PER_IMAGE_BOUND
        assert targets["label"].tolist() == list(range(seen, seen + len(images)))
        seen += len(images)
    assert seen == 6


def test_device_loader_moves_every_tensor_and_keeps_batch_types():
    Batch = collections.namedtuple("Batch", "images targets")
    images = nchw(BATCH[:2])
    boxes = torch.ones(2, 4)
    batches = [
        images,
        (images, boxes),
        [images, {"boxes": [boxes], "name": "x"}],
        Batch(images, boxes),
        {"image": images, "boxes": boxes, "ids": [1, 2]},
        {"images": images},
    ]
    loader = ANT.DeviceLoader(batches, device="meta", normalize=ANT.Normalize(preset="clip"))
    out = list(loader)
    assert out[0].device.type == "meta" and out[0].dtype == torch.float32
    assert isinstance(out[1], tuple) and out[1][1].device.type == "meta"
    assert isinstance(out[2], list) and out[2][1]["boxes"][0].device.type == "meta"
    assert out[2][1]["name"] == "x"
    assert isinstance(out[3], Batch) and out[3].targets.device.type == "meta"
    assert out[4]["image"].dtype == torch.float32 and out[4]["ids"] == [1, 2]
    assert out[5]["images"].shape == (2, 3, 48, 40)
    plain = list(ANT.DeviceLoader([(images, boxes)], device="cpu"))  # no normalize: moved only
    assert plain[0][0].dtype == torch.uint8
    for bad, message in (
        ({"img": images}, "needs exactly one of the keys"),
        ((np.zeros(2),), "must be a torch.Tensor"),
        (3, "DeviceLoader takes batches"),
    ):
        with pytest.raises(TypeError, match=message):
            list(ANT.DeviceLoader([bad], device="cpu"))


def test_device_loader_stream_protocol(monkeypatch):
    """The CUDA path's order of operations, with stand-in streams (no GPU here): batch k is
    handed out only after the consumer's stream waited for the side stream that prepared it,
    batch k + 1 is prepared before batch k is handed out, and every tensor of a handed-out batch
    is recorded on the consumer's stream."""
    import contextlib

    from albu_norm.torch import loader as loader_module

    events = []

    class FakeStream:
        def __init__(self, name="side", device=None):
            self.name = name

        def wait_stream(self, other):
            events.append(f"{self.name} waits {other.name}")

    current = FakeStream("current")

    class Streams:
        Stream = FakeStream

        @staticmethod
        def current_stream(device):
            return current

        @staticmethod
        @contextlib.contextmanager
        def stream(stream):
            events.append(f"enter {stream.name}")
            yield
            events.append(f"exit {stream.name}")

    recorded = []
    monkeypatch.setattr(torch.Tensor, "record_stream", lambda t, s: recorded.append((t, s)))
    monkeypatch.setattr(loader_module, "_pin", lambda t: t)
    batches = [
        (torch.full((1, 3, 2, 2), i, dtype=torch.uint8), torch.tensor([i])) for i in range(3)
    ]
    device_loader = ANT.DeviceLoader(batches, device="cpu", normalize=ANT.Normalize())
    handed = []
    for images, label in device_loader._iter_streamed(Streams):
        events.append(f"yield {int(label)}")
        handed.append((images, label))
    assert events == [
        "enter side", "exit side", "current waits side",
        "enter side", "exit side", "yield 0", "current waits side",
        "enter side", "exit side", "yield 1", "current waits side",
        "yield 2",
    ]  # fmt: skip
    assert [int(label) for _, label in handed] == [0, 1, 2]
    assert all(images.dtype == torch.float32 for images, _ in handed)
    assert len(recorded) == 6 and all(s is current for _, s in recorded)
    assert {id(t) for t, _ in recorded} == {id(t) for batch in handed for t in batch}


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_device_loader_without_cuda_says_so():
    with pytest.raises(ValueError, match="CUDA is not available here"):
        ANT.DeviceLoader([], device="cuda")


# --------------------------------------------------------------------------------------------
# masked statistics: the CPU transform's numbers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", AN.functional.PER_IMAGE_NORMALIZATIONS)
@pytest.mark.parametrize("outside", ["normalize", "fill"])
def test_masked_statistics_match_the_cpu(mode, outside):
    rng = np.random.default_rng(5)
    masks = rng.random((len(BATCH), *BATCH.shape[1:3])) < 0.6
    masks[1] = False  # no kept pixel: every value is fill
    masks[2] = False
    masks[2, 3, 4] = True  # one kept pixel: zeros
    transform = AN.Normalize(normalization=mode, mask_key="mask", outside=outside, fill=-2.0)
    module = ANT.Normalize.from_transform(transform)
    out = module(nchw(BATCH), mask=torch.from_numpy(masks))
    expected = A.Compose([transform])(images=BATCH, masks=masks.astype(np.uint8))["images"]
    assert max_error(out, expected) <= 1e-5
    assert torch.all(out[1] == -2.0)


def test_ignore_value_and_fixed_fill_match_the_cpu():
    batch = BATCH.copy()
    batch[:, :5] = 0  # nodata rows
    for kwargs in (
        {"normalization": "image_per_channel", "ignore_value": 0},
        {"preset": "imagenet", "ignore_value": 0, "outside": "fill", "fill": 0.0},
    ):
        transform = AN.Normalize(**kwargs)
        out = ANT.Normalize.from_transform(transform)(nchw(batch))
        expected = A.Compose([transform])(images=batch)["images"]
        assert max_error(out, expected) <= 2e-6 if "preset" in kwargs else 1e-5


@pytest.mark.parametrize("preset", ["sentinel2_torchgeo", "prithvi_eo_v2", "ssl4eo_s12_s1"])
def test_multispectral_presets_on_their_bands(preset):
    found = AN.get_preset(preset)
    bands, top = len(found.mean), found.max_pixel_value
    raw = (np.random.default_rng(2).random((2, 6, 5, bands)) * top).astype(np.float32)
    transform = AN.Normalize(preset=preset)
    out = ANT.Normalize.from_transform(transform)(torch.from_numpy(raw).permute(0, 3, 1, 2))
    expected = A.Compose([transform])(images=raw)["images"]
    np.testing.assert_allclose(to_nhwc(out), expected, rtol=1e-6, atol=2e-6)


@pytest.mark.parametrize("preset", ["imagenet", "clip", "caffe", "inception"])
def test_float64_input_is_correctly_rounded_as_on_the_cpu(preset):
    # Class: float64 input evaluated with float32-rounded constants (0.1.0 of this module:
    # 28,002 of 49,152 values not the float64 formula rounded to float32, errors of 3.4e-7).
    spec = AN.Normalize(preset=preset).spec
    images = np.random.default_rng(7).random((2, 64, 48, 3))
    source = images[..., ::-1] if spec.reverse_channels else images
    maximum = 1.0 if spec.max_pixel_value is None else spec.max_pixel_value
    expected = fixed(source, spec.mean, spec.std, maximum)
    out = to_nhwc(ANT.Normalize(preset=preset)(nchw(images))).astype(np.float64)
    half_ulp = np.spacing(np.abs(expected).astype(np.float32)).astype(np.float64) / 2
    assert np.all(np.abs(out - expected) <= half_ulp * (1 + 1e-6))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
def test_ignore_value_compares_in_the_batch_dtype(dtype):
    # Class: one nodata rule on every backend: a float batch holds dtype(0.1), never 0.1.
    rng = np.random.default_rng(8)
    values = torch.from_numpy(rng.random((2, 3, 6, 5))).to(dtype)
    nodata = torch.from_numpy(rng.random((2, 6, 5)) < 0.4)
    values = values.masked_fill(nodata.unsqueeze(1), 0.1)
    module = ANT.Normalize(normalization="image_per_channel", ignore_value=0.1, outside="fill")
    out = module(values)
    assert torch.all(out.permute(0, 2, 3, 1)[nodata] == 0.0)
    data = values.double().numpy()
    for n in range(2):
        kept = data[n][:, ~nodata[n].numpy()]  # (C, K)
        expected = (data[n] - kept.mean(axis=1)[:, None, None]) / kept.std(axis=1)[:, None, None]
        inside = ~nodata[n].numpy()
        np.testing.assert_allclose(out[n].double().numpy()[:, inside], expected[:, inside],
                                   rtol=1e-5, atol=1e-5)  # fmt: skip


def test_uint8_nodata_outside_the_dtype_matches_nothing():
    batch = nchw(BATCH)
    for value in (0.5, 300, -1):
        module = ANT.Normalize(normalization="image", ignore_value=value)
        torch.testing.assert_close(module(batch), ANT.Normalize(normalization="image")(batch))
