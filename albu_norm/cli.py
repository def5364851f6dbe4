"""The ``albu-norm`` command line: dataset statistics and the preset table.

albu-norm stats DIR_OR_GLOB [...] [--out stats.json] [--workers N] [--max-pixel-value V]
                [--sample N] [--seed S] [--color rgb|gray|unchanged] [--scheduler ADDRESS]
albu-norm presets
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from albu_norm import __version__
from albu_norm.presets import get_preset, list_presets
from albu_norm.stats.files import FileStats, compute_stats, compute_stats_dask, find_images


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="albu-norm", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"albu_norm {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    stats = commands.add_parser(
        "stats",
        help="per-channel mean/std/min/max/percentiles of a folder of images",
        description="Read every image (OpenCV, RGB; 16-bit PNG/TIFF kept at 16 bits) and print "
        "its dataset statistics. Files that fail to decode are counted, listed and skipped.",
    )
    stats.add_argument("sources", nargs="+", help="folders (searched recursively) or globs")
    stats.add_argument("--out", type=Path, help="write the statistics to this .json/.yaml file")
    stats.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    stats.add_argument(
        "--max-pixel-value",
        type=float,
        default=None,
        help="value that maps to 1.0 (default: 255 for 8-bit, 65535 for 16-bit images)",
    )
    stats.add_argument("--sample", type=int, default=None, help="read only N random files")
    stats.add_argument("--seed", type=int, default=0, help="seed of --sample (default 0)")
    stats.add_argument(
        "--color",
        choices=("rgb", "gray", "unchanged"),
        default="rgb",
        help="rgb (default): grayscale files repeated to 3 channels, alpha dropped",
    )
    stats.add_argument(
        "--percentiles",
        type=float,
        nargs="*",
        default=[0.5, 1.0, 50.0, 99.0, 99.5],
        help="percentiles to report (integer images; default 0.5 1 50 99 99.5)",
    )
    stats.add_argument(
        "--scheduler", help="Dask scheduler address (tcp://host:8786): run on that cluster"
    )
    stats.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    commands.add_parser("presets", help="list the registered presets with their sources")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 no usable image, 2 bad input)."""
    args = _parser().parse_args(argv)
    if args.command == "presets":
        return _presets()
    return _stats(args, list(sys.argv[1:] if argv is None else argv))


def _presets() -> int:
    for name in list_presets():
        preset = get_preset(name)
        mean = ", ".join(f"{v:.8g}" for v in preset.mean)
        std = ", ".join(f"{v:.8g}" for v in preset.std)
        print(f"{name:12s} {preset.channel_order}  mean ({mean})  std ({std})")
        print(f"{'':12s}      source: {preset.source}")
    return 0


def _stats(args: argparse.Namespace, argv: list[str]) -> int:
    if args.max_pixel_value is not None and not args.max_pixel_value > 0:
        print("error: --max-pixel-value must be > 0", file=sys.stderr)
        return 2
    try:
        files = find_images(args.sources)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.scheduler:
        selected = files
        if args.sample is not None and args.sample < len(files):
            import random

            selected = sorted(random.Random(args.seed).sample(files, args.sample))
        result = compute_stats_dask(selected, args.scheduler, color=args.color)
    else:
        result = compute_stats(
            files,
            workers=args.workers,
            sample=args.sample,
            seed=args.seed,
            color=args.color,
            progress=not args.no_progress,
        )
    read = result.stats.images
    print(f"{read} images read, {len(result.failed)} failed", file=sys.stderr)
    for path, reason in result.failed:
        print(f"  failed: {path}: {reason}", file=sys.stderr)
    if read == 0:
        print("error: no image could be read; nothing to report.", file=sys.stderr)
        return 1
    stats = result.stats.result(args.max_pixel_value, percentiles=args.percentiles)
    print(_table(stats))
    if args.out:
        _write(args.out, _record(stats_record=stats.to_dict(), result=result, argv=argv))
        print(f"written to {args.out}", file=sys.stderr)
    return 0


def _table(stats: Any) -> str:
    lines = [
        f"{stats.images} images, {stats.pixels} pixels per channel, dtype {stats.dtype}, "
        f"max_pixel_value {stats.max_pixel_value:g}",
        f"{'channel':>7} {'mean':>12} {'std':>12} {'min':>9} {'max':>9} "
        f"{'mean (0-1)':>12} {'std (0-1)':>12}",
    ]
    for c in range(len(stats.mean_raw)):
        lines.append(
            f"{c:>7} {stats.mean_raw[c]:>12.6f} {stats.std_raw[c]:>12.6f} "
            f"{stats.min_raw[c]:>9g} {stats.max_raw[c]:>9g} "
            f"{stats.mean[c]:>12.8f} {stats.std[c]:>12.8f}"
        )
    for q, values in stats.percentiles_raw.items():
        lines.append(f"p{q:g}: " + ", ".join(f"{v:g}" for v in values))
    return "\n".join(lines)


def _record(stats_record: dict[str, Any], result: FileStats, argv: list[str]) -> dict[str, Any]:
    return {
        "albu_norm_version": __version__,
        "command": ["albu-norm", *argv],
        "files_read": result.stats.images,
        "files_failed": [{"file": path, "error": error} for path, error in result.failed],
        "stats": stats_record,
    }


def _write(path: Path, record: dict[str, Any]) -> None:
    if path.suffix.lower() in {".yaml", ".yml"}:
        import yaml

        path.write_text(yaml.safe_dump(record, sort_keys=False))
    else:
        path.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
