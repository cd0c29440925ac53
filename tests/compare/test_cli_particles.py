"""``python -m compare particles`` end to end."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from compare.cli import main
from compare.runs.cases import CASES_DIR
from compare.runs.io import read_dataset

REPO = Path(__file__).resolve().parents[2]


def test_particles_command_writes_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run.nc"
    code = main(["particles", "overlap", "--N", "20", "--T", "0.5", "--nt", "5", "--placement", "mid", "--out", str(out)])
    assert code == 0
    line = capsys.readouterr().out.strip()
    assert re.fullmatch(rf"overlap N=20: \d+ events \(\d+ crossings, \d+ sticks\) to T=0.5 in \d+\.\d\d s -> {re.escape(str(out))}", line)
    ds = read_dataset(out)
    assert ds.sizes["t"] == 6 and ds.sizes["i"] == 20 and ds.attrs["placement"] == "mid"
    assert [p.name for p in tmp_path.iterdir()] == ["run.nc"]
    # one wall time per run: the line prints the one the file stores
    assert line.split(" in ")[1].split(" s ")[0] == f"{ds.attrs['wall_time_s']:.2f}"


def test_case_file_path_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = tmp_path / "my_cluster.toml"
    case.write_text((CASES_DIR / "cluster.toml").read_text(encoding="utf-8"))
    out = tmp_path / "cluster.nc"
    assert main(["particles", str(case), "--out", str(out)]) == 0
    assert capsys.readouterr().out.startswith("my_cluster N=6: ")
    assert read_dataset(out).attrs["T"] == 2.0


def test_counts_are_plural_by_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # x_2 (velocity 3/2) meets y_1 (velocity -3/2) at t = 1/6 and crosses (2 != 1); the next
    # meetings, x_1 = y_1 at t = 4/3 and x_2 = y_2 at t = 11/6, come after T = 1
    case = tmp_path / "one.toml"
    case.write_text("T = 1.0\n[particles]\nx = [0.0, 1.0]\ny = [1.5, 3.0]\n")
    assert main(["particles", str(case), "--nt", "2", "--out", str(tmp_path / "one.nc")]) == 0
    line = capsys.readouterr().out
    ds = read_dataset(tmp_path / "one.nc")
    assert (ds.attrs["n_events"], ds.attrs["n_cross"], ds.attrs["n_stick"]) == (1, 1, 0)
    assert ": 1 event (1 crossing, 0 sticks) to T=1 " in line


def test_particle_case_with_unequal_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A ``[particles]`` table with N_x != N_y (README: allowed) runs, with and without masses."""
    for extra, masses in (("", (1 / 3, 1 / 2)), ("m = [0.2, 0.3, 0.5]\nn = [0.6, 0.4]\n", None)):
        case = tmp_path / "unequal.toml"
        case.write_text(f"T = 0.5\n[particles]\nx = [-1.0, 0.0, 1.0]\ny = [-0.5, 0.5]\n{extra}")
        out = tmp_path / "unequal.nc"
        assert main(["particles", str(case), "--nt", "4", "--out", str(out)]) == 0
        assert capsys.readouterr().out.startswith("unequal N=3/2: ")
        ds = read_dataset(out)
        assert (ds.sizes["i"], ds.sizes["j"], ds.attrs["N_x"], ds.attrs["N_y"]) == (3, 2, 3, 2)
        if masses is None:
            np.testing.assert_array_equal(ds["m"].values, [0.2, 0.3, 0.5])
            np.testing.assert_array_equal(ds["n"].values, [0.6, 0.4])
        else:
            np.testing.assert_array_equal(ds["m"].values, np.full(3, masses[0]))
            np.testing.assert_array_equal(ds["n"].values, np.full(2, masses[1]))
        np.testing.assert_array_equal(ds["x"].values[0], [-1.0, 0.0, 1.0])
        assert np.all(np.diff(ds["energy"].values) <= 1e-15)  # E[Z] does not increase


def _run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "compare", "particles", *args],
        cwd=cwd,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_unknown_case_exits_2_with_one_line_and_no_file(tmp_path: Path) -> None:
    result = _run_cli("overlapp", "--N", "10", "--out", "run.nc", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: unknown case 'overlapp'; did you mean 'overlap'?")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["overlap", "--N", "10", "--out", "run.txt"], "error: --out run.txt: a particle run is written as NetCDF-4"),
        (["cluster", "--N", "10", "--out", "run.nc"], "error: case cluster has 6 explicit particles"),
        (
            ["cluster", "--placement", "mid", "--out", "run.nc"],
            "error: case cluster gives explicit particles, so a placement does not apply",
        ),
        (["grid_bumps", "--N", "20", "--placement", "right", "--out", "run.nc"], 'error: case grid_bumps has atomisation = "grid"'),
    ],
)
def test_bad_runs_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], fragment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["particles", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(fragment) and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
