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


def _generator():
    import importlib.util

    path = ROOT / "scripts" / "generate_presets_doc.py"
    spec = importlib.util.spec_from_file_location("generate_presets_doc", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_presets_page_in_git_lists_every_preset_and_is_current():
    page = (ROOT / "docs" / "presets.md").read_text(encoding="utf-8")
    for name in AN.list_presets():
        preset = AN.get_preset(name)
        assert f"| `{name}` |" in page
        assert preset.source in page
        assert ", ".join(f"{v:.8g}" for v in preset.mean) in page
    from albu_norm._model_table import table_info

    info = table_info()
    assert f"{info['counts']['timm']} timm names (timm {info['timm_version']})" in page
    assert _generator().main(["--check"]) == 0


def test_a_stale_presets_page_fails_the_check_and_the_docs_build(tmp_path, monkeypatch):
    import pytest

    generator = _generator()
    stale = (ROOT / "docs" / "presets.md").read_text(encoding="utf-8").replace("| `clip` |", "|")
    page = tmp_path / "presets.md"
    page.write_text(stale, encoding="utf-8")
    monkeypatch.setattr(generator, "PAGE", page)
    assert generator.main(["--check"]) == 1
    assert generator.main([]) == 0  # rewrites it
    assert "| `clip` |" in page.read_text(encoding="utf-8")

    import importlib.util

    spec = importlib.util.spec_from_file_location("hooks", ROOT / "docs" / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    with pytest.raises(ValueError, match=r"presets\.md is not current"):
        hooks.on_page_markdown(stale)


def test_docs_images_are_in_git_and_the_check_has_teeth():
    import importlib.util

    import cv2
    import numpy as np

    spec = importlib.util.spec_from_file_location(
        "check_docs_images", ROOT / "scripts" / "check_docs_images.py"
    )
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    for name in check.NAMES:
        picture = cv2.imread(str(ROOT / "docs" / "images" / name), cv2.IMREAD_UNCHANGED)
        assert picture is not None, name
        assert check.compare(picture, picture)[0]
        noisy = np.clip(picture.astype(np.int16) + 1, 0, 255).astype(np.uint8)  # 1 level
        assert check.compare(picture, noisy)[0]
        shifted = np.roll(picture, 7, axis=1)  # a moved plot
        assert not check.compare(picture, shifted)[0]
        assert not check.compare(picture, picture[:-1])[0]


def test_choosing_gives_one_answer_per_situation_and_model_name_presets():
    page = (ROOT / "docs" / "choosing.md").read_text(encoding="utf-8")
    rows = [line for line in page.splitlines() if line.startswith("| ") and "---" not in line]
    situations = [row.split(" | ")[0].lstrip("| ") for row in rows[1:]]
    assert len(situations) == len(set(situations)) >= 4
    fine_tuning = next(row for row in rows if row.startswith("| fine-tuning"))
    assert "Kaggle" in fine_tuning
    named = re.findall(r'preset="([^"]+)"', fine_tuning)
    assert {name.partition("/")[0] for name in named} == {"timm", "open_clip"}
    for name in re.findall(r'preset="([^"<]+)"', page):  # not the <arch>.<tag> pattern
        AN.get_preset(name)  # every preset the page names resolves
    scratch = [row for row in rows if row.startswith("| training from scratch")]
    assert any('stats="stats.json"' in row for row in scratch)
    assert any('normalization="image_per_channel"' in row for row in scratch)
