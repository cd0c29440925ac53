"""Every bad input of the issue, from the command line (one line, exit 2, no output) and from the
Python API (a specific exception class, one-line message)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from compare.cli import main
from compare.runs.continuum_run import run_continuum
from compare.runs.io import write_dataset
from compare.runs.particle_run import run_particles
from compare.studies.sweep import load_spec, run_sweep
from compare.studies.validate import run_study
from solvers.errors import CaseError, DensityError, InputError, ParticleInputError, SchemeError
from solvers.initial import atomise, density_from_spec
from solvers.particles.engine import simulate

UNIFORM = '[rho0]\nkind = "uniform"\na = -1.0\nb = 0.5\n\n[eta0]\nkind = "uniform"\na = -0.5\nb = 1.0\n'
OUTSIDE_ETA = '[eta0]\nkind = "uniform"\na = 0.0\nb = 1.0\n'
CASE_FILES = {
    "delta_without_at": ('T = 1.0\n[rho0]\nkind = "delta"\n' + OUTSIDE_ETA, "missing key 'at' for kind 'delta'"),
    "singular_alpha": (
        'T = 1.0\n[rho0]\nkind = "singular"\na = 0.0\nb = 1.0\ncenter = 0.5\nalpha = 1.5\n' + OUTSIDE_ETA,
        "alpha = 1.5 is outside (0, 1)",
    ),
    "singular_center": (
        'T = 1.0\n[rho0]\nkind = "singular"\na = 0.0\nb = 1.0\ncenter = 2.0\nalpha = 0.5\n' + OUTSIDE_ETA,
        "center = 2 is outside [a, b] = [0, 1]",
    ),
    "unknown_key": ("Tt = 1.0\n" + UNIFORM, "unknown key 'Tt'; did you mean 'T'?"),
    "wrong_type": ('T = "1.0"\n' + UNIFORM, "T must be a positive finite number, got '1.0'"),
    "T_zero": ("T = 0.0\n" + UNIFORM, "T must be a positive finite number, got 0.0"),
    "N_zero": ("T = 1.0\nN = 0\n" + UNIFORM, "N must be a positive integer, got 0"),
    "negative_density": (
        'T = 1.0\n[rho0]\nkind = "piecewise_constant"\nedges = [0.0, 1.0, 2.0]\nvalues = [1.0, -1.0]\n'
        '[eta0]\nkind = "uniform"\na = 0.0\nb = 1.0\n',
        "rho0.values must be >= 0",
    ),
    "nan_density": (
        'T = 1.0\n[rho0]\nkind = "piecewise_constant"\nedges = [0.0, 1.0, 2.0]\nvalues = [1.0, nan]\n'
        '[eta0]\nkind = "uniform"\na = 0.0\nb = 1.0\n',
        "rho0.values[1] is not finite",
    ),
    "zero_mass_density": (
        'T = 1.0\n[rho0]\nkind = "piecewise_constant"\nedges = [0.0, 1.0, 2.0]\nvalues = [0.0, 0.0]\n'
        '[eta0]\nkind = "uniform"\na = 0.0\nb = 1.0\n',
        "rho0 has total mass 0",
    ),
    "zero_particle_mass": ("T = 1.0\n[particles]\nx = [0.0, 1.0]\ny = [0.5, 2.0]\nm = [0.0, 1.0]\n", "non-positive mass"),
    "nan_position": ("T = 1.0\n[particles]\nx = [0.0, nan]\ny = [0.5, 2.0]\n", "particles.x[1] = nan is not a finite number"),
    "mass_length": ("T = 1.0\n[particles]\nx = [0.0, 1.0]\ny = [0.5, 2.0]\nn = [1.0]\n", "particles.n has 1 entry for 2 particles"),
    "invalid_toml": ("T = \n", "is not valid TOML"),
}


def _one_line_error(err: str, fragment: str) -> None:
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert fragment in err, err


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse rejects the option before any work
        code = exit_.code
    return code, capsys.readouterr().err


@pytest.fixture
def case_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "in"
    directory.mkdir()
    for name, (text, _) in CASE_FILES.items():
        (directory / f"{name}.toml").write_text(text)
    return directory


@pytest.mark.parametrize("name", sorted(CASE_FILES))
def test_bad_case_file_on_the_command_line(name: str, case_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.nc"
    code, err = _cli(["particles", str(case_dir / f"{name}.toml"), "--out", str(out)], capsys)
    assert code == 2
    _one_line_error(err, CASE_FILES[name][1])
    assert not out.exists()


@pytest.mark.parametrize("name", sorted(CASE_FILES))
def test_bad_case_file_from_the_api(name: str, case_dir: Path) -> None:
    with pytest.raises(CaseError) as info:
        run_particles(case_dir / f"{name}.toml")
    assert "\n" not in str(info.value) and CASE_FILES[name][1] in str(info.value)


def test_unsorted_particles_in_a_case_file(tmp_path: Path) -> None:
    path = tmp_path / "unsorted.toml"
    path.write_text("T = 1.0\n[particles]\nx = [1.0, 0.0]\ny = [0.5, 2.0]\n")
    with pytest.raises(CaseError, match=r"particles.x is not sorted"):
        run_particles(path)


OPTIONS = [
    (["particles", "overlap", "--T", "0"], "argument --T: expected a positive finite number, got 0"),
    (["particles", "overlap", "--T", "-1"], "argument --T: expected a positive finite number"),
    (["particles", "overlap", "--T", "nan"], "argument --T: expected a positive finite number, got nan"),
    (["particles", "overlap", "--N", "0"], "argument --N: expected a positive integer, got 0"),
    (["particles", "overlap", "--N", "ten"], "argument --N: expected a positive integer, got 'ten'"),
    (["particles", "overlap", "--placement", "left"], "argument --placement: invalid choice: 'left'"),
    (["particles", "overlapp"], "unknown case 'overlapp'; did you mean 'overlap'?"),
    (["particles", "missing/nowhere.toml"], "case file missing/nowhere.toml does not exist"),
    (["particles", "overlap", "--N", "4", "--out", "run.txt"], "--out run.txt: a particle run is written as NetCDF-4"),
    (["particles", "cluster", "--placement", "mid"], "case cluster gives explicit particles, so a placement does not apply"),
    (["particles", "overlap", "--nt", "4", "--n", "4"], "unrecognized arguments: --n 4"),
    (["continuum", "overlap", "--scheme", "fv3"], "argument --scheme: invalid choice: 'fv3'"),
    (["continuum", "overlap", "--cells", "2"], "cells = 2 is too few"),
    (["continuum", "overlap", "--cfl", "0.9"], "cfl = 0.9 is outside (0, 0.5]"),
    (["continuum", "cluster", "--cells", "10"], "case cluster gives particles, not densities"),
    (
        ["continuum", "point_mass_inside", "--scheme", "fv2"],
        "which the finite-volume schemes (fv1, fv2) cannot represent; run the scheme lagrangian",
    ),
    (
        ["continuum", "point_mass_inside", "--scheme", "fv1"],
        "which the finite-volume schemes (fv1, fv2) cannot represent; run the scheme lagrangian",
    ),
    (
        ["validate", "point_mass_inside", "--reference", "fv2", "--N", "10,20"],
        "has point masses, which fv2 cannot represent; use reference lagrangian",
    ),
    (["validate", "overlap", "--N", "10"], "a study needs at least two distinct integer N >= 2"),
    (["validate", "overlap", "--N", "1,2,x"], "expected comma-separated positive integers"),
    (["validate", "overlap", "--cells", "4", "--N", "10,20"], "cells = 4 is too small for a reference"),
    (["validate", "separated", "--reference", "exact", "--N", "10,20"], "T = 1 is after the first contact"),
    (["sweep", "spec.toml", "--workers", "0"], "argument --workers: expected a positive integer, got 0"),
]


@pytest.mark.parametrize(("argv", "fragment"), OPTIONS, ids=[" ".join(a) for a, _ in OPTIONS])
def test_bad_option(
    argv: list[str], fragment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, err = _cli(argv, capsys)
    assert code == 2
    _one_line_error(err, fragment)
    assert list(tmp_path.iterdir()) == []


def test_output_path_that_is_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _cli(["particles", "overlap", "--N", "4", "--out", str(tmp_path)], capsys)
    assert code == 2
    _one_line_error(err, "is a directory; pass a file name")
    assert list(tmp_path.iterdir()) == []


SPECS = {
    "unknown_key": (
        'cases = ["overlap"]\nN = [10, 20]\nschemess = ["fv2"]\ncells = [40]\n',
        InputError,
        "unknown key 'schemess'; did you mean 'schemes'?",
    ),
    "missing_key": ('cases = ["overlap"]\nN = [10, 20]\ncells = [40]\n', InputError, "missing key 'schemes'"),
    "wrong_type": (
        'cases = ["overlap"]\nN = "10"\nschemes = ["fv2"]\ncells = [40]\n',
        InputError,
        "N must be a non-empty array of integers",
    ),
    "N_small": (
        'cases = ["overlap"]\nN = [0, 10]\nschemes = ["fv2"]\ncells = [40]\n',
        InputError,
        "a study needs at least two distinct integer N >= 2",
    ),
    "T_zero": (
        'cases = ["overlap"]\nN = [10, 20]\nschemes = ["fv2"]\ncells = [40]\nT = 0\n',
        InputError,
        "T must be a positive finite number, got 0",
    ),
    "T_nan": (
        'cases = ["overlap"]\nN = [10, 20]\nschemes = ["fv2"]\ncells = [40]\nT = nan\n',
        InputError,
        "T must be a positive finite number, got nan",
    ),
    "nt_float": (
        'cases = ["overlap"]\nN = [10, 20]\nschemes = ["fv2"]\ncells = [40]\nnt = 2.5\n',
        InputError,
        "nt must be a positive integer, got 2.5",
    ),
    "scheme": ('cases = ["overlap"]\nN = [10, 20]\nschemes = ["fv3"]\ncells = [40]\n', SchemeError, "unknown scheme 'fv3'; did you mean"),
    "cells_small": ('cases = ["overlap"]\nN = [10, 20]\nschemes = ["fv2"]\ncells = [2]\n', SchemeError, "cells = 2 is too few"),
    "cells_support": (
        'cases = ["narrow.toml"]\nN = [10, 20]\nschemes = ["fv2"]\ncells = [40]\n',
        SchemeError,
        "puts only 0.4 cells across the support of rho0 in case narrow; pass cells >= 400",
    ),
    "unknown_case": (
        'cases = ["overlapp"]\nN = [10, 20]\nschemes = ["fv2"]\ncells = [40]\n',
        CaseError,
        "unknown case 'overlapp'; did you mean 'overlap'?",
    ),
    "particle_case": (
        'cases = ["cluster"]\nN = [10, 20]\nschemes = ["fv2"]\ncells = [40]\n',
        CaseError,
        "case cluster gives explicit particles",
    ),
    "reference": (
        'cases = ["overlap"]\nN = [10, 20]\nschemes = ["fv2"]\ncells = [40]\nreference = "exct"\n',
        InputError,
        "unknown reference 'exct'; did you mean 'exact'?",
    ),
    "refine": (
        'cases = ["overlap"]\nN = [10, 20]\nschemes = ["fv2"]\ncells = [40]\nrefine = 12\n',
        InputError,
        "refine = 12 is not a power of two; pass e.g. refine=8",
    ),
    "invalid_toml": ('cases = ["overlap"\n', InputError, "is not valid TOML"),
}
NARROW = 'T = 1.0\n[rho0]\nkind = "uniform"\na = 0.0\nb = 0.01\n[eta0]\nkind = "uniform"\na = 0.0\nb = 1.0\n'


@pytest.fixture
def spec_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "in"
    directory.mkdir()
    (directory / "narrow.toml").write_text(NARROW)
    for name, (text, _, _) in SPECS.items():
        (directory / f"{name}.toml").write_text(text)
    return directory


@pytest.mark.parametrize("name", sorted(SPECS))
def test_bad_sweep_spec(name: str, spec_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, cls, fragment = SPECS[name]
    with pytest.raises(cls) as info:
        load_spec(spec_dir / f"{name}.toml")
    assert "\n" not in str(info.value) and fragment in str(info.value)
    out = tmp_path / "out"
    code, err = _cli(["sweep", str(spec_dir / f"{name}.toml"), "--out", str(out)], capsys)
    assert code == 2
    _one_line_error(err, fragment)
    assert not out.exists()


def test_sweep_spec_missing_and_output_not_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _cli(["sweep", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    _one_line_error(err, "nope.toml does not exist")
    spec = tmp_path / "spec.toml"
    spec.write_text('cases = ["overlap"]\nN = [10, 20]\nschemes = ["fv2"]\ncells = [40]\n')
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="exists and is not a directory"):
        run_sweep(spec, tmp_path / "file", stream=None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "spec.toml"]
    with pytest.raises(InputError, match="workers must be a positive integer"):
        run_sweep(spec, tmp_path / "out", workers=0, stream=None)


def test_sweep_scheduler_that_does_not_answer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text('cases = ["overlap"]\nN = [10, 20]\nschemes = ["fv2"]\ncells = [40]\n')
    code, err = _cli(["sweep", str(spec), "--out", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:9"], capsys)
    assert code == 2
    _one_line_error(err, "cannot connect to the dask scheduler at tcp://127.0.0.1:9")
    assert not list((tmp_path / "out" / "runs").iterdir())


UNIFORM_01 = {"kind": "uniform", "a": 0.0, "b": 1.0}
API = [
    (
        "simulate: non-finite position",
        lambda: simulate([0.0, np.nan], [0.0, 1.0], [1.0]),
        ParticleInputError,
        "x0 positions are not finite: x0[1] = nan",
    ),
    (
        "simulate: negative time",
        lambda: simulate([0.0, 1.0], [0.0, 1.0], [-1.0]),
        ParticleInputError,
        "t_out[0] = -1.0 is not a finite time",
    ),
    ("simulate: zero mass", lambda: simulate([0.0, 1.0], [0.0, 1.0], [1.0], m=[0.0, 1.0]), ParticleInputError, "m[0] = 0.0"),
    ("simulate: empty", lambda: simulate([], [0.0], [1.0]), ParticleInputError, "x0 is empty"),
    (
        "density: negative",
        lambda: density_from_spec({"kind": "piecewise_linear", "nodes": [0, 1], "values": [1, -1]}, name="eta0"),
        DensityError,
        "eta0.values must be >= 0",
    ),
    (
        "density: unknown key",
        lambda: density_from_spec({"kind": "uniform", "a": 0, "bb": 1}, name="rho0"),
        DensityError,
        "unknown key 'bb' for kind 'uniform'; did you mean 'b'?",
    ),
    (
        "density: unknown kind",
        lambda: density_from_spec({"kind": "unifrom", "a": 0, "b": 1}, name="rho0"),
        DensityError,
        "did you mean 'uniform'?",
    ),
    (
        "density: wrong type",
        lambda: density_from_spec({"kind": "bump", "center": "0", "radius": 1}, name="rho0"),
        DensityError,
        "rho0.center must be a number",
    ),
    ("atomise: N = 0", lambda: atomise(density_from_spec(UNIFORM_01), 0), DensityError, "N must be a positive integer, got 0"),
    ("run_particles: T = 0", lambda: run_particles("overlap", N=4, T=0.0), InputError, "T must be a positive finite time, got 0.0"),
    ("run_particles: N = 0", lambda: run_particles("overlap", N=0), CaseError, "N must be a positive integer, got 0"),
    (
        "run_particles: placement of grid particles",
        lambda: run_particles("grid_bumps", N=10, placement="mid"),
        CaseError,
        "so a placement does not apply; drop the placement",
    ),
    ("run_continuum: scheme", lambda: run_continuum("overlap", scheme="fv3", cells=10), SchemeError, "unknown scheme 'fv3'"),
    ("run_continuum: cells", lambda: run_continuum("overlap", cells=3), SchemeError, "cells = 3 is too few"),
    ("run_continuum: T < 0", lambda: run_continuum("overlap", cells=10, T=-1.0), InputError, "T must be a positive finite time"),
    (
        "run_study: reference",
        lambda: run_study("overlap", Ns=[4, 8], cells=10, reference="exactt"),
        InputError,
        "unknown reference 'exactt'; did you mean 'exact'?",
    ),
    ("run_study: N", lambda: run_study("overlap", Ns=[1, 8], cells=10), InputError, "at least two distinct integer N >= 2"),
    (
        "write_dataset: unwritable",
        lambda: write_dataset(run_particles("overlap", N=4, nt=2), "/nonexistent-dir/run.nc"),
        InputError,
        "cannot write /nonexistent-dir/run.nc",
    ),
]


@pytest.mark.parametrize(("call", "cls", "fragment"), [a[1:] for a in API], ids=[a[0] for a in API])
def test_bad_api_input(call: Callable[[], object], cls: type[Exception], fragment: str) -> None:
    with pytest.raises(cls) as info:
        call()
    assert "\n" not in str(info.value) and fragment in str(info.value)


@pytest.mark.parametrize("scheme", ["fv2", "lagrangian"])
def test_cfl_of_the_wrong_type(scheme: str) -> None:
    with pytest.raises(SchemeError, match="cfl"):
        run_continuum("overlap", scheme=scheme, cells=10, cfl="0.4")  # type: ignore[arg-type]
