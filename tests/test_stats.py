"""Dataset statistics: the accumulator against float64 references, merging, files, CLI, Dask."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import albumentations as A
import cv2
import numpy as np
import pytest
import yaml

import albu_norm as AN
from albu_norm import cli
from albu_norm.stats import (
    RunningStats,
    StatsResult,
    compute_stats,
    find_images,
    load_stats,
    read_image,
    register_preset_from_file,
)
from conftest import IMAGES_DIR, PHOTO_NAMES, load_photo

DTYPES = (np.uint8, np.uint16, np.float32, np.float64)


def as_dtype(photo: np.ndarray, dtype) -> np.ndarray:
    if dtype == np.uint8:
        return photo
    if dtype == np.uint16:
        return photo.astype(np.uint16) * 257 + 3
    return (photo / 255.0).astype(dtype)


def reference(images: list[np.ndarray]) -> dict[str, np.ndarray]:
    """float64 statistics over every pixel of every image (numpy, concatenated)."""
    channels = 1 if images[0].ndim == 2 else images[0].shape[2]
    values = np.concatenate([img.reshape(-1, channels).astype(np.float64) for img in images])
    columns = [np.ascontiguousarray(values[:, c]) for c in range(channels)]
    mean = np.array([math.fsum(column) / len(column) for column in columns])  # exactly rounded
    std = np.array(
        [math.sqrt(math.fsum((column - m) ** 2) / len(column)) for column, m in zip(columns, mean)]
    )
    return {
        "mean": mean,
        "std": std,
        "min": values.min(axis=0),
        "max": values.max(axis=0),
        "values": values,
    }


def photos() -> list[np.ndarray]:
    return [load_photo(name) for name in PHOTO_NAMES]


@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_float64_reference_on_photos(dtype):
    images = [as_dtype(photo, dtype) for photo in photos()]  # mixed sizes
    stats = RunningStats()
    for img in images:
        stats.update(img)
    result = stats.result(percentiles=(0.5, 50, 99.5))
    ref = reference(images)
    np.testing.assert_allclose(result.mean_raw, ref["mean"], rtol=1e-12)
    np.testing.assert_allclose(result.std_raw, ref["std"], rtol=1e-9)
    np.testing.assert_array_equal(result.min_raw, ref["min"])
    np.testing.assert_array_equal(result.max_raw, ref["max"])
    assert result.images == 4 and result.pixels == len(ref["values"])
    scale = {np.uint8: 255.0, np.uint16: 65535.0}.get(dtype, 1.0)
    np.testing.assert_allclose(result.mean, ref["mean"] / scale, rtol=1e-12)
    if np.dtype(dtype).kind == "u":  # exact percentiles from histograms, numpy's definition
        for q in (0.5, 50, 99.5):
            np.testing.assert_array_equal(
                result.percentiles_raw[q], np.percentile(ref["values"], q, axis=0)
            )
    else:
        assert result.percentiles_raw == {}


@pytest.mark.parametrize("dtype", DTYPES)
def test_merge_equals_one_pass(dtype):
    images = [as_dtype(photo, dtype) for photo in photos()]
    whole = RunningStats()
    for img in images:
        whole.update(img)
    left, right = RunningStats(), RunningStats()
    left.update(images[0]).update(images[2])
    right.update(images[1]).update(images[3])
    merged = RunningStats().merge(left).merge(RunningStats()).merge(right)
    a, b = whole.result(), merged.result()
    np.testing.assert_allclose(b.mean_raw, a.mean_raw, rtol=1e-13)
    np.testing.assert_allclose(b.std_raw, a.std_raw, rtol=1e-12)
    assert (b.min_raw, b.max_raw, b.images, b.pixels) == (a.min_raw, a.max_raw, 4, a.pixels)


def test_grayscale_and_many_channels():
    rng = np.random.default_rng(0)
    for shape in [(30, 40), (30, 40, 1), (30, 40, 7)]:
        images = [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(3)]
        stats = RunningStats()
        for img in images:
            stats.update(img)
        np.testing.assert_allclose(stats.result().std_raw, reference(images)["std"], rtol=1e-12)


def test_where_naive_float32_accumulation_fails():
    """10^8 pixels near 200 with tiny variance: a float32 running sum is visibly wrong."""
    rng = np.random.default_rng(0)
    img = (200 + (rng.random((1000, 1000)) < 0.1)).astype(np.uint8)  # 200 or 201
    ones = int((img == 201).sum())
    repeats = 100
    stats = RunningStats()
    naive_sum = np.float32(0)
    naive_squares = np.float32(0)
    for _ in range(repeats):
        stats.update(img)
        naive_sum += np.float32(img.sum(dtype=np.float32))
        naive_squares += np.float32((img.astype(np.float32) ** 2).sum(dtype=np.float32))
    count = img.size * repeats
    exact_mean = 200 + ones / img.size  # exact, from the construction
    p = ones / img.size
    exact_std = np.sqrt(p * (1 - p))
    naive_mean = float(naive_sum) / count
    naive_var = float(naive_squares) / count - naive_mean**2
    assert abs(naive_mean - exact_mean) > 1e-4  # the bug this tool exists to avoid
    assert not np.isclose(np.sqrt(max(naive_var, 0)), exact_std, rtol=1e-2)
    result = stats.result()
    assert result.pixels == count
    np.testing.assert_allclose(result.mean_raw, [exact_mean], rtol=1e-15)
    np.testing.assert_allclose(result.std_raw, [exact_std], rtol=1e-12)


def test_per_pixel_mean_and_std_images():
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, (12, 10, 3), dtype=np.uint8) for _ in range(9)]
    one = RunningStats(per_pixel=True)
    for img in images:
        one.update(img)
    left, right = RunningStats(per_pixel=True), RunningStats(per_pixel=True)
    for img in images[:4]:
        left.update(img)
    for img in images[4:]:
        right.update(img)
    stack = np.stack(images).astype(np.float64)
    for stats in (one, left.merge(right)):
        result = stats.result()
        np.testing.assert_allclose(result.pixel_mean, stack.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(result.pixel_std, stack.std(axis=0), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="one shape"):
        one.update(np.zeros((5, 5, 3), np.uint8))


def test_pickle_round_trip_keeps_exact_histograms():
    stats = RunningStats()
    stats.update(as_dtype(load_photo("coffee"), np.uint16))
    clone = pickle.loads(pickle.dumps(stats))
    np.testing.assert_array_equal(clone.histogram, stats.histogram)
    assert clone.result() == stats.result()


def test_errors():
    with pytest.raises(ValueError, match="no pixels were counted"):
        RunningStats().result()
    stats = RunningStats().update(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="one accumulator takes one channel count"):
        stats.update(np.zeros((4, 4), np.uint8))
    bad = np.zeros((4, 4), np.float32)
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or Inf"):
        RunningStats().update(bad)
    with pytest.raises(TypeError, match="dtype"):
        RunningStats().update(np.zeros((4, 4), np.int64))
    for value in (0, -255.0, float("nan"), "255"):
        with pytest.raises(ValueError, match="max_pixel_value must be a finite number > 0"):
            stats.result(max_pixel_value=value)


# ---------------------------------------------------------------------- files


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in PHOTO_NAMES:
        (tmp_path / "sub").mkdir(exist_ok=True)
        target = tmp_path / ("sub" if name == "rocket" else ".") / f"{name}.jpg"
        target.write_bytes((IMAGES_DIR / f"{name}.jpg").read_bytes())
    (tmp_path / "notes.txt").write_text("not an image")
    return tmp_path


@pytest.mark.parametrize("workers", [1, 2])
def test_compute_stats_on_folder(folder, workers):
    files = find_images([folder])
    assert len(files) == 4
    result = compute_stats(files, workers=workers, shard_size=1)
    assert result.failed == []
    ref = reference(photos())
    np.testing.assert_allclose(result.stats.result().mean_raw, ref["mean"], rtol=1e-12)
    np.testing.assert_allclose(result.stats.result().std_raw, ref["std"], rtol=1e-9)


def test_corrupt_files_are_counted_and_listed(folder):
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (folder / "empty.png").write_bytes(b"")
    result = compute_stats(find_images([folder]), workers=1)
    assert result.stats.images == 4
    assert sorted(Path(path).name for path, _ in result.failed) == ["broken.jpg", "empty.png"]


def test_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no image files found"):
        find_images([tmp_path])


def test_sixteen_bit_png_and_grayscale(tmp_path):
    deep = (np.arange(60 * 80 * 3).reshape(60, 80, 3) * 7 % 65536).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "deep.png"), deep[..., ::-1])  # OpenCV writes BGR
    img = read_image(tmp_path / "deep.png")
    assert img.dtype == np.uint16
    np.testing.assert_array_equal(img, deep)
    gray = (np.arange(50 * 40) % 256).astype(np.uint8).reshape(50, 40)
    cv2.imwrite(str(tmp_path / "gray.png"), gray)
    rgb = read_image(tmp_path / "gray.png")
    assert rgb.shape == (50, 40, 3)
    np.testing.assert_array_equal(rgb[..., 1], gray)
    assert read_image(tmp_path / "gray.png", "gray").shape == (50, 40)


def test_sample_reads_a_subset(folder):
    result = compute_stats(find_images([folder]), workers=1, sample=2, seed=3)
    assert result.stats.images == 2


# ---------------------------------------------------------------------- command line and use


def test_cli_writes_a_file_normalize_can_use(folder, tmp_path, capsys):
    out = tmp_path / "stats.json"
    status = cli.main(["stats", str(folder), "--out", str(out), "--workers", "1", "--no-progress"])
    assert status == 0
    printed = capsys.readouterr()
    assert "4 images read, 0 failed" in printed.err
    record = json.loads(out.read_text())
    assert record["files_read"] == 4 and record["files_failed"] == []
    assert record["command"][:2] == ["albu-norm", "stats"]
    assert record["albu_norm_version"] == AN.__version__
    ref = reference(photos())
    np.testing.assert_allclose(record["stats"]["mean"], ref["mean"] / 255, rtol=1e-12)

    transform = AN.Normalize(stats=str(out))
    photo = load_photo("chelsea")
    expected = AN.Normalize(mean=ref["mean"] / 255, std=ref["std"] / 255)(image=photo)["image"]
    np.testing.assert_allclose(transform(image=photo)["image"], expected, atol=1e-5)
    # the saved config carries the numbers, not the path
    saved = A.to_dict(A.Compose([transform]))["transform"]["transforms"][0]
    assert saved["mean"] is None and len(saved["stats"]["mean"]) == 3
    out.unlink()
    restored = A.from_dict(A.to_dict(A.Compose([transform])))
    np.testing.assert_array_equal(restored(image=photo)["image"], transform(image=photo)["image"])


def test_cli_yaml_and_preset_from_file(folder, tmp_path):
    out = tmp_path / "stats.yaml"
    assert cli.main(["stats", str(folder / "*.jpg"), "--out", str(out), "--no-progress"]) == 0
    record = yaml.safe_load(out.read_text())
    assert record["files_read"] == 3  # the glob does not descend into sub/
    preset = register_preset_from_file("folder_stats", out)
    try:
        assert preset.mean == tuple(record["stats"]["mean"])
        assert preset.max_pixel_value is None  # uint8 data: the dtype rule
        assert "stats.yaml" in preset.source
    finally:
        AN.unregister_preset("folder_stats")


def test_cli_errors(tmp_path, capsys):
    assert cli.main(["stats", str(tmp_path)]) == 2
    assert "no image files found" in capsys.readouterr().err
    (tmp_path / "bad.jpg").write_bytes(b"nope")
    assert cli.main(["stats", str(tmp_path), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "failed: " in err and "bad.jpg" in err
    with pytest.raises(ValueError, match="cannot read statistics file"):
        AN.Normalize(stats=str(tmp_path / "missing.json"))


def test_cli_presets(capsys):
    assert cli.main(["presets"]) == 0
    assert "timm/data/constants.py" in capsys.readouterr().out


def test_cli_presets_aligns_its_columns_for_long_names(capsys):
    assert cli.main(["presets", "*"]) == 0  # families and every model name
    lines = capsys.readouterr().out.splitlines()
    rows, sources = lines[0::2], lines[1::2]
    longest = max(len(AN.get_preset(name).name) for name in AN.list_presets("*"))
    assert longest > 50
    # the channel order starts in one column on every row, after the longest name
    starts = {row.index(" RGB ") if " RGB " in row else row.index(" BGR ") for row in rows}
    assert starts == {longest + 1}
    assert {line.index("source:") for line in sources} == {longest + 2}
    three = [row for row in rows if row.count(",") == 4]  # 3-channel mean and std
    assert len({row.index("std (") for row in three}) == 1


def test_dask_local_cluster_on_loopback(folder):
    distributed = pytest.importorskip("dask.distributed")
    files = find_images([folder])
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        from albu_norm.stats import compute_stats_dask

        result = compute_stats_dask(files, client, shard_size=1)
    local = compute_stats(files, workers=1)
    assert result.failed == []
    assert result.stats.result() == local.stats.result()


# ---------------------------------------------------------------------- mixed dtypes: a typed flag

LEGACY_STATS = Path(__file__).resolve().parent / "data" / "v0.1.0" / "stats.json"


def mixed_result():
    stats = RunningStats()
    stats.update(load_photo("coffee")[:40, :50])
    stats.update(as_dtype(load_photo("chelsea")[:30, :20], np.uint16))
    return stats.result()


def test_mixed_dtypes_is_a_typed_field_written_and_read_back():
    mixed = mixed_result()
    assert mixed.mixed_dtypes is True and mixed.max_pixel_value == 1.0
    record = json.loads(json.dumps(mixed.to_dict()))
    assert record["mixed_dtypes"] is True and record["max_pixel_value"] is None
    assert StatsResult.from_dict(record) == mixed
    single = RunningStats().update(load_photo("coffee")).result(max_pixel_value=4095)
    assert single.mixed_dtypes is False and single.to_dict()["mixed_dtypes"] is False
    assert StatsResult.from_dict(json.loads(json.dumps(single.to_dict()))) == single
    with pytest.raises(ValueError, match="no 'mean_raw'"):
        StatsResult.from_dict({k: v for k, v in record.items() if k != "mean_raw"})


def test_stats_files_of_older_versions_load(tmp_path):
    """0.1.0 wrote no flag: a single dtype reads as not mixed, the text "mixed (...)" as mixed
    (the legacy reader, albu_norm.stats.result.read_record)."""
    record = load_stats(LEGACY_STATS)
    assert record["mixed_dtypes"] is False
    result = StatsResult.from_dict(record)
    assert result.dtype == "uint8" and result.max_pixel_value == 255.0 and not result.mixed_dtypes
    assert AN.Normalize(stats=LEGACY_STATS).spec.max_pixel_value is None  # uint8: the dtype rule
    legacy = mixed_result().to_dict()
    del legacy["mixed_dtypes"]
    assert legacy["dtype"] == "mixed (uint16, uint8)"
    path = tmp_path / "old_mixed.json"
    path.write_text(json.dumps({"stats": {**legacy, "max_pixel_value": 1.0}}))
    assert load_stats(path)["mixed_dtypes"] is True
    assert StatsResult.from_dict(load_stats(path)) == mixed_result()
    assert AN.Normalize(stats=path).spec.max_pixel_value is None


@pytest.mark.parametrize(
    ("fields", "scale"),
    [
        ({"dtype": "mixed (uint16, uint8)"}, None),  # no flag: the legacy text says mixed
        ({"dtype": "uint8", "mixed_dtypes": True}, None),  # the flag decides, not the text
        ({"dtype": "mixed (uint16, uint8)", "mixed_dtypes": False}, 1.0),  # likewise
        ({"dtype": "uint8"}, 1.0),  # no flag, one dtype: the file's own scale
        ({"mixed_dtypes": True}, None),
        ({}, 1.0),
    ],
)
def test_the_flag_decides_the_scale_rule(tmp_path, fields, scale):
    """A record that says mixed follows the dtype rule (each image on its own dtype's 0-1
    scale); one that does not keeps its max_pixel_value. From a file and from a mapping."""
    record = {"mean": [0.5] * 3, "std": [0.25] * 3, "max_pixel_value": 1.0, **fields}
    path = tmp_path / "stats.yaml"
    path.write_text(yaml.safe_dump({"stats": record}))
    photo = load_photo("coffee")[:16, :16]
    expected = (photo / (255.0 if scale is None else 1.0) - 0.5) / 0.25
    for stats in (path, record):
        transform = AN.Normalize(stats=stats)
        assert transform.spec.max_pixel_value == scale
        np.testing.assert_allclose(transform(image=photo)["image"], expected, rtol=1e-6)


def test_the_flag_not_the_text_decides_after_a_real_run(tmp_path):
    """Mutation check: rewrite the dtype text of real records, keep the flag: nothing changes."""
    photo = load_photo("coffee")[:16, :16]
    mixed = {**mixed_result().to_dict(), "dtype": "uint8", "max_pixel_value": 1.0}
    assert AN.Normalize(stats=mixed).spec.max_pixel_value is None
    single = RunningStats().update(load_photo("chelsea")).result(max_pixel_value=1.0).to_dict()
    single["dtype"] = "mixed (uint16, uint8)"
    transform = AN.Normalize(stats=single)
    assert transform.spec.max_pixel_value == 1.0
    expected = (photo - np.array(single["mean"])) / np.array(single["std"])
    np.testing.assert_allclose(transform(image=photo)["image"], expected, rtol=1e-5)


@pytest.mark.parametrize("flag", ["true", 1, None, "mixed"])
def test_a_flag_that_is_not_a_bool_is_a_value_error(tmp_path, flag):
    record = {"dtype": "uint8", "mean": [0.5], "std": [0.25], "mixed_dtypes": flag}
    path = tmp_path / "stats.json"
    path.write_text(json.dumps(record))
    for stats in (path, record):
        with pytest.raises(ValueError, match="mixed_dtypes must be true or false"):
            AN.Normalize(stats=stats)
    with pytest.raises(ValueError, match="mixed_dtypes must be true or false"):
        A.from_dict(
            {
                "transform": {
                    "__class_fullname__": "albu_norm.transforms.Normalize",
                    "p": 1.0,
                    "stats": record,
                }
            }
        )


def test_robust_dataset_mode_refuses_statistics_of_mixed_dtypes(tmp_path):
    """Its clip range is in raw units: mixed statistics (0-1 scale) would clip uint8 at ~1."""
    path = tmp_path / "stats.json"
    path.write_text(json.dumps({"stats": mixed_result().to_dict()}))
    with pytest.raises(ValueError, match="several dtypes"):
        AN.RobustNormalize.from_stats(path)
    single = RunningStats().update(load_photo("coffee")).result().to_dict()
    path.write_text(json.dumps({"stats": {**single, "dtype": "mixed (uint16, uint8)"}}))
    assert AN.RobustNormalize.from_stats(path).clip_range == pytest.approx(
        (min(single["percentiles_raw"]["0.5"]), max(single["percentiles_raw"]["99.5"]))
    )
