"""The general-mass engine: pair rule, same-species collisions, exact identities, references."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers.errors import ParticleInputError
from solvers.particles.energy import discrete_energy, dissipation
from solvers.particles.engine import ParticleRun, simulate
from solvers.particles.events import EngineResult, EventChunk, EventLog
from solvers.particles.general import run_sorted
from tests.solvers.particles.reference_general import implicit_euler
from tests.solvers.particles.test_theorems import CLUSTERS, grid_configuration, random_configuration, weighted_distance


@st.composite
def weighted_configuration(draw: st.DrawFn, max_N: int = 8, grid: bool = True) -> tuple[np.ndarray, ...]:
    """N_x != N_y in general, random positive masses normalised to unit totals (or not), positions on
    a coarse grid (clusters at t = 0 and simultaneous meetings are frequent) or generic."""
    Nx, Ny = draw(st.integers(1, max_N)), draw(st.integers(1, max_N))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    m, n = rng.random(Nx) + 0.1, rng.random(Ny) + 0.1
    if draw(st.booleans()):
        m, n = m / m.sum(), n / n.sum()
    if grid:
        x, y = np.sort(rng.integers(0, 9, Nx) / 4), np.sort(rng.integers(0, 9, Ny) / 4)
    else:
        x, y = np.sort(rng.normal(size=Nx)), np.sort(rng.normal(draw(st.floats(-1, 1)), 1.0, size=Ny))
    return x, y, m, n


def event_and_mid_times(run: ParticleRun, t_end: float) -> np.ndarray:
    """Event times up to t_end (groups closer than 1e-9 represented by their last member), the
    midpoints between them, 0 and t_end: no event lies strictly between two consecutive times."""
    t_ev = np.unique(run.event_t[run.event_t < t_end])
    t_ev = t_ev[np.diff(t_ev, append=np.inf) > 1e-9 * (1 + t_ev)]
    nodes = np.unique(np.concatenate([[0.0], t_ev, [t_end]]))
    return np.sort(np.concatenate([nodes, 0.5 * (nodes[1:] + nodes[:-1])]))


def sampled(x: np.ndarray, y: np.ndarray, m: np.ndarray, n: np.ndarray, t_end: float) -> ParticleRun:
    probe = simulate(x, y, [t_end], m=m, n=n)
    return simulate(x, y, event_and_mid_times(probe, t_end), m=m, n=n)


# ---------------------------------------------------------------------------------------------
# Equal masses: the general engine reproduces the fast path
# ---------------------------------------------------------------------------------------------


@given(st.one_of(grid_configuration(max_N=8, cells=8), random_configuration(max_N=30)))
@settings(max_examples=40, deadline=None)
def test_equal_masses_reproduce_the_fast_path(config: tuple[np.ndarray, np.ndarray]) -> None:
    """Same positions (to round-off), velocities between events, events (pairs and kinds), final time."""
    x0, y0 = config
    probe = simulate(x0, y0, [0.0], run_to_final=True)
    t = event_and_mid_times(probe, probe.t_last_event + 1.0)[1::2]
    fast = simulate(x0, y0, t, run_to_final=True)
    general = simulate(x0, y0, t, run_to_final=True, fast_path=False)
    scale = 1 + np.abs(np.concatenate([x0, y0])).max()
    np.testing.assert_allclose(general.x, fast.x, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(general.y, fast.y, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(general.vx, fast.vx, rtol=0, atol=1e-12)
    np.testing.assert_allclose(general.vy, fast.vy, rtol=0, atol=1e-12)
    assert general.n_merge == 0 and (general.n_cross, general.n_stick) == (fast.n_cross, fast.n_stick)
    key = lambda r: sorted(zip(r.event_i.tolist(), r.event_j.tolist(), r.event_kind.tolist()))  # noqa: E731
    assert key(general) == key(fast)
    assert general.t_last_event == pytest.approx(fast.t_last_event, abs=1e-12 * scale)


@pytest.mark.parametrize("name", CLUSTERS)
def test_equal_mass_initial_clusters_by_the_cluster_rule(name: str) -> None:
    """Theorem 4.3 / Lemma 4.1 velocities come out of the general cluster rule at t = 0."""
    x0, y0, vx, vy, _ = (np.array(v, float) for v in CLUSTERS[name])
    run = simulate(x0, y0, [0.0], fast_path=False)
    np.testing.assert_allclose(run.vx[0] * x0.size, vx, atol=1e-13)
    np.testing.assert_allclose(run.vy[0] * x0.size, vy, atol=1e-13)


# ---------------------------------------------------------------------------------------------
# Remark 4.1 and same-species collisions, on constructed configurations
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(30))
def test_remark_4_1_pair_rule(seed: int) -> None:
    """x_i at 0 meets y_j at gap 0.01, everything else at least 5 away (unit total masses):
    they cross iff m_i > 4 N_{j-1} + 3 n_j - 4 M_{i-1}; otherwise they move on together with the
    mass-weighted mean of their free velocities (a mean of the velocities they would have if they
    did not interact with each other)."""
    rng = np.random.default_rng(seed)
    approach = 0.0
    while approach <= 0.05:  # draw until x_i and y_j approach each other
        Nx, Ny = rng.integers(2, 6, 2)
        m, n = rng.random(Nx) + 0.2, rng.random(Ny) + 0.2
        m, n = m / m.sum(), n / n.sum()
        i, j = rng.integers(1, Nx + 1), rng.integers(1, Ny + 1)
        M_before, N_before = m[: i - 1].sum(), n[: j - 1].sum()
        u = 2 * M_before + m[i - 1] - 2 * N_before - n[j - 1]  # free velocity of x_i; that of y_j is -u
        approach = 2 * u + m[i - 1] + n[j - 1]
    kx, ky = np.arange(1, Nx + 1), np.arange(1, Ny + 1)
    x0 = np.where(kx < i, -10.0 * (i - kx) - 5.0, 10.0 * (kx - i) + 5.0)
    y0 = np.where(ky < j, -10.0 * (j - ky) - 5.0, 10.0 * (ky - j) + 5.0)
    x0[i - 1], y0[j - 1] = 0.0, 0.01
    t_meet = 0.01 / approach
    run = simulate(x0, y0, [0.0, t_meet + 1e-3], m=m, n=n)
    assert run.event_t[0] == pytest.approx(t_meet, rel=1e-12)
    assert (run.event_i[0], run.event_j[0]) == (i, j)
    crosses = m[i - 1] > 4 * N_before + 3 * n[j - 1] - 4 * M_before
    if crosses:
        assert run.event_kind[0] == 0
        assert run.vx[1, i - 1] == pytest.approx(u - n[j - 1], abs=1e-14)
        assert run.vy[1, j - 1] == pytest.approx(-u + m[i - 1], abs=1e-14)
        assert run.x[1, i - 1] > run.y[1, j - 1]
    else:
        assert run.event_kind[0] == 1
        mean = (m[i - 1] * u - n[j - 1] * u) / (m[i - 1] + n[j - 1])
        assert run.vx[1, i - 1] == run.vy[1, j - 1] == pytest.approx(mean, abs=1e-14)
        assert run.x[1, i - 1] == run.y[1, j - 1]
    others = np.arange(Nx) != i - 1
    np.testing.assert_array_equal(run.vx[1, others], run.vx[0, others])


def test_same_species_collision_three_particles() -> None:
    """m = (1/2, 1/2), n = (1,), x = (-1, 1.5), y = (0,): m_1 + m_2 < 2 n_1. Velocities 1/2, -1/2 and 0;
    x_1 meets y_1 at t = 2 and sticks (m_1 = 1/2 < 3 n_1); the pair moves with (1/2 (-1/2) + 1 (1/2))/(3/2)
    = 1/6 and meets x_2 (at 0.5, velocity -1/2) at t = 2.75 at 0.125: x_1 = x_2 there, the same-species
    collision. The whole cluster then rests (free velocities -1/2, 1/2, 0 are balanced by the pull of y_1)."""
    t = [0.0, 2.0, 2.5, 2.75, 3.0, 100.0]
    run = simulate([-1.0, 1.5], [0.0], t, m=[0.5, 0.5], n=[1.0], run_to_final=True)
    np.testing.assert_allclose(run.event_t, [2.0, 2.75], rtol=1e-15)
    np.testing.assert_array_equal(run.event_kind, [1, 1])
    np.testing.assert_allclose(run.vx[0], [0.5, -0.5], atol=1e-15)
    np.testing.assert_allclose(run.vx[2], [1 / 6, -0.5], atol=1e-15)
    np.testing.assert_allclose(run.x[2], [1 / 12, 0.25], atol=1e-15)
    np.testing.assert_allclose(run.x[3:], 0.125, atol=1e-15)
    np.testing.assert_allclose(run.y[3:, 0], 0.125, atol=1e-15)
    np.testing.assert_allclose(run.vx[3:], 0.0, atol=1e-15)


def test_same_species_collision_and_what_follows() -> None:
    """m = (1/2, 1/2), n = (4/5, 1/5), x = (-1, 0), y = (-1/4, 5/4): x_1 and y_1 stick (t = 15/14),
    the pair catches x_2 (an x-x collision with y_1 between them, 1 < 2 n_1), and the three then catch
    y_2. Each block moves with the mass-weighted mean of its members' free velocities; the trajectory
    agrees with the implicit-Euler reference."""
    m, n = np.array([0.5, 0.5]), np.array([0.8, 0.2])
    x0, y0 = np.array([-1.0, 0.0]), np.array([-0.25, 1.25])
    run = simulate(x0, y0, [0.0], m=m, n=n, run_to_final=True)
    assert run.n_events == run.n_stick == 3
    assert run.event_t[0] == pytest.approx(15 / 14, rel=1e-14)
    t = np.array([0.5, 2.0, 4.0, 6.0, 8.0])
    mid = simulate(x0, y0, t, m=m, n=n)
    assert mid.x[2, 0] == mid.x[2, 1] == mid.y[2, 0] != mid.y[2, 1]  # x_1 = x_2 = y_1 at t = 4
    assert mid.x[4, 0] == mid.y[4, 1]  # everything together at t = 8
    w = np.concatenate([m, n])
    for k in range(t.size):
        v = np.concatenate([mid.vx[k], mid.vy[k]])
        z = np.concatenate([mid.x[k], mid.y[k]])
        for point in np.unique(z):
            block = z == point
            momentum = np.sum(w[block] * v[block])
            # total force on a block = sum of w_p times (velocity from the particles outside the block)
            outside = ~block
            force = sum(
                w[p] * (np.sum(w[outside] * np.sign(z[p] - z[outside]) * np.where(np.arange(4)[outside] // 2 == p // 2, 1, -1)))
                for p in np.flatnonzero(block)
            )
            assert momentum == pytest.approx(force, abs=1e-14)
    xr, yr = implicit_euler(x0, y0, m, n, t, 2.5e-3)
    assert np.abs(xr - mid.x).max() < 2e-2 and np.abs(yr - mid.y).max() < 2e-2


# ---------------------------------------------------------------------------------------------
# Exact identities on random configurations
# ---------------------------------------------------------------------------------------------


@given(st.one_of(weighted_configuration(max_N=10), weighted_configuration(max_N=25, grid=False)))
@settings(max_examples=40, deadline=None)
def test_energy_dissipation_identity(config: tuple[np.ndarray, ...]) -> None:
    """E is linear between events with slope -(sum m x'^2 + sum n y'^2): E(t_{k+1}) - E(t_k) =
    -D(t_k) (t_{k+1} - t_k) exactly (to round-off) on every interval, and E never increases."""
    x0, y0, m, n = config
    run = sampled(x0, y0, m, n, 4.0)
    E = discrete_energy(run.x, run.y, run.m, run.n)
    D = dissipation(run.vx, run.vy, run.m, run.n)
    scale = (np.sum(m) + np.sum(n)) ** 2 * (1 + np.ptp(np.concatenate([x0, y0])))
    np.testing.assert_allclose(np.diff(E), -D[:-1] * np.diff(run.t), rtol=0, atol=1e-12 * scale)
    assert np.all(np.diff(E) <= 1e-12 * scale)
    assert run.n_events == run.n_cross + run.n_stick + run.n_merge == run.event_t.size


@given(weighted_configuration(max_N=8), st.floats(-1.0, 1.0), st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_theorem_3_1_contraction(config: tuple[np.ndarray, ...], shift: float, seed: int) -> None:
    """Two solutions with the same masses never move apart in the weighted norm (through clusters,
    merges and same-species collisions)."""
    x1, y1, m, n = config
    rng = np.random.default_rng(seed)
    x2 = np.sort(x1 + shift + 0.3 * rng.normal(size=x1.size))
    y2 = np.sort(y1 + 0.3 * rng.normal(size=y1.size))
    probe_a, probe_b = simulate(x1, y1, [5.0], m=m, n=n), simulate(x2, y2, [5.0], m=m, n=n)
    t = np.union1d(event_and_mid_times(probe_a, 5.0), event_and_mid_times(probe_b, 5.0))
    a, b = simulate(x1, y1, t, m=m, n=n), simulate(x2, y2, t, m=m, n=n)
    d = weighted_distance(a, b)
    assert np.all(np.diff(d) <= 1e-12 * (1 + d[:-1]))


@given(weighted_configuration(max_N=3))
@settings(max_examples=8, deadline=None)
def test_agrees_with_implicit_euler_reference(config: tuple[np.ndarray, ...]) -> None:
    """The minimising-movement scheme with tau = 1/200 (error O(tau)) stays within 4 tau (1 + number
    of events) of the exact solution, and halving tau brings it closer overall."""
    x0, y0, m, n = config
    t = np.linspace(0.0, 1.0, 5)
    run = simulate(x0, y0, t, m=m, n=n)
    bound = 4 * 5e-3 * (1 + run.n_events) * max(1.0, float(np.sum(m) + np.sum(n)) / 2)
    xr, yr = implicit_euler(x0, y0, run.m, run.n, t, 5e-3)
    assert max(np.abs(xr - run.x).max(), np.abs(yr - run.y).max()) <= bound


# ---------------------------------------------------------------------------------------------
# Interface
# ---------------------------------------------------------------------------------------------


def test_slow_approach_of_nearly_balanced_blocks_is_real() -> None:
    """Blocks {x_1, y_1} at 0 and {x_2, y_2} at 1 with m = (1/2 + d, 1/2 - d), n = (1/2, 1/2): a block's
    velocity is (M_C - N_C)(Delta M - Delta N)/W, here d^2/(1 + d) and -d^2/(1 - d), so they meet at
    t = (1 - d^2)/(2 d^2) at (1 - d)/2 and collapse at rest. With d = 2^-21 the approach speed ~5e-13
    is far below any velocity round-off allowance scaled by the masses (the engine's was 2e-12), yet
    real, and computed from partial mass sums it is accurate to round-off relative to itself."""
    d = 2.0**-21
    run = simulate([0.0, 1.0], [0.0, 1.0], [2.0**40, 2.0**42], m=[0.5 + d, 0.5 - d], n=[0.5, 0.5], run_to_final=True)
    v = np.array([d * d / (1 + d), -d * d / (1 - d)])
    np.testing.assert_allclose(run.vx[0], v, rtol=1e-12)
    np.testing.assert_allclose(run.x[0], [0.0, 1.0] + v * 2.0**40, rtol=1e-12)
    assert run.n_events == 1
    np.testing.assert_allclose(run.t_last_event, (1 - d * d) / (2 * d * d), rtol=1e-12)
    np.testing.assert_allclose(np.concatenate([run.x[1], run.y[1]]), np.full(4, (1 - d) / 2), rtol=1e-12)
    np.testing.assert_array_equal(np.concatenate([run.vx[1], run.vy[1]]), np.zeros(4))


def test_round_off_of_an_exact_balance_is_rest() -> None:
    """{x_1, x_2, y_1} with masses 0.1 + 0.2 vs 0.3 and {x_3, y_2} with 0.7 vs 0.7 are balanced blocks,
    steady states; in floats 0.1 + 0.2 != 0.3, and the 5e-17 imbalance must not make them meet at t ~ 1e16."""
    run = simulate([-1.0, -1.0, 1.0], [-1.0, 1.0], [0.0, 1e20], m=[0.1, 0.2, 0.7], n=[0.3, 0.7], run_to_final=True)
    assert run.n_events == 0
    np.testing.assert_array_equal(run.x[1], [-1.0, -1.0, 1.0])
    np.testing.assert_array_equal(np.concatenate([run.vx[1], run.vy[1]]), np.zeros(5))


@pytest.mark.parametrize("seed", [2, 3])
def test_random_masses_collapse_into_one_block_at_rest(seed: int) -> None:
    """Generic masses with unit totals: E = int (F_x - F_y)^2 vanishes only if every block balances
    its species, which generic masses allow only for a single block, and the gradient flow of the
    convex piecewise-linear E reaches its minimum in finite time. The last approaches are products of
    two partial-sum imbalances ~ 1/N^2 (speeds ~ 1e-12 for N = 500, t_last_event ~ 1e9-1e12); with
    seed 2 they used to be dropped as round-off, leaving blocks that passed through each other."""
    rng = np.random.default_rng(seed)
    N = 500
    x, y = np.sort(rng.random(N)), np.sort(rng.random(N))
    m, n = rng.random(N), rng.random(N)
    m, n = m / m.sum(), n / n.sum()
    run = simulate(x, y, [1e20], m=m, n=n, run_to_final=True, record_events=False)
    final = np.concatenate([run.x[0], run.y[0]])
    assert np.unique(final).size == 1 and min(x[0], y[0]) <= final[0] <= max(x[-1], y[-1])
    np.testing.assert_array_equal(np.concatenate([run.vx[0], run.vy[0]]), np.zeros(2 * N))
    assert 1e8 < run.t_last_event < 1e13


def run_in_pieces(config: tuple[np.ndarray, ...], t_out: np.ndarray, budget: int, capacity: int) -> tuple[EngineResult, EventChunk]:
    """``run_sorted`` to the final state with ``budget`` events per kernel call, streaming chunks of
    ``capacity`` rows; checks that no call exceeds either and that progress only moves forward."""
    chunks: list[EventChunk] = []
    calls: list[tuple[int, float]] = []

    def sink(chunk: EventChunk) -> None:
        assert 0 < chunk.t.size <= capacity
        chunks.append(EventChunk(*(a.copy() for a in chunk)))

    result = run_sorted(*config, t_out, EventLog("stream", sink, capacity), True, lambda done, t: calls.append((done, t)), budget)
    done = np.array([c[0] for c in calls])
    assert np.all(np.diff(done, prepend=0) <= budget) and np.all(np.diff([c[1] for c in calls]) >= 0)
    assert done[-1] == result.n_cross + result.n_stick + result.n_merge
    return result, EventChunk(*(np.concatenate(parts) for parts in zip(*chunks, strict=True)))


@pytest.mark.parametrize(("budget", "capacity"), [(1, 1), (1, 5), (3, 2), (7, 1000)])
def test_budgets_and_chunks_do_not_change_the_run(budget: int, capacity: int) -> None:
    """The resumable kernel keeps its whole state between calls: a run in pieces of a few events and
    chunks of a few rows is bit-identical to one call (samples, events, counts, last time), on a grid
    configuration (clusters at t = 0, simultaneous meetings, sticks and same-species meetings) and on
    a generic one with random masses, with output times before, between and after the events."""
    rng = np.random.default_rng(7)
    grid = (np.sort(rng.integers(0, 9, 12) / 4), np.sort(rng.integers(0, 9, 9) / 4), rng.integers(1, 4, 12) / 8, rng.integers(1, 4, 9) / 8)
    generic = (np.sort(rng.random(40)), np.sort(rng.random(30)), rng.random(40) + 0.1, rng.random(30) + 0.1)
    for config in (grid, generic):
        t_out = np.array([0.0, 0.05, 0.05, 0.3, 1.0, 3.0, 1e9])
        log = EventLog("keep", capacity=10**6)
        whole = run_sorted(*config, t_out, log, True, None, 10**9)
        pieces, events = run_in_pieces(config, t_out, budget, capacity)
        assert whole.n_stick > 0 and log.count == events.t.size > 2 * min(budget, capacity)
        for a, b in zip(whole, pieces, strict=True):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(log.events(), events, strict=True):
            np.testing.assert_array_equal(a, b)


NRT_PROBE = """
import numpy as np
from numba.core.runtime import rtsys
from solvers.particles.events import EventLog
from solvers.particles.general import run_sorted

rng = np.random.default_rng(0)
x = np.arange(1, 401) / 400
y, m, n = x + 0.5, rng.random(400) + 0.5, rng.random(400) + 0.5
outstanding = []

def progress(done, t):
    stats = rtsys.get_allocation_stats()
    outstanding.append(stats.alloc - stats.free)

result = run_sorted(x, y, m, n, np.array([0.0, 1.0]), EventLog("stream", lambda chunk: None, 256), True, progress, 2000)
print(result.n_cross + result.n_stick + result.n_merge, len(outstanding), len(set(outstanding)))
"""


def test_memory_does_not_grow_with_the_number_of_events() -> None:
    """A streamed run to the final state (x_i = i/400, y_j = 1/2 + j/400, random masses, ~60,000
    events in calls of 2000): the memory the compiled code holds (numba's allocation counters, enabled by
    NUMBA_NRT_STATS) is the same after every kernel call, i.e. O(N + chunk) whatever the events."""
    env = {**os.environ, "NUMBA_NRT_STATS": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    out = subprocess.run([sys.executable, "-c", NRT_PROBE], env=env, capture_output=True, text=True, check=True)
    events, calls, distinct = (int(v) for v in out.stdout.split())
    assert events > 50_000 and calls >= events // 2000 and distinct == 1


def test_unequal_numbers_with_default_masses() -> None:
    """N_x = 3, N_y = 2 with masses 1/3 and 1/2: separated species move as in the pre-contact formula
    x_i' = (2 M_{i-1} + m_i - 1) + 1, y_j' = (2 N_{j-1} + n_j - 1) - 1."""
    run = simulate([0.0, 0.1, 0.2], [5.0, 5.1], [0.0, 0.1])
    assert (run.N_x, run.N_y) == (3, 2)
    np.testing.assert_allclose(run.vx[0], [1 / 3, 1.0, 5 / 3], atol=1e-15)
    np.testing.assert_allclose(run.vy[0], [-1.5, -0.5], atol=1e-15)
    np.testing.assert_array_equal(run.m, np.full(3, 1 / 3))


def test_masses_follow_their_particles_when_sorting() -> None:
    a = simulate([1.0, 0.0], [3.0, 2.0], [0.0, 0.4], m=[0.7, 0.3], n=[0.2, 0.8])
    b = simulate([0.0, 1.0], [2.0, 3.0], [0.0, 0.4], m=[0.3, 0.7], n=[0.8, 0.2])
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.m, [0.3, 0.7])
    np.testing.assert_array_equal(a.n, [0.8, 0.2])


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"m": [0.5, -0.5]}, "m[1] = -0.5 is not a positive finite mass"),
        ({"n": [np.nan, 0.5]}, "n[0] = nan is not a positive finite mass"),
        ({"m": [1.0]}, "m has shape (1,) for 2 particles"),
    ],
)
def test_mass_validation(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ParticleInputError) as info:
        simulate([0.0, 1.0], [1.0, 2.0], [0.0], **kwargs)
    assert fragment in str(info.value) and "\n" not in str(info.value)
