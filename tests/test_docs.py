"""The README names every family (the docs' table is generated from the registry)."""

from __future__ import annotations

import re
from pathlib import Path

import albu_norm as AN

ROOT = Path(__file__).resolve().parent.parent


def test_readme_names_every_family():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Presets") : readme.index("## Dataset statistics")]
    named = set(re.findall(r"`(\w+)`", section))
    assert set(AN.list_presets()) <= named, set(AN.list_presets()) - named
    assert (
        not {n for n in named if n.islower() and "_" in n}
        - set(AN.list_presets())
        - {
            "max_pixel_value",
            "input_channel_order",
        }
    )


def test_docs_preset_hook_lists_every_preset():
    import importlib.util

    spec = importlib.util.spec_from_file_location("hooks", ROOT / "docs" / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    page = hooks.on_page_markdown("before\n<!-- preset-table -->\nafter")
    for name in AN.list_presets():
        assert f"| `{name}` |" in page
        assert AN.get_preset(name).source in page
