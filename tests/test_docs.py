"""The README's preset table agrees with the registry (the docs' table is generated from it)."""

from __future__ import annotations

import re
from pathlib import Path

import albu_norm as AN

ROOT = Path(__file__).resolve().parent.parent


def test_readme_preset_table_matches_registry():
    rows = re.findall(
        r"^\| `(\w+)` \|\s*([^|]*?)\s*\|\s*([^|]*?)\s*\|\s*(RGB|BGR)\s*\|",
        (ROOT / "README.md").read_text(),
        flags=re.MULTILINE,
    )
    names = [row[0] for row in rows]
    assert sorted(names) == AN.list_presets()
    aliases = {"= imagenet": "imagenet", "= inception": "inception", "= clip": "clip"}
    for name, mean, std, order in rows:
        preset = AN.get_preset(name)
        assert order == preset.channel_order
        if mean.strip() in aliases:
            assert preset.mean == AN.get_preset(aliases[mean.strip()]).mean
            assert preset.std == AN.get_preset(aliases[mean.strip()]).std
            continue
        typed = [eval(v, {}) for v in mean.split(",")]  # e.g. "124/255"
        assert [round(v, 12) for v in typed] == [round(v, 12) for v in preset.mean], name
        if "," in std:
            assert [round(eval(v, {}), 12) for v in std.split(",")] == [
                round(v, 12) for v in preset.std
            ], name
        else:
            assert all(round(eval(std, {}), 12) == round(v, 12) for v in preset.std), name


def test_docs_preset_hook_lists_every_preset():
    import importlib.util

    spec = importlib.util.spec_from_file_location("hooks", ROOT / "docs" / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    page = hooks.on_page_markdown("before\n<!-- preset-table -->\nafter")
    for name in AN.list_presets():
        assert f"| `{name}` |" in page
        assert AN.get_preset(name).source in page
