"""The ``albu-norm`` command line: dataset statistics and the preset table.

albu-norm stats DIR_OR_GLOB [...] [--out stats.json] [--workers N] [--max-pixel-value V]
                [--sample N] [--seed S] [--color rgb|gray|unchanged] [--ignore-value V[,V...]]
                [--percentiles Q,Q,...] [--allow-failures] [--scheduler ADDRESS]
albu-norm presets [NAME_OR_PATTERN] [--models]
albu-norm verify MODEL PIPELINE [--images FOLDER [--histograms OUT.png]]

Exit status of ``verify``: 0 the model's normalization is the pipeline's; 1 they differ (a
table says where); 2 bad arguments, or a file that cannot be read or carries no normalization.

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
from typing import Any, Callable

from albu_norm import __version__
from albu_norm._checks import check_percentile
from albu_norm.presets import get_preset, list_presets
from albu_norm.stats.files import FileStats, compute_stats, compute_stats_dask, find_images

EXIT_OK, EXIT_FAILED_FILES, EXIT_USAGE = 0, 1, 2
EXIT_DIFFER = 1  # verify: the model and the pipeline differ
OUT_SUFFIXES = (".json", ".yaml", ".yml")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="albu-norm",
        description="The albu-norm command line: dataset statistics, the preset table, and "
        "verifying a model's normalization against a pipeline's.",
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
        type=_numbers_like("0 or 0,0,0"),
        default=None,
        metavar="V[,V...]",
        help="nodata: pixels whose every channel equals it (one value, or one per channel, "
        "comma-separated) are left out",
    )
    stats.add_argument(
        "--percentiles",
        type=_numbers_like("0.5,99.5"),
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
    stats.set_defaults(usage=stats.format_usage())  # for the usage errors found after parsing

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

    verify = commands.add_parser(
        "verify",
        help="does a model's normalization match a pipeline's?",
        description="Compare the normalization a model expects (an ONNX model with a prepended "
        "normalization, or a timm / Hugging Face / open_clip config file) with a pipeline's (a "
        "file saved with A.save, whose last albu_norm.Normalize counts, or a preset name): mean, "
        "std, scale, channel order, input size and crop where both sides know them. Exit status: "
        "0 they agree, 1 they differ, 2 bad usage or unreadable files.",
    )
    verify.add_argument("model", help="model.onnx, preprocessor_config.json, config.json, ...")
    verify.add_argument("pipeline", help="a pipeline saved with A.save (.json/.yaml), or a preset")
    verify.add_argument(
        "--images",
        help="a folder (or glob) of images: run the pipeline on them and print the per-channel "
        "mean/std of what the network receives",
    )
    verify.add_argument(
        "--histograms",
        type=Path,
        help="with --images: write the per-channel histograms to this PNG (needs matplotlib)",
    )
    return parser


def _numbers_like(example: str) -> Callable[[str], tuple[float, ...]]:
    """argparse type: one number or comma-separated numbers; ``example`` is the option's own
    example in its error message ("0 or 0,0,0" for --ignore-value, "0.5,99.5" for
    --percentiles)."""

    def numbers(text: str) -> tuple[float, ...]:
        try:
            values = tuple(float(part) for part in text.split(",") if part.strip())
        except ValueError:
            values = ()
        if not values:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated numbers such as {example}, got {text!r}"
            )
        return values

    return numbers


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (see the module docstring)."""
    args = _parser().parse_args(argv)
    if args.command == "presets":
        return _presets(args.name, args.models)
    if args.command == "verify":
        return _verify(args.model, args.pipeline, args.images, args.histograms)
    return _stats(args, list(sys.argv[1:] if argv is None else argv))


def _quiet_stdout() -> None:
    """After a closed pipe (``| head -1``): send what is left of stdout nowhere, so that
    Python's flush at exit does not fail a second time."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


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
        _quiet_stdout()
    return EXIT_OK


def _verify(model: str, pipeline: str, images: str | None, histograms: Path | None) -> int:
    from albu_norm.verify import compare, network_input_statistics, plot_histograms

    if histograms is not None and images is None:
        print("albu-norm verify: error: --histograms needs --images", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = compare(model, pipeline)
        statistics = None if images is None else network_input_statistics(result.pipeline, images)
    except ValueError as error:
        print(f"albu-norm verify: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(result.table())
    if statistics is not None:
        print(statistics.table())
        if histograms is not None:
            if plot_histograms(statistics, histograms):
                print(f"histograms written to {histograms}", file=sys.stderr)
            else:
                print("matplotlib is not installed: no histograms written", file=sys.stderr)
    if result.agree:
        print("the model's normalization is the pipeline's.")
        return EXIT_OK
    names = ", ".join(row.name for row in result.differences)
    print(f"albu-norm verify: the model and the pipeline differ in: {names}.", file=sys.stderr)
    return EXIT_DIFFER


def _usage_error(args: argparse.Namespace, message: str) -> int:
    """The stats subcommand's usage and the message on stderr, as argparse prints its own."""
    print(args.usage, end="", file=sys.stderr)
    print(f"albu-norm stats: error: {message}", file=sys.stderr)
    return EXIT_USAGE


#: The ignore-value lengths each --color allows before any file is read (one value for every
#: channel, or one per channel); "unchanged" keeps each file's own channels.
_IGNORE_VALUE_LENGTHS = {"rgb": (1, 3), "gray": (1,)}


def _check_arguments(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments (checked before any file is read), or None."""
    if args.max_pixel_value is not None and not 0 < args.max_pixel_value < float("inf"):
        return f"--max-pixel-value must be a finite number > 0, got {args.max_pixel_value:g}"
    for q in args.percentiles:
        try:
            check_percentile(q)
        except ValueError as error:
            return f"--{error}"
    lengths = _IGNORE_VALUE_LENGTHS.get(args.color)
    if args.ignore_value is not None and lengths and len(args.ignore_value) not in lengths:
        return (
            f"--ignore-value has {len(args.ignore_value)} values, but --color {args.color} "
            f"gives {max(lengths)}-channel images: pass one value (every channel) or "
            f"{max(lengths)}, e.g. --ignore-value {'0,0,0' if max(lengths) == 3 else '0'}"
        )
    if args.seed < 0:
        return f"--seed must be >= 0, got {args.seed}"
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
        return _usage_error(args, problem)
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
        return _usage_error(args, str(error))
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
        return _usage_error(args, str(error))
    written = args.out is not None and (not result.failed or args.allow_failures)
    if written:  # the file first: a closed pipe below must not lose it
        _write(args.out, _record(stats_record=stats.to_dict(), result=result, argv=argv))
    status = EXIT_FAILED_FILES if result.failed and not args.allow_failures else EXIT_OK
    try:
        print(_table(stats))
        sys.stdout.flush()
    except BrokenPipeError:  # `albu-norm stats ... | head -1`: the reader has gone
        _quiet_stdout()
    if status == EXIT_FAILED_FILES:
        print(
            f"albu-norm stats: {len(result.failed)} file(s) failed: statistics not written; "
            "fix or remove them, or pass --allow-failures.",
            file=sys.stderr,
        )
    elif written:
        print(f"written to {args.out}", file=sys.stderr)
    return status


def _table(stats: Any) -> str:
    lines = [
        f"{stats.images} images, {stats.pixels} pixels per channel, dtype {stats.dtype}, "
        + (
            "max_pixel_value null (mixed dtypes: each image on its own dtype's 0-1 scale)"
            if stats.mixed_dtypes
            else f"max_pixel_value {stats.max_pixel_value:g}"
        ),
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
