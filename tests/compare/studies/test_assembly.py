"""The convergence study: fits, hand-computed errors against the exact solution, checks, NetCDF."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.stats
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from compare.runs.io import read_dataset, write_dataset
from compare.studies.assembly import METRICS, fit_power
from compare.studies.validate import run_study
from solvers.errors import CaseError, InputError


@pytest.fixture(scope="module")
def separated() -> xr.Dataset:
    """rho0 = 1 on [-1.5, -0.5], eta0 = 1 on [0.5, 1.5], before contact (t* = 0.25): exact reference."""
    return run_study("separated", Ns=[20, 40], T=0.2, nt=4, cells=200)


@pytest.fixture(scope="module")
def overlap() -> xr.Dataset:
    return run_study("overlap", Ns=[20, 40], T=0.5, nt=4, cells=200)


@settings(max_examples=50, deadline=None)
@given(
    q=st.floats(-3.0, 3.0),
    log_c=st.floats(-5.0, 5.0),
    Ns=st.lists(st.integers(2, 10**5), min_size=2, max_size=8, unique=True),
)
def test_fit_power_recovers_an_exact_power_law(q: float, log_c: float, Ns: list[int]) -> None:
    N = np.asarray(Ns, dtype=float)
    fitted, se, constant = fit_power(N, np.exp(log_c) * N**q)
    assert fitted == pytest.approx(q, abs=1e-9)
    assert constant == pytest.approx(np.exp(log_c), rel=1e-8)
    assert np.isnan(se) if len(Ns) == 2 else se < 1e-8


def test_fit_power_standard_error_matches_linregress() -> None:
    rng = np.random.default_rng(7)
    N = np.array([100, 200, 400, 800, 1600], dtype=float)
    values = 0.8 * N**-1.0 * np.exp(0.05 * rng.standard_normal(N.size))
    q, se, constant = fit_power(N, values)
    reg = scipy.stats.linregress(np.log(N), np.log(values))
    assert q == pytest.approx(reg.slope, rel=1e-12)
    assert se == pytest.approx(reg.stderr, rel=1e-10)
    assert constant == pytest.approx(np.exp(reg.intercept), rel=1e-12)


def test_fit_power_drops_unusable_points() -> None:
    q, _, _ = fit_power([10, 20, 40, 80], [0.0, 2.0, 1.0, np.nan])
    assert q == pytest.approx(-1.0)
    assert np.all(np.isnan(fit_power([10, 20], [1.0, 0.0])))


def test_exact_reference_gives_the_hand_computed_w1_error(separated: xr.Dataset) -> None:
    # Particles x_i = -1.5 + i/N + (2i - 1) t/N lag the characteristic X(i/N, t) by t/N, and the
    # density is 1/(1 + 2t), so W1(rho^N, rho) = (t^2 + (1 + t)^2) / (2 N (1 + 2t)); eta by symmetry.
    assert separated.attrs["reference"] == "exact"
    t = separated["t"].values
    for N in separated["N"].values:
        expected = (t**2 + (1 + t) ** 2) / (2 * N * (1 + 2 * t))
        for species in ("rho", "eta"):
            np.testing.assert_allclose(separated["w1_emp"].sel(N=N, species=species).values, expected, rtol=1e-10)


def test_exact_reference_energy_and_dissipation(separated: xr.Dataset) -> None:
    # E0 = int (F_rho - F_eta)^2 = 1/3 + 1 + 1/3; every characteristic keeps its speed 2 s or
    # 2 (1 - s) before contact, so the dissipation is 2 int_0^1 4 s^2 ds = 8/3 and E = 5/3 - 8 t/3.
    t = separated["t"].values
    np.testing.assert_allclose(separated["energy_ref"].values, 5 / 3 - 8 * t / 3, rtol=1e-12)
    np.testing.assert_allclose(separated["dissipation_ref"].values, 8 / 3, rtol=1e-12)
    # the particles: E[Z] - E_ref is O(1/N^2) here (both exact quadratics in t)
    gap = separated["sup_err"].sel(metric="energy_gap").values
    assert gap[1] < gap[0] / 3.5


def test_sup_errors_are_maxima_over_time_and_species(separated: xr.Dataset) -> None:
    for name in ("w1_emp", "w2_rec", "l1_rec"):
        np.testing.assert_array_equal(separated["sup_err"].sel(metric=name).values, separated[name].max(("species", "t")).values)
    np.testing.assert_array_equal(separated["sup_err"].sel(metric="weak_residual").values, separated["weak_residual"].max("t").values)


def test_orders_are_the_fits_of_the_sup_errors(overlap: xr.Dataset) -> None:
    N = overlap["N"].values
    for name in METRICS:
        q, se, constant = fit_power(N, overlap["sup_err"].sel(metric=name).values)
        assert float(overlap["order"].sel(metric=name)) == pytest.approx(-q, rel=1e-12)
        assert float(overlap["order_constant"].sel(metric=name)) == pytest.approx(constant, rel=1e-12)


def test_paper_checks_hold(separated: xr.Dataset, overlap: xr.Dataset) -> None:
    for study in (separated, overlap):
        assert bool(study["lemma51_holds"].all())
        assert bool(study["prop52_holds"].all())
        w1, bound = study["lemma51_w1"].values, study["lemma51_bound"].values
        # the bound of our convention is sharp up to a factor: W1 = sum h_i (a_i^2 + (1 - a_i)^2)/(2(N - 1))
        assert np.all(w1 >= 0.5 * bound)
        assert np.all(np.diff(study["lm_sum"].values, axis=-1) <= 1e-12 * study["lm_sum"].values[..., :-1])


def test_reference_choice(separated: xr.Dataset, overlap: xr.Dataset) -> None:
    assert overlap.attrs["reference"].startswith("fv2")
    assert list(overlap["ref_check"].values) == ["fv2_half", "lagrangian"]
    assert 0 < float(overlap["reference_error"].sel(ref_metric="w1")) < 1e-3
    assert list(separated["ref_check"].values) == ["exact"]
    after_contact = run_study("separated", Ns=[10, 20], T=0.5, nt=2, cells=100)
    assert after_contact.attrs["reference"].startswith("fv2")


def test_final_state_time_and_mixing(overlap: xr.Dataset) -> None:
    t_final = overlap["t_final"].values
    assert np.all(t_final > overlap.attrs["T"])
    assert np.all(overlap["n_events"].values <= overlap["N"].values * (overlap["N"].values + 1))
    q, _, _ = fit_power(overlap["N"].values, t_final)
    assert overlap.attrs["t_final_power"] == pytest.approx(q, rel=1e-12)
    mixing = overlap["mixing_w1"].values
    assert np.all(np.diff(mixing, axis=-1) < 0)
    np.testing.assert_allclose(overlap["mixing_w1_ref"].values[0], 0.5, rtol=1e-12)


def test_config_records_every_run(overlap: xr.Dataset) -> None:
    config = json.loads(overlap.attrs["config"])
    assert config["Ns"] == [20, 40]
    assert [run["N"] for run in config["particle_runs"]] == [20, 40]
    assert set(config["reference"]) == {"fv2", "fv2_half", "lagrangian"}
    assert config["reference"]["fv2_half"]["cells"] == 100


def test_netcdf_round_trip(overlap: xr.Dataset, tmp_path) -> None:
    path = write_dataset(overlap, tmp_path / "study.nc")
    xr.testing.assert_identical(read_dataset(path), overlap)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"Ns": [100]}, InputError, "at least two distinct"),
        ({"Ns": [1, 10]}, InputError, "N >= 2"),
        ({"Ns": [10, 20], "N_show": 30}, InputError, "N_show"),
        ({"Ns": [10, 20], "cells": 4}, InputError, "cells"),
        ({"Ns": [10, 20], "reference": "exact"}, CaseError, "overlapping supports"),
    ],
)
def test_bad_input_is_one_line(kwargs: dict, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match) as info:
        run_study("overlap", **kwargs)
    assert "\n" not in str(info.value)


def test_particle_case_is_refused() -> None:
    with pytest.raises(CaseError, match="explicit particles"):
        run_study("cluster", Ns=[10, 20])


def test_exact_after_contact_is_refused() -> None:
    with pytest.raises(CaseError, match="after the first contact"):
        run_study("separated", Ns=[10, 20], T=0.5, reference="exact")


def test_sampling_change_is_the_drop_of_the_supremum_on_the_coarser_grid() -> None:
    """``sampling_change`` of a study on nt intervals is the relative drop of its sup-in-time errors
    on the grid of nt/2 intervals (its even output times), computed here by an independent study
    (exact reference, so both studies see the same reference at the shared times)."""
    fine = run_study("separated", Ns=[20, 40], T=0.2, nt=8, cells=200)
    coarse = run_study("separated", Ns=[20, 40], T=0.2, nt=4, cells=200)
    expected = np.max((fine["sup_err"].values - coarse["sup_err"].values) / fine["sup_err"].values, axis=0)
    np.testing.assert_allclose(fine["sampling_change"].values, np.nan_to_num(expected), rtol=1e-12, atol=1e-15)
    assert fine["sampling_limited"].values.tolist() == (fine["sampling_change"].values > 0.01).tolist()


RESOLVED_AT_NT_40 = ["w1_emp", "w2_emp", "w1_rec", "w2_rec", "energy_gap"]


def test_default_time_sampling_resolves_the_w1_and_w2_suprema_to_one_percent() -> None:
    """At the default nt = 40 on [0, 2] the sup-in-time W1, W2 and energy errors of ``overlap`` change
    by less than 1 % when the sampling is doubled; W_inf, L^1 and the weak residual are not resolved
    (printed; the study flags them by ``sampling_change``)."""
    errors = {nt: run_study("overlap", Ns=[50, 100], nt=nt, cells=400)["sup_err"] for nt in (40, 80)}
    change = ((errors[80] - errors[40]) / errors[80]).max("N")
    print(
        "\nrelative change of sup_err from nt = 40 to 80:",
        {str(m): round(float(v), 6) for m, v in zip(change.metric.values, change.values)},
    )
    assert float(change.sel(metric=RESOLVED_AT_NT_40).max()) < 0.01
