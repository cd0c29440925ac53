"""The validation job and its command line (``python -m compare [validate CASE ...]``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import compare.studies.validate
from compare.cli import main
from compare.runs.io import read_dataset
from compare.studies.report import table
from compare.studies.validate import DEFAULT_CASE, DEFAULT_CELLS, DEFAULT_NS


def test_validate_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    status = main(["validate", "overlap", "--N", "10,20,40", "--T", "0.5", "--nt", "4", "--cells", "100", "--out", str(out)])
    captured = capsys.readouterr()
    assert status == 0
    names = {p.name for p in out.iterdir()}
    assert {"study.nc", "summary.md", "convergence.png", "profiles.png", "trajectories.png"} <= names
    study = read_dataset(out / "study.nc")
    assert study["N"].values.tolist() == [10, 20, 40]
    assert study.attrs["reference"] == "fv2 (100 cells)"
    lines = captured.out.splitlines()
    assert lines[0].split()[:4] == ["N", "sup", "W1", "rate"]
    assert [int(line.split()[0]) for line in lines[1:4]] == [10, 20, 40]
    assert lines[4].startswith(" order")
    assert captured.err.count("\n") >= 4  # a progress line per run
    summary = (out / "summary.md").read_text()
    assert "Lemma 5.1" in summary and "holds" in summary and "![convergence](convergence.png)" in summary
    # every check of the paper that the study runs holds, and the summary says so
    assert bool(study["lemma51_holds"].all()) and bool(study["prop52_holds"].all())
    assert float(study["sup_max_increase"].max()) <= 1e-12  # max(sup rho~, sup eta~) non-increasing
    assert "VIOLATED" not in summary
    assert "Time sampling: the runs and the reference are sampled at 8 times per output interval (33 times)" in summary
    assert "N * sup W1 = " in summary and "weak_residual: the weak form (16) on the reconstruction tested with" in summary
    assert np.all(np.diff(study["energy"].values, axis=1) <= 1e-15)  # E[Z] non-increasing for every N
    # Corollary 4.1 (binary collisions only) and the energy identity, exact over every t in [0, T]
    assert np.all(study["min_third_gap"].values > 0)
    assert float(study["energy_identity_residual"].max()) <= 1e-14


def test_table_rates_are_consecutive_orders() -> None:
    import xarray as xr

    N = np.array([10, 20, 40])
    err = np.array([1.0, 0.5, 0.125])
    metric = ["w1_emp", "w2_emp", "weak_residual"]
    study = xr.Dataset(
        {
            "sup_err": (("N", "metric"), np.stack([err, err, err], axis=1)),
            "order": ("metric", [1.5, 1.5, 1.5]),
            "order_se": ("metric", [0.5, 0.5, 0.5]),
            "order_constant": ("metric", [10.0, 10.0, 10.0]),
        },
        coords={"N": N, "metric": metric},
    )
    rows = table(study).splitlines()
    assert rows[2].split()[2] == "1.00" and rows[3].split()[2] == "2.00"
    assert rows[4].split()[1] == "1.500±0.500"


def test_no_arguments_run_the_default_study(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    calls = []

    def fake_validate(case, **kwargs):  # records the wiring; the real job is test_validate_smoke
        calls.append((case, kwargs))
        return None, "table"

    monkeypatch.setattr(compare.studies.validate, "validate", fake_validate)
    assert main([]) == 0
    case, kwargs = calls[0]
    assert case == DEFAULT_CASE
    assert kwargs["out"] == "results" and kwargs["Ns"] == list(DEFAULT_NS) and kwargs["cells"] == DEFAULT_CELLS
    assert kwargs["T"] is None and kwargs["command"] == "python -m compare"
    assert "table" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["validate", "overlap", "--N", "50"], "at least two distinct"),
        (["validate", "nosuchcase", "--N", "10,20"], "nosuchcase"),
        (["validate", "cluster", "--N", "10,20"], "explicit particles"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "never"
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err
    assert not out.exists()


def test_unparseable_N_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["validate", "overlap", "--N", "10,x"])
    assert info.value.code == 2
    assert "comma-separated positive integers" in capsys.readouterr().err
