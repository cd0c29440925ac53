"""Convergence rates of the particle system (6) towards system (5) (Theorem 5.1 gives no rate).

The observed order of the sup-in-time W1 error of the empirical measures is fitted by least squares
over N already in the asymptotic regime and asserted in a band around the measured value, with an
absolute bound at the largest N; the weak-form residual must decrease with N. Measured (2 cores):

- separated indicators, exact reference, T = 0.2: sup W1 = 0.5286 / N exactly, order 1.000;
- overlap, fv2 reference (4000 cells), T = 2: order 1.028 ± 0.009, sup W1(800) = 1.02e-3;
- separated bumps (smooth, vanishing at the support ends), exact: W1 order 1.000, W2 0.78;
- bumps_overlap, fv2 (4000 cells): W1 order 1.013.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from compare.studies.report import table
from compare.studies.validate import run_study


def _report(study: xr.Dataset) -> None:
    """Rates table in the style of scikit-fem's convergence tests (shown with pytest -s)."""
    print(f"\n{study.attrs['case']} against {study.attrs['reference']}:\n{table(study)}")


def _assert_rate(study: xr.Dataset, band: tuple[float, float], bound_at_largest: float, metric: str = "w1_emp") -> None:
    order = float(study["order"].sel(metric=metric))
    assert band[0] <= order <= band[1], f"observed order {order:.3f} of {metric} outside {band}"
    assert not bool(study["reference_limited"].sel(metric=metric)), "the reference is not accurate enough"
    largest = float(study["sup_err"].sel(metric=metric).isel(N=-1))
    assert largest <= bound_at_largest, f"{metric} at N = {int(study['N'][-1])} is {largest:.3e} > {bound_at_largest:.3e}"
    residual = study["sup_err"].sel(metric="weak_residual").values
    assert np.all(np.diff(residual) < 0), f"weak-form residual not decreasing: {residual}"


def test_separated_indicators_against_the_exact_solution() -> None:
    study = run_study("separated", Ns=[50, 100, 200, 400], T=0.2, nt=4, cells=400)
    assert study.attrs["reference"] == "exact"
    _report(study)
    _assert_rate(study, (0.98, 1.02), 1.01 * 0.5286 / 400)
    _assert_rate(study, (0.98, 1.02), 1.01 * 0.6430 / 400, metric="w2_emp")


def test_overlap_against_a_resolved_fv2_reference() -> None:
    study = run_study("overlap", Ns=[100, 200, 400, 800], nt=20, cells=4000)
    _report(study)
    _assert_rate(study, (0.95, 1.10), 1.1e-3)
    _assert_rate(study, (0.95, 1.10), 1.3e-3, metric="w2_emp")
    _assert_rate(study, (0.95, 1.10), 1.2e-3, metric="w1_rec")


@pytest.mark.slow
def test_separated_bumps_against_the_exact_solution() -> None:
    study = run_study("separated_bumps", Ns=[100, 200, 400, 800], nt=4, cells=400)
    assert study.attrs["reference"] == "exact"
    _report(study)
    _assert_rate(study, (0.98, 1.02), 7.0e-4)
    # atoms near the support ends, where the density vanishes like (1 - r^2)^3, cost W2 accuracy
    assert 0.7 <= float(study["order"].sel(metric="w2_emp")) <= 0.85


def test_bumps_overlap_against_a_resolved_fv2_reference() -> None:
    study = run_study("bumps_overlap", Ns=[100, 200, 400, 800], nt=20, cells=4000)
    _report(study)
    _assert_rate(study, (0.95, 1.08), 1.05e-3)


@pytest.mark.slow
def test_overlap_default_job_resolution() -> None:
    study = run_study("overlap", Ns=[100, 200, 400, 800, 1600, 3200], nt=40, cells=16000)
    _report(study)
    _assert_rate(study, (0.97, 1.07), 2.8e-4)
    _assert_rate(study, (0.95, 1.10), 3.5e-4, metric="w2_emp")
