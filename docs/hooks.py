"""mkdocs hook: pages write <!-- preset-table --> and get the table built from the registry,
so the presets are never typed twice."""

from __future__ import annotations

from typing import Any


def preset_table() -> str:
    from albu_norm import get_preset, list_presets

    rows = [
        "| name | mean | std | channel order | max_pixel_value | source |",
        "|---|---|---|---|---|---|",
    ]
    for name in list_presets():
        preset = get_preset(name)
        mean = ", ".join(f"{v:.8g}" for v in preset.mean)
        std = ", ".join(f"{v:.8g}" for v in preset.std)
        scale = "dtype default" if preset.max_pixel_value is None else f"{preset.max_pixel_value:g}"
        rows.append(
            f"| `{name}` | {mean} | {std} | {preset.channel_order} | {scale} | {preset.source} |"
        )
    return "\n".join(rows)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    if "<!-- preset-table -->" in markdown:
        markdown = markdown.replace("<!-- preset-table -->", preset_table())
    return markdown
