"""``python -m compare particles`` end to end."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from compare.cli import main
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


def test_case_file_path_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cluster.nc"
    assert main(["particles", str(REPO / "data" / "cases" / "cluster.toml"), "--out", str(out)]) == 0
    assert capsys.readouterr().out.startswith("cluster N=6: ")
    assert read_dataset(out).attrs["T"] == 2.0


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
        (["overlap", "--N", "10", "--out", "missing/run.nc"], "error: cannot write missing/run.nc"),
        (["cluster", "--N", "10", "--out", "run.nc"], "error: case cluster has 6 explicit particles"),
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
