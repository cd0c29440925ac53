"""Many-particle limit with unequal total masses M_rho != M_eta and unequal particle masses/numbers.

Continuum side: the velocities of MATH.md section 1, v_rho = (2 F_rho - M_rho) - (2 F_eta - M_eta).
While the supports are disjoint (rho left of eta), X(s, t) = X0(s) + (2 s - M_rho + M_eta) t and
Y(s, t) = Y0(s) - (M_rho + M_eta - 2 s) t for mass levels s in [0, M].
"""

from __future__ import annotations

import numpy as np
import pytest

from compare.metrics import wasserstein
from compare.metrics.measures import Empirical, Histogram
from solvers.continuum.energy import fv_energy_and_dissipation
from solvers.continuum.fv import solve_fv
from solvers.continuum.lagrangian import _advance_rk4, pseudo_inverse_grid
from solvers.errors import DensityError
from solvers.initial import Uniform, atomise, atomise_grid, cell_averages
from solvers.particles.energy import discrete_energy
from solvers.particles.engine import simulate

M_RHO, M_ETA = 1.2, 0.8


def uniform_measure(a: float, b: float, mass: float) -> Histogram:
    return Histogram([a, b], [mass])


def fv_solution(rho0: Uniform, eta0: Uniform, T: float, cells: int, lo: float, hi: float) -> tuple[Histogram, ...]:
    """fv2 on [lo, hi] (wide enough that no mass reaches the walls by T: speeds are <= M_rho + M_eta)."""
    edges = np.linspace(lo, hi, cells + 1)
    dx = edges[1] - edges[0]
    rho, eta, _ = solve_fv(M_RHO * cell_averages(rho0, edges), M_ETA * cell_averages(eta0, edges), dx, np.array([0.0, T]))
    return Histogram(edges, rho[-1] * dx), Histogram(edges, eta[-1] * dx), edges, rho, eta


def test_atomise_grid_puts_cell_masses_at_cell_centres() -> None:
    x, m = atomise_grid(Uniform(0.0, 1.0), 4, mass=2.0)
    np.testing.assert_allclose(x, [0.125, 0.375, 0.625, 0.875], rtol=1e-15)
    np.testing.assert_allclose(m, 0.5, rtol=1e-15)
    with pytest.raises(DensityError, match="cells must be a positive integer"):
        atomise_grid(Uniform(0.0, 1.0), 0)
    with pytest.raises(DensityError, match="mass must be a positive finite number"):
        atomise_grid(Uniform(0.0, 1.0), 3, mass=-1.0)


def test_separated_unequal_masses_exact_for_particles_and_both_schemes() -> None:
    """rho0 = 1.2 U[-1.5, -0.5], eta0 = 0.8 U[0.5, 1.5], contact at t* = 1/(2 (M_rho + M_eta)) = 0.25.
    At T = 0.2 rho is 1.2 U[-1.5 - 0.4 T, -0.5 + 2 T] and eta 0.8 U[0.5 - 2 T, 1.5 - 0.4 T] (the heavier
    species pushes both outer ends to the left).
    Fixed-grid particles sit at the mass midpoints of their cells, so they follow the characteristics
    exactly; fv2 and the Lagrangian kernel (levels scaled to the masses) converge to the exact solution."""
    T = 0.2
    rho0, eta0 = Uniform(-1.5, -0.5), Uniform(0.5, 1.5)
    x, m = atomise_grid(rho0, 40, M_RHO)
    y, n = atomise_grid(eta0, 30, M_ETA)
    run = simulate(x, y, [0.0, T], m=m, n=n)
    s_mid = np.cumsum(m) - m / 2
    sigma_mid = np.cumsum(n) - n / 2
    np.testing.assert_allclose(run.x[-1], x + (2 * s_mid - M_RHO + M_ETA) * T, rtol=0, atol=1e-14)
    np.testing.assert_allclose(run.y[-1], y - (M_RHO + M_ETA - 2 * sigma_mid) * T, rtol=0, atol=1e-14)
    assert run.n_events == 0

    exact_rho = uniform_measure(-1.5 - 0.4 * T, -0.5 + 2 * T, M_RHO)
    exact_eta = uniform_measure(0.5 - 2 * T, 1.5 - 0.4 * T, M_ETA)
    errors = []
    for cells in (200, 400):
        rho, eta, *_ = fv_solution(rho0, eta0, T, cells, -2.0, 2.0)
        errors.append(wasserstein(rho, exact_rho) + wasserstein(eta, exact_eta))
    assert errors[1] < 0.7 * errors[0] and errors[1] < 5e-3

    s, X = pseudo_inverse_grid(rho0, 50)
    sigma, Y = pseudo_inverse_grid(eta0, 50)
    _advance_rk4(X, M_RHO * s, Y, M_ETA * sigma, 0.0, T, 0.45)
    np.testing.assert_allclose(X, rho0.quantile(s) + (2 * M_RHO * s - M_RHO + M_ETA) * T, rtol=0, atol=1e-12)
    np.testing.assert_allclose(Y, eta0.quantile(sigma) - (M_RHO + M_ETA - 2 * M_ETA * sigma) * T, rtol=0, atol=1e-12)


def test_fixed_grid_atomisation_converges_to_the_continuum_solution() -> None:
    """Overlapping indicators with M_rho = 1.2, M_eta = 0.8 up to T = 0.5 (the supports overlap from
    the start; sticking, crossing and spreading of the excess mass all happen). The particle
    solution with fixed-grid atomisation on K cells approaches the fv2 solution on 4000 cells in W_1
    at first order (the atomisation itself is O(1/K)), and its energy approaches the continuum one."""
    T = 0.5
    rho0, eta0 = Uniform(-1.0, 0.5), Uniform(-0.5, 1.0)
    rho, eta, edges, rho_fv, eta_fv = fv_solution(rho0, eta0, T, 4000, -2.0, 2.0)
    E_fv = fv_energy_and_dissipation(rho_fv, eta_fv, edges)[0]
    cells = np.array([25, 50, 100, 200])
    w1, energy_gap = [], []
    for K in cells:
        x, m = atomise_grid(rho0, int(K), M_RHO)
        y, n = atomise_grid(eta0, int(K), M_ETA)
        run = simulate(x, y, [0.0, T], m=m, n=n)
        assert run.n_events > 0
        w1.append(wasserstein(Empirical(run.x[-1], run.m), rho) + wasserstein(Empirical(run.y[-1], run.n), eta))
        energy_gap.append(abs(discrete_energy(run.x, run.y, run.m, run.n) - E_fv).max())
    order = np.log2(np.array(w1[:-1]) / np.array(w1[1:]))
    assert np.all(order > 0.8), (w1, order)
    assert w1[-1] < 0.02
    assert np.all(np.diff(energy_gap) < 0) and energy_gap[-1] < 0.02 * E_fv[0]


def test_equal_mass_atomisation_with_unequal_numbers_converges() -> None:
    """N_x = N and N_y = 3N/2 particles of masses M_rho/N_x and M_eta/N_y (paper's atomisation (65) per
    species): the W_1 distance to the continuum solution decreases at first order too."""
    T = 0.5
    rho0, eta0 = Uniform(-1.0, 0.5), Uniform(-0.5, 1.0)
    rho, eta, *_ = fv_solution(rho0, eta0, T, 4000, -2.0, 2.0)
    w1 = []
    for N in (40, 80, 160):
        x, y = atomise(rho0, N, "mid"), atomise(eta0, 3 * N // 2, "mid")
        run = simulate(x, y, [0.0, T], m=np.full(N, M_RHO / N), n=np.full(y.size, M_ETA / y.size))
        w1.append(wasserstein(Empirical(run.x[-1], run.m), rho) + wasserstein(Empirical(run.y[-1], run.n), eta))
    order = np.log2(np.array(w1[:-1]) / np.array(w1[1:]))
    assert np.all(order > 0.8), (w1, order)
