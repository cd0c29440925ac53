"""The continuous-time replay (solvers.particles.continuous_time) against brute force and closed forms."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from compare.metrics import wasserstein
from compare.metrics.measures import Histogram
from solvers.errors import ParticleInputError
from solvers.particles.continuous_time import RLOG1P, SIMULTANEOUS_RTOL, ContinuousTimeObservables, ContinuousTimeReplay, observe
from solvers.particles.energy import discrete_energy
from solvers.particles.engine import ParticleRun, simulate
from solvers.particles.reconstruction import lm_norm_power, sup_norm, w1_to_empirical

ROUND_OFF = 1e-12
M_VALUES = (1.5, 2.0, 4.0, 8.0)


@st.composite
def distinct_configuration(draw: st.DrawFn, max_N: int = 14) -> tuple[np.ndarray, np.ndarray]:
    """Sorted positions, distinct within each species: random normals or a lattice (exact ties)."""
    N = draw(st.integers(2, max_N))
    if draw(st.booleans()):
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        return np.sort(rng.normal(size=N)), np.sort(rng.normal(draw(st.floats(-1.5, 1.5)), draw(st.floats(0.3, 2.0)), size=N))
    shift = draw(st.integers(-2 * N, 2 * N))
    spacing = draw(st.sampled_from([1, 2, 3]))
    return np.arange(1, N + 1) / N, (spacing * np.arange(1, N + 1) + shift) / N


def sample_times(run: ParticleRun, T: float, dense: int) -> np.ndarray:
    """0, T, every event time up to T, the midpoint of every interval between them, and a dense grid."""
    nodes = np.unique(np.concatenate([[0.0, T], run.event_t[run.event_t <= T]]))
    return np.unique(np.concatenate([nodes, 0.5 * (nodes[1:] + nodes[:-1]), np.linspace(0.0, T, dense)]))


def brute_force(x0: np.ndarray, y0: np.ndarray, T: float, dense: int = 801) -> tuple[ParticleRun, np.ndarray]:
    run = simulate(x0, y0, [T], record_events=True)
    t = sample_times(run, T, dense)
    return simulate(x0, y0, t), t


def right_end_derivatives(x0: np.ndarray, y0: np.ndarray, T: float) -> np.ndarray:
    """numpy reference of ``functional_violation`` for ``M_VALUES``: on every interval between event
    times, ``-Phi_m'(b-) / sum |dh_k/dt| h_k^-m`` from the engine's positions at b and velocities
    inside, for x, y and both species, maximised over the intervals."""
    nodes = [0.0]
    for t in np.concatenate([simulate(x0, y0, [T]).event_t, [T]]):
        if t > nodes[-1] * (1 + SIMULTANEOUS_RTOL):  # the replay's grouping of simultaneous events
            nodes.append(t)
    nodes = np.array(nodes)
    at_b = simulate(x0, y0, nodes[1:])
    inside = simulate(x0, y0, 0.5 * (nodes[1:] + nodes[:-1]))
    h = [np.diff(at_b.x, axis=1), np.diff(at_b.y, axis=1)]
    dh = [np.diff(inside.vx, axis=1), np.diff(inside.vy, axis=1)]
    out = np.empty((len(M_VALUES), 3))
    for g, m in enumerate(M_VALUES):
        h_min = np.minimum(h[0].min(axis=1), h[1].min(axis=1))[:, None]
        num = [np.sum(d * (h_min / w) ** m, axis=1) for w, d in zip(h, dh)]
        den = [np.sum(np.abs(d) * (h_min / w) ** m, axis=1) for w, d in zip(h, dh)]
        num.append(num[0] + num[1])
        den.append(den[0] + den[1])
        for col in range(3):
            ratio = np.divide(-num[col], den[col], out=np.zeros_like(num[col]), where=den[col] > 0)
            out[g, col] = np.max(ratio)
    return out


def replay_of(x0: np.ndarray, y0: np.ndarray, T: float, certificate: bool = True) -> ContinuousTimeObservables:
    return observe(x0, y0, T, functionals=(*M_VALUES, RLOG1P), certificate=certificate)


def relative_rise(series: np.ndarray) -> float:
    """Largest increase between consecutive samples, relative to the series' scale."""
    return float(np.max(np.diff(series)) / np.max(np.abs(series)))


@given(distinct_configuration(), st.floats(0.5, 6.0))
@settings(max_examples=30, deadline=None)
@example(config=(np.arange(1, 7) / 6, (np.arange(1, 7) - 5) / 6), T=1.0)  # lattice: simultaneous events a few ulps apart
def test_replay_agrees_with_dense_sampling(config: tuple[np.ndarray, np.ndarray], T: float) -> None:
    """Every sup in time equals the maximum over the event times and dense samples, every
    monotonicity verdict matches the sampled series, and the replay ends where the engine does."""
    x0, y0 = config
    N = x0.size
    obs = replay_of(x0, y0, T)
    run, t = brute_force(x0, y0, T)
    np.testing.assert_array_equal(obs.x_T, run.x[-1])
    np.testing.assert_array_equal(obs.y_T, run.y[-1])
    assert obs.n_events == np.count_nonzero(simulate(x0, y0, [T]).event_t > 0)
    assert obs.max_event_mismatch <= ROUND_OFF and obs.min_third_gap > 0

    sx, sy = sup_norm(run.x), sup_norm(run.y)
    assert obs.sup_sum_peak == pytest.approx(np.max(sx + sy) / (sx[0] + sy[0]) - 1, abs=ROUND_OFF)
    assert obs.sup_max_peak == pytest.approx(np.max(np.maximum(sx, sy)) / max(sx[0], sy[0]) - 1, abs=ROUND_OFF)
    k = np.flatnonzero(sx + sy >= (sx[0] + sy[0]) * (1 + obs.sup_sum_peak) * (1 - 1e-12))[0]
    assert t[k] <= obs.sup_sum_peak_t + 1e-12

    for species, positions in enumerate((run.x, run.y)):
        w1 = w1_to_empirical(positions)
        assert obs.w1_sup[species] == pytest.approx(np.max(w1), rel=ROUND_OFF)
        spans = positions[:, -1] - positions[:, 0]
        assert obs.lemma_5_1_current[species] == pytest.approx(np.max(2 * N * w1 / spans), rel=ROUND_OFF)

    reference = right_end_derivatives(x0, y0, T)
    np.testing.assert_allclose(obs.functional_violation[: len(M_VALUES)], reference, rtol=0, atol=1e-12)
    for g, m in enumerate(M_VALUES):
        series = [lm_norm_power(run.x, m), lm_norm_power(run.y, m)]
        series.append(series[0] + series[1])
        for col in range(3):
            if relative_rise(series[col]) > 1e-9:  # a sampled rise needs a positive left derivative somewhere
                assert obs.functional_violation[g, col] > 0, (m, col)
    assert np.all(obs.functional_violation[:, 2] <= ROUND_OFF)  # Prop. 5.2 and 5.3

    E = discrete_energy(run.x, run.y)
    assert obs.energy0 == pytest.approx(E[0], rel=1e-13, abs=1e-16)
    assert obs.energy_T == pytest.approx(E[-1], rel=1e-13, abs=1e-16)
    assert obs.energy_residual <= 1e-14 * (1 + obs.energy0)


@given(distinct_configuration(max_N=10), st.floats(0.5, 4.0))
@settings(max_examples=20, deadline=None)
def test_lemma_5_2_constant_is_the_largest_metric_derivative(config: tuple[np.ndarray, np.ndarray], T: float) -> None:
    """W1(rho~(t), rho~(s)) <= L |t - s| for samples across the run (exact W1 by compare.metrics),
    with equality for s, t inside the interval where the metric derivative is largest."""
    x0, y0 = config
    N = x0.size
    obs = replay_of(x0, y0, T, certificate=False)
    nodes = np.unique(np.concatenate([[0.0, T], simulate(x0, y0, [T]).event_t]))
    nodes = nodes[np.concatenate([[True], np.diff(nodes) > 1e-9])]
    t = np.unique(np.concatenate([nodes, 0.5 * (nodes[1:] + nodes[:-1]), np.linspace(0, T, 9)]))
    run = simulate(x0, y0, t)
    for species, positions in enumerate((run.x, run.y)):
        rec = {tk: Histogram(row, np.full(N - 1, 1 / (N - 1))) for tk, row in zip(t, positions)}
        L = obs.lipschitz_reconstruction[species]
        assert L <= (2 * N - 1) / N and obs.lipschitz_empirical[species] <= (2 * N - 1) / N
        pairs = [(a, b) for a, b in itertools.pairwise(t) if b - a > 1e-9] + [(0.0, T)]
        ratios = [wasserstein(rec[a], rec[b]) / (b - a) for a, b in pairs]
        assert max(ratios) <= L * (1 + 1e-6) + 1e-15
        inside = [wasserstein(rec[a], rec[0.5 * (a + b)]) / (0.5 * (b - a)) for a, b in itertools.pairwise(nodes)]
        assert max(inside) == pytest.approx(L, rel=1e-6, abs=1e-15)


def test_separated_species_closed_forms() -> None:
    """x_i = i/N - 3, y_j = j/N + 3 (no contact before T = 1): every cell widens at 2/N, so
    sup rho~(t) = 1/((N - 1)(1/N + 2t/N)), W1 = sum_k w_k (1/N + 2t/N) peaks at T, the energy falls
    at the rate 2 (4N^3 - N)/(3 N^3), and both Lemma 5.2 constants are exactly 1 (the mean speed)."""
    N, T = 9, 1.0
    x0, y0 = np.arange(1, N + 1) / N - 3, np.arange(1, N + 1) / N + 3
    obs = replay_of(x0, y0, T)
    assert obs.n_events == 0
    assert obs.sup_sum_peak == 0.0 and obs.sup_max_peak == 0.0 and obs.sup_max_peak_t == 0.0
    # all 2 (N - 1) cells have one width at every t: a single tail sum of N delta = 2 each
    assert np.all(obs.sup_max_violation == -2) and obs.all_convex_margin == 4 * (N - 1)
    np.testing.assert_allclose(obs.functional_violation, -1.0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(obs.w1_sup, w1_to_empirical(x0) * (1 + 2 * T), rtol=1e-14)
    np.testing.assert_array_equal(obs.w1_sup_t, [T, T])
    np.testing.assert_allclose(obs.lipschitz_reconstruction, 1.0, rtol=1e-15)
    np.testing.assert_allclose(obs.lipschitz_empirical, 1.0, rtol=1e-15)
    rate = 2 * (4 * N**3 - N) / (3 * N**3)
    assert obs.energy0 - obs.energy_T == pytest.approx(rate * T, rel=1e-14)
    assert np.isnan(obs.t_final)


def test_t_final_is_the_last_event_when_the_final_state_is_reached() -> None:
    """x = (0, 1, 2), y = (3, 4, 5): crossings and sticks until x_i = y_i, all at rest."""
    x0, y0 = np.array([0.0, 1.0, 2.0]), np.array([3.0, 4.0, 5.0])
    final = simulate(x0, y0, [0.0], run_to_final=True)
    assert final.n_cross > 0
    obs = replay_of(x0, y0, final.t_last_event + 1.0)
    assert obs.n_events == final.n_events and obs.t_final == final.t_last_event
    np.testing.assert_allclose(obs.x_T, obs.y_T, rtol=0, atol=1e-15)
    assert np.isnan(replay_of(x0, y0, 0.5 * final.t_last_event).t_final)


def test_stationary_pairs_give_no_events() -> None:
    x0 = np.array([0.0, 0.3, 1.0])
    obs = replay_of(x0, x0.copy(), 2.0)
    assert obs.n_events == 0 and obs.t_final == 0.0
    assert obs.energy0 == 0.0 and obs.energy_residual == 0.0
    assert obs.sup_sum_peak == 0.0


def test_lattice_with_simultaneous_events() -> None:
    """x_i = i/N, y_j = 1/2 + j/N: many events share one time; the replay follows the engine exactly."""
    N = 24
    x0 = np.arange(1, N + 1) / N
    final = simulate(x0, x0 + 0.5, [0.0], run_to_final=True)
    assert np.unique(final.event_t).size < final.n_events
    obs = replay_of(x0, x0 + 0.5, final.t_last_event)
    assert obs.n_events == final.n_events and obs.t_final == final.t_last_event
    assert obs.all_convex_margin >= 0 and np.all(obs.functional_violation[:, 2] <= ROUND_OFF)


def test_chunked_feed_equals_one_feed() -> None:
    rng = np.random.default_rng(3)
    x0, y0 = np.sort(rng.normal(size=30)), np.sort(rng.normal(0.4, 1.2, size=30))
    T = 3.0
    run = simulate(x0, y0, [0.0, T])
    whole = ContinuousTimeReplay(run.x[0], run.y[0], run.vx[0], run.vy[0], T, certificate=True)
    whole.feed(run.event_t, run.event_kind, run.event_i, run.event_j)
    parts = ContinuousTimeReplay(run.x[0], run.y[0], run.vx[0], run.vy[0], T, certificate=True)
    for cut in np.array_split(np.arange(run.n_events), 7):
        parts.feed(run.event_t[cut], run.event_kind[cut], run.event_i[cut], run.event_j[cut])
    a, b = whole.result(), parts.result()
    for name, value in vars(a).items():
        np.testing.assert_array_equal(getattr(b, name), value, err_msg=name)


def test_events_after_T_are_ignored() -> None:
    rng = np.random.default_rng(4)
    x0, y0 = np.sort(rng.normal(size=20)), np.sort(rng.normal(size=20))
    long = simulate(x0, y0, [0.0], run_to_final=True)
    replay = ContinuousTimeReplay(long.x[0], long.y[0], long.vx[0], long.vy[0], 0.5)
    replay.feed(long.event_t, long.event_kind, long.event_i, long.event_j)
    obs = replay.result()
    np.testing.assert_array_equal(obs.x_T, simulate(x0, y0, [0.5]).x[0])
    assert obs.n_events == np.count_nonzero(long.event_t <= 0.5)


def test_initial_same_species_cluster_gives_nan_peaks() -> None:
    """The reconstruction is infinite at t = 0: the peaks relative to t = 0 are undefined."""
    obs = replay_of(np.array([0.0, 0.0, 1.0]), np.array([-1.0, 0.5, 2.0]), 1.0)
    assert np.isnan(obs.sup_sum_peak) and np.isnan(obs.sup_max_peak)
    assert np.all(np.isfinite(obs.functional_violation))


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: ContinuousTimeReplay([0.0], [1.0], [0.0], [0.0], 1.0), "N >= 2"),
        (lambda: ContinuousTimeReplay([1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.5, 0.5], 1.0), "sorted"),
        (lambda: ContinuousTimeReplay([0.0, 1.0], [2.0, 3.0], [0.3, 0.5], [0.5, 0.5], 1.0), "rank velocities"),
        (lambda: ContinuousTimeReplay([0.0, 1.0], [2.0, 3.0], [0.5, 1.5], [-1.5, -0.5], -1.0), "T must be"),
        (lambda: ContinuousTimeReplay([0.0, 1.0], [2.0, 3.0], [0.5, 1.5], [-1.5, -0.5], 1.0, functionals=(1.0,)), "m = 1"),
        (lambda: ContinuousTimeReplay([0.0, 1.0], [2.0, 3.0], [0.5, 1.5], [-1.5, -0.5], 1.0, functionals=("r log r",)), "r log(1+r)"),
        (lambda: ContinuousTimeReplay([0.0, 1.0], [2.0, 3.0], [0.5, 1.5], [-1.5, -0.5], 1.0).feed([0.1], [1], [1], [2]), "do not fit"),
        (lambda: ContinuousTimeReplay([0.0, 1.0], [2.0, 3.0], [0.5, 1.5], [-1.5, -0.5], 1.0).feed([0.1], [3], [1], [1]), "crossings (0)"),
        (
            lambda: ContinuousTimeReplay([0.0, 1.0], [2.0, 3.0], [0.5, 1.5], [-1.5, -0.5], 1.0).feed([0.2, 0.1], [0, 0], [2, 2], [1, 1]),
            "not decrease",
        ),
    ],
)
def test_bad_input_is_a_one_line_error(call, fragment: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ParticleInputError) as info:
        call()
    assert fragment in str(info.value) and "\n" not in str(info.value)
