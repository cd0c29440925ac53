"""Weak-form residual (Definition 2.1, eq. (16)) on exact solutions, particle runs and their reconstructions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compare.metrics.measures import Continuous, Histogram
from compare.metrics.weak_form import (
    TestFunctions,
    normalized_residual,
    particle_residual,
    particle_residual_components,
    reconstruction_terms,
    simpson,
    space_time_residual,
    weak_residual,
)
from solvers.errors import InputError, ParticleInputError
from solvers.particles.engine import simulate

# --- test functions ----------------------------------------------------------------------------


def test_test_functions_are_c1_with_compact_support_and_exact_sup() -> None:
    tests = TestFunctions.on(-1.0, 2.5, K=7)
    ends = tests.derivatives(np.array([-1.0, 2.5, -3.0, 4.0]))
    assert np.max(np.abs(ends)) < 1e-14
    for d in tests.dchi:
        assert abs(d.integ(lbnd=-1.0)(2.5)) < 1e-14  # chi_k(b) = chi_k(a) = 0
    x = np.linspace(-1.0, 2.5, 200_001)
    sampled = np.max(np.abs(tests.derivatives(x)), axis=0)
    assert np.all(sampled <= tests.dchi_sup * (1 + 1e-14))
    np.testing.assert_allclose(sampled, tests.dchi_sup, rtol=1e-8)


def test_moments_equal_direct_evaluation() -> None:
    rng = np.random.default_rng(0)
    tests = TestFunctions.on(0.0, 1.0, K=9)
    x, w = rng.random(1000), rng.normal(size=1000)
    np.testing.assert_allclose(tests.moments(x, w), w @ tests.derivatives(x), rtol=1e-12, atol=1e-12)


# --- exact solutions: residual at round-off ----------------------------------------------------


def separated_piecewise_constant(t: float) -> tuple[Histogram, np.ndarray, Histogram, np.ndarray]:
    """Exact solution for piecewise-constant data with separated supports (unit masses): rho has two
    components [0, 1] and [4, 5] (cells with different densities), eta sits in the gap on [2, 3].
    Along characteristics X(s, t) = X0(s) + 2 (s - F_eta0(X0(s))) t, linear in s on every cell, so
    the solution stays piecewise constant with nodes moving at constant speed (MATH.md section 1)."""
    rho0 = Histogram([0.0, 0.4, 1.0, 4.0, 4.5, 5.0], [0.3, 0.2, 0.0, 0.1, 0.4])
    eta0 = Histogram([2.0, 2.2, 3.0], [0.6, 0.4])
    x0, s_rho = rho0.nodes
    y0, s_eta = eta0.nodes
    v_rho = 2.0 * (s_rho - eta0.cdf(x0))
    v_eta = 2.0 * (s_eta - rho0.cdf(y0))
    rho = Histogram(x0 + v_rho * t, rho0.masses)
    eta = Histogram(y0 + v_eta * t, eta0.masses)
    return rho, v_rho, eta, v_eta


@pytest.mark.parametrize("t", [0.0, 0.05, 0.2])
def test_exact_piecewise_constant_solution_has_zero_residual(t: float) -> None:
    rho, v_rho, eta, v_eta = separated_piecewise_constant(t)
    tests = TestFunctions.on(0.0, 5.0, K=8)
    r_rho = normalized_residual(weak_residual(rho, v_rho, eta, tests), rho, eta, tests)
    r_eta = normalized_residual(weak_residual(eta, v_eta, rho, tests), eta, rho, tests)
    assert np.max(np.abs(r_rho)) < 1e-14
    assert np.max(np.abs(r_eta)) < 1e-14
    # the same states with a velocity error of 1e-3 on one node give a residual of that order
    v_wrong = v_rho.copy()
    v_wrong[2] += 1e-3
    r_wrong = normalized_residual(weak_residual(rho, v_wrong, eta, tests), rho, eta, tests)
    assert 1e-6 < np.max(np.abs(r_wrong)) < 1e-3


def bump_quantile(s: np.ndarray) -> np.ndarray:
    """Quantile of 3/4 (1 - x^2) on [-1, 1] (root of x^3 - 3x + 2 - 4s)."""
    tail = np.minimum(s, 1.0 - s)
    left = 2.0 * np.cos((2.0 * np.arcsin(np.sqrt(tail)) + 4.0 * np.pi) / 3.0)
    return np.where(s <= 0.5, left, -left)


def moving_bump(center: float, t: float, side: float) -> Continuous:
    """The bump of ``center`` at time t while it is alone on its side: X = X0 + 2 (s - c) t with
    c = 0 (left species, ``side = 0``) or 1 (right species, ``side = 1``); the CDF by bisection."""

    def quantile(s: np.ndarray) -> np.ndarray:
        s = np.asarray(s, dtype=float)
        return center + bump_quantile(s) + 2.0 * (s - side) * t

    def cdf(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        lo, hi = np.zeros_like(x), np.ones_like(x)
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            below = quantile(mid) < x
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return 0.5 * (lo + hi)

    return Continuous(cdf, quantile, (center - 1.0 - 2.0 * side * t, center + 1.0 + 2.0 * (1.0 - side) * t))


def test_exact_smooth_separated_solution_has_zero_residual() -> None:
    """Continuous path: two bumps on [-1, 1] and [2, 4] before contact (at t = 1/4)."""
    t = 0.1
    rho, eta = moving_bump(0.0, t, 0.0), moving_bump(3.0, t, 1.0)
    tests = TestFunctions.on(-1.0, 4.0, K=5)
    r_rho = weak_residual(rho, lambda s: 2.0 * s, eta, tests)
    r_eta = weak_residual(eta, lambda s: 2.0 * (s - 1.0), rho, tests)
    assert np.max(np.abs(normalized_residual(r_rho, rho, eta, tests))) < 1e-11
    assert np.max(np.abs(normalized_residual(r_eta, eta, rho, tests))) < 1e-11
    r_wrong = weak_residual(rho, lambda s: 2.0 * s + 0.01 * s * (1.0 - s), eta, tests)
    assert np.max(np.abs(normalized_residual(r_wrong, rho, eta, tests))) > 1e-4


# --- particle runs -----------------------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(st.integers(2, 40), st.integers(0, 2**32 - 1))
def test_empirical_residual_vanishes_with_sign_zero_convention(N: int, seed: int) -> None:
    """For the empirical measures, r_k = sum_i m_i chi_k'(x_i) (x_i' - v(x_i)) with v the sign formula
    (sign(0) = 0); the particle velocities are that formula whenever no crossing pair coincides, and
    a stuck pair (x_i = y_i) has velocity 0 = its sign-formula value. Random data, output times up to
    and beyond the final state."""
    rng = np.random.default_rng(seed)
    x0, y0 = rng.random(N), 0.3 + rng.random(N)
    t = np.linspace(0.0, 2.0, 9)
    run = simulate(x0, y0, t)
    residual = particle_residual(run.x, run.vx, run.y, run.vy, empirical=True)
    assert np.max(residual) < 1e-13


def test_empirical_residual_is_not_zero_at_an_initial_crossing_coincidence() -> None:
    """x_2 = y_1 at t = 0 with 2 != 1: the right derivatives resolve the cluster (Theorem 4.3), which the
    sign(0) = 0 formula does not, so the residual is nonzero at t = 0 and zero afterwards."""
    x0, y0 = np.array([0.0, 0.5, 0.9]), np.array([0.5, 1.2, 1.5])
    run = simulate(x0, y0, np.array([0.0, 0.01]))
    residual = particle_residual(run.x, run.vx, run.y, run.vy, empirical=True)
    assert residual[0] > 1e-3
    assert residual[1] < 1e-14


def test_reconstruction_residual_decreases_with_N() -> None:
    """Overlapping uniform data; the residual of the reconstruction decays like 1/N."""
    t = np.linspace(0.0, 0.4, 9)
    sup = []
    Ns = (25, 100, 400)
    for N in Ns:
        levels = np.arange(1, N + 1) / N
        run = simulate(levels, 0.5 + 1.5 * levels**2, t)
        sup.append(np.max(particle_residual(run.x, run.vx, run.y, run.vy)))
    assert sup[0] > sup[1] > sup[2]
    assert sup[2] < sup[0] / 8.0


def test_uniform_particles_reconstruct_the_exact_solution() -> None:
    """Uniform rho on [0, 1] left of uniform eta on [3, 4] stay uniform (X = s + 2 s t, Y = 3 + s - 2 (1 - s) t):
    N equally spaced particles per species reconstruct them exactly, so the residual is round-off."""
    N, t = 11, 0.1
    s = np.linspace(0.0, 1.0, N)
    x, vx = s + 2.0 * s * t, 2.0 * s
    y, vy = 3.0 + s - 2.0 * (1.0 - s) * t, -2.0 * (1.0 - s)
    components = particle_residual_components(x, vx, y, vy, K=4)
    assert components.shape == (1, 2, 4)
    assert np.max(np.abs(components)) < 1e-14


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 30), st.integers(0, 2**32 - 1), st.booleans())
def test_reconstruction_terms_agree_with_the_measure_residual(N: int, seed: int, clusters: bool) -> None:
    """The frames-at-once terms of the reconstructions give the residual of ``weak_residual`` on each
    frame's ``Histogram`` to round-off, also with atoms (same-species particles at one point at t = 0,
    eta particles on them) and stuck pairs; ``moment`` is ``sum_i int chi_k / (N - 1) h_i`` over the
    cells, by the antiderivative."""
    rng = np.random.default_rng(seed)
    x0, y0 = np.sort(rng.random(N)), np.sort(0.3 + rng.random(N))
    if clusters and N >= 4:
        x0[1:4] = x0[1]
        y0[:2] = x0[1]
        x0, y0 = np.sort(x0), np.sort(y0)
    run = simulate(x0, y0, np.linspace(0.0, 2.0, 7))
    terms = reconstruction_terms(run.x, run.vx, run.y, run.vy, K=5)
    tests = TestFunctions.on(min(x0.min(), y0.min()), max(x0.max(), y0.max()), K=5)
    masses = np.full(N - 1, 1.0 / (N - 1))
    for k in range(run.x.shape[0]):
        rho, eta = Histogram(run.x[k], masses), Histogram(run.y[k], masses)
        expected = [
            normalized_residual(weak_residual(rho, run.vx[k], eta, tests), rho, eta, tests),
            normalized_residual(weak_residual(eta, run.vy[k], rho, tests), eta, rho, tests),
        ]
        np.testing.assert_allclose(terms.residual()[k], expected, rtol=0, atol=1e-14)
        for s, x in enumerate((run.x[k], run.y[k])):
            h = np.diff(x)
            if np.all(h > 0):
                cells = [np.sum((c.integ()(x[1:]) - c.integ()(x[:-1])) / h) / (N - 1) for c in tests.chi]
                np.testing.assert_allclose(terms.moment[k, s], cells, rtol=0, atol=1e-13)


def test_simpson_is_exact_for_cubics_and_needs_an_even_count() -> None:
    t = np.linspace(0.0, 2.0, 9)
    np.testing.assert_allclose(simpson(np.stack((t**3, 1.0 - t**2), axis=1), 0.25), [4.0, 2.0 - 8.0 / 3.0], rtol=1e-14)
    with pytest.raises(InputError, match="even number"):
        simpson(t[:-1], 0.25)


def test_space_time_residual_is_the_time_average_of_the_residual() -> None:
    """Particles in uniform motion without events (velocities chosen, not the dynamics'): r_k(t) is
    smooth, and (1/T) int theta_j r_k dt by a fine Simpson rule on the per-time residual equals the
    space-time residual computed from positions only (moment, flux), also on a coarse grid."""
    rng = np.random.default_rng(3)
    N = 9
    x0, y0 = np.sort(rng.random(N)), 2.0 + np.sort(rng.random(N))
    vx, vy = 0.4 + 0.1 * np.sort(rng.random(N)), -0.4 + 0.1 * np.sort(rng.random(N))  # the order is kept
    t = np.linspace(0.0, 0.5, 401)
    x, y = x0 + t[:, None] * vx, y0 + t[:, None] * vy
    terms = reconstruction_terms(x, np.broadcast_to(vx, x.shape), y, np.broadcast_to(vy, y.shape))
    z = 2.0 * t / t[-1] - 1.0
    theta = np.stack([np.polynomial.legendre.Legendre.basis(j)(z) for j in range(4)])
    averaged = np.stack([simpson(theta[j][:, None, None] * terms.residual(), t[1]) / t[-1] for j in range(4)], axis=1)
    np.testing.assert_allclose(space_time_residual(t, terms), averaged, rtol=1e-6, atol=1e-10)  # two Simpson errors, O(h^4)
    assert np.max(np.abs(averaged)) > 1e-3  # the velocities are not the sign formula's
    np.testing.assert_allclose(space_time_residual(t[::20], terms.every(20)), averaged, rtol=0, atol=1e-4 * np.max(np.abs(averaged)))


def test_space_time_residual_of_an_exact_solution_vanishes_at_fourth_order() -> None:
    """The uniform separated solution (X = s + 2 s t, Y = 3 + s - 2 (1 - s) t, before contact) on
    equally spaced particles has zero residual at every time, so its space-time residual is Simpson's
    error: it falls like h^4 (16 times per halving, 2e-6 at 32 intervals); with the positions and
    velocities of eta off by ``1e-3 t`` and ``1e-3`` it is 3.8e-4 at every resolution."""
    N = 11
    s = np.linspace(0.0, 1.0, N)

    def residuals(intervals: int, offset: float) -> float:
        t = np.linspace(0.0, 0.4, intervals + 1)[:, None]
        x, y = s + 2.0 * s * t, 3.0 + s - 2.0 * (1.0 - s) * t + offset * t
        vx, vy = np.broadcast_to(2.0 * s, x.shape), np.broadcast_to(-2.0 * (1.0 - s) + offset, y.shape)
        return float(np.max(np.abs(space_time_residual(t[:, 0], reconstruction_terms(x, vx, y, vy)))))

    exact = np.array([residuals(n, 0.0) for n in (4, 8, 16, 32)])
    assert np.all(exact[1:] < exact[:-1] / 12.0) and exact[-1] < 1e-5, exact
    wrong = np.array([residuals(n, 1e-3) for n in (16, 32)])
    assert np.all((wrong > 1e-4) & (wrong < 1e-3)) and abs(wrong[1] - wrong[0]) < 1e-9, wrong


@pytest.mark.parametrize(
    "args",
    [
        (np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((2, 3)), np.zeros((2, 3))),
        (np.array([0.0, np.nan]), np.zeros(2), np.array([1.0, 2.0]), np.zeros(2)),
        (np.array([1.0, 0.0]), np.zeros(2), np.array([1.0, 2.0]), np.zeros(2)),
        (np.array([1.0]), np.zeros(1), np.array([1.0]), np.zeros(1)),
    ],
)
def test_bad_particle_input(args: tuple[np.ndarray, ...]) -> None:
    with pytest.raises(ParticleInputError) as info:
        particle_residual(*args)
    assert "\n" not in str(info.value)


def test_bad_state_input() -> None:
    rho, v_rho, eta, _ = separated_piecewise_constant(0.0)
    tests = TestFunctions.on(0.0, 5.0)
    with pytest.raises(InputError):
        weak_residual(rho, v_rho[:-1], eta, tests)
    with pytest.raises(InputError):
        weak_residual(moving_bump(0.0, 0.0, 0.0), v_rho, eta, tests)
    with pytest.raises(InputError):
        TestFunctions.on(1.0, 1.0)


def test_the_residual_is_a_consistency_check_not_a_convergence_measure() -> None:
    """On `overlap` the residual of the true run and of the same positions with every velocity shifted
    by 1/N are of the same size and both fall like 1/N: the residual does not separate the solution
    from a trajectory with velocities wrong by O(1/N), so its order is a consistency order (the study
    labels it so). The same holds for the space-time residual (the study's reported value), with the
    positions of the shifted trajectory moved by t/N (ratios and orders printed)."""
    from compare.runs.cases import initial_particles, load_case

    case = load_case("overlap")
    t = np.linspace(0.0, 2.0, 21)
    Ns = np.array([100, 200, 400, 800])
    true, shifted, true_st, shifted_st = [], [], [], []
    for N in Ns:
        x0, y0 = initial_particles(case, N)
        run = simulate(x0, y0, t, record_events=False)
        true.append(float(np.max(particle_residual(run.x, run.vx, run.y, run.vy))))
        shifted.append(float(np.max(particle_residual(run.x, run.vx + 1.0 / N, run.y, run.vy + 1.0 / N))))
        drift = t[:, None] / N
        true_st.append(float(np.max(np.abs(space_time_residual(t, reconstruction_terms(run.x, run.vx, run.y, run.vy))))))
        moved = reconstruction_terms(run.x + drift, run.vx + 1.0 / N, run.y + drift, run.vy + 1.0 / N)
        shifted_st.append(float(np.max(np.abs(space_time_residual(t, moved)))))
    for name, a, b, band in (("per time", true, shifted, (0.3, 3.0)), ("space-time", true_st, shifted_st, (1.0, 5.0))):
        ratio = np.array(b) / np.array(a)
        orders = np.array([-np.polyfit(np.log(Ns), np.log(r), 1)[0] for r in (a, b)])
        print(f"\n{name}: shifted/true {np.round(ratio, 2)}, orders (true, shifted) {np.round(orders, 3)}")
        assert np.all((ratio > band[0]) & (ratio < band[1])), f"shifted/true = {ratio}"
        assert np.all((orders > 0.8) & (orders < 1.2)), f"fitted orders (true, shifted) {orders}, residuals {a}, {b}"
