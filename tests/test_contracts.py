"""The package's promise, class by class: from a folder of images to a model's input, every bad
input is a clear error and nothing is silently wrong. Each numbered class of defect has a test
that failed on 0.1.0 and a property test over the class (docs/normalization.md, "Contracts")."""

from __future__ import annotations

import inspect
import json
import math
import subprocess
import sys
import warnings
from pathlib import Path

import albumentations as A
import cv2
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import images

import albu_norm as AN
from albu_norm import cli
from albu_norm import functional as F
from albu_norm.spatial import local_contrast_normalize
from albu_norm.spec import resolve_spec
from albu_norm.stats import RunningStats, compute_stats, find_images

import reference

EPS32 = float(np.finfo(np.float32).eps)


def uint8_images(max_side: int = 8, channels: int = 3) -> st.SearchStrategy:
    return hnp.arrays(
        np.uint8, st.tuples(st.integers(1, max_side), st.integers(1, max_side), st.just(channels))
    )


# 1. A stats file records the scale of its data: uint8 and float [0, 1] give the same output.


@given(data=st.lists(uint8_images(), min_size=1, max_size=3), img=uint8_images())
def test_1_stats_file_follows_the_dtype_rule(tmp_path_factory, data, img):
    stats = RunningStats()
    for one in data:
        stats.update(one)
    record = stats.result().to_dict()
    if min(record["std"]) == 0:
        return  # a uniform dataset has no std to divide by: a clear error, tested elsewhere
    path = tmp_path_factory.mktemp("stats") / "stats.json"
    path.write_text(json.dumps({"stats": record}))
    transform = AN.Normalize(stats=str(path))
    as_float = (img / 255.0).astype(np.float32)
    np.testing.assert_allclose(
        transform(image=as_float)["image"], transform(image=img)["image"], atol=8e-5, rtol=1e-6
    )
    reloaded = A.from_dict(A.to_dict(transform))  # the saved record keeps the rule
    assert reloaded.spec.max_pixel_value is None


def _same(value, default) -> bool:
    try:
        return bool(value == default)
    except Exception:
        return False


# 2. Every construction error is a ValueError/TypeError that Albumentations lets through.

GARBAGE = st.one_of(
    st.text(max_size=5),
    st.sets(st.floats(0.1, 1), min_size=1, max_size=3),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.sampled_from([float("nan"), float("inf"), -1.0, 0.0, 1e300, -(10**9), True, object()]),
    st.lists(st.one_of(st.floats(allow_nan=True), st.text(max_size=2)), max_size=4),
)
TRANSFORMS = ["Normalize", "Denormalize", "RobustNormalize", "PerPixelNormalize",
              "LocalContrastNormalize"]  # fmt: skip


@settings(max_examples=150)
@given(name=st.sampled_from(TRANSFORMS), data=st.data())
def test_2_construction_errors_are_never_a_warning_and_a_default(name, data, tmp_path_factory):
    cls = getattr(AN, name)
    argument = data.draw(st.sampled_from(cls.init_arguments()), label="argument")
    value = data.draw(GARBAGE, label="value")
    kwargs = {argument: value}
    if name == "PerPixelNormalize" and argument != "mean_image":
        folder = tmp_path_factory.mktemp("pixel")
        np.save(folder / "mean.npy", np.zeros((2, 2), np.float32))
        kwargs["mean_image"] = str(folder / "mean.npy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Albumentations' "warn and use defaults" would raise
        for build in (
            lambda: cls(**kwargs),
            lambda: A.from_dict({"transform": {
                "__class_fullname__": f"albu_norm.transforms.{name}", "p": 1.0, **kwargs}}),
        ):  # fmt: skip
            try:
                transform = build()
            except (ValueError, TypeError) as error:
                assert not isinstance(error, Warning)
                continue
            # accepted (pydantic may coerce, e.g. "1" -> 1.0), but never silently the default
            default = inspect.signature(cls.__init__).parameters[argument].default
            stored = getattr(transform, argument)
            assert not (stored is default or stored == default) or _same(value, default), (
                f"{name}({argument}={value!r}) became the default {default!r}"
            )


@pytest.mark.parametrize(
    "text", ["{mean: [0.5, std: [0.2]", "mean: [1, 2]\nstd: 0\n", "stats: 3", "not: stats"]
)
def test_2_malformed_stats_files_never_become_imagenet(tmp_path, text):
    path = tmp_path / "stats.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match="stats"):
        AN.Normalize(stats=str(path))
    pipeline_file = tmp_path / "pipeline.yaml"
    A.save(A.Compose([AN.Normalize(stats={"mean": [0.5], "std": [0.2]})]), str(pipeline_file),
           data_format="yaml")  # fmt: skip
    saved = pipeline_file.read_text().replace("stats:\n", f"stats: {path}\n    old_stats:\n", 1)
    pipeline_file.write_text(saved)
    with pytest.raises(ValueError):
        AN.load(pipeline_file)


# 3. input_channel_order is honoured with a stats file as with a preset of the same numbers.


@given(
    mean=st.lists(st.floats(0.05, 0.95), min_size=3, max_size=3),
    std=st.lists(st.floats(0.05, 0.5), min_size=3, max_size=3),
    order=st.sampled_from(["RGB", "BGR"]),
    img=uint8_images(),
)
def test_3_stats_channel_order_as_a_preset(mean, std, order, img):
    name = "contract_3"
    AN.register_preset(name, mean, std, channel_order="BGR", overwrite=True)
    try:
        from_preset = AN.Normalize(preset=name, input_channel_order=order)
        record = {"mean": mean, "std": std, "channel_order": "BGR"}
        from_stats = AN.Normalize(stats=record, input_channel_order=order)
        np.testing.assert_array_equal(
            from_stats(image=img)["image"], from_preset(image=img)["image"]
        )
    finally:
        AN.unregister_preset(name)


# 4. A folder mixing 8- and 16-bit files: one scale; mixed channel counts: a clear refusal.


@given(
    parts=st.lists(
        st.tuples(
            st.sampled_from([np.uint8, np.uint16, np.float32]),
            st.integers(1, 5),
            st.integers(0, 2**32 - 1),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_4_mixed_dtypes_on_one_scale(parts):
    stats, scaled = RunningStats(), []
    for dtype, side, seed in parts:
        rng = np.random.default_rng(seed)
        top = {np.uint8: 255, np.uint16: 65535, np.float32: 1.0}[dtype]
        img = (rng.random((side, side + 1, 2)) * top).astype(dtype)
        stats.update(img)
        scaled.append(img.reshape(-1, 2).astype(np.float64) / top)
    result = stats.result(percentiles=(0, 37.5, 100))
    values = np.concatenate(scaled)
    np.testing.assert_allclose(result.mean, values.mean(axis=0), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(result.std, values.std(axis=0), rtol=1e-9, atol=1e-12)
    unit = result.max_pixel_value  # one dtype keeps raw units, several are on the 0-1 scale
    np.testing.assert_allclose(np.divide(result.min_raw, unit), values.min(axis=0), rtol=1e-15)
    if all(dtype != np.float32 for dtype, _, _ in parts):  # exact percentiles of integers
        for q in (0, 37.5, 100):
            np.testing.assert_allclose(
                np.divide(result.percentiles_raw[q], unit),
                np.percentile(values, q, axis=0),
                rtol=1e-12,
            )


def test_4_mixed_folder_and_exit_statuses(tmp_path, capsys):
    rng = np.random.default_rng(0)
    eight = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    sixteen = rng.integers(0, 65536, (20, 30, 3), dtype=np.uint16)
    gray = rng.integers(0, 256, (20, 30), dtype=np.uint8)
    for name, img in (("a.png", eight), ("b.png", sixteen), ("c.png", gray)):
        cv2.imwrite(str(tmp_path / name), img if img.ndim == 2 else img[..., ::-1])
    out = tmp_path / "stats.json"
    assert cli.main(["stats", str(tmp_path), "--out", str(out), "--no-progress"]) == 0
    record = json.loads(out.read_text())["stats"]
    assert record["dtype"] == "mixed (uint16, uint8)" and record["max_pixel_value"] is None
    grays = np.repeat(gray.reshape(-1, 1), 3, axis=1)
    values = np.concatenate(
        [eight.reshape(-1, 3) / 255, sixteen.reshape(-1, 3) / 65535, grays / 255]
    )
    np.testing.assert_allclose(record["mean"], values.mean(axis=0), rtol=1e-12)
    capsys.readouterr()
    assert cli.main(["stats", str(tmp_path), "--color", "unchanged", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "2 with 3 channel(s)" in err and "1 with 1 channel(s)" in err and "--color" in err
    (tmp_path / "broken.png").write_bytes(b"\x89PNG broken")
    assert cli.main(["stats", str(tmp_path), "--out", str(out), "--no-progress"]) == 1
    assert "statistics not written" in capsys.readouterr().err
    out.unlink()
    args = ["stats", str(tmp_path), "--out", str(out), "--no-progress", "--allow-failures"]
    assert cli.main(args) == 0
    assert json.loads(out.read_text())["files_failed"][0]["file"].endswith("broken.png")


# 5. A rejected image leaves the accumulator unchanged.


@settings(max_examples=60)
@given(
    steps=st.lists(
        st.sampled_from(["ok", "other_shape", "nan", "other_channels", "int64"]), max_size=6
    ),
    per_pixel=st.booleans(),
)
def test_5_rejected_images_change_nothing(steps, per_pixel):
    rng = np.random.default_rng(len(steps))
    make = {
        "ok": lambda: rng.random((4, 5, 3)),
        "other_shape": lambda: rng.random((5, 5, 3)),
        "nan": lambda: np.full((4, 5, 3), np.nan),
        "other_channels": lambda: rng.random((4, 5, 2)),
        "int64": lambda: np.zeros((4, 5, 3), np.int64),
    }
    fed, clean = RunningStats(per_pixel=per_pixel), RunningStats(per_pixel=per_pixel)
    for step in ["ok", *steps]:
        img = make[step]()
        try:
            fed.update(img)
        except (ValueError, TypeError):
            continue
        clean.update(img)
    a, b = fed.result(), clean.result()
    assert a == b
    if per_pixel:
        np.testing.assert_array_equal(a.pixel_mean, b.pixel_mean)
        np.testing.assert_array_equal(a.pixel_std, b.pixel_std)


# 6. More than OpenCV's 128 channels: exact, never a cv2.error, never pooled statistics.


@settings(max_examples=12)
@given(
    channels=st.sampled_from([129, 200, 512]),
    dtype=st.sampled_from([np.uint8, np.uint16, np.float32, np.float64]),
    mode=st.sampled_from(F.PER_IMAGE_NORMALIZATIONS),
    seed=st.integers(0, 100),
)
def test_6_many_channels_are_exact(channels, dtype, mode, seed):
    rng = np.random.default_rng(seed)
    top = 255 if dtype == np.uint8 else 60000
    img = (rng.random((3, 4, channels)) * np.linspace(1, top, channels)).astype(dtype)
    out = F.normalize_per_image(img, mode)
    reference.assert_close(out, reference.per_image(img, mode), 8.0)
    fixed = F.normalize(img, np.linspace(0, 0.5, channels), np.linspace(0.1, 1, channels), 1.0)
    ref = reference.fixed(img, np.linspace(0, 0.5, channels), np.linspace(0.1, 1, channels), 1.0)
    reference.assert_close(fixed, ref, np.abs(img.astype(np.float64)) * 10 + 1)
    if dtype == np.uint16 and channels > 200:
        return  # 65536-bin exact histograms: 512 channels would hold 268 MB of counts
    stats = RunningStats().update(img).result()
    expected_mean = img.reshape(-1, channels).astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(stats.mean_raw, expected_mean, rtol=1e-12)


def test_6_more_than_the_documented_limit_is_a_clear_error():
    with pytest.raises(ValueError, match="at most 512 are supported"):
        F.normalize_per_image(np.zeros((2, 2, 513), np.uint8), "image")


# 7. min_max: the minimum maps to exactly 0, the maximum to exactly 1, nothing outside.


@given(img=images(kinds=("random", "extreme", "tiny")), per_channel=st.booleans())
def test_7_min_max_is_exactly_zero_to_one(img, per_channel):
    mode = "min_max_per_channel" if per_channel else "min_max"
    out = F.normalize_per_image(img, mode)
    assert np.all((out >= 0) & (out <= 1))
    x = img.reshape(img.shape[0], img.shape[1], -1)
    o = out.reshape(x.shape)
    planes = [(x[..., c], o[..., c]) for c in range(x.shape[2])] if per_channel else [(x, o)]
    for values, normalized in planes:
        if values.min() < values.max():
            assert normalized[values == values.min()].max() == 0.0
            assert normalized[values == values.max()].min() == 1.0
    assert not np.any(np.log(np.where(out > 0, out, 1)) > 0)


# 8. Ordered numbers only; preset names that differ from a built-in only by case.

UNORDERED = st.one_of(
    st.sets(st.floats(0.1, 0.9), min_size=2, max_size=3),
    st.frozensets(st.floats(0.1, 0.9), min_size=2, max_size=3),
    st.dictionaries(st.sampled_from("RGB"), st.floats(0.1, 0.9), min_size=1),
    st.text(alphabet="0123456789.", min_size=1, max_size=4),
)


@given(value=UNORDERED, where=st.sampled_from(["mean", "std"]))
def test_8_unordered_or_string_values_are_refused(value, where):
    kwargs = {"mean": (0.5, 0.5, 0.5), "std": (0.2, 0.2, 0.2), where: value}
    for build in (
        lambda: AN.Normalize(**kwargs),
        lambda: AN.register_preset("contract_8", **kwargs),
        lambda: resolve_spec(**kwargs),
    ):
        with pytest.raises(ValueError, match=where):
            build()
    assert "contract_8" not in AN.list_presets()


@pytest.mark.parametrize("name", ["ImageNet", "CLIP", "Caffe", "imageNet"])
def test_8_case_variants_of_built_in_names_are_refused(name):
    with pytest.raises(ValueError, match="only by case"):
        AN.register_preset(name, mean=(0.1,), std=(0.2,))


# 9. Model configs with a rounded 1/255.


@given(digits=st.integers(7, 17))
def test_9_rounded_rescale_factor_is_the_dtype_rule(digits):
    factor = float(f"{1 / 255:.{digits}g}")
    config = {"image_mean": [0.5] * 3, "image_std": [0.5] * 3, "rescale_factor": factor}
    transform = AN.Normalize.from_model_config(config)
    img = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    np.testing.assert_allclose(
        transform(image=(img / 255).astype(np.float32))["image"],
        transform(image=img)["image"],
        atol=2e-6,
    )


# 10. The ends of the float64 range: f(k x) == f(x), never Inf/NaN.


@settings(max_examples=60)
@given(
    img=images(dtypes=(np.float64,), kinds=("random", "tiny", "extreme")), k=st.integers(-600, 600)
)
def test_10_scale_invariance_everywhere(img, k):
    with np.errstate(over="ignore", under="ignore"):
        scaled = np.ldexp(img, k)
    tiny = np.finfo(np.float64).tiny
    if (
        not np.all(np.isfinite(scaled))
        or np.any((scaled != 0) & (np.abs(scaled) < tiny))
        or np.any((img != 0) & (np.abs(img) < tiny))
    ):
        return
    for f in (
        lambda x: local_contrast_normalize(x, 3, floor="mean"),
        lambda x: F.normalize_per_image(x, "image_per_channel"),
        lambda x: AN.RobustNormalize(method="percentile_zscore")(image=x)["image"],
    ):
        a, b = f(img), f(scaled)
        assert np.all(np.isfinite(a)) and np.all(np.isfinite(b))
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    a, b = RunningStats().update(img).result(), RunningStats().update(scaled).result()
    np.testing.assert_allclose(np.ldexp(a.mean_raw, k), b.mean_raw, rtol=1e-12, atol=0)
    np.testing.assert_allclose(np.ldexp(a.std_raw, k), b.std_raw, rtol=1e-9, atol=0)


def test_10_per_pixel_beyond_float32_is_a_clear_error():
    from albu_norm.spatial import normalize_per_pixel

    img = np.full((2, 2), 1e300)
    with pytest.raises(ValueError, match="exceed the float32 range"):
        normalize_per_pixel(img, np.zeros((2, 2), np.float32))


# Rough edges


def test_cli_argument_errors_before_reading(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "compute_stats", lambda *a, **k: pytest.fail("files were read"))
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((4, 4, 3), np.uint8))
    for extra, message in (
        (["--percentiles", "150"], "--percentiles must be in [0, 100]"),
        (["--sample", "-3"], "--sample must be"),
        (["--out", str(tmp_path / "s.txt")], "--out must end in .json, .yaml or .yml"),
        (["--out", str(tmp_path / "missing" / "s.json")], "folder is missing or not writable"),
        (["--max-pixel-value", "0"], "--max-pixel-value must be"),
    ):
        assert cli.main(["stats", str(tmp_path), *extra]) == 2, extra
        assert message in capsys.readouterr().err
    assert cli.main(["stats", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_reads_signed_and_float_tiffs(tmp_path, capsys):
    ct = (np.arange(64 * 48).reshape(64, 48) - 1024).astype(np.int16)  # Hounsfield-like
    cv2.imwrite(str(tmp_path / "ct.tif"), ct)
    depth = np.linspace(-1, 1, 3 * 20 * 10).reshape(20, 10, 3).astype(np.float64)
    cv2.imwrite(str(tmp_path / "depth.tiff"), depth)
    out = tmp_path / "ct.json"
    args = ["stats", str(tmp_path / "ct.tif"), "--color", "gray", "--out", str(out)]
    assert cli.main([*args, "--no-progress"]) == 0
    record = json.loads(out.read_text())["stats"]
    assert record["dtype"] == "float32" and math.isclose(record["mean_raw"][0], ct.mean())
    assert cli.main(["stats", str(tmp_path / "depth.tiff"), "--no-progress"]) == 0


def test_cli_unreachable_scheduler_is_a_short_message():
    pytest.importorskip("dask.distributed")
    from albu_norm.stats import compute_stats_dask

    with pytest.raises(ValueError, match="cannot reach the Dask scheduler"):
        compute_stats_dask([Path("x.png")], "tcp://127.0.0.1:9", timeout=0.3)


def test_cli_presets_into_a_closed_pipe():
    code = "from albu_norm.cli import main; raise SystemExit(main(['presets']))"
    result = subprocess.run(
        f'{sys.executable} -c "{code}" | head -1', shell=True, capture_output=True, text=True
    )
    assert result.stdout.count("\n") == 1 and "Error" not in result.stderr, result.stderr


def test_without_tqdm_there_is_no_bar(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((4, 4, 3), np.uint8))
    assert compute_stats(find_images([tmp_path]), workers=1, progress=True).stats.images == 1


@pytest.mark.parametrize(
    ("array", "reason"),
    [
        (np.zeros((2, 2), bool), "real numbers"),
        (np.zeros((2, 2), np.complex64), "real numbers"),
        (np.zeros((0, 2), np.float32), "non-empty"),
        (np.array([[1.0, np.nan]]), "NaN"),
    ],
)
def test_per_pixel_statistics_files_say_what_is_wrong(tmp_path, array, reason):
    path = tmp_path / "mean.npy"
    np.save(path, array)
    with pytest.raises(ValueError, match=reason):
        AN.PerPixelNormalize(mean_image=str(path))


def test_register_preset_from_file_is_top_level(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"mean": [0.5], "std": [0.2], "dtype": "uint16",
                                "max_pixel_value": 4095.0}))  # fmt: skip
    preset = AN.register_preset_from_file("contract_rough", path)
    try:
        assert preset.max_pixel_value == 4095.0  # not uint16's default: kept
    finally:
        AN.unregister_preset("contract_rough")


# 11. Files and arguments that lie: numbers beyond float64, sources of the wrong type.


@given(
    where=st.sampled_from(["mean", "std", "max_pixel_value"]),
    sign=st.sampled_from([1, -1]),
    digits=st.integers(310, 400),
)
def test_11_integers_beyond_float64_are_value_errors(tmp_path_factory, where, sign, digits):
    # Class: float(int) raises OverflowError, which Albumentations would turn into a warning
    # and a default transform; JSON files hold such integers as they are.
    huge = sign * 10**digits
    record = {"mean": [0.5] * 3, "std": [0.2] * 3, "max_pixel_value": 255.0, where: huge}
    if where != "max_pixel_value":
        record[where] = [0.5, huge, 0.5]
    path = tmp_path_factory.mktemp("huge") / "stats.json"
    path.write_text(json.dumps(record))
    config = {"image_mean": record["mean"], "image_std": record["std"]}
    builds = [
        lambda: AN.Normalize(stats=str(path)),
        lambda: AN.register_preset_from_file("contract_11", path),
        lambda: resolve_spec(stats=record),
    ]
    if where != "max_pixel_value":
        builds += [
            lambda: AN.Normalize.from_model_config(config),
            lambda: AN.Normalize(**{k: record[k] for k in ("mean", "std")}),
        ]
    else:
        builds.append(lambda: AN.Normalize(max_pixel_value=huge))
    for build in builds:
        with pytest.raises(ValueError):
            build()
    assert "contract_11" not in AN.list_presets()


@pytest.mark.parametrize("value", [5, 2.5, ["config.json"], b"config.json", None])
def test_11_sources_of_the_wrong_type_are_value_errors(value):
    from albu_norm.stats import load_stats

    builds = [lambda: AN.Normalize.from_model_config(value), lambda: load_stats(value)]
    if value is not None:
        builds.append(lambda: resolve_spec(model_config=value))
    for build in builds:
        with pytest.raises(ValueError):
            build()


@pytest.mark.parametrize("name", ["", " ", "imagenet "])
def test_11_an_empty_or_padded_preset_name_is_not_the_default(name):
    with pytest.raises(ValueError, match="unknown preset"):
        AN.Normalize(preset=name)


def test_11_dataset_arguments_are_checked_before_any_file(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((4, 4, 3), np.uint8))
    for kwargs, message in (
        ({"per_pixel": True, "ignore_value": 0}, "ignore_value"),
        ({"color": "bgr"}, "color"),
        ({"shard_size": 0}, "shard_size"),
        ({"shard_size": -1}, "shard_size"),
        ({"sample": 0}, "sample"),
    ):
        with pytest.raises(ValueError, match=message):
            compute_stats([tmp_path / "a.png"], workers=1, **kwargs)


# 12. Subnormal images: every per-image mode is exact on them too.


@settings(max_examples=60)
@given(
    counts=hnp.arrays(
        np.int64,
        st.tuples(st.integers(1, 6), st.integers(1, 6), st.just(3)),
        elements=st.integers(-(2**20), 2**20),
    ),
    mode=st.sampled_from(F.PER_IMAGE_NORMALIZATIONS),
)
# a std that underflows to 0 although the values differ (found on Python 3.9's hypothesis run):
# it was taken for a uniform image and gave zeros
@example(counts=np.array([[[0, 1, 1]]]), mode="image")
@example(counts=np.array([[[0, 0, 0], [0, 0, 1]]]), mode="image")
@example(counts=np.array([[[0, 0, 0], [0, 0, 1]]]), mode="image_per_channel")
def test_12_subnormal_images_in_every_per_image_mode(counts, mode):
    # Class: subnormal float64 images (multiples of 2**-1074): the overflow policy scales them
    # up; 0.1.0's TF floor overflowed math.ldexp (OverflowError).
    img = np.ldexp(counts.astype(np.float64), -1074)  # exact
    out = F.normalize_per_image(img, mode)
    assert out.dtype == np.float32 and np.all(np.isfinite(out))
    if mode == "per_image_standardization":
        # std of values near 1e-308 is far below the floor 1/sqrt(N): everything rounds to 0
        assert np.all(out == 0)
        return
    # the other modes are invariant to the scale: the integers themselves, in float64
    expected = reference.per_image(counts.astype(np.float64), mode)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


@given(
    img=images(dtypes=(np.float32, np.float64), kinds=("random", "extreme", "tiny")),
    per_channel=st.booleans(),
    low=st.floats(0, 40),
    width=st.floats(1, 60),
)
def test_7_percentile_min_max_stays_in_zero_one(img, per_channel, low, width):
    # Class 7 for the robust method: the clipped minimum maps to exactly 0 (0.1.0: -3.7e-8)
    out = AN.RobustNormalize(
        method="percentile_min_max", percentiles=(low, low + width), per_channel=per_channel
    )(image=img)["image"]
    assert np.all((out >= 0) & (out <= 1))
