"""albu-norm verify / albu_norm.verify.compare: a model's normalization against a pipeline's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

A = pytest.importorskip("albumentations")

import albu_norm as AN  # noqa: E402
from albu_norm.cli import main  # noqa: E402
from albu_norm.verify import compare  # noqa: E402


def _save(tmp_path: Path, name: str, transforms: list) -> Path:
    path = tmp_path / name
    A.save(A.Compose(transforms), str(path), data_format="yaml" if name.endswith("ml") else "json")
    return path


def _onnx_model(tmp_path: Path, preset: str = "inception", input_dtype: str = "uint8") -> Path:
    onnx = pytest.importorskip("onnx")
    import albu_norm.onnx as ANO

    helper = onnx.helper
    x = helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["N", 3, 224, 224])
    y = helper.make_tensor_value_info("output", onnx.TensorProto.FLOAT, ["N", 3, 224, 224])
    graph = helper.make_graph([helper.make_node("Identity", ["input"], ["output"])], "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / f"model_{input_dtype}.onnx"
    ANO.prepend_normalization(
        model, AN.Normalize(preset=preset), path, layout="NHWC", input_dtype=input_dtype
    )
    return path


def _eval(preset: str = "inception", crop: int = 224) -> list:
    return [A.SmallestMaxSize(max_size=256), A.CenterCrop(crop, crop), AN.Normalize(preset=preset)]


def test_a_prepended_onnx_model_and_its_pipeline_agree(tmp_path, capsys) -> None:
    model = _onnx_model(tmp_path)
    pipeline = _save(tmp_path, "train.yaml", _eval())
    assert main(["verify", str(model), str(pipeline)]) == 0
    out = capsys.readouterr().out
    assert "input size (H x W)" in out and "224 x 224" in out and "DIFFERS" not in out
    assert main(["verify", str(model), "inception"]) == 0  # a preset name as the pipeline


@pytest.mark.parametrize(
    ("transforms", "field"),
    [
        (_eval(preset="imagenet"), "mean"),
        (_eval(crop=192), "input size"),
        (_eval(preset="caffe"), "channel order"),
        ([A.Resize(224, 224), AN.Normalize(normalization="image")], "normalization"),
        (
            [A.Resize(224, 224), AN.Normalize(preset="inception", max_pixel_value=65535)],
            "max_pixel",
        ),
    ],
)
def test_a_mismatched_pipeline_exits_1_with_a_table(tmp_path, capsys, transforms, field) -> None:
    model = _onnx_model(tmp_path)
    pipeline = _save(tmp_path, "train.json", transforms)
    assert main(["verify", str(model), str(pipeline)]) == 1
    captured = capsys.readouterr()
    assert any(line.startswith(field) and "DIFFERS" in line for line in captured.out.splitlines())
    assert "differ in" in captured.err
    assert not compare(model, pipeline).agree


def test_model_configs_hugging_face_and_timm(tmp_path) -> None:
    hf = tmp_path / "preprocessor_config.json"
    hf.write_text(
        json.dumps(
            {
                "image_mean": [0.5, 0.5, 0.5],
                "image_std": [0.5, 0.5, 0.5],
                "rescale_factor": 0.00392156862745098,
                "do_center_crop": True,
                "crop_size": {"height": 224, "width": 224},
                "size": {"shortest_edge": 256},
            }
        )
    )
    result = compare(hf, _save(tmp_path, "eval.yaml", _eval()))
    assert result.agree, result.table()
    crop = next(row for row in result.rows if row.name == "crop fraction")
    assert crop.same is True and crop.model == "0.875"
    timm = tmp_path / "config.json"
    cfg = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "crop_pct": 0.875}
    timm.write_text(json.dumps({"pretrained_cfg": {**cfg, "input_size": [3, 224, 224]}}))
    # timm/resnet50.a1_in1k evaluates with crop_pct 0.95: the same numbers, another crop
    result = compare(timm, "timm/resnet50.a1_in1k")
    assert [row.name for row in result.differences] == ["crop fraction"]
    assert compare(timm, "imagenet").agree  # a plain preset says nothing of the crop


@pytest.mark.parametrize(
    "arguments",
    [
        ["verify"],
        ["verify", "missing.onnx", "inception"],
        ["verify", "{model}", "no_such_preset"],
        ["verify", "{model}", "missing.yaml"],
        ["verify", "{plain}", "inception"],
        ["verify", "{model}", "{no_normalize}"],
    ],
)
def test_bad_usage_exits_2(tmp_path, capsys, arguments) -> None:
    onnx = pytest.importorskip("onnx")
    plain = tmp_path / "plain.onnx"
    onnx.save_model(onnx.load(str(_onnx_model(tmp_path))), str(plain))
    model = onnx.load(str(plain))
    del model.metadata_props[:]
    onnx.save_model(model, str(plain))
    names = {
        "model": str(_onnx_model(tmp_path)),
        "plain": str(plain),
        "no_normalize": str(_save(tmp_path, "crop.json", [A.CenterCrop(8, 8)])),
    }
    arguments = [a.format(**names) for a in arguments]
    try:
        status = main(arguments)
    except SystemExit as stop:  # argparse
        status = stop.code
    assert status == 2
    assert "error" in capsys.readouterr().err


def test_images_report_what_the_network_receives(tmp_path, capsys) -> None:
    model = _onnx_model(tmp_path)
    pipeline = _save(tmp_path, "eval.yaml", _eval())
    folder = Path(__file__).parent.parent / "examples" / "images"
    plot = tmp_path / "histograms.png"
    assert main(["verify", str(model), str(pipeline), "--images", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "network input over 4 images" in out
    from albu_norm.verify import network_input_statistics, read_pipeline_side

    statistics = network_input_statistics(read_pipeline_side(pipeline), folder)
    # inception's (x / 255 - 0.5) / 0.5: every value in [-1, 1]
    assert min(statistics.low) >= -1.0 and max(statistics.high) <= 1.0
    preset = network_input_statistics(read_pipeline_side("inception"), folder)
    assert preset.images == 4 and min(preset.low) == -1.0
    if pytest.importorskip("matplotlib"):
        args = ["verify", str(model), str(pipeline), "--images", str(folder), "--histograms"]
        assert main([*args, str(plot)]) == 0
        assert plot.read_bytes()[:4] == b"\x89PNG"
    assert main(["verify", str(model), str(pipeline), "--histograms", str(plot)]) == 2


@pytest.mark.parametrize(
    ("max_pixel_value", "status"),
    [(None, 0), (65535.0, 0), (255.0, 1)],
)
def test_a_uint16_model_is_compared_under_its_own_dtype_rule(tmp_path, max_pixel_value, status):
    # prepend_normalization(..., input_dtype="uint16") divides by 65535: a pipeline that
    # divides by 255 differs, one that divides by 65535 (or follows the dtype rule) agrees
    path = _onnx_model(tmp_path, "imagenet", input_dtype="uint16")
    normalize = AN.Normalize(preset="imagenet", max_pixel_value=max_pixel_value)
    pipeline = _save(tmp_path, "p.json", [A.Resize(224, 224), normalize])
    assert main(["verify", str(path), str(pipeline)]) == status
