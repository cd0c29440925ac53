"""Mechanics of the event-driven engine: exact free flight, event handling, output, validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers.errors import ParticleInputError
from solvers.particles.engine import ParticleRun, resolve_initial_order, simulate
from tests.solvers.particles.reference import reference_solution


@st.composite
def separated_species(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """All x strictly left of all y, distinct positions."""
    N = draw(st.integers(1, 30))
    gaps = np.array(draw(st.lists(st.floats(0.01, 1.0), min_size=2 * N, max_size=2 * N)))
    z = np.cumsum(gaps)
    return z[:N], z[N:]


@given(separated_species())
@settings(max_examples=40, deadline=None)
def test_pre_contact_solution_is_exact(config: tuple[np.ndarray, np.ndarray]) -> None:
    """While every y lies right of every x: x_i = x_i(0) + (2i-1) t/N, y_j = y_j(0) - (2(N-j)+1) t/N,
    and the same with the species swapped."""
    x0, y0 = config
    N = x0.size
    speed_sum = 2 * (2 * N - 1) / N
    t_contact = (y0[0] - x0[-1]) / speed_sum
    t = np.linspace(0.0, t_contact, 7)
    run = simulate(x0, y0, t)
    i = np.arange(1, N + 1)
    np.testing.assert_allclose(run.x, x0 + np.outer(t, 2 * i - 1) / N, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(run.y, y0 - np.outer(t, 2 * (N - i) + 1) / N, rtol=1e-13, atol=1e-13)
    assert np.all(run.event_t >= t_contact * (1 - 1e-12))
    # The first event, if any, is x_N meeting y_1 at t_contact.
    if run.n_events:
        assert (run.event_i[0], run.event_j[0]) == (N, 1)
        assert run.event_t[0] == pytest.approx(t_contact, rel=1e-13)
    mirror = simulate(y0, x0, t)  # species swapped: now every y lies left of every x
    np.testing.assert_allclose(mirror.y, x0 + np.outer(t, 2 * i - 1) / N, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(mirror.x, y0 - np.outer(t, 2 * (N - i) + 1) / N, rtol=1e-13, atol=1e-13)


def test_output_at_event_time_has_right_derivative() -> None:
    """x_2 meets y_1 at t = 1/3 (N = 2) and crosses: the velocities recorded at 1/3 are the new ones."""
    run = simulate([0.0, 1.0], [2.0, 3.0], [0.0, 1 / 3, 0.5])
    assert run.event_t[0] == pytest.approx(1 / 3, rel=1e-15)
    assert (run.event_kind[0], run.event_i[0], run.event_j[0]) == (0, 2, 1)
    np.testing.assert_array_equal(run.vx, [[0.5, 1.5], [0.5, 0.5], [0.5, 0.5]])
    np.testing.assert_array_equal(run.vy, [[-1.5, -0.5], [-0.5, -0.5], [-0.5, -0.5]])
    assert run.x[1, 1] == pytest.approx(1.5, rel=1e-15) and run.y[1, 0] == pytest.approx(1.5, rel=1e-15)


def test_simultaneous_disjoint_collisions() -> None:
    """Two mirror-image crossings at the same instant: with N = 4, x_2 (speed 3/4) meets y_1 (speed
    -3/4) across a gap of 1, and x_4 meets y_3 the same way, both at t = 2/3 and both crossings
    (i != j); after them every event of the run is the exact-fraction reference's, in order."""
    x0 = np.array([0.0, 1.0, 10.0, 11.0])
    y0 = np.array([2.0, 3.0, 12.0, 13.0])
    run = simulate(x0, y0, [0.0], run_to_final=True)
    first = sorted(zip(run.event_i[:2].tolist(), run.event_j[:2].tolist(), run.event_kind[:2].tolist(), strict=True))
    assert first == [(2, 1, 0), (4, 3, 0)]
    assert run.event_t[0] == run.event_t[1] == pytest.approx(2 / 3, abs=1e-15)
    assert run.event_t[2] > run.event_t[1]
    exact = reference_solution(x0.tolist(), y0.tolist(), [0.0], run_to_final=True)
    key = lambda t, k, i, j: (round(float(t), 12), int(k), int(i), int(j))  # noqa: E731
    engine = sorted(key(*e) for e in zip(run.event_t, run.event_kind, run.event_i, run.event_j, strict=True))
    assert engine == sorted(key(*e) for e in exact.events)


def test_record_events_false_gives_same_trajectory() -> None:
    rng = np.random.default_rng(3)
    x0, y0 = rng.normal(size=40), rng.normal(0.5, 1.0, size=40)
    t = np.linspace(0.0, 3.0, 11)
    full = simulate(x0, y0, t, run_to_final=True)
    lean = simulate(x0, y0, t, run_to_final=True, record_events=False)
    np.testing.assert_array_equal(full.x, lean.x)
    np.testing.assert_array_equal(full.vy, lean.vy)
    assert lean.event_t.size == lean.event_kind.size == lean.event_i.size == lean.event_j.size == 0
    assert (lean.n_events, lean.n_cross, lean.n_stick, lean.t_last_event) == (
        full.n_events,
        full.n_cross,
        full.n_stick,
        full.t_last_event,
    )
    assert full.event_t.size == full.n_events == full.n_cross + full.n_stick
    assert np.count_nonzero(full.event_kind == 1) == full.n_stick
    assert np.all(np.diff(full.event_t) >= 0)


def test_event_log_grows_past_initial_capacity() -> None:
    N = 80
    x0 = np.arange(1, N + 1) / N
    run = simulate(x0, x0 + 0.5, [0.0], run_to_final=True)
    assert run.n_events > 1024
    assert run.event_t.size == run.n_events
    assert run.t_last_event == run.event_t[-1]


def test_unsorted_input_is_sorted_and_permutation_recorded() -> None:
    rng = np.random.default_rng(7)
    x0, y0 = rng.permutation(np.arange(6.0)), rng.permutation(np.arange(6.0) + 2.5)
    run = simulate(x0, y0, [0.0, 1.0])
    np.testing.assert_array_equal(x0[run.order_x], np.sort(x0))
    np.testing.assert_array_equal(y0[run.order_y], np.sort(y0))
    ref = simulate(np.sort(x0), np.sort(y0), [0.0, 1.0])
    np.testing.assert_array_equal(run.x, ref.x)
    np.testing.assert_array_equal(run.y, ref.y)


def test_run_stops_at_last_output_without_run_to_final() -> None:
    N = 50
    x0 = np.arange(1, N + 1) / N
    short = simulate(x0, x0 + 0.5, [0.0, 0.3])
    final = simulate(x0, x0 + 0.5, [0.0, 0.3], run_to_final=True)
    np.testing.assert_array_equal(short.x, final.x)
    assert short.t_last_event <= 0.3 < final.t_last_event
    assert short.n_events < final.n_events


def test_result_fields() -> None:
    run = simulate([0.0, 1.0, 2.0], [0.5, 1.5, 2.5], [0.0, 0.1])
    assert isinstance(run, ParticleRun)
    assert run.N == 3
    np.testing.assert_array_equal(run.m, np.full(3, 1 / 3))
    assert run.x.shape == run.y.shape == run.vx.shape == run.vy.shape == (2, 3)
    assert run.event_kind.dtype == np.int8
    with pytest.raises(AttributeError):
        run.n_events = 0  # type: ignore[misc]


def test_initial_order_puts_cluster_leavers_outside_stuck_pairs() -> None:
    """x_1..x_3 and y_2, y_3 at one point, y_1 left of it: x_1 leaves left, k = 2, 3 stick."""
    particle_at, rank, stuck = resolve_initial_order(np.array([1.0, 1.0, 1.0]), np.array([0.0, 1.0, 1.0]))
    # particle ids: x_i -> i-1, y_j -> 3+j-1; order y_1, x_1, x_2, y_2, x_3, y_3
    np.testing.assert_array_equal(particle_at, [3, 0, 1, 4, 2, 5])
    np.testing.assert_array_equal(stuck, [False, True, True, False, True, True])
    np.testing.assert_array_equal(rank, [1, 1, 2, 0, 2, 3])


@pytest.mark.parametrize(
    ("x0", "y0", "t_out", "kwargs", "fragment"),
    [
        ([0.0, np.nan], [1.0, 2.0], [0.0], {}, "x0 positions are not finite: x0[1] = nan"),
        ([0.0, 1.0], [1.0, np.inf], [0.0], {}, "y0 positions are not finite: y0[1] = inf"),
        ([], [], [0.0], {}, "x0 is empty"),
        ([[0.0, 1.0]], [[1.0, 2.0]], [0.0], {}, "x0 must be a 1-D array"),
        ([0.0], [1.0], [0.0, np.nan], {}, "t_out[1] = nan is not a finite time"),
        ([0.0], [1.0], [-1.0], {}, "t_out[0] = -1.0 is not a finite time >= 0"),
        ([0.0], [1.0], [1.0, 0.5], {}, "t_out is not sorted: t_out[0] = 1.0 > t_out[1] = 0.5"),
        ([0.0], [1.0], [], {}, "t_out must be a non-empty 1-D array"),
        ([0.0, 1.0], [1.0, 2.0], [0.0], {"n": [0.5]}, "n has shape (1,) for 2 particles"),
        ([0.0, 1.0], [1.0, 2.0], [0.0], {"m": [0.5, 0.0]}, "m[1] = 0.0 is not a positive finite mass"),
    ],
)
def test_validation_errors(x0: list, y0: list, t_out: list, kwargs: dict, fragment: str) -> None:
    with pytest.raises(ParticleInputError) as info:
        simulate(x0, y0, t_out, **kwargs)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


def test_equal_masses_given_explicitly_are_accepted() -> None:
    run = simulate([0.0, 1.0], [1.0, 2.0], [0.0, 1.0], m=[0.5, 0.5], n=np.full(2, 0.5))
    assert run.x.shape == (2, 2)


def test_unequal_masses_and_numbers_dispatch_to_the_general_engine() -> None:
    """Only equal masses 1/N with N_x = N_y take the rank engine, and the run says which engine ran."""
    fast = simulate([0.0, 1.0], [1.0, 2.0], [0.0, 1.0], m=[0.5, 0.5])
    general = simulate([0.0, 1.0], [1.0, 2.0], [0.0, 1.0], m=[0.3, 0.7])
    assert general.m.tolist() == [0.3, 0.7] and fast.m.tolist() == [0.5, 0.5]
    assert (fast.engine, general.engine) == ("rank", "general")
    assert simulate([0.0, 1.0], [1.0], [0.0]).engine == "general"
    assert simulate([0.0, 1.0], [1.0, 2.0], [0.0], fast_path=False).engine == "general"
    assert simulate([0.0, 1.0], [1.0], [0.0]).y.shape == (1, 1)


@pytest.mark.parametrize("fast_path", [True, False])
def test_streamed_log_equals_the_kept_log(fast_path: bool) -> None:
    """``on_events`` receives the kept log's events, in order, and the result keeps none of them."""
    rng = np.random.default_rng(5)
    x0, y0 = rng.normal(size=60), rng.normal(0.3, 1.0, size=60)
    kept = simulate(x0, y0, [0.0, 2.0], run_to_final=True, fast_path=fast_path)
    chunks: list[tuple[np.ndarray, ...]] = []
    calls: list[tuple[int, float]] = []
    streamed = simulate(
        x0, y0, [0.0, 2.0], run_to_final=True, fast_path=fast_path,
        on_events=lambda c: chunks.append(tuple(a.copy() for a in c)), progress=lambda k, t: calls.append((k, t)),
    )  # fmt: skip
    for got, want in zip(zip(*chunks, strict=True), (kept.event_t, kept.event_kind, kept.event_i, kept.event_j), strict=True):
        np.testing.assert_array_equal(np.concatenate(got), want)
    assert streamed.event_t.size == 0 and streamed.n_events == kept.n_events
    np.testing.assert_array_equal(streamed.x, kept.x)
    assert calls[-1] == (kept.n_events, kept.t_last_event)
