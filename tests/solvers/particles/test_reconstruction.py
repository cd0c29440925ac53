"""Piecewise-constant reconstruction (66)-(67) and the paper's Section 5 claims on exact runs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compare.metrics import wasserstein
from compare.metrics.measures import Empirical, Histogram
from compare.runs.cases import initial_particles, load_case
from solvers.errors import ParticleInputError
from solvers.initial import atomise, density_from_spec
from solvers.particles.continuous_time import observe
from solvers.particles.engine import ParticleRun, simulate
from solvers.particles.reconstruction import lm_norm_power, reconstruct, sup_norm, w1_to_empirical

ROUND_OFF = 1e-12
TIMES = np.linspace(0.0, 3.0, 151)


def case_run(name: str, N: int, placement: str = "right") -> ParticleRun:
    x0, y0 = initial_particles(load_case(name), N, placement)  # type: ignore[arg-type]
    return simulate(x0, y0, TIMES)


def max_relative_increase(series: np.ndarray) -> float:
    return float(np.max(np.diff(series) / series[:-1]))


def test_reconstruction_cells_carry_equal_mass() -> None:
    x = np.array([[0.0, 0.5, 2.0, 2.25], [-1.0, 0.0, 1.0, 3.0]])
    edges, values = reconstruct(x, M=3.0)
    np.testing.assert_array_equal(edges, x)
    assert values.shape == (2, 3)
    np.testing.assert_allclose(values * np.diff(x, axis=1), 1.0, rtol=1e-15)
    np.testing.assert_array_equal(sup_norm(x, M=3.0), [4.0, 1.0])


def test_coincident_particles_give_infinite_density_without_floating_point_errors() -> None:
    x = np.array([0.0, 0.0, 1.0])
    _, values = reconstruct(x)
    assert values[0] == np.inf and values[1] == 0.5
    assert sup_norm(x) == np.inf
    assert lm_norm_power(x, 2) == np.inf
    assert lm_norm_power(x, 1) == 1.0
    assert np.isfinite(w1_to_empirical(x))


def test_lm_norm_power_is_the_integral_of_the_mth_power() -> None:
    x = np.array([-1.0, -0.2, 0.1, 0.15, 2.0])
    _, values = reconstruct(x)
    for m in (1, 1.5, 2, 4, 8):
        assert lm_norm_power(x, m) == pytest.approx(np.sum(values**m * np.diff(x)), rel=1e-14)
    # ||f||_m -> ||f||_inf
    assert lm_norm_power(x, 200) ** (1 / 200) == pytest.approx(sup_norm(x), rel=0.02)


def test_lm_norm_power_overflows_to_inf() -> None:
    assert lm_norm_power(np.array([0.0, 1e-300, 1.0]), 8) == np.inf


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: reconstruct(np.array([1.0])), "N >= 2"),
        (lambda: reconstruct(np.array([0.0, np.nan])), "not finite"),
        (lambda: reconstruct(np.array([[0.0, 1.0], [1.0, 0.0]])), "not sorted at x[1, 0]"),
        (lambda: reconstruct(np.array([0.0, 1.0]), M=0.0), "total mass M"),
        (lambda: lm_norm_power(np.array([0.0, 1.0]), np.inf), "sup_norm"),
        (lambda: lm_norm_power(np.array([0.0, 1.0]), 0.5), "m must be"),
    ],
)
def test_bad_input_is_a_one_line_error(call, fragment: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ParticleInputError) as info:
        call()
    assert fragment in str(info.value) and "\n" not in str(info.value)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-10, 10), min_size=2, max_size=40), st.floats(0.1, 10))
def test_w1_closed_form_matches_the_exact_transport_distance(positions: list[float], M: float) -> None:
    x = np.sort(np.array(positions))
    N = x.size
    if x[-1] - x[0] < 1e-6:
        return
    expected = wasserstein(Empirical(x, np.full(N, M / N)), Histogram(x, np.full(N - 1, M / (N - 1))))
    assert w1_to_empirical(x, M) == pytest.approx(expected, rel=1e-11, abs=1e-14)
    assert w1_to_empirical(x, M) <= M * (x[-1] - x[0]) / (2 * N) * (1 + 1e-14)


# ---------------------------------------------------------------------------------------------
# Section 5 on exact particle runs
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["overlap", "separated", "bumps_overlap"])
def test_lemma_5_1_with_the_current_and_the_joint_span(name: str) -> None:
    """W1(rho^N(t), rho~^N(t)) <= (x_N(t) - x_1(t)) / (2N) <= (b(0) - a(0)) / (2N) at all times."""
    N = 40
    run = case_run(name, N)
    hull = max(run.x[0, -1], run.y[0, -1]) - min(run.x[0, 0], run.y[0, 0])
    for positions in (run.x, run.y):
        w1 = w1_to_empirical(positions)
        exact = [wasserstein(Empirical(row), Histogram(row, np.full(N - 1, 1 / (N - 1)))) for row in positions[::25]]
        np.testing.assert_allclose(w1[::25], exact, rtol=1e-12)
        assert np.all(w1 <= (positions[:, -1] - positions[:, 0]) / (2 * N))
        assert np.all(w1 <= hull / (2 * N))


def test_lemma_5_1_initial_span_bound_fails_when_a_species_spreads() -> None:
    """The paper's last step, x_N(t) - x_0(t) <= xbar_N - xbar_0, is false: separated species
    self-repel and spread, and W1(rho^N, rho~^N) exceeds (xbar_N - xbar_0)/(2N) (finding)."""
    N = 40
    run = case_run("separated", N)
    w1 = w1_to_empirical(run.x)
    assert np.max(w1) > 1.5 * (1.0 / (2 * N))  # rho0 = 1 on [-1.5, -0.5]: xbar_N - xbar_0 = 1
    assert np.max(run.x[:, -1] - run.x[:, 0]) > 2.0


@pytest.mark.parametrize(("name", "initial_span_holds"), [("overlap", True), ("separated", False), ("bumps_overlap", True)])
@pytest.mark.parametrize("placement", ["right", "mid"])
def test_lemma_5_1_at_every_time_with_the_proven_bound(name: str, initial_span_holds: bool, placement: str) -> None:
    """Exactly over all t in [0, T] (continuous-time replay): 2N W1(rho^N, rho~^N) <= the current span
    x_N(t) - x_1(t) times ((N - 1)^2 + 1)/(N (N - 1)) < 1, and <= the joint initial hull b(0) - a(0)
    (Prop. 4.1). The paper's last step, the species' own initial support xbar_N - xbar_0, holds on
    `overlap` and `bumps_overlap` and fails on `separated` (the spreading species: 2N sup W1 = 1.5)."""
    case = load_case(name)
    N = 40
    x0, y0 = initial_particles(case, N, placement)  # type: ignore[arg-type]
    obs = observe(x0, y0, case.T, functionals=())
    assert np.all(obs.lemma_5_1_current <= ((N - 1) ** 2 + 1) / (N * (N - 1)) * (1 + ROUND_OFF))
    density_hull = max(case.rho0.support[1], case.eta0.support[1]) - min(case.rho0.support[0], case.eta0.support[0])
    assert np.all(obs.lemma_5_1_hull <= 1.0) and np.all(2 * N * obs.w1_sup <= density_hull)
    own_support = np.array([np.diff(case.rho0.support)[0], np.diff(case.eta0.support)[0]])
    assert np.all(2 * N * obs.w1_sup <= own_support) == initial_span_holds
    exact = [w1_to_empirical(simulate(x0, y0, [t]).x[0]) for t in (obs.w1_sup_t[0], obs.w1_sup_t[0] * 0.999)]
    assert exact[0] == pytest.approx(obs.w1_sup[0], rel=ROUND_OFF) and exact[1] <= obs.w1_sup[0]


@pytest.mark.parametrize("name", ["overlap", "separated", "bumps_overlap", "separated_bumps"])
@pytest.mark.parametrize("m", [2, 4, 8])
def test_proposition_5_2_sum_of_lm_powers_is_non_increasing(name: str, m: int) -> None:
    run = case_run(name, 40)
    total = lm_norm_power(run.x, m) + lm_norm_power(run.y, m)
    assert max_relative_increase(total) <= ROUND_OFF
    assert total[-1] < total[0]


def test_proposition_5_2_does_not_hold_for_one_species_alone() -> None:
    run = case_run("bumps_overlap", 50)
    assert max_relative_increase(lm_norm_power(run.x, 2)) > 1e-6


@settings(max_examples=25, deadline=None)
@given(
    st.integers(2, 25).flatmap(
        lambda N: st.tuples(
            st.lists(st.floats(-1, 1), min_size=N, max_size=N, unique=True),
            st.lists(st.floats(-1, 1), min_size=N, max_size=N, unique=True),
        )
    )
)
def test_proposition_5_2_on_random_configurations(positions: tuple[list[float], list[float]]) -> None:
    x0, y0 = (np.sort(np.array(p)) for p in positions)
    if min(np.diff(x0).min(), np.diff(y0).min()) < 1e-6:
        return
    run = simulate(x0, y0, np.linspace(0.0, 4.0, 81))
    for m in (2, 4, 8):
        total = lm_norm_power(run.x, m) + lm_norm_power(run.y, m)
        assert max_relative_increase(total) <= ROUND_OFF
    top = np.maximum(sup_norm(run.x), sup_norm(run.y))
    assert max_relative_increase(top) <= ROUND_OFF


@pytest.mark.parametrize("name", ["overlap", "separated", "bumps_overlap", "separated_bumps"])
def test_max_of_the_sup_norms_is_non_increasing(name: str) -> None:
    """m -> inf in Proposition 5.2: t -> max(||rho~||_inf, ||eta~||_inf) is non-increasing."""
    run = case_run(name, 40)
    assert max_relative_increase(np.maximum(sup_norm(run.x), sup_norm(run.y))) <= ROUND_OFF


def test_sum_of_the_sup_norms_can_increase() -> None:
    """Finding: the paper's bound ||rho~(t)||_inf + ||eta~(t)||_inf <= the same at t = 0 is false.

    rho0 = U[-0.3, 0.3] inside eta0 = U[-1, 1]: rho spreads while eta is drawn in and densifies, and
    the sum of the sup norms rises above its initial value (exactly 10.44% at t = 0.3286 in
    continuous time for N = 50 with midpoints, see test_findings.py); the maximum does not rise."""
    N = 50
    x0 = atomise(density_from_spec({"kind": "uniform", "a": -0.3, "b": 0.3}), N, "mid")
    y0 = atomise(density_from_spec({"kind": "uniform", "a": -1.0, "b": 1.0}), N, "mid")
    run = simulate(x0, y0, np.linspace(0.0, 6.0, 301))
    sup_x, sup_y = sup_norm(run.x), sup_norm(run.y)
    total = sup_x + sup_y
    assert np.max(total) > 1.05 * total[0]
    assert max_relative_increase(np.maximum(sup_x, sup_y)) <= ROUND_OFF
    # also locally, on a shipped case: the sum rises between two output times
    run = case_run("separated_bumps", 20)
    total = sup_norm(run.x) + sup_norm(run.y)
    assert max_relative_increase(total) > 1e-4


def test_initial_cluster_reconstruction_is_infinite_then_finite() -> None:
    case = load_case("cluster")
    x0, y0 = initial_particles(case)
    run = simulate(x0, y0, np.array([0.0, 0.5, 1.0]))
    sup_x = sup_norm(run.x)
    assert sup_x[0] == np.inf and np.all(np.isfinite(sup_x[1:]))
