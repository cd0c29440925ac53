"""Options and messages of every command: no abbreviations, defaults in every ``--help``,
``--version``, one ``--out`` rule, the compile notice, and what the validate lines say."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numba
import pytest

from compare.cli import build_parser, compile_notice, main
from compare.runs.cases import load_case
from compare.runs.io import package_version, read_dataset
from compare.studies.jobs import study_spec
from compare.studies.validate import run_jobs

COMMANDS = ("particles", "continuum", "validate", "regularised", "sweep", "plot", "animate", "cases")


def _exit(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_command_is_listed_and_has_defaults_in_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    subparsers = _subparsers(build_parser())
    assert set(subparsers) == set(COMMANDS)
    for name, sub in subparsers.items():
        code, out, _ = _exit([name, "--help"], capsys)
        assert code == 0
        text = " ".join(out.split())
        for action in sub._actions:
            if action.option_strings and action.help and action.default not in (None, argparse.SUPPRESS, False):
                assert "default" in action.help or "(default: " in text, (name, action.dest)
                shown = ",".join(map(str, action.default)) if isinstance(action.default, list) else str(action.default)
                assert f"(default: {shown})" in text or "default" in action.help, (name, action.dest, shown)
            if action.option_strings and action.default is None and action.help:
                assert "(default: None)" not in text


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["particles", "overlap", "--n", "100"], "unrecognized arguments: --n 100"),
        (["continuum", "overlap", "--cell", "100"], "unrecognized arguments: --cell 100"),
        (["validate", "overlap", "--ref", "fv2"], "unrecognized arguments: --ref fv2"),
        (["sweep", "spec.toml", "--work", "2"], "unrecognized arguments: --work 2"),
        (["--vers"], "unrecognized arguments: --vers"),
    ],
)
def test_options_are_not_abbreviated(
    argv: list[str], fragment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = _exit(argv, capsys)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and fragment in err
    assert list(tmp_path.iterdir()) == []


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _exit(["--version"], capsys)
    assert code == 0
    assert out == f"particle-limit {package_version('particle-limit')}\n"
    assert re.fullmatch(r"particle-limit \d+\.\d+\.\d+.*\n", out)


def test_missing_output_directories_are_created(tmp_path: Path) -> None:
    """``--out`` in a directory that does not exist yet is created, as for validate and sweep
    (``plot`` and ``animate``: test_cli_look; validate: the README example writes api/results)."""
    run, pde = tmp_path / "a" / "run.nc", tmp_path / "b" / "c" / "pde.nc"
    assert main(["particles", "overlap", "--N", "10", "--T", "0.5", "--nt", "4", "--out", str(run)]) == 0
    assert main(["continuum", "overlap", "--cells", "50", "--T", "0.5", "--nt", "4", "--out", str(pde)]) == 0
    assert read_dataset(run).sizes["i"] == 10 and read_dataset(pde).sizes["x"] == 50


def test_validate_lines_say_what_their_time_covers() -> None:
    """One line per job, its time the run's stored ``wall_time_s`` (the number summary.md adds up)."""
    spec = study_spec(load_case("overlap"), Ns=[4, 8], T=0.1, nt=2, cells=20)
    lines: list[str] = []
    runs = run_jobs(spec, lines.append)
    assert len(lines) == len(runs) == 6
    for line, ds in zip(lines, runs.values(), strict=True):
        assert line.endswith(f"(run {ds.attrs['wall_time_s']:.1f} s)"), line
    assert lines[0].startswith("particles N=8: ") and " events, last at t=" in lines[0]


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (
            ["particles", "overlap", "--out", "run.txt"],
            "--out run.txt: a particle run is written as NetCDF-4; pass a file name ending in .nc",
        ),
        (["continuum", "overlap", "--out", "pde"], "--out pde: a continuum run is written as NetCDF-4"),
        (["validate", "overlap", "--out", "study.nc"], "--out study.nc: this command writes a directory of files"),
        (["sweep", "spec.toml", "--out", "sweep.nc"], "--out sweep.nc: this command writes a directory of files"),
        (["particles", "overlap", "--out", "file/run.nc"], "cannot create file: "),
        (["validate", "overlap", "--N", "10,20", "--N-show", "30"], "N_show = 30 is not one of the study's N"),
        (["validate", "overlap", "--N", "10,20", "--refine", "6"], "refine = 6 is not a power of two; pass e.g. refine=8"),
        (["validate", "overlap", "--N", "10,20", "--refine", "2"], "refine"),
    ],
)
def test_out_is_checked_before_any_work(
    argv: list[str], fragment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("")
    code, _, err = _exit(argv, capsys)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert fragment in err, err
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_compile_notice_is_printed_once_and_only_when_numba_compiles(capsys: pytest.CaptureFixture[str]) -> None:
    first = numba.njit(lambda x: x + 1)
    second = numba.njit(lambda x: 2 * x)
    with compile_notice():
        first(1)
        second(1)
    assert capsys.readouterr().err == "compiling kernels (first run only; later runs load them from numba's cache)\n"
    with compile_notice():
        first(2)  # already compiled: no notice
    assert capsys.readouterr().err == ""
