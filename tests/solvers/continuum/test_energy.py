"""Exact energy and dissipation against independent closed forms of the kernel integrals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from solvers.continuum.energy import energy_and_dissipation, fv_energy_and_dissipation
from solvers.continuum.lagrangian import lagrangian_energy_and_dissipation


def _abs_kernel_cells(edges: np.ndarray) -> np.ndarray:
    """``I[i, j] = int_{cell i} int_{cell j} |x - y| dy dx`` with ``G(u) = |u|^3 / 6`` (G'' = |u|)."""
    a, b = edges[:-1, None], edges[1:, None]
    c, d = edges[None, :-1], edges[None, 1:]

    def G(u: np.ndarray) -> np.ndarray:
        return np.abs(u) ** 3 / 6.0

    return G(b - c) + G(a - d) - G(b - d) - G(a - c)


def _energy_from_kernel(rho: np.ndarray, eta: np.ndarray, edges: np.ndarray) -> float:
    """E = -1/2 <N*rho, rho> - 1/2 <N*eta, eta> + <N*eta, rho> for cell averages (any masses)."""
    I = _abs_kernel_cells(edges)
    return float(-0.5 * rho @ I @ rho - 0.5 * eta @ I @ eta + rho @ I @ eta)


_averages = arrays(np.float64, 12, elements=st.sampled_from([0.0, 0.5, 1.0, 3.0]))


@settings(max_examples=50, deadline=None)
@given(rho=_averages, eta=_averages, mass_ratio=st.sampled_from([1.0, 0.5, 2.0]))
def test_energy_equals_the_kernel_form_for_any_masses(rho: np.ndarray, eta: np.ndarray, mass_ratio: float) -> None:
    edges = np.cumsum(np.r_[0.0, np.linspace(0.5, 1.5, 12)])
    rho = rho + 0.1
    eta = (eta + 0.1) * mass_ratio * (rho @ np.diff(edges)) / ((eta + 0.1) @ np.diff(edges))
    energy, _ = fv_energy_and_dissipation(rho, eta, edges)
    expected = _energy_from_kernel(rho, eta, edges)
    assert energy == pytest.approx(expected, rel=1e-12, abs=1e-12)
    if mass_ratio == 1.0:
        assert energy >= -1e-14  # E = integral (F_rho - F_eta)^2 up to the round-off of M_rho - M_eta


def test_dissipation_by_gauss_quadrature_and_zero_for_equal_densities() -> None:
    rng = np.random.default_rng(1)
    edges = np.sort(rng.uniform(-1.0, 1.0, 31))
    rho, eta = rng.uniform(0.0, 2.0, 30), rng.uniform(0.0, 1.0, 30)
    _, dissipation = fv_energy_and_dissipation(rho, eta, edges)
    dx = np.diff(edges)
    F_rho = np.r_[0.0, np.cumsum(rho * dx)]
    F_eta = np.r_[0.0, np.cumsum(eta * dx)]
    dM = F_rho[-1] - F_eta[-1]
    nodes, weights = np.polynomial.legendre.leggauss(3)
    total = 0.0
    for k in range(30):
        lam = 0.5 * (nodes + 1.0)
        v = 2.0 * ((1 - lam) * (F_rho[k] - F_eta[k]) + lam * (F_rho[k + 1] - F_eta[k + 1])) - dM
        total += (rho[k] + eta[k]) * 0.5 * dx[k] * np.sum(weights * v**2)
    assert dissipation == pytest.approx(total, rel=1e-13)
    energy, dissipation = fv_energy_and_dissipation(rho, rho, edges)
    assert energy == 0.0 and dissipation == 0.0


def test_rows_are_independent_states() -> None:
    edges = np.linspace(0.0, 1.0, 5)
    rho = np.array([[1.0, 1.0, 1.0, 1.0], [4.0, 0.0, 0.0, 0.0]])
    eta = np.array([[0.0, 0.0, 0.0, 4.0], [1.0, 1.0, 1.0, 1.0]])
    energy, dissipation = fv_energy_and_dissipation(rho, eta, edges)
    for k in range(2):
        e_k, d_k = fv_energy_and_dissipation(rho[k], eta[k], edges)
        assert (energy[k], dissipation[k]) == (e_k, d_k)
    assert energy[0] == pytest.approx(energy[1], rel=1e-15)


def test_lagrangian_energy_is_invariant_under_node_refinement() -> None:
    """The same two piecewise-constant densities on different node sets give the same numbers."""
    rng = np.random.default_rng(7)
    X = np.sort(rng.uniform(-1.0, 0.5, 20))
    s = np.r_[0.0, np.sort(rng.uniform(0.0, 1.0, 18)), 1.0]
    Y = np.sort(rng.uniform(-0.5, 1.0, 15))
    sigma = np.linspace(0.0, 1.0, 15)
    energy, dissipation = lagrangian_energy_and_dissipation(X, s, Y, sigma)
    X_fine = np.sort(np.r_[X, rng.uniform(X[0], X[-1], 30)])
    s_fine = np.interp(X_fine, X, s)
    assert lagrangian_energy_and_dissipation(X_fine, s_fine, Y, sigma) == pytest.approx((energy, dissipation), rel=1e-12)
    z = np.sort(np.r_[X, Y])
    direct = energy_and_dissipation(z, np.interp(z, X, s), np.interp(z, Y, sigma))
    assert (energy, dissipation) == pytest.approx(direct, rel=1e-14)
