"""Pseudo-inverse scheme: graded grid with double nodes, exactness before contact, invariants."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import trapezoid

from compare.metrics import wasserstein
from compare.metrics.measures import Histogram
from compare.runs.cases import load_case
from solvers.continuum.exact import SeparatedSolution
from solvers.continuum.fv import solve_fv
from solvers.continuum.lagrangian import (
    _velocities,
    cdf_limits_at,
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


ATOMIC = {
    "kind": "sum",
    "parts": [
        {"kind": "uniform", "a": -1.0, "b": 1.0, "weight": 2.0},
        {"kind": "delta", "at": 0.25, "weight": 1.0},
        {"kind": "delta", "at": 1.5, "weight": 1.0},
    ],
}


def test_grid_of_point_masses_is_a_flat_piece_of_the_quantile() -> None:
    """uniform [-1, 1] (mass 1/2) with point masses 1/4 at 0.25 (inside) and at 1.5 (after a gap): every
    node lies on the completed graph of the CDF, F(X-) <= s <= F(X); each point mass is a run of nodes
    at its position from level F(p-) to F(p) with about n w / 2 intervals; the gap is a double node."""
    density = density_from_spec(ATOMIC)
    n = 200
    s, X = pseudo_inverse_grid(density, n)
    assert s[0] == 0.0 and s[-1] == 1.0 and np.all(np.diff(s) >= 0.0) and np.all(np.diff(X) >= 0.0)
    assert np.all(density.cdf_left(X) <= s + 1e-15) and np.all(s <= density.cdf(X) + 1e-15)
    for p, below, above in ((0.25, 0.3125, 0.5625), (1.5, 0.75, 1.0)):
        run = X == p
        assert s[run].min() == below and s[run].max() == above
        assert abs(np.count_nonzero(run) - 1 - n * 0.25 / 2) <= 2
    gap = np.flatnonzero((np.diff(s) == 0.0) & (np.diff(X) > 0.0))
    np.testing.assert_array_equal(X[gap], [1.0])
    np.testing.assert_array_equal(X[gap + 1], [1.5])
    lone_s, lone_X = pseudo_inverse_grid(density_from_spec({"kind": "delta", "at": 0.3}), 16)
    np.testing.assert_array_equal(lone_X, np.full(17, 0.3))
    np.testing.assert_allclose(lone_s, np.arange(17) / 16, rtol=0, atol=1e-16)


def test_cdf_limits_and_minimal_norm_velocities_at_repeated_nodes() -> None:
    """At a run of equal nodes the interpolated CDF jumps from the run's first level to its last:
    ``cdf_limits_at`` agrees with ``compare.metrics.measures.Histogram`` (F(x) from ``cdf``, F(x-) from
    ``sign_convolution`` = F(x) + F(x-) - M), and the kernel's velocities are 2 (w - clip(w, F(x-), F(x)))
    at every node, repeated positions of both species included."""
    Y = np.array([-1.0, -0.5, -0.5, -0.5, 0.0, 0.5, 0.5, 2.0])
    sigma = np.array([0.0, 0.1, 0.2, 0.4, 0.6, 0.6, 0.9, 1.3])
    x = np.sort(np.concatenate((Y, [-0.5, -0.5, 2.0], np.linspace(-1.5, 2.5, 41))))
    measure = Histogram(Y, np.diff(sigma))
    right = measure.cdf(x)
    left = measure.sign_convolution(x) + measure.mass - right
    below, above = cdf_limits_at(x, Y, sigma)
    np.testing.assert_allclose(above, right, rtol=0, atol=1e-15)
    np.testing.assert_allclose(below, left, rtol=0, atol=1e-15)
    assert above[x == -0.5][0] == 0.4 and below[x == -0.5][0] == 0.1
    w = np.linspace(-0.2, 1.5, x.size)
    velocity = np.empty(x.size)
    _velocities(x, w, Y, sigma, velocity)
    np.testing.assert_allclose(velocity, 2.0 * (w - np.clip(w, below, above)), rtol=0, atol=1e-15)


def test_invariants_with_a_point_mass_inside_the_other_species() -> None:
    """Case point_mass_inside (eta a point mass at 0.25 in rho's support): from t = 0 on, the nodes stay
    ordered, the energy (point-mass dissipation included) decreases, E(0) - E(T) matches the integrated
    dissipation, and both supports stay inside the initial hull [-1, 1]."""
    case = load_case("point_mass_inside")
    t_out = np.linspace(0.0, 0.5, 101)
    s, X, sigma, Y, _ = solve_lagrangian(case.rho0, case.eta0, 100, t_out)
    assert np.all(np.diff(X, axis=1) >= 0) and np.all(np.diff(Y, axis=1) >= 0)
    assert np.all(Y[0] == 0.25) and np.all(np.diff(Y[1]) > 0)  # the point mass has spread after one output step
    energy, dissipation = np.array([lagrangian_energy_and_dissipation(Xk, s, Yk, sigma) for Xk, Yk in zip(X, Y)]).T
    assert np.all(np.diff(energy) < 0.0)
    # E(0) = int (F_rho - F_eta)^2 = int_{-1}^{0.25} ((x+1)/2)^2 + int_{0.25}^{1} (1 - (x+1)/2)^2 = 0.3255 + 0.0703
    assert energy[0] == pytest.approx((1.25**3 + 0.75**3) / 12, rel=1e-14)
    assert energy[0] - energy[-1] == pytest.approx(trapezoid(dissipation, t_out), rel=2e-3)
    assert min(X.min(), Y.min()) >= -1.0 - 1e-14 and max(X.max(), Y.max()) <= 1.0 + 1e-14
