"""mkdocs hook: pages write <!-- preset-table --> (or <!-- model-table-info -->) and get the
table built from the registry, so the presets are never typed twice."""

from __future__ import annotations

from typing import Any


def preset_table() -> str:
    from albu_norm import get_preset, list_presets

    rows = [
        "| name | mean | std | order / bands | max_pixel_value | source | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in list_presets():
        preset = get_preset(name)
        mean = ", ".join(f"{v:.8g}" for v in preset.mean)
        std = ", ".join(f"{v:.8g}" for v in preset.std)
        scale = "dtype default" if preset.max_pixel_value is None else f"{preset.max_pixel_value:g}"
        order = ", ".join(preset.band_names) if preset.band_names else preset.channel_order
        note = preset.note.replace("|", "/")
        rows.append(f"| `{name}` | {mean} | {std} | {order} | {scale} | {preset.source} | {note} |")
    return "\n".join(rows)


def model_table_info() -> str:
    from albu_norm._model_table import table_info

    info = table_info()
    counts = info["counts"]
    return (
        f"{counts['timm']} timm names (timm {info['timm_version']}) and {counts['open_clip']} "
        f"open_clip names (open_clip {info['open_clip_version']}), generated on "
        f"{info['generated']} by `{info['generator']}`; {counts['normalizations']} distinct "
        "mean/std pairs among them."
    )


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    if "<!-- preset-table -->" in markdown:
        markdown = markdown.replace("<!-- preset-table -->", preset_table())
    if "<!-- model-table-info -->" in markdown:
        markdown = markdown.replace("<!-- model-table-info -->", model_table_info())
    return markdown
