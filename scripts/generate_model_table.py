"""Write albu_norm/data/model_table.json: every timm and open_clip pretrained normalization.

Run it where timm and open_clip are installed (they need torch and torchvision):

    python scripts/generate_model_table.py            # rewrite the shipped table
    python scripts/generate_model_table.py --check    # exit 1 if the shipped table is stale

Nothing is downloaded and no weights are read: every value comes from the configs the two
libraries keep in their own source, resolved the way they resolve them when a model is created.

timm (``timm.list_pretrained()``, names ``"<arch>.<tag>"``):
    ``timm.models.get_pretrained_cfg(name)`` (the ``default_cfgs`` dict in the model's module,
    e.g. ``timm/models/convnext.py``), resolved by ``timm.data.resolve_data_config(
    pretrained_cfg=...)`` exactly as ``resolve_model_data_config(model)`` does for a created
    model: mean, std, input_size, crop_pct, interpolation, crop_mode (``use_test_size=False``).
    ``timm.create_model("<arch>")`` without a tag takes the architecture's first (default) tag:
    the table marks that entry. Checked against ``resolve_model_data_config`` of every model
    built on the meta device (timm 1.0.31): all agree but ``vitamin_xlarge_336.datacomp1b_clip``,
    whose entrypoint builds a 336 model under the ``vitamin_xlarge_256`` variant name and so
    attaches the 256 cfg; the table keeps the tag's own registered cfg, (3, 336, 336).

open_clip (``open_clip.list_pretrained()``, names ``"<model>:<tag>"``):
    ``create_model`` starts from the ``PreprocessCfg()`` defaults (``open_clip/transform.py``:
    OPENAI_DATASET_MEAN/STD from ``open_clip/constants.py``, bicubic, resize_mode "shortest"),
    merges the tag's pretrained cfg over them (``merge_preprocess_dict``; the ``_pcfg``,
    ``_slpcfg``, ``_apcfg``, ``_mccfg``, ... helpers in ``open_clip/pretrained.py``), then sets
    ``size`` from the built vision tower, which takes ``vision_cfg["image_size"]`` of the model
    config (``open_clip/model_configs/<model>.json``; ``CLIPVisionCfg`` default 224). For a
    built-in model name ``create_model`` does not read a ``preprocess_cfg`` from the model
    config (only hf-hub: and local-dir: configs have one): the script notes any that appear.
    ``input_size`` is ``PreprocessCfg.input_size``
    (3, H, W). open_clip has no crop_pct: its eval transform resizes by ``resize_mode``
    ("shortest": shorter side to size, then center crop; "squash": both sides; "longest":
    longer side, then pad), stored in the ``crop_mode`` column. Checked against
    ``model.visual.preprocess_cfg`` of ``create_model(model, tag, load_weights=False)`` on the
    meta device, download stubbed (open_clip 3.3.0): all 187 buildable tags agree (the 9 others
    need transformers for their text tower).

Output: plain JSON, keys sorted, one model per line, the distinct (mean, std) pairs listed once
and referenced by index. Floats are written with ``repr`` (exact round trip).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TABLE_PATH = REPO / "albu_norm" / "data" / "model_table.json"
GENERATOR = "python scripts/generate_model_table.py"
FORMAT_VERSION = 1
ENTRY_FIELDS = (
    "normalization",  # index into "normalizations": [[mean...], [std...]]
    "input_size",  # [C, H, W] or null
    "crop_pct",  # float or null
    "interpolation",  # str or null
    "crop_mode",  # timm crop_mode / open_clip resize_mode, or null
    "timm_module",  # timm only: the module under timm/models/ whose default_cfgs hold the entry
    "default_tag",  # 1: "timm/<arch>" without a tag resolves to this entry (timm only)
)


def _floats(values: Sequence[float], what: str) -> list[float]:
    out = [float(v) for v in values]
    if not out or not all(math.isfinite(v) for v in out):
        raise ValueError(f"{what}: expected finite numbers, got {tuple(values)!r}")
    return out


def _size(values: Sequence[int] | None) -> list[int] | None:
    return None if values is None else [int(v) for v in values]


def timm_rows() -> tuple[str, dict[str, dict[str, Any]]]:
    """Entries for every timm pretrained tag, keyed by "timm/<arch>.<tag>"."""
    import timm
    from timm.data import resolve_data_config
    from timm.models import get_pretrained_cfg, model_entrypoint, split_model_name_tag

    rows: dict[str, dict[str, Any]] = {}
    for name in timm.list_pretrained():
        arch, tag = split_model_name_tag(name)
        cfg = get_pretrained_cfg(name, allow_unregistered=False)
        default = get_pretrained_cfg(arch, allow_unregistered=False)
        if cfg is None or default is None:  # timm raises first; this keeps mypy informed
            raise RuntimeError(f"timm lists {name} but has no pretrained cfg for it")
        data = resolve_data_config(pretrained_cfg=cfg.to_dict())
        module = model_entrypoint(arch).__module__.rpartition(".")[2]
        rows[f"timm/{name}"] = {
            "mean": _floats(data["mean"], name),
            "std": _floats(data["std"], name),
            "input_size": _size(data["input_size"]),
            "crop_pct": float(data["crop_pct"]),
            "interpolation": str(data["interpolation"]),
            "crop_mode": str(data["crop_mode"]),
            "timm_module": module,
            "default_tag": int(bool(tag) and default.tag == tag),
        }
    return timm.__version__, rows


def open_clip_rows() -> tuple[str, dict[str, dict[str, Any]], list[str]]:
    """Entries for every open_clip pretrained (model, tag), keyed by "open_clip/<model>:<tag>".

    Also returns notes: tags whose model config is missing (input_size null), model configs
    with a preprocess_cfg that create_model leaves unused.
    """
    import open_clip
    from open_clip.model import CLIPVisionCfg
    from open_clip.transform import PreprocessCfg, merge_preprocess_dict

    default_image_size = CLIPVisionCfg().image_size
    rows: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    ignored: list[str] = []
    for model, tag in open_clip.list_pretrained():
        name = f"{model}:{tag}"
        preprocess = dataclasses.asdict(PreprocessCfg())
        model_cfg = open_clip.get_model_config(model)
        if model_cfg is not None and "preprocess_cfg" in model_cfg:
            ignored.append(model)  # create_model ignores it for built-in names: so do we
        preprocess = merge_preprocess_dict(preprocess, open_clip.get_pretrained_cfg(model, tag))
        if model_cfg is None:
            missing.append(name)
            input_size = None
        else:
            preprocess["size"] = model_cfg["vision_cfg"].get("image_size", default_image_size)
            input_size = PreprocessCfg(**preprocess).input_size
        rows[f"open_clip/{name}"] = {
            "mean": _floats(preprocess["mean"], name),
            "std": _floats(preprocess["std"], name),
            "input_size": _size(input_size),
            "crop_pct": None,
            "interpolation": preprocess["interpolation"],
            "crop_mode": preprocess["resize_mode"],
            "timm_module": None,
            "default_tag": 0,
        }
    notes = []
    if missing:
        notes.append(f"open_clip tags without a model config (input_size null): {missing}")
    if ignored:
        notes.append(
            f"open_clip model configs with an unused preprocess_cfg: {sorted(set(ignored))}"
        )
    return open_clip.__version__, rows, notes


def build_table(date: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """The table as a JSON-ready dict, plus notes for the console."""
    timm_version, timm_entries = timm_rows()
    open_clip_version, open_clip_entries, open_clip_notes = open_clip_rows()
    rows = {**timm_entries, **open_clip_entries}
    pairs = sorted({(tuple(r["mean"]), tuple(r["std"])) for r in rows.values()})
    index = {pair: i for i, pair in enumerate(pairs)}
    models = {
        name: [index[(tuple(r["mean"]), tuple(r["std"]))]] + [r[f] for f in ENTRY_FIELDS[1:]]
        for name, r in sorted(rows.items())
    }
    table = {
        "channel_order": "RGB",
        "entry_fields": list(ENTRY_FIELDS),
        "format_version": FORMAT_VERSION,
        "generated": date or datetime.datetime.now(datetime.timezone.utc).date().isoformat(),
        "generator": GENERATOR,
        "models": models,
        "normalizations": [[list(mean), list(std)] for mean, std in pairs],
        "open_clip_version": open_clip_version,
        "sources": {
            "open_clip": (
                f"open_clip {open_clip_version} pretrained cfg (open_clip/pretrained.py) "
                "merged over the PreprocessCfg defaults (open_clip/transform.py), image size "
                "from vision_cfg in open_clip/model_configs/{model}.json, as "
                "open_clip.create_model does"
            ),
            "timm": (
                f"timm {timm_version} pretrained_cfg (default_cfgs in "
                "timm/models/{timm_module}.py), resolved by timm.data.resolve_data_config"
            ),
        },
        "timm_version": timm_version,
    }
    notes = [
        f"timm {timm_version}: {len(timm_entries)} names; "
        f"open_clip {open_clip_version}: {len(open_clip_entries)} names; "
        f"{len(pairs)} distinct normalizations",
    ]
    notes += open_clip_notes
    odd = [n for n, r in rows.items() if r["input_size"] and r["input_size"][0] != len(r["mean"])]
    if odd:
        notes.append(f"channel count differs from mean length (kept as given): {odd}")
    return table, notes


def dumps(table: dict[str, Any]) -> str:
    """Sorted-key JSON with one model (and one normalization) per line."""

    def compact(value: Any) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"))

    lines = ["{"]
    keys = sorted(table)
    for i, key in enumerate(keys):
        end = "," if i < len(keys) - 1 else ""
        value = table[key]
        if key == "models":
            items = [f"    {json.dumps(n)}: {compact(v)}" for n, v in sorted(value.items())]
            lines += [f'  "{key}": {{', ",\n".join(items), f"  }}{end}"]
        elif key == "normalizations":
            lines += [f'  "{key}": [', ",\n".join(f"    {compact(v)}" for v in value), f"  ]{end}"]
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, sort_keys=True)}{end}")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    if json.loads(text) != table:  # the layout must not change a value
        raise AssertionError("model table does not round-trip through JSON")
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=TABLE_PATH, help="default: %(default)s")
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare with the existing file (all but the date) instead of writing it",
    )
    args = parser.parse_args(argv)
    if args.check:
        old = json.loads(args.output.read_text(encoding="utf-8"))
        table, notes = build_table(date=old.get("generated"))
        if table != old:
            changed = sorted(k for k in table if table[k] != old.get(k))
            names_new = set(table["models"]) - set(old.get("models", {}))
            names_gone = set(old.get("models", {})) - set(table["models"])
            print(
                f"{args.output} is stale (fields differing: {changed}; "
                f"{len(names_new)} new names, {len(names_gone)} removed). Regenerate with "
                f"`{GENERATOR}`.",
                file=sys.stderr,
            )
            return 1
        print(f"{args.output} is up to date. " + " ".join(notes))
        return 0
    table, notes = build_table()
    text = dumps(table)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(text.encode())} bytes)")
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
