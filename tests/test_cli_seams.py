"""``albu-norm stats`` at the seams (issue 17): the file is written before anything is printed,
a closed pipe ends quietly with the file written and the right status, every bad argument is
exit 2 before a file is read (with the option's own example and the subcommand's usage), and
the printed header agrees with the file."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from albu_norm import cli


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    for index in range(3):
        cv2.imwrite(str(tmp_path / f"{index}.png"), rng.integers(0, 256, (9, 7, 3), np.uint8))
    return tmp_path


def _run_with_closed_stdout(args: list[str]) -> subprocess.CompletedProcess:
    """The command with its stdout a pipe whose reader has already gone (`| head -0`)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "albu_norm.cli", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)


@pytest.mark.slow
@pytest.mark.parametrize("broken", [False, True])
def test_a_closed_pipe_ends_quietly_with_the_file_written_and_the_status(folder, broken):
    out = folder / "stats.json"
    if broken:
        (folder / "broken.png").write_bytes(b"\x89PNG broken")
    args = ["stats", str(folder), "--out", str(out), "--no-progress", "--workers", "1"]
    done = _run_with_closed_stdout(args)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    assert done.returncode == (1 if broken else 0)
    assert out.exists() is not broken
    done = _run_with_closed_stdout([*args, "--allow-failures"])
    assert done.returncode == 0 and json.loads(out.read_text())["stats"]["images"] == 3


def test_the_file_is_written_before_anything_is_printed(folder, monkeypatch):
    out = folder / "stats.json"

    def table(stats):
        assert out.exists(), "the table was printed before the file was written"
        return "table"

    monkeypatch.setattr(cli, "_table", table)
    assert cli.main(["stats", str(folder), "--out", str(out), "--no-progress"]) == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--ignore-value", "0,0"], "--ignore-value has 2 values"),
        (["--ignore-value", "0,0,0,0"], "--ignore-value has 4 values"),
        (["--color", "gray", "--ignore-value", "0,0,0"], "--color gray gives 1-channel"),
        (["--seed", "-1"], "--seed must be >= 0"),
    ],
)
def test_every_bad_argument_is_exit_2_before_a_file_is_read(
    folder, capsys, monkeypatch, extra, message
):
    monkeypatch.setattr(cli, "compute_stats", lambda *a, **k: pytest.fail("files were read"))
    assert cli.main(["stats", str(folder), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.startswith("usage: albu-norm stats"), err  # the subcommand's usage


@pytest.mark.parametrize(
    ("option", "example"),
    [("--ignore-value", "such as 0 or 0,0,0"), ("--percentiles", "such as 0.5,99.5")],
)
@pytest.mark.parametrize("value", ["x", ",", "1,,b"])
def test_a_bad_number_list_shows_that_options_example(folder, capsys, option, example, value):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["stats", str(folder), f"{option}={value}"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert example in err and err.startswith("usage: albu-norm stats")


def test_the_printed_header_agrees_with_the_file(tmp_path, capsys):
    rng = np.random.default_rng(1)
    cv2.imwrite(str(tmp_path / "a.png"), rng.integers(0, 256, (9, 7, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "b.png"), rng.integers(0, 65536, (9, 7, 3), np.uint16))
    out = tmp_path / "stats.json"
    assert cli.main(["stats", str(tmp_path), "--out", str(out), "--no-progress"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert json.loads(out.read_text())["stats"]["max_pixel_value"] is None
    assert "max_pixel_value null" in header and "max_pixel_value 1" not in header
