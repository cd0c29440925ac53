"""Tables that do not mislead: orders from too few N or from round-off errors are ``n/a`` with the
reason, never a number or ``nan±nan``; rates between round-off errors likewise."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from compare.studies.assembly import fit_power
from compare.studies.orders import ROUND_OFF, order_note, rates
from compare.studies.report import table

METRICS = ["w1_emp", "w2_emp", "weak_residual"]


def _study(N: list[int], columns: list[list[float]]) -> xr.Dataset:
    err = np.array(columns, dtype=float).T
    fits = np.array([fit_power(N, err[:, k]) for k in range(err.shape[1])])
    return xr.Dataset(
        {
            "sup_err": (("N", "metric"), err),
            "order": ("metric", -fits[:, 0]),
            "order_se": ("metric", fits[:, 1]),
            "order_constant": ("metric", fits[:, 2]),
        },
        coords={"N": np.asarray(N), "metric": METRICS},
    )


def test_two_N_give_rates_but_no_order() -> None:
    rows = table(_study([10, 20], [[1.0, 0.5], [2.0, 1.0], [3.0, 1.5]])).splitlines()
    assert rows[2].split()[2] == "1.00"
    assert rows[3].split()[1:] == ["n/a", "(2", "N)"] * 3
    assert rows[4].startswith("n/a (2 N): an order needs at least 3 N")
    assert "nan" not in "\n".join(rows)


def test_the_fitted_constant_and_n_times_the_error_are_both_printed() -> None:
    """sup W1 = 2/N + 10/N^2: the fit C N^-p is not N * error, and the table prints both."""
    N = np.array([10, 20, 40])
    w1 = 2 / N + 10 / N**2
    rows = table(_study(N.tolist(), [w1.tolist(), [0.1, 0.05, 0.025], [0.1, 0.05, 0.025]])).splitlines()
    line = next(r for r in rows if r.startswith("sup W1 ~"))
    C, p = np.exp(np.polyfit(np.log(N), np.log(w1), 1)[1]), -np.polyfit(np.log(N), np.log(w1), 1)[0]
    assert line == f"sup W1 ~ {C:.3f} N^-{p:.3f} (fit); N * sup W1 = {N[0] * w1[0]:.3f} (N = 10) to {N[-1] * w1[-1]:.3f} (N = 40)"
    assert any(r.startswith("weak s-t: the space-time residual") and "consistency check" in r for r in rows)


def test_round_off_errors_give_no_order_and_no_rate() -> None:
    """The stationary case's weak-form residual: 5e-19 and 3e-19 would read as order 0.70."""
    text = table(_study([10, 20, 40], [[0.1, 0.05, 0.025], [0.0, 0.0, 0.0], [5e-19, 3e-19, 1e-3]]))
    rows = text.splitlines()
    assert rows[2].split() == ["20", "5.000e-02", "1.00", "0.000e+00", "n/a", "3.000e-19", "n/a"]
    assert rows[3].split()[-1] == "n/a"  # from a round-off error to 1e-3: no rate
    orders = rows[4]
    assert orders.split()[1] == "1.000±0.000" and "n/a (round-off)" in orders and "n/a (part round-off)" in orders
    assert any(line.startswith("n/a (round-off): every error is at round-off level") for line in rows[5:])
    assert "nan" not in text


def test_order_note_and_rates() -> None:
    assert order_note([1.0, 0.5, 0.25], ROUND_OFF) is None
    assert order_note([1.0, 0.5], ROUND_OFF) == "n/a (2 N)"
    assert order_note([1.0], ROUND_OFF, ("resolution", "resolutions")) == "n/a (1 resolution)"
    assert order_note([1e-19, 0.0, 1e-13], ROUND_OFF) == "n/a (round-off)"
    assert order_note([1e-3, 1e-14, 1e-4], ROUND_OFF) == "n/a (part round-off)"
    r = rates([10, 20, 40, 80], [1.0, 0.25, 1e-15, 1e-16], ROUND_OFF)
    assert r[0] == pytest.approx(2.0, rel=1e-14) and np.isnan(r[1]) and np.isnan(r[2])


def test_a_metric_without_density_says_so() -> None:
    """L^1 of data with a point mass is NaN: its order is "n/a (no density)", not "round-off"."""
    assert order_note([np.nan, np.nan, np.nan], ROUND_OFF) == "n/a (no density)"
    rows = table(_study([10, 20, 40], [[0.1, 0.05, 0.025], [0.1, 0.05, 0.025], [np.nan, np.nan, np.nan]])).splitlines()
    assert "n/a (no density)" in rows[4] and any(r.startswith("n/a (no density): the data have a point mass") for r in rows)
