"""Pseudo-inverse scheme: graded grid with double nodes, exactness before contact, invariants."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import trapezoid

from compare.metrics import wasserstein
from compare.metrics.measures import Histogram
from solvers.continuum.exact import SeparatedSolution
from solvers.continuum.fv import solve_fv
from solvers.continuum.lagrangian import (
    lagrangian_energy_and_dissipation,
    pseudo_inverse_grid,
    solve_lagrangian,
)
from solvers.errors import SchemeError
from solvers.initial import cell_averages, density_from_spec

GAPPED = {
    "kind": "sum",
    "parts": [
        {"kind": "uniform", "a": -2.0, "b": -1.0, "weight": 1.0},
        {"kind": "bump", "center": 1.5, "radius": 0.5, "weight": 3.0},
    ],
}
TENT = {"kind": "piecewise_linear", "nodes": [-0.5, 0.0, 0.5], "values": [0.0, 1.0, 0.0]}
OVERLAP = ({"kind": "uniform", "a": -1.0, "b": 0.5}, {"kind": "uniform", "a": -0.5, "b": 1.0})


def test_grid_lies_on_the_cdf_graph_with_a_double_node_at_the_gap() -> None:
    density = density_from_spec(GAPPED)
    np.testing.assert_array_equal(density.components, [[-2.0, -1.0], [1.0, 2.0]])
    n = 200
    s, X = pseudo_inverse_grid(density, n)
    assert s[0] == 0.0 and s[-1] == 1.0
    assert np.all(np.diff(X) > 0.0) and np.all(np.diff(s) >= 0.0)
    np.testing.assert_allclose(s, density.cdf(X), rtol=0, atol=1e-15)
    flat = np.flatnonzero(np.diff(s) == 0.0)
    np.testing.assert_array_equal(X[flat], [-1.0])
    np.testing.assert_array_equal(X[flat + 1], [1.0])
    assert abs((s.size - 2) - n) <= 2
    # graded: both the mass and the length of every interval are O(1/n)
    assert np.diff(s).max() < 2.0 / n
    assert np.diff(X)[np.diff(s) > 0].max() < 2.0 * 2.0 / n


def test_equal_densities_stay_stationary_exactly() -> None:
    tent = density_from_spec(TENT)
    s, X, sigma, Y, steps = solve_lagrangian(tent, tent, 300, np.linspace(0.0, 2.0, 5))
    assert steps >= 4
    np.testing.assert_array_equal(X, np.broadcast_to(X[0], X.shape))
    np.testing.assert_array_equal(Y, X)
    np.testing.assert_array_equal(sigma, s)


def test_exact_before_contact_and_no_smearing_of_the_gap() -> None:
    """rho has a gap holding eta; before contact (t* = 1/6) every node follows
    X(s,t) = X0(s) + 2 t (s - F_eta0(X0(s))) to round-off, and the gap stays empty."""
    rho0, eta0 = density_from_spec(GAPPED), density_from_spec(TENT)
    t_out = np.linspace(0.0, 0.15, 4)
    s, X, sigma, Y, _ = solve_lagrangian(rho0, eta0, 100, t_out)
    for k, t in enumerate(t_out):
        np.testing.assert_allclose(X[k], X[0] + 2.0 * t * (s - eta0.cdf(X[0])), rtol=0, atol=1e-13)
        np.testing.assert_allclose(Y[k], Y[0] + 2.0 * t * (sigma - rho0.cdf(Y[0])), rtol=0, atol=1e-13)
    gap = np.flatnonzero(np.diff(s) == 0.0)[0]
    assert X[-1, gap] < Y[-1, 0] and Y[-1, -1] < X[-1, gap + 1]
    assert X[-1, gap + 1] - X[-1, gap] == pytest.approx(2.0 - 2.0 * 0.15, abs=1e-13)


def test_invariants_after_contact() -> None:
    """Overlapping indicators: nodes stay ordered, the joint maximum density never grows, the
    energy decreases, the support stays in the initial hull; E(0) - E(T) = integral of the
    dissipation up to the time discretisation of the check (trapezoid on 200 intervals)."""
    rho0, eta0 = (density_from_spec(spec) for spec in OVERLAP)
    t_out = np.linspace(0.0, 1.0, 201)
    s, X, sigma, Y, _ = solve_lagrangian(rho0, eta0, 400, t_out)
    assert np.all(np.diff(X, axis=1) > 0) and np.all(np.diff(Y, axis=1) > 0)
    d_max = [max(np.max(np.diff(s) / np.diff(Xk)), np.max(np.diff(sigma) / np.diff(Yk))) for Xk, Yk in zip(X, Y)]
    assert max(d_max) <= d_max[0] * (1.0 + 1e-12)
    assert X.min() >= -1.0 - 1e-14 and Y.min() >= -1.0 - 1e-14
    assert X.max() <= 1.0 + 1e-14 and Y.max() <= 1.0 + 1e-14
    energy, dissipation = np.array([lagrangian_energy_and_dissipation(Xk, s, Yk, sigma) for Xk, Yk in zip(X, Y)]).T
    assert np.all(np.diff(energy) < 0.0)
    assert energy[0] - energy[-1] == pytest.approx(trapezoid(dissipation, t_out), rel=1e-4)


@pytest.mark.parametrize(("cells", "cfl", "fragment"), [(3, 0.45, "too few"), (100, 1.5, "cfl = 1.5")])
def test_bad_parameters_raise_scheme_errors(cells: int, cfl: float, fragment: str) -> None:
    tent = density_from_spec(TENT)
    with pytest.raises(SchemeError, match=fragment):
        solve_lagrangian(tent, tent, cells, np.array([0.0, 1.0]), cfl=cfl)


def test_gap_case_after_contact_agrees_with_fv2() -> None:
    """eta fills the gap of rho and mixes with both blocks (contact at t = 1/6); the lagrangian run
    with its double node and fv2 on the same number of cells approach each other in W1."""
    rho0, eta0 = density_from_spec(GAPPED), density_from_spec(TENT)
    T = 1.0
    gaps = []
    for n in (200, 400, 800):
        s, X, sigma, Y, _ = solve_lagrangian(rho0, eta0, n, np.array([0.0, T]))
        edges = np.linspace(-2.0, 2.0, n + 1)
        rho, eta, _ = solve_fv(cell_averages(rho0, edges), cell_averages(eta0, edges), 4.0 / n, np.array([0.0, T]))
        gaps.append(
            wasserstein(Histogram(X[-1], np.diff(s)), Histogram.from_averages(edges, rho[-1]))
            + wasserstein(Histogram(Y[-1], np.diff(sigma)), Histogram.from_averages(edges, eta[-1]))
        )
    assert gaps[0] > 2.5 * gaps[1] > 6.0 * gaps[2]
    assert gaps[-1] < 5e-5


def test_unequal_masses_are_exact_before_contact() -> None:
    """Before contact F_eta is constant along every rho node, so RK4 integrates the straight node
    paths exactly: the nodes are the exact separated solution with masses 1.3 and 0.6 at their levels."""
    rho0 = density_from_spec({"kind": "bump", "center": -1.0, "radius": 0.5})
    eta0 = density_from_spec({"kind": "uniform", "a": 0.5, "b": 1.5})
    solution = SeparatedSolution(rho0, eta0, 1.3, 0.6)
    t = np.linspace(0.0, solution.contact_time, 5)
    s, X, sigma, Y, _ = solve_lagrangian(rho0, eta0, 64, t, mass_rho=1.3, mass_eta=0.6)
    assert s[-1] == 1.3 and sigma[-1] == 0.6
    for k, tk in enumerate(t):
        exact_moves = (
            solution.rho(tk).quantile(s) - solution.rho(0.0).quantile(s),
            solution.eta(tk).quantile(sigma) - solution.eta(0.0).quantile(sigma),
        )
        np.testing.assert_allclose(X[k] - X[0], exact_moves[0], rtol=0, atol=1e-14)
        np.testing.assert_allclose(Y[k] - Y[0], exact_moves[1], rtol=0, atol=1e-14)
    with pytest.raises(SchemeError, match="mass_eta"):
        solve_lagrangian(rho0, eta0, 64, t, mass_eta=-1.0)
