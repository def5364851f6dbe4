"""Write the preset tables into docs/presets.md, so the page reads complete in the repository.

The page holds two generated blocks, each between its markers:

* ``<!-- model-table-info -->`` ... ``<!-- /model-table-info -->``: the shipped timm/open_clip
  table's counts and versions (``albu_norm._model_table.table_info``);
* ``<!-- preset-table -->`` ... ``<!-- /preset-table -->``: every family with its values and
  source (``albu_norm.list_presets`` / ``get_preset``).

    python scripts/generate_presets_doc.py          # rewrite the blocks
    python scripts/generate_presets_doc.py --check  # exit 1 if the page is not current (CI)

The docs build (docs/hooks.py) runs the same check and fails on a stale page.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

PAGE = Path(__file__).resolve().parent.parent / "docs" / "presets.md"


def preset_table() -> str:
    """The families as a Markdown table, one row per preset, from the registry."""
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
    """One sentence: the shipped model table's counts, library versions and date."""
    from albu_norm._model_table import table_info

    info = table_info()
    counts = info["counts"]
    return (
        f"{counts['timm']} timm names (timm {info['timm_version']}) and {counts['open_clip']} "
        f"open_clip names (open_clip {info['open_clip_version']}), generated on "
        f"{info['generated']} by `{info['generator']}`; {counts['normalizations']} distinct "
        "mean/std pairs among them."
    )


BLOCKS = {"model-table-info": model_table_info, "preset-table": preset_table}


def render(page: str) -> str:
    """``page`` with every generated block rewritten (its markers kept)."""
    for marker, build in BLOCKS.items():
        start, end = f"<!-- {marker} -->", f"<!-- /{marker} -->"
        if page.count(start) != 1 or page.count(end) != 1:
            raise ValueError(
                f"{PAGE} must hold {start} and {end} once each, around the generated block; "
                f"found {page.count(start)} and {page.count(end)}."
            )
        before, rest = page.split(start)
        _, after = rest.split(end)
        page = f"{before}{start}\n\n{build()}\n\n{end}{after}"
    return page


def is_current(path: Path = PAGE) -> bool:
    text = path.read_text(encoding="utf-8")
    return render(text) == text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is stale")
    args = parser.parse_args(argv)
    text = PAGE.read_text(encoding="utf-8")
    current = render(text)
    if args.check:
        if current != text:
            print(
                f"{PAGE} is not current: run `python scripts/generate_presets_doc.py`.",
                file=sys.stderr,
            )
            return 1
        print(f"{PAGE.name} is current")
        return 0
    PAGE.write_text(current, encoding="utf-8")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
