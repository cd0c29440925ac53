"""Energy E[Z] and the exact energy-dissipation identity along the particle flow."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers.particles.energy import discrete_energy, dissipation
from solvers.particles.engine import simulate
from tests.solvers.particles.test_theorems import event_and_mid_times, grid_configuration, random_configuration


def pairwise_energy(x: np.ndarray, y: np.ndarray, m: np.ndarray, n: np.ndarray) -> float:
    """E[Z] straight from its definition, O(N^2)."""
    upper_x = np.triu(np.ones((x.size, x.size), bool), 1)
    upper_y = np.triu(np.ones((y.size, y.size), bool), 1)
    return float(
        -np.sum((np.outer(m, m) * np.abs(x[:, None] - x[None, :]))[upper_x])
        - np.sum((np.outer(n, n) * np.abs(y[:, None] - y[None, :]))[upper_y])
        + np.sum(np.outer(m, n) * np.abs(x[:, None] - y[None, :]))
    )


def cdf_gap_integral(x: np.ndarray, y: np.ndarray) -> float:
    """int (F_x - F_y)^2 dx for equal masses 1/N: the integrand is constant between merged points."""
    z = np.sort(np.concatenate([x, y]))
    mid = 0.5 * (z[1:] + z[:-1])
    F_x = np.searchsorted(np.sort(x), mid, side="right") / x.size
    F_y = np.searchsorted(np.sort(y), mid, side="right") / y.size
    return float(np.sum(np.diff(z) * (F_x - F_y) ** 2))


masses = st.lists(st.floats(0.01, 2.0), min_size=1, max_size=12)


@given(masses, masses, st.integers(0, 2**32 - 1))
@settings(max_examples=60, deadline=None)
def test_energy_matches_definition_for_general_masses(m: list[float], n: list[float], seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=len(m)), rng.normal(size=len(n))
    x[rng.random(x.size) < 0.3] = 0.0  # ties inside and across species
    m_arr, n_arr = np.array(m), np.array(n)
    expected = pairwise_energy(x, y, m_arr, n_arr)
    scale = (m_arr.sum() + n_arr.sum()) ** 2 * (1 + np.abs(np.concatenate([x, y])).max())
    assert abs(discrete_energy(x, y, m_arr, n_arr) - expected) <= 1e-13 * scale


@given(st.one_of(grid_configuration(max_N=12), random_configuration(max_N=40)))
@settings(max_examples=60, deadline=None)
def test_equal_masses_energy_is_squared_cdf_gap(config: tuple[np.ndarray, np.ndarray]) -> None:
    """Lemma 2.1: E = int (F_x - F_y)^2 dx >= 0, and E = 0 for y = x."""
    x, y = config
    N = x.size
    e = discrete_energy(x, y)
    assert e >= 0
    assert abs(e - cdf_gap_integral(x, y)) <= 1e-13 * (1 + np.abs(np.concatenate([x, y])).max())
    assert abs(e - pairwise_energy(x, y, np.full(N, 1 / N), np.full(N, 1 / N))) <= 1e-12 * (1 + np.ptp(np.concatenate([x, y])))
    assert discrete_energy(x, x) == 0.0


def test_energy_is_row_wise_and_default_masses_are_one_over_N() -> None:
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(4, 7)), rng.normal(size=(4, 7))
    rows = discrete_energy(x, y)
    assert rows.shape == (4,)
    np.testing.assert_allclose(rows, [discrete_energy(x[k], y[k]) for k in range(4)], rtol=1e-15)
    np.testing.assert_allclose(rows, discrete_energy(x, y, np.full(7, 1 / 7), np.full(7, 1 / 7)), rtol=1e-13)
    vx, vy = rng.normal(size=(4, 7)), rng.normal(size=(4, 7))
    np.testing.assert_allclose(dissipation(vx, vy), (vx**2).sum(axis=1) / 7 + (vy**2).sum(axis=1) / 7, rtol=1e-15)


@given(st.one_of(grid_configuration(max_N=10), random_configuration(max_N=40)))
@settings(max_examples=40, deadline=None)
def test_exact_energy_dissipation_identity(config: tuple[np.ndarray, np.ndarray]) -> None:
    """Between consecutive events E is affine in t with slope -(sum m vx^2 + sum n vy^2), to round-off;
    hence E is non-increasing and reaches 0 at the final state."""
    x0, y0 = config
    t = event_and_mid_times(x0, y0)  # nodes at even positions, midpoints at odd positions
    run = simulate(x0, y0, t)
    E = discrete_energy(run.x, run.y)
    D = dissipation(run.vx, run.vy, run.m, run.n)
    tol = 1e-12 * (1 + E[0] + np.ptp(np.concatenate([x0, y0])))
    nodes, mids = slice(0, None, 2), slice(1, None, 2)
    np.testing.assert_allclose(np.diff(E[nodes]), -D[mids] * np.diff(t[nodes]), rtol=0, atol=tol)
    np.testing.assert_allclose(E[mids], 0.5 * (E[nodes][1:] + E[nodes][:-1]), rtol=0, atol=tol)
    np.testing.assert_array_equal(D[mids], D[nodes][:-1])  # right derivatives at the nodes
    assert np.all(np.diff(E) <= tol)
    assert np.all(E >= 0)
    assert E[-1] <= tol and D[-1] == 0
