"""The Remark 5.1 study (``python -m compare regularised``) and regularised runs on the command line."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from compare.cli import main
from compare.look import kind_of
from compare.runs.io import read_dataset
from compare.studies.regularised import FLOOR_ORDER, needed_N, schedule_delta
from compare.studies.validate import run_study
from solvers.errors import InputError

NS = [20, 40, 80]


def test_needed_N_is_exact_for_exact_power_laws() -> None:
    """Errors C/N (exact) and 2C/N (a schedule): the schedule reaches the exact engine's error at
    N = 1000 at N = 2000, with no spread (the fits have no residual)."""
    N = np.array([100.0, 200.0, 400.0, 800.0])
    value, low, high = needed_N(N, 0.5 / N, 1.0 / N)
    assert value == pytest.approx(2000.0, rel=1e-12)
    assert low == pytest.approx(2000.0, rel=1e-12) and high == pytest.approx(2000.0, rel=1e-12)
    # order 1/2 from the same error at N = 100: 0.005 (N/100)^(-1/2) = 0.5/1000 at N = 10,000
    value, _, _ = needed_N(N, 0.5 / N, 0.005 * (N / 100) ** -0.5)
    assert value == pytest.approx(1e4, rel=1e-12)


def test_needed_N_range_is_the_inverse_prediction_of_both_fits() -> None:
    """The one-standard-error range against an independent computation from numpy's fit covariance."""
    rng = np.random.default_rng(3)
    N = np.array([100.0, 200.0, 400.0, 800.0, 1600.0])
    exact = 0.9 / N * np.exp(rng.normal(0, 0.02, N.size))
    method = 3.0 * N**-0.7 * np.exp(rng.normal(0, 0.05, N.size))
    value, low, high = needed_N(N, exact, method)
    u = np.log(N)

    def mean_se(errors: np.ndarray, at: float) -> tuple[float, float]:
        (q, a), cov = np.polyfit(u, np.log(errors), 1, cov=True)
        return a + q * at, math.sqrt(cov[1, 1] + at**2 * cov[0, 0] + 2 * at * cov[0, 1])

    (q, a) = np.polyfit(u, np.log(method), 1)
    target, se_target = mean_se(exact, math.log(1000))
    u_star = (target - a) / q
    _, se_method = mean_se(method, u_star)
    se = math.hypot(se_target, se_method) / abs(q)
    assert value == pytest.approx(math.exp(u_star), rel=1e-10)
    assert low == pytest.approx(math.exp(u_star - se), rel=1e-10) and high == pytest.approx(math.exp(u_star + se), rel=1e-10)


def test_no_decrease_extrapolates_no_N() -> None:
    N = np.array([100.0, 200.0, 400.0])
    assert needed_N(N, 1.0 / N, np.array([0.02, 0.0199, 0.0199])) == (math.inf, math.inf, math.inf)
    assert FLOOR_ORDER < 0.1


def test_schedules() -> None:
    assert schedule_delta("log", 100, 2.0, 1.0, 0.05) == pytest.approx(6.0 / math.log(100))
    assert schedule_delta("sqrt", 400, 2.0, 1.0, 0.05) == pytest.approx(0.05)
    assert schedule_delta("c/N", 400, 2.0, 2.0, 0.05) == pytest.approx(0.005)
    assert schedule_delta("fixed", 400, 2.0, 2.0, 0.03) == 0.03
    with pytest.raises(InputError, match="unknown delta schedule 'sqr'"):
        schedule_delta("sqr", 400, 2.0, 1.0, 0.05)


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("remark51") / "out"
    args = ["regularised", "overlap", "--N", ",".join(map(str, NS)), "--cells", "200", "--T", "0.5", "--nt", "4", "--out", str(out)]
    assert main(args) == 0
    return out


def test_the_study_writes_its_files_with_cf_attributes(study_dir: Path) -> None:
    assert {"study.nc", "summary.md", "regularised.png"} <= {p.name for p in study_dir.iterdir()}
    study = read_dataset(study_dir / "study.nc")
    assert study["variant"].values.tolist() == ["exact", "log", "sqrt", "c/N", "fixed"]
    assert study["sup_err"].dims == ("variant", "N", "metric")
    for name, var in study.data_vars.items():
        assert var.attrs.get("long_name") and var.attrs.get("units"), name
    summary = (study_dir / "summary.md").read_text()
    assert "python -m compare regularised overlap" in summary and "below the 1% budget" in summary


def test_the_exact_row_is_the_validation_studys_error(study_dir: Path) -> None:
    """The exact engine's sup W1 and W2 equal those of ``validate`` on the same parameters (computed there
    by the study's own error code, per species and time)."""
    study = read_dataset(study_dir / "study.nc")
    validation = run_study("overlap", Ns=NS, T=0.5, nt=4, cells=200, placement="mid")
    for metric, name in (("w1", "w1_emp"), ("w2", "w2_emp")):
        np.testing.assert_allclose(
            study["sup_err"].sel(variant="exact", metric=metric).values, validation["sup_err"].sel(metric=name).values, rtol=1e-12
        )


def test_regularised_errors_approach_the_exact_ones_as_delta_shrinks(study_dir: Path) -> None:
    """At every N the c/N schedule (the smallest delta) is closer to the exact engine's error than the
    log schedule (the largest), whose error is larger than the exact one by a factor growing with N; the integrator's estimated
    error is below 1 % of every error it measures."""
    study = read_dataset(study_dir / "study.nc")
    w1 = study["sup_err"].sel(metric="w1")
    exact = w1.sel(variant="exact").values
    assert np.all(np.abs(w1.sel(variant="c/N").values - exact) < np.abs(w1.sel(variant="log").values - exact))
    ratio = w1.sel(variant="log").values / exact  # measured 1.26, 1.56, 2.09: the log schedule loses the order
    assert np.all(ratio > 1.1) and np.all(np.diff(ratio) > 0.1)
    assert float(study["integrator_share"].max()) < 0.01
    assert np.all(study["delta"].sel(variant="exact").values == 0)


def test_a_regularised_run_has_the_schema_of_an_exact_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exact, smooth = tmp_path / "exact.nc", tmp_path / "smooth.nc"
    assert main(["particles", "overlap", "--N", "30", "--T", "0.5", "--nt", "5", "--out", str(exact)]) == 0
    assert (
        main(["particles", "overlap", "--N", "30", "--T", "0.5", "--nt", "5", "--delta", "0.01", "--tol", "1e-9", "--out", str(smooth)])
        == 0
    )
    line = capsys.readouterr().out.splitlines()[-1]
    assert line.startswith("overlap N=30 delta=0.01: ") and "estimated position error" in line
    a, b = read_dataset(exact), read_dataset(smooth)
    assert set(a.variables) == set(b.variables) and {k: v for k, v in a.sizes.items() if k != "event"} == {
        k: v for k, v in b.sizes.items() if k != "event"
    }
    assert b.sizes["event"] == 0 and kind_of(b) == "particles"
    assert a.attrs["kernel"] == "exact" and b.attrs["kernel"] == "regularised" and b.attrs["delta"] == 0.01 and b.attrs["tol"] == 1e-9
    assert b.attrs["error_estimate"] <= 1e-9
    # delta far below the particle spacing: the same motion up to O(delta) (here crossings are the only events)
    assert np.max(np.abs(a["x"].values - b["x"].values)) < 0.02
    assert np.all(np.diff(b["energy"].values) <= 1e-12)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["particles", "overlap", "--delta", "0"], "--delta: expected a positive finite number"),
        (["particles", "overlap", "--delta", "nan"], "--delta: expected a positive finite number"),
        (["particles", "overlap", "--delta", "inf"], "--delta: expected a positive finite number"),
        (["particles", "overlap", "--delta", "0.1", "--events", "all"], "has no events; drop --events all"),
        (["particles", "overlap", "--tol", "1e-9"], "drop --tol or add --delta"),
        (["particles", "cluster", "--delta", "0.1", "--placement", "mid"], "a placement does not apply"),
        (["regularised", "overlap", "--schedules", "sqrt,cubic"], "expected comma-separated schedules"),
        (["regularised", "mass_ratio"], "a convergence study needs unit masses"),
        (["regularised", "overlap", "--N", "100"], "at least two distinct integer N"),
    ],
)
def test_bad_regularised_input_is_one_line(args: list[str], fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / ("run.nc" if args[0] == "particles" else "out")
    try:
        code = main([*args, "--out", str(out)])
    except SystemExit as exc:  # argparse refuses a malformed option value
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and fragment in err, err
    assert not out.exists()
