"""mkdocs hook: docs/presets.md holds its generated tables in git
(``scripts/generate_presets_doc.py``); the build fails if they are not current."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "generate_presets_doc.py"


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("generate_presets_doc", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def on_page_markdown(markdown: str, page: Any = None, **kwargs: Any) -> str:
    if "<!-- preset-table -->" in markdown and _generator().render(markdown) != markdown:
        raise ValueError(
            "docs/presets.md is not current: run `python scripts/generate_presets_doc.py`."
        )
    return markdown
