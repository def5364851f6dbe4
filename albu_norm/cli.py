"""The ``albu-norm`` command line: dataset statistics and the preset table.

albu-norm stats DIR_OR_GLOB [...] [--out stats.json] [--workers N] [--max-pixel-value V]
                [--sample N] [--seed S] [--color rgb|gray|unchanged] [--ignore-value V[,V...]]
                [--percentiles Q,Q,...] [--allow-failures] [--scheduler ADDRESS]
albu-norm presets [NAME_OR_PATTERN] [--models]

Exit status of ``stats`` (for scripts):

* 0: every file was read; the statistics are printed (and written with ``--out``);
* 1: files failed to decode (each is listed); the statistics of the others are printed but
  not written, unless ``--allow-failures`` (then written, with the failed files recorded, and
  the status is 0); also when no file could be read at all;
* 2: the command cannot give one set of statistics: bad arguments (checked before any file is
  read), no image files, files of different channel counts, an unreachable Dask scheduler.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from albu_norm import __version__
from albu_norm._checks import check_percentile
from albu_norm.presets import get_preset, list_presets
from albu_norm.stats.files import FileStats, compute_stats, compute_stats_dask, find_images

EXIT_OK, EXIT_FAILED_FILES, EXIT_USAGE = 0, 1, 2
OUT_SUFFIXES = (".json", ".yaml", ".yml")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="albu-norm",
        description="The albu-norm command line: dataset statistics and the preset table.",
        epilog="Exit status of stats: 0 every file read; 1 files failed (statistics not written "
        "unless --allow-failures); 2 bad arguments, no images, mixed channel counts.",
    )
    parser.add_argument("--version", action="version", version=f"albu_norm {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    stats = commands.add_parser(
        "stats",
        help="per-channel mean/std/min/max/percentiles of a folder of images",
        description="Read every image (OpenCV, RGB; 16-bit PNG/TIFF kept at 16 bits; 8- and "
        "16-bit files together are put on one scale, each divided by its own maximum) and "
        "print its dataset statistics. Files that fail to decode are listed.",
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
        "--ignore-value",
        type=_numbers,
        default=None,
        metavar="V[,V...]",
        help="nodata: pixels whose every channel equals it (one value, or one per channel, "
        "comma-separated) are left out",
    )
    stats.add_argument(
        "--percentiles",
        type=_numbers,
        default=(0.5, 1.0, 50.0, 99.0, 99.5),
        metavar="Q,Q,...",
        help="percentiles to report, comma-separated (integer images; default 0.5,1,50,99,99.5)",
    )
    stats.add_argument(
        "--allow-failures",
        action="store_true",
        help="write --out and exit 0 even if some files fail to decode (they are recorded)",
    )
    stats.add_argument(
        "--scheduler", help="Dask scheduler address (tcp://host:8786): run on that cluster"
    )
    stats.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    presets = commands.add_parser(
        "presets",
        help="list the presets with their sources, or show one",
        description="List the families (and your registered presets) with their sources; with "
        "a name, show that preset (model names too); with a pattern such as 'timm/convnext*', "
        "list the matching names.",
    )
    presets.add_argument("name", nargs="?", help="a preset or model name, or a shell pattern")
    presets.add_argument(
        "--models", action="store_true", help="list every timm and open_clip model name too"
    )
    return parser


def _numbers(text: str) -> tuple[float, ...]:
    """argparse type: one number or comma-separated numbers ("0", "0,0,0", "0.5,99.5")."""
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers such as 0.5,99.5, got {text!r}"
        ) from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (see the module docstring)."""
    args = _parser().parse_args(argv)
    if args.command == "presets":
        return _presets(args.name, args.models)
    return _stats(args, list(sys.argv[1:] if argv is None else argv))


def _presets(name: str | None, models: bool) -> int:
    try:
        if name is not None and not any(char in name for char in "*?["):
            try:
                preset = get_preset(name)
            except ValueError as error:
                print(f"albu-norm presets: error: {error}", file=sys.stderr)
                return EXIT_USAGE
            for field, value in vars(preset).items():
                if value not in (None, ""):
                    print(f"{field:>15s}: {value}")
            return EXIT_OK
        names = list_presets(name) if name else list_presets("*" if models else None)
        rows = []
        for found in names:
            preset = get_preset(found)
            mean = ", ".join(f"{v:.8g}" for v in preset.mean)
            std = ", ".join(f"{v:.8g}" for v in preset.std)
            rows.append((found, preset.channel_order, f"mean ({mean})", f"std ({std})"))
        # columns as wide as their longest entry (model names reach 60 characters); a mean of
        # many bands (Sentinel-2: 13) overflows its column rather than widen every row
        widths = [
            max(
                (len(row[column]) for row in rows if column < 2 or len(row[column]) <= 48),
                default=0,
            )
            for column in range(3)
        ]
        for row, found in zip(rows, names):
            cells = [cell.ljust(width) for cell, width in zip(row, widths)]
            print("  ".join([*cells, row[3]]))
            print(f"{'':{widths[0]}s}  source: {get_preset(found).source}")
        sys.stdout.flush()
    except BrokenPipeError:  # `albu-norm presets | head`: the reader has gone, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_OK


def _usage_error(message: str) -> int:
    print(f"albu-norm stats: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _check_arguments(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments (checked before any file is read), or None."""
    if args.max_pixel_value is not None and not 0 < args.max_pixel_value < float("inf"):
        return f"--max-pixel-value must be a finite number > 0, got {args.max_pixel_value:g}"
    for q in args.percentiles:
        try:
            check_percentile(q)
        except ValueError as error:
            return f"--{error}"
    if args.sample is not None and args.sample < 1:
        return f"--sample must be a number of files >= 1, got {args.sample}"
    if args.workers is not None and args.workers < 1:
        return f"--workers must be >= 1, got {args.workers}"
    if args.out is not None:
        if args.out.suffix.lower() not in OUT_SUFFIXES:
            return f"--out must end in .json, .yaml or .yml (the format), got {args.out}"
        folder = args.out.parent if str(args.out.parent) else Path()
        if args.out.is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK):
            return f"cannot write --out {args.out}: its folder is missing or not writable"
    return None


def _stats(args: argparse.Namespace, argv: list[str]) -> int:
    problem = _check_arguments(args)
    if problem:
        return _usage_error(problem)
    ignore = None if args.ignore_value is None else tuple(args.ignore_value)
    try:
        files = find_images(args.sources)
        if args.scheduler:
            result = compute_stats_dask(
                files,
                args.scheduler,
                sample=args.sample,
                seed=args.seed,
                color=args.color,
                ignore_value=ignore,
            )
        else:
            result = compute_stats(
                files,
                workers=args.workers,
                sample=args.sample,
                seed=args.seed,
                color=args.color,
                ignore_value=ignore,
                progress=not args.no_progress,
            )
        result.check_one_channel_count()
    except ValueError as error:
        return _usage_error(str(error))
    read = result.stats.images
    print(f"{read} images read, {len(result.failed)} failed", file=sys.stderr)
    for path, reason in result.failed:
        print(f"  failed: {path}: {reason}", file=sys.stderr)
    if read == 0:
        print("albu-norm stats: error: no image could be read; nothing to report.", file=sys.stderr)
        return EXIT_FAILED_FILES
    try:
        stats = result.stats.result(args.max_pixel_value, percentiles=args.percentiles)
    except ValueError as error:  # e.g. every pixel was --ignore-value
        return _usage_error(str(error))
    print(_table(stats))
    if result.failed and not args.allow_failures:
        print(
            f"albu-norm stats: {len(result.failed)} file(s) failed: statistics not written; "
            "fix or remove them, or pass --allow-failures.",
            file=sys.stderr,
        )
        return EXIT_FAILED_FILES
    if args.out:
        _write(args.out, _record(stats_record=stats.to_dict(), result=result, argv=argv))
        print(f"written to {args.out}", file=sys.stderr)
    return EXIT_OK


def _table(stats: Any) -> str:
    lines = [
        f"{stats.images} images, {stats.pixels} pixels per channel, dtype {stats.dtype}, "
        f"max_pixel_value {stats.max_pixel_value:g}",
        f"{'channel':>7} {'mean':>12} {'std':>12} {'min':>9} {'max':>9} "
        f"{'mean (0-1)':>12} {'std (0-1)':>12}",
    ]
    labels = list(stats.channel_order) if len(stats.mean_raw) == 3 else None
    for c in range(len(stats.mean_raw)):
        label = labels[c] if labels else str(c)
        lines.append(
            f"{label:>7} {stats.mean_raw[c]:>12.6f} {stats.std_raw[c]:>12.6f} "
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
