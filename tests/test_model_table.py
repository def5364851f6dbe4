"""The shipped timm/open_clip model table: golden entries from the libraries' source files,
offline lookups, and (where timm and open_clip are installed) every entry against them."""

from __future__ import annotations

import ast
import dataclasses
import math
import re
import threading
import warnings
from pathlib import Path

import pytest

from albu_norm import _model_table
from albu_norm._model_table import model_entry, model_names, table_info

REGENERATE = "Regenerate the table with `python scripts/generate_model_table.py`."

# Typed from the constants files, not from the table:
# timm/data/constants.py and open_clip/constants.py.
IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
INCEPTION = ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
OPENAI_CLIP = ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))
DPN = ((124 / 255, 117 / 255, 104 / 255), (1 / (0.0167 * 255),) * 3)

# name -> (mean, std), input_size, crop_pct, interpolation, crop_mode; read in timm 1.0.31 and
# open_clip 3.3.0 (file and helper in the comment; unset keys take the helper's defaults).
GOLDEN = {
    # timm/models/convnext.py: _cfg (input 224, crop_pct 0.875, bicubic, IMAGENET_DEFAULT_*);
    # crop_mode unset: PretrainedCfg default "center" (timm/models/_pretrained.py).
    # test_input_size=(3, 288, 288) is the test-time size, not the default.
    "timm/convnext_small.fb_in22k_ft_in1k": (IMAGENET, (3, 224, 224), 0.875, "bicubic", "center"),
    # timm/models/convnext.py: crop_pct=1.0, crop_mode='squash', input_size=(3, 384, 384)
    "timm/convnext_small.in12k_ft_in1k_384": (IMAGENET, (3, 384, 384), 1.0, "bicubic", "squash"),
    # timm/models/vision_transformer.py: _cfg (crop_pct 0.9) with mean/std=OPENAI_CLIP_*
    "timm/vit_base_patch16_clip_224.openai": (
        OPENAI_CLIP,
        (3, 224, 224),
        0.9,
        "bicubic",
        "center",
    ),
    # timm/models/dpn.py: _cfg with IMAGENET_DPN_MEAN/STD
    "timm/dpn68.mx_in1k": (DPN, (3, 224, 224), 0.875, "bicubic", "center"),
    # timm/models/eva.py: _dinov3_cfg (input 256, crop_pct 1.0) with the satellite statistics
    "timm/vit_large_patch16_dinov3.sat493m": (
        ((0.430, 0.411, 0.296), (0.213, 0.156, 0.143)),
        (3, 256, 256),
        1.0,
        "bicubic",
        "center",
    ),
    # open_clip/pretrained.py: _pcfg (OPENAI_DATASET_*, bicubic, resize_mode "shortest");
    # open_clip/model_configs/ViT-B-32.json: vision_cfg.image_size 224
    "open_clip/ViT-B-32:laion2b_s34b_b79k": (
        OPENAI_CLIP,
        (3, 224, 224),
        None,
        "bicubic",
        "shortest",
    ),
    # _pcfg; RN50.json image_size 224 (a ModifiedResNet: an int size, made (3, 224, 224))
    "open_clip/RN50:openai": (OPENAI_CLIP, (3, 224, 224), None, "bicubic", "shortest"),
    # _slpcfg (INCEPTION_*, bicubic, "squash"); ViT-B-16-SigLIP.json image_size 224
    "open_clip/ViT-B-16-SigLIP:webli": (INCEPTION, (3, 224, 224), None, "bicubic", "squash"),
    # _mccfg (mean 0, std 1, bilinear, "shortest"); MobileCLIP-S1.json image_size 256 (timm tower)
    "open_clip/MobileCLIP-S1:datacompdr": (
        ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
        (3, 256, 256),
        None,
        "bilinear",
        "shortest",
    ),
    # _apcfg (IMAGENET_*, bilinear, "squash"); ViT-L-14-CLIPA-336.json image_size 336
    "open_clip/ViT-L-14-CLIPA-336:datacomp1b": (
        IMAGENET,
        (3, 336, 336),
        None,
        "bilinear",
        "squash",
    ),
}


# --- offline: no timm, open_clip or torch needed ---------------------------------------------


def test_table_loads_with_both_libraries():
    info = table_info()
    assert info["counts"]["timm"] > 1000
    assert info["counts"]["open_clip"] > 100
    assert info["counts"]["normalizations"] < 50  # the dedupe works
    assert re.fullmatch(r"1\.\d+\.\d+.*", info["timm_version"])
    assert re.fullmatch(r"[3-9]\.\d+\.\d+.*", info["open_clip_version"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", info["generated"])
    assert info["generator"] == "python scripts/generate_model_table.py"
    names = model_names()
    assert names == tuple(sorted(names))
    assert len(names) == info["counts"]["timm"] + info["counts"]["open_clip"]
    assert all(re.fullmatch(r"timm/[\w-]+\.[\w.-]+|open_clip/[\w.-]+:[\w.-]+", n) for n in names)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_entries_from_library_source(name):
    (mean, std), input_size, crop_pct, interpolation, crop_mode = GOLDEN[name]
    entry = model_entry(name)
    assert entry is not None, f"{name} missing from the table"
    assert entry["mean"] == mean  # exact: the same float literals as the library
    assert entry["std"] == std
    assert entry["input_size"] == input_size
    assert entry["crop_pct"] == crop_pct
    assert entry["interpolation"] == interpolation
    assert entry["crop_mode"] == crop_mode
    assert entry["channel_order"] == "RGB"
    library = name.partition("/")[0]
    assert entry["library"] == library
    assert entry["name"] == name
    version = table_info()[f"{library}_version"]
    assert entry["source"].startswith(f"{library} {version} ")


def test_sources_name_the_defining_files():
    timm = model_entry("timm/convnext_small.fb_in22k_ft_in1k")
    assert timm is not None and "timm/models/convnext.py" in timm["source"]
    clip = model_entry("open_clip/ViT-B-32:laion2b_s34b_b79k")
    assert clip is not None
    assert "open_clip/model_configs/ViT-B-32.json" in clip["source"]
    assert "open_clip/pretrained.py" in clip["source"]


def test_every_entry_is_well_formed():
    interpolations = {"bicubic", "bilinear", "nearest", "lanczos", "random"}
    modes = {"timm": {"center", "squash", "border"}, "open_clip": {"shortest", "squash", "longest"}}
    for name in model_names():
        entry = model_entry(name)
        assert entry is not None and entry["name"] == name
        mean, std = entry["mean"], entry["std"]
        assert len(mean) == len(std) >= 1, name
        assert all(isinstance(v, float) and math.isfinite(v) for v in mean + std), name
        assert all(v > 0 for v in std), name
        size = entry["input_size"]
        assert size is None or (len(size) == 3 and all(isinstance(v, int) and v > 0 for v in size))
        if entry["library"] == "timm":
            assert isinstance(entry["crop_pct"], float) and 0 < entry["crop_pct"] <= 2, name
        else:
            assert entry["crop_pct"] is None, name
        assert entry["interpolation"] in interpolations, name
        assert entry["crop_mode"] in modes[entry["library"]], name


def test_timm_name_without_tag_is_the_default_tag():
    # timm/models/convnext.py lists 'convnext_small.in12k_ft_in1k' first among the
    # convnext_small tags: generate_default_cfgs makes the first tag with weights the default.
    entry = model_entry("timm/convnext_small")
    assert entry is not None
    assert entry["name"] == "timm/convnext_small.in12k_ft_in1k"
    assert entry["crop_pct"] == 0.95  # crop_pct=0.95 in that cfg
    assert "timm/convnext_small" not in model_names()  # timm does not list tagless names
    assert model_entry("open_clip/ViT-B-32") is None  # open_clip always needs a tag


def test_unknown_and_wrong_types():
    assert model_entry("timm/not_a_model.tag") is None
    assert model_entry("convnext_small.fb_in22k_ft_in1k") is None  # the prefix is required
    assert model_entry("open_clip/vit-b-32:laion2b_s34b_b79k") is None  # spelled as listed
    with pytest.raises(TypeError, match="model name must be a str, got int"):
        model_entry(3)  # type: ignore[arg-type]


def test_patterns_are_shell_style_and_case_sensitive():
    assert model_names("timm/convnext_small.fb_in22k_ft*") == (
        "timm/convnext_small.fb_in22k_ft_in1k",
        "timm/convnext_small.fb_in22k_ft_in1k_384",
    )
    assert "open_clip/ViT-B-32:laion2b_s34b_b79k" in model_names("open_clip/ViT-B-32:*")
    assert model_names("open_clip/vit-b-32:*") == ()
    assert len(model_names("timm/*")) == table_info()["counts"]["timm"]


def test_results_are_fresh_copies():
    entry = model_entry("timm/dpn68.mx_in1k")
    assert entry is not None
    entry["mean"] = (0.0,)
    info = table_info()
    info["counts"]["timm"] = -1
    again = model_entry("timm/dpn68.mx_in1k")
    assert again is not None and again["mean"] == DPN[0]
    assert table_info()["counts"]["timm"] > 1000


def test_loaded_once_from_many_threads():
    _model_table._read_table.cache_clear()
    results: list[object] = []
    barrier = threading.Barrier(8)

    def look_up() -> None:
        barrier.wait()
        results.append(model_entry("open_clip/RN50:openai"))

    threads = [threading.Thread(target=look_up) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and all(r == results[0] and r is not None for r in results)
    assert _model_table._read_table.cache_info().misses == 1


def test_module_imports_only_the_standard_library():
    tree = ast.parse(Path(_model_table.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module, "no relative imports"
            imported.add(node.module.partition(".")[0])
    allowed = {"__future__", "fnmatch", "functools", "importlib", "json", "threading", "typing"}
    assert imported <= allowed, imported - allowed


def test_data_file_ships_as_package_data():
    root = Path(_model_table.__file__).resolve().parent
    assert (root / "data" / "model_table.json").is_file()
    pyproject = root.parent / "pyproject.toml"
    if pyproject.is_file():  # a source checkout: the wheel must include the table
        assert '"data/*.json"' in pyproject.read_text(encoding="utf-8")


# --- with the libraries installed: every entry against what they give now -------------------


def _compare(library: str, installed_version: str, shipped: dict, current: dict) -> None:
    """Fail with one message that names the versions and the first differences."""
    missing = sorted(set(current) - set(shipped))
    extra = sorted(set(shipped) - set(current))
    differing = [n for n in sorted(set(shipped) & set(current)) if shipped[n] != current[n]]
    if missing or extra or differing:
        detail = [
            f"{len(missing)} names the installed {library} lists are not in the table"
            f" (e.g. {missing[:3]})",
            f"{len(extra)} table names it does not list (e.g. {extra[:3]})",
            f"{len(differing)} entries differ",
        ] + [f"{n}: table {shipped[n]} != installed {current[n]}" for n in differing[:3]]
        pytest.fail(
            f"model table generated from {library} {table_info()[f'{library}_version']}, "
            f"installed {library} {installed_version}: " + "; ".join(detail) + ". " + REGENERATE
        )


def _shipped(library: str) -> dict:
    keys = ("mean", "std", "input_size", "crop_pct", "interpolation", "crop_mode")
    out = {}
    for name in model_names(f"{library}/*"):
        entry = model_entry(name)
        assert entry is not None
        out[name] = tuple(entry[k] for k in keys)
    return out


def test_every_timm_entry_matches_installed_timm():
    timm = pytest.importorskip("timm")
    from timm.data import resolve_data_config
    from timm.models import get_pretrained_cfg

    current = {}
    for name in timm.list_pretrained():
        cfg = get_pretrained_cfg(name, allow_unregistered=False)
        data = resolve_data_config(pretrained_cfg=cfg.to_dict())
        current[f"timm/{name}"] = (
            tuple(data["mean"]),
            tuple(data["std"]),
            tuple(data["input_size"]),
            data["crop_pct"],
            data["interpolation"],
            data["crop_mode"],
        )
    _compare("timm", timm.__version__, _shipped("timm"), current)
    for arch in {name.partition(".")[0] for name in timm.list_pretrained()}:
        entry = model_entry(f"timm/{arch}")
        assert entry is not None
        assert entry["name"] == f"timm/{arch}.{get_pretrained_cfg(arch).tag}"


def test_every_open_clip_entry_matches_installed_open_clip():
    open_clip = pytest.importorskip("open_clip")
    from open_clip.transform import PreprocessCfg

    def pick(pretrained: dict, key: str) -> object:  # merge_preprocess_dict skips None
        value = pretrained.get(key)
        return getattr(PreprocessCfg, key) if value is None else value

    current = {}
    for model, tag in open_clip.list_pretrained():
        pretrained = open_clip.get_pretrained_cfg(model, tag)
        vision = (open_clip.get_model_config(model) or {}).get("vision_cfg", {})
        size = vision.get("image_size", 224)
        size = (size, size) if isinstance(size, int) else tuple(size)
        current[f"open_clip/{model}:{tag}"] = (
            tuple(pick(pretrained, "mean")),  # type: ignore[call-overload]
            tuple(pick(pretrained, "std")),  # type: ignore[call-overload]
            (3, *size),
            None,
            pick(pretrained, "interpolation"),
            pick(pretrained, "resize_mode"),
        )
    _compare("open_clip", open_clip.__version__, _shipped("open_clip"), current)


@pytest.mark.filterwarnings("ignore")  # QuickGELU notes, torch meta-device notes
@pytest.mark.parametrize(
    "name",
    [
        "open_clip/RN50:openai",
        "open_clip/ViT-B-32:laion2b_s34b_b79k",
        "open_clip/MobileCLIP-S1:datacompdr",
        "open_clip/ViT-B-16-SigLIP:webli",
    ],
)
def test_open_clip_create_model_gives_the_entry(name, monkeypatch):
    """The whole create_model path, on the meta device, with the download stubbed out."""
    open_clip = pytest.importorskip("open_clip")
    torch = pytest.importorskip("torch")
    from open_clip import factory
    from open_clip.transform import PreprocessCfg

    monkeypatch.setattr(factory, "download_pretrained", lambda *args, **kwargs: "never-read.bin")
    model_name, tag = name[len("open_clip/") :].split(":")
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        model = open_clip.create_model(
            model_name, pretrained=tag, load_weights=False, device="meta"
        )
    cfg = PreprocessCfg(**model.visual.preprocess_cfg)
    entry = model_entry(name)
    assert entry is not None
    assert (tuple(cfg.mean), tuple(cfg.std), cfg.input_size) == (
        entry["mean"],
        entry["std"],
        entry["input_size"],
    )
    assert (cfg.interpolation, cfg.resize_mode) == (entry["interpolation"], entry["crop_mode"])
    assert dataclasses.asdict(cfg)["mode"] == entry["channel_order"] == "RGB"


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize(
    "name",
    [
        "timm/convnext_small.fb_in22k_ft_in1k",
        "timm/vit_base_patch16_clip_224.openai",
        "timm/dpn68.mx_in1k",
        "timm/convnext_small.in12k_ft_in1k_384",
    ],
)
def test_timm_create_model_gives_the_entry(name):
    """timm.create_model (meta device, no weights) then resolve_model_data_config."""
    timm = pytest.importorskip("timm")
    torch = pytest.importorskip("torch")
    with torch.device("meta"):
        model = timm.create_model(name[len("timm/") :], pretrained=False)
    data = timm.data.resolve_model_data_config(model)
    entry = model_entry(name)
    assert entry is not None
    for key in ("mean", "std", "input_size", "crop_pct", "interpolation", "crop_mode"):
        value = data[key]
        assert (tuple(value) if isinstance(value, (list, tuple)) else value) == entry[key], key
