"""The paper's statements about system (6) with equal masses, checked by computing them."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers.particles.engine import ParticleRun, simulate
from tests.solvers.particles.reference import reference_solution


@st.composite
def grid_configuration(draw: st.DrawFn, max_N: int = 8, cells: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Sorted positions on the coarse grid {0, 1/4, ..., cells/4}: clusters and ties are frequent."""
    N = draw(st.integers(1, max_N))
    x = sorted(draw(st.lists(st.integers(0, cells), min_size=N, max_size=N)))
    y = sorted(draw(st.lists(st.integers(0, cells), min_size=N, max_size=N)))
    return np.array(x) / 4, np.array(y) / 4


@st.composite
def random_configuration(draw: st.DrawFn, max_N: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Sorted generic positions (distinct with probability one)."""
    N = draw(st.integers(1, max_N))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    shift = draw(st.floats(-2.0, 2.0))
    return np.sort(rng.normal(size=N)), np.sort(rng.normal(shift, draw(st.floats(0.2, 2.0)), size=N))


def event_and_mid_times(x0: np.ndarray, y0: np.ndarray) -> np.ndarray:
    """All event times of the run to the final state, the midpoints between them and a later time.

    Events that are simultaneous in exact arithmetic may come out a few ulps apart; such a group is
    represented by its last time, so that every midpoint lies inside a genuine interval.
    """
    t_events = np.unique(simulate(x0, y0, [0.0], run_to_final=True).event_t)
    last_of_group = np.diff(t_events, append=np.inf) > 1e-9 * (1 + t_events)
    t_events = t_events[last_of_group]
    nodes = np.concatenate([[0.0], t_events, [t_events[-1] + 1.0 if t_events.size else 1.0]])
    return np.sort(np.concatenate([nodes, 0.5 * (nodes[1:] + nodes[:-1])]))


def weighted_distance(a: ParticleRun, b: ParticleRun) -> np.ndarray:
    """||Z1(t) - Z2(t)|| in the Hilbert space with weights m_i, n_j (Theorem 3.1)."""
    return np.sqrt(np.sum(a.m * (a.x - b.x) ** 2, axis=1) + np.sum(a.n * (a.y - b.y) ** 2, axis=1))


def crossing_setup(N: int, i: int, j: int, gap: float) -> tuple[np.ndarray, np.ndarray]:
    """x_i at 0 and y_j at ``gap`` adjacent, every other particle at least 50 away."""
    k = np.arange(1, N + 1)
    x = np.where(k < i, -100.0 * (i - k), 100.0 * (k - i))
    y = np.where(k < j, -100.0 * (j - k) - 50.0, gap + 100.0 * (k - j) + 50.0)
    x[i - 1], y[j - 1] = 0.0, gap
    return x, y


@pytest.mark.parametrize(("i", "j"), [(i, j) for i in range(1, 5) for j in range(1, 5)])
def test_theorem_4_1_crossing_rule(i: int, j: int) -> None:
    """x_i meeting y_j: i > j cross, i == j stick with velocity 0 forever, i < j never meet."""
    N, gap = 4, 0.1
    x0, y0 = crossing_setup(N, i, j, gap)
    t_meet = gap * N / (4 * (i - j) + 2)
    t = np.array([0.0, 2 * abs(t_meet), 5.0, 20.0]) if i >= j else np.array([0.0, 0.5])
    run = simulate(x0, y0, t)
    if i < j:
        assert run.n_events == 0
        gap_growth = (4 * (j - i) - 2) / N
        assert run.y[1, j - 1] - run.x[1, i - 1] == pytest.approx(gap + 0.5 * gap_growth, rel=1e-14)
        final = simulate(x0, y0, [0.0], run_to_final=True)
        assert (i, j) not in set(zip(final.event_i.tolist(), final.event_j.tolist()))
        return
    assert (run.event_i[0], run.event_j[0]) == (i, j)
    assert run.event_t[0] == pytest.approx(t_meet, rel=1e-14)
    if i > j:
        assert run.event_kind[0] == 0
        assert run.x[1, i - 1] > run.y[1, j - 1]
        assert run.vx[1, i - 1] == pytest.approx(run.vx[0, i - 1] - 2 / N, abs=1e-15)
        assert run.vy[1, j - 1] == pytest.approx(run.vy[0, j - 1] + 2 / N, abs=1e-15)
        others = np.ones(N, bool)
        others[i - 1] = False
        np.testing.assert_array_equal(run.vx[1, others], run.vx[0, others])
    else:
        assert run.event_kind[0] == 1
        assert np.all(run.x[1:, i - 1] == run.x[1, i - 1])
        assert np.all(run.x[1:, i - 1] == run.y[1:, j - 1])
        assert np.all(run.vx[1:, i - 1] == 0) and np.all(run.vy[1:, j - 1] == 0)


@given(random_configuration(max_N=25))
@settings(max_examples=25, deadline=None)
def test_theorem_4_2_same_species_never_meet(config: tuple[np.ndarray, np.ndarray]) -> None:
    """Distinct x stay strictly ordered (and y), at every event time and in between."""
    x0, y0 = config
    run = simulate(x0, y0, event_and_mid_times(x0, y0))
    assert np.all(np.diff(run.x, axis=1) > 0)
    assert np.all(np.diff(run.y, axis=1) > 0)


# (x0, y0, expected N * velocities right after t = 0, indices k with x_k = y_k stuck)
CLUSTERS = {
    "x only, all y right": ([0, 0, 0], [10, 11, 12], [1, 3, 5], [-5, -3, -1], []),
    "x only, one y left": ([0, 0, 0], [-10, 10, 11], [-1, 1, 3], [1, -3, -1], []),
    "y only, between x": ([-5, -4, 7], [0, 0, 0], [1, 3, -1], [-3, -1, 1], []),
    # Lemma 4.1 shape h=1 < k=2 < n=3 < m=4: x_2 leaves left, k = 3 sticks, y_4 leaves right.
    "lemma 4.1": ([-10, 0, 0, 20, 30], [-20, -15, 0, 0, 25], [-3, -1, 0, -1, -1], [1, 3, 0, 1, 1], [3]),
    # x_2..x_4 and y_3 at 0: x_2 leaves left, k = 3 sticks, x_4 leaves right.
    "x excess both sides": ([-10, 0, 0, 0], [-20, -15, 0, 20], [-3, -1, 0, 1], [1, 3, 0, -1], [3]),
    # x_3, x_4 and y_1..y_4 at 0: k = 3, 4 stick, y_1, y_2 leave left.
    "y excess left": ([-10, -5, 0, 0], [0, 0, 0, 0], [1, 3, 0, 0], [-3, -1, 0, 0], [3, 4]),
    # x_1, x_2 and y_1..y_3 at 0: k = 1, 2 stick, y_3 leaves right.
    "y excess right": ([0, 0, 5], [0, 0, 0], [0, 0, -1], [0, 0, 1], [1, 2]),
    # x_1 = x_2 = y_3 = y_4 at 0 (no common index): x leave left, y leave right.
    "no common index": ([0, 0, 10, 11], [-10, -9, 0, 0], [-3, -1, -3, -1], [1, 3, 1, 3], []),
    "single stuck pair": ([-3, 0, 3], [-2, 0, 2], [1, 0, -1], [-1, 0, 1], [2]),
    # two clusters: {x_1, x_2, y_1} at 0 and {x_3, y_2, y_3} at 5.
    "two clusters": ([0, 0, 5], [0, 5, 5], [0, 1, 0], [0, -1, 0], [1, 3]),
}


@pytest.mark.parametrize("name", CLUSTERS)
def test_theorem_4_3_initial_clusters(name: str) -> None:
    """Explicit short-time solution of clusters (Lemma 4.1 / Theorem 4.3), and stuck pairs stay forever."""
    x0, y0, vx, vy, stuck = (np.array(v, float) for v in CLUSTERS[name])
    N = x0.size
    run = simulate(x0, y0, [0.0, 1e-3, 1.0, 100.0], run_to_final=True)
    np.testing.assert_allclose(run.vx[0] * N, vx, atol=1e-13)
    np.testing.assert_allclose(run.vy[0] * N, vy, atol=1e-13)
    np.testing.assert_allclose(run.x[1], x0 + 1e-3 * vx / N, atol=1e-15)
    np.testing.assert_allclose(run.y[1], y0 + 1e-3 * vy / N, atol=1e-15)
    moving = np.ones(N, bool)
    moving[stuck.astype(int) - 1] = False
    for z in (run.x[1], run.y[1]):
        both_stuck = ~moving[1:] & ~moving[:-1]
        assert np.all(np.diff(z)[~both_stuck] > 0), "leavers detach strictly ordered"
    for k in stuck.astype(int):
        assert np.all(run.x[:, k - 1] == x0[k - 1]) and np.all(run.y[:, k - 1] == x0[k - 1])
    z0 = np.concatenate([x0, y0])
    v0 = np.concatenate([run.vx[0], run.vy[0]])
    for point in np.unique(z0):
        at = z0 == point
        order = np.argsort(np.concatenate([run.x[1], run.y[1]])[at], kind="stable")
        assert np.all(np.diff(v0[at][order]) >= 0), "velocities inside a cluster must not decrease"


@given(grid_configuration(max_N=10, cells=6), st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_clusters_agree_with_nearby_generic_data(config: tuple[np.ndarray, np.ndarray], seed: int) -> None:
    """Theorem 3.1 makes the cluster rule checkable without the paper's formulas: any generic data
    within distance eps of the clustered data stays within eps of its solution for all time."""
    x0, y0 = config
    rng = np.random.default_rng(seed)
    eps = 1e-6
    xp, yp = np.sort(x0 + eps * rng.random(x0.size)), np.sort(y0 + eps * rng.random(y0.size))
    t = np.linspace(0.0, 4.0, 41)
    exact, near = simulate(x0, y0, t), simulate(xp, yp, t)
    d = weighted_distance(exact, near)
    assert np.all(d <= d[0] * (1 + 1e-9) + 1e-12)


@given(grid_configuration(max_N=12, cells=10))
@settings(max_examples=40, deadline=None)
def test_proposition_4_1_support_never_grows(config: tuple[np.ndarray, np.ndarray]) -> None:
    x0, y0 = config
    run = simulate(x0, y0, event_and_mid_times(x0, y0))
    a0, b0 = min(x0[0], y0[0]), max(x0[-1], y0[-1])
    lo = np.minimum(run.x.min(axis=1), run.y.min(axis=1))
    hi = np.maximum(run.x.max(axis=1), run.y.max(axis=1))
    assert np.all(lo >= a0 - 1e-13 * (1 + abs(a0)))
    assert np.all(hi <= b0 + 1e-13 * (1 + abs(b0)))
    assert np.all(np.diff(lo) >= -1e-13) and np.all(np.diff(hi) <= 1e-13)


@given(st.one_of(grid_configuration(max_N=12, cells=10), random_configuration(max_N=60)))
@settings(max_examples=40, deadline=None)
def test_section_4_5_finitely_many_collisions_and_final_state(config: tuple[np.ndarray, np.ndarray]) -> None:
    """At most N(N+1) collisions, each x_i/y_j pair meets at most once, final state x_i = y_i at rest."""
    x0, y0 = config
    N = x0.size
    probe = simulate(x0, y0, [0.0], run_to_final=True)
    run = simulate(x0, y0, [0.0, probe.t_last_event, probe.t_last_event + 1.0], run_to_final=True)
    assert run.n_events <= N * (N + 1)
    pairs = set(zip(run.event_i.tolist(), run.event_j.tolist()))
    assert len(pairs) == run.n_events
    stuck_at_start = int(np.sum(np.isclose(x0, y0, rtol=0, atol=0)))
    assert run.n_stick == N - stuck_at_start
    assert np.all(run.event_i[run.event_kind == 1] == run.event_j[run.event_kind == 1])
    assert np.all(run.event_i[run.event_kind == 0] != run.event_j[run.event_kind == 0])
    scale = 1 + np.abs(np.concatenate([x0, y0])).max()
    np.testing.assert_allclose(run.x[1:], run.y[1:], rtol=0, atol=1e-12 * scale)
    np.testing.assert_array_equal(run.x[1], run.x[2])
    assert np.all(run.vx[1:] == 0) and np.all(run.vy[1:] == 0)


@given(random_configuration(max_N=30), st.floats(-1.0, 1.0), st.integers(0, 2**32 - 1))
@settings(max_examples=30, deadline=None)
def test_theorem_3_1_contraction(config: tuple[np.ndarray, np.ndarray], shift: float, seed: int) -> None:
    """Two solutions never move apart in the mass-weighted norm, also through collisions."""
    x1, y1 = config
    rng = np.random.default_rng(seed)
    x2 = np.sort(x1 + shift + 0.5 * rng.normal(size=x1.size))
    y2 = np.sort(y1 + 0.5 * rng.normal(size=y1.size))
    t = np.union1d(event_and_mid_times(x1, y1), np.linspace(0, 10, 41))
    a, b = simulate(x1, y1, t), simulate(x2, y2, t)
    assert a.n_events + b.n_events > 0 or x1.size == 1
    d = weighted_distance(a, b)
    assert np.all(np.diff(d) <= 1e-12 * (1 + d[:-1]))


@given(grid_configuration(max_N=8, cells=8))
@settings(max_examples=60, deadline=None)
def test_agrees_with_exact_fraction_reference(config: tuple[np.ndarray, np.ndarray]) -> None:
    """Positions, the set of events with their times and kinds, and the final time, against reference.py."""
    x0, y0 = config
    t = np.linspace(0.0, 3.0, 13)
    run = simulate(x0, y0, t, run_to_final=True)
    ref = reference_solution(list(x0), list(y0), list(t), run_to_final=True)
    np.testing.assert_allclose(run.x, ref.x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(run.y, ref.y, rtol=0, atol=1e-12)
    by_pair = {(i, j): (t_e, kind) for t_e, kind, i, j in ref.events}
    assert len(by_pair) == len(ref.events) == run.n_events
    for t_e, kind, i, j in zip(run.event_t, run.event_kind, run.event_i, run.event_j):
        ref_t, ref_kind = by_pair[(int(i), int(j))]
        assert kind == ref_kind
        assert abs(t_e - float(ref_t)) <= 1e-12
    assert abs(run.t_last_event - float(ref.t_last_event)) <= 1e-12


def test_reference_detects_simultaneous_collisions_like_the_engine() -> None:
    """Mirror-symmetric data: two crossings at the same exact instant t = 1/3 in both solvers."""
    x0, y0 = [0.0, 1.0, 10.0, 11.0], [2.0, 3.0, 12.0, 13.0]
    ref = reference_solution(x0, y0, [0.0], run_to_final=True)
    first = [e for e in ref.events if e[0] == ref.events[0][0]]
    assert len(first) >= 2
    run = simulate(x0, y0, [0.0], run_to_final=True)
    assert np.count_nonzero(run.event_t == run.event_t[0]) == len(first)
    assert float(Fraction(run.event_t[0]) - first[0][0]) == pytest.approx(0.0, abs=1e-15)
