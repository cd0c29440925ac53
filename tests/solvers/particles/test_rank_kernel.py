"""The resumable rank kernel (``solvers.particles._kernels.run_events`` driven by ``engine.run_rank``):
the log modes and the cuts into kernel calls and chunks do not change a run, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from solvers.particles.engine import run_rank, simulate
from solvers.particles.events import CHUNK_EVENTS, EngineResult, EventChunk, EventLog
from tests.solvers.particles.reference import reference_solution

T_OUT = np.array([0.0, 0.05, 0.05, 0.3, 1.0, 3.0, 1e9])


def configurations() -> list[tuple[np.ndarray, np.ndarray]]:
    """Grids with clusters at t = 0 (shared points within and across species, simultaneous meetings,
    sticks), generic random positions, and the half-overlapping lattice."""
    rng = np.random.default_rng(17)
    configs = []
    for N in (3, 12, 40):
        configs.append((np.sort(rng.integers(0, 9, N) / 4), np.sort(rng.integers(0, 9, N) / 4)))
        configs.append((np.sort(rng.random(N)), np.sort(rng.random(N) + 0.3)))
    x = np.arange(1, 61) / 60
    configs.append((x, x + 0.5))
    return configs


def run_in_pieces(
    x: np.ndarray, y: np.ndarray, budget: int, capacity: int, t_out: np.ndarray = T_OUT, run_to_final: bool = True
) -> tuple[EngineResult, EventChunk, list[tuple[int, float]]]:
    """``run_rank`` with ``budget`` events per kernel call, streaming chunks of ``capacity`` rows;
    checks that no call exceeds either and that progress only moves forward."""
    chunks: list[EventChunk] = []
    calls: list[tuple[int, float]] = []

    def sink(chunk: EventChunk) -> None:
        assert 0 < chunk.t.size <= capacity
        chunks.append(EventChunk(*(a.copy() for a in chunk)))

    result = run_rank(x, y, t_out, EventLog("stream", sink, capacity), run_to_final, lambda done, t: calls.append((done, t)), budget)
    done = np.array([c[0] for c in calls])
    assert np.all(np.diff(done, prepend=0) <= budget) and np.all(np.diff([c[1] for c in calls]) >= 0)
    assert done[-1] == result.n_cross + result.n_stick
    events = EventChunk(*(np.concatenate(parts) for parts in zip(*chunks, strict=True))) if chunks else EventChunk.empty()
    return result, events, calls


@pytest.mark.parametrize(("budget", "capacity"), [(1, 1), (1, 5), (7, 3), (7, 1000), (1000, 7), (1000, 10**6)])
def test_budgets_and_chunks_do_not_change_the_run(budget: int, capacity: int) -> None:
    """A run in pieces of a few events and chunks of a few rows is bit-identical to one call (samples,
    events, counts, last time), with output times before, between and after the events."""
    for x, y in configurations():
        log = EventLog("keep", capacity=10**6)
        whole = run_rank(x, y, T_OUT, log, True, None, 10**9)
        pieces, events, _ = run_in_pieces(x, y, budget, capacity)
        assert log.count == events.t.size == whole.n_cross + whole.n_stick
        for a, b in zip(whole, pieces, strict=True):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(log.events(), events, strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("run_to_final", [True, False])
def test_keep_stream_and_none_give_the_same_run(run_to_final: bool) -> None:
    """``simulate`` keeps, streams (event for event, in order) or drops the log of one and the same run."""
    for x, y in configurations():
        t_out = [0.0, 0.2, 0.7]
        kept = simulate(x, y, t_out, run_to_final=run_to_final)
        chunks: list[EventChunk] = []
        streamed = simulate(
            x, y, t_out, run_to_final=run_to_final, on_events=lambda c, into=chunks: into.append(EventChunk(*(a.copy() for a in c)))
        )
        lean = simulate(x, y, t_out, run_to_final=run_to_final, record_events=False)
        assert kept.engine == streamed.engine == lean.engine == "rank"
        for run in (streamed, lean):
            for field in ("x", "y", "vx", "vy"):
                np.testing.assert_array_equal(getattr(run, field), getattr(kept, field))
            assert (run.n_events, run.n_cross, run.n_stick, run.t_last_event) == (
                kept.n_events,
                kept.n_cross,
                kept.n_stick,
                kept.t_last_event,
            )
            assert run.event_t.size == run.event_kind.size == run.event_i.size == run.event_j.size == 0
        assert kept.event_t.size == kept.n_events
        if chunks:
            for got, want in zip(zip(*chunks, strict=True), (kept.event_t, kept.event_kind, kept.event_i, kept.event_j), strict=True):
                np.testing.assert_array_equal(np.concatenate(got), want)
        else:
            assert kept.n_events == 0


def test_stop_at_the_last_output_time_in_pieces() -> None:
    """Without ``run_to_final`` a run in pieces stops where one call stops: after the events up to
    max(t_out), and its last progress report is that of the whole run."""
    x = np.arange(1, 41) / 40
    whole = run_rank(x, x + 0.5, T_OUT[:-1], EventLog("none"), False, None, 10**9)
    pieces, events, calls = run_in_pieces(x, x + 0.5, 3, 4, T_OUT[:-1], run_to_final=False)
    assert pieces.t_last_event <= T_OUT[-2] and events.t.size == whole.n_cross + whole.n_stick > 10
    for a, b in zip(whole, pieces, strict=True):
        np.testing.assert_array_equal(a, b)
    assert calls[-1] == (whole.n_cross + whole.n_stick, whole.t_last_event)


def test_pieces_agree_with_the_reference() -> None:
    """A run in pieces of one event each is the exact solution (brute-force reference)."""
    rng = np.random.default_rng(2)
    x, y = np.sort(rng.integers(0, 6, 8) / 3), np.sort(rng.integers(0, 6, 8) / 3)
    t_out = np.array([0.0, 0.1, 0.4, 1.0, 2.5])
    result = run_rank(x, y, t_out, EventLog("none"), False, None, 1)
    ref = reference_solution(x.tolist(), y.tolist(), t_out.tolist())
    np.testing.assert_allclose(result.x, np.array(ref.x), atol=1e-12)
    np.testing.assert_allclose(result.y, np.array(ref.y), atol=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_event_log_is_the_exact_one(seed: int) -> None:
    """Every event of a run to the final state (time, kind, x- and y-index) is the exact-fraction
    reference's: the calendar takes meetings in time order (simultaneous ones in any order), on grids
    with clusters and bursts of simultaneous meetings and on generic positions."""
    rng = np.random.default_rng(seed)
    N = int(rng.integers(3, 14))
    if seed % 2:
        x, y = np.sort(rng.integers(0, 8, N) / 4), np.sort(rng.integers(0, 8, N) / 4)
    else:
        x, y = np.sort(rng.random(N)), np.sort(rng.random(N) + 0.3)
    run = simulate(x, y, [0.0], run_to_final=True)
    exact = reference_solution(x.tolist(), y.tolist(), [0.0], run_to_final=True)
    key = lambda t, k, i, j: (round(float(t), 12), int(k), int(i), int(j))  # noqa: E731
    engine = sorted(key(*e) for e in zip(run.event_t, run.event_kind, run.event_i, run.event_j, strict=True))
    assert engine == sorted(key(*e) for e in exact.events)
    assert np.all(np.diff(run.event_t) >= 0)


@pytest.mark.parametrize("budget", [0, -3])
def test_budget_must_be_positive(budget: int) -> None:
    with pytest.raises(ValueError, match="budget"):
        run_rank(np.array([0.0]), np.array([1.0]), T_OUT, EventLog("none"), True, None, budget)


@pytest.mark.parametrize("masses", ["equal", "random"])
def test_a_kept_log_growing_past_its_first_arrays_equals_the_streamed_log(masses: str) -> None:
    """The lattice at N = 2400 to its final state, 2.16 M events (rank engine; general engine with
    random masses): the kept arrays start at ``CHUNK_EVENTS`` rows and grow in place twice; the kept
    log equals the streamed one event for event, in the same dtypes."""
    N = 2400
    x = np.arange(1, N + 1) / N
    m = None if masses == "equal" else np.random.default_rng(5).uniform(0.5, 1.5, N) / N
    chunks: list[EventChunk] = []
    kept = simulate(x, x + 0.5, [0.0, 1.0], m=m, n=m, run_to_final=True)
    simulate(x, x + 0.5, [0.0, 1.0], m=m, n=m, run_to_final=True, on_events=lambda c: chunks.append(EventChunk(*(a.copy() for a in c))))
    assert kept.engine == ("rank" if masses == "equal" else "general")
    assert kept.n_events > 2 * CHUNK_EVENTS
    streamed = (np.concatenate(parts) for parts in zip(*chunks, strict=True))
    for a, b in zip((kept.event_t, kept.event_kind, kept.event_i, kept.event_j), streamed, strict=True):
        assert a.dtype == b.dtype and a.size == kept.n_events
        np.testing.assert_array_equal(a, b)
