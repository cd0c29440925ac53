"""Exact event-driven solver of the particle system (6).

Equal masses 1/N with N particles per species (the fast path): between meetings every particle moves
on a straight line with the rank velocity ``x_i' = (2 (i - L_i) - 1)/N`` (L_i = number of
y-particles before x_i in the merged order) and ``y_j' = (2 (j - K_j) - 1)/N``. When x_i meets y_j
they cross if i != j (each velocity changes by 2/N) and stick forever with velocity 0 if i == j
(Theorem 4.1). Particles of the same species never meet (Theorem 4.2). Initial clusters are resolved
by Theorem 4.3 / Lemma 4.1. Each event costs O(1) expected (the event calendar of ``solvers.particles._calendar``).

Arbitrary positive masses or N_x != N_y: ``solvers.particles.general`` (blocks of coincident
particles, exact cluster velocities by the minimal-norm rule). Both are exact up to round-off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from solvers.checks import check_output_times
from solvers.errors import ParticleInputError
from solvers.particles._kernels import N_CROSS, N_STICK, initial_state, run_events
from solvers.particles.events import PROGRESS_EVENTS, EngineResult, EventChunk, EventLog, Progress, Samples, check_drive, drive
from solvers.particles.general import run_sorted


class ParticleCounts:
    """``N``, ``N_x``, ``N_y`` of a run with samples ``x (nt, N_x)`` and ``y (nt, N_y)``."""

    x: np.ndarray
    y: np.ndarray

    @property
    def N(self) -> int:
        """Number of x-particles (= particles per species when N_x = N_y)."""
        return self.x.shape[1]

    @property
    def N_x(self) -> int:
        return self.x.shape[1]

    @property
    def N_y(self) -> int:
        return self.y.shape[1]


@dataclass(frozen=True)
class ParticleRun(ParticleCounts):
    """Exact particle trajectory sampled at the output times.

    ``x[k, i-1]``, ``y[k, j-1]`` are x_i, y_j at ``t[k]``; ``vx``, ``vy`` are right derivatives.
    ``event_kind`` is 0 for a crossing, 1 for a stick and (unequal masses only) 2 for any other
    rearrangement of a cluster (``solvers.particles.general``); ``event_i``, ``event_j`` are the
    1-based indices of the x- and y-particle of each event (empty when events were not recorded).
    ``t_last_event`` is the time of the last processed event (0.0 if there was none).
    ``engine`` names the engine that ran: ``"rank"`` (equal masses, N_x = N_y) or ``"general"``.
    ``order_x``, ``order_y`` sort the input: ``x0_sorted = x0[order_x]``; ``m``, ``n`` are the masses
    in sorted order.
    """

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    vx: np.ndarray
    vy: np.ndarray
    m: np.ndarray
    n: np.ndarray
    event_t: np.ndarray
    event_kind: np.ndarray
    event_i: np.ndarray
    event_j: np.ndarray
    n_events: int
    n_cross: int
    n_stick: int
    t_last_event: float
    order_x: np.ndarray
    order_y: np.ndarray
    engine: Literal["rank", "general"]
    n_merge: int = 0


def _positions(values: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ParticleInputError(f"{name} must be a 1-D array of positions, got shape {arr.shape}; pass a flat array")
    if arr.size == 0:
        raise ParticleInputError(f"{name} is empty; pass at least one particle position")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ParticleInputError(f"{name} positions are not finite: {name}[{bad[0]}] = {arr[bad[0]]}; pass finite positions")
    return arr


def _masses(masses: ArrayLike | None, name: str, count: int) -> np.ndarray:
    """Positive finite masses, one per particle (input order); None means 1/count each."""
    if masses is None:
        return np.full(count, 1.0 / count)
    arr = np.asarray(masses, dtype=float)
    if arr.shape != (count,):
        raise ParticleInputError(f"{name} has shape {arr.shape} for {count} particles; pass one mass per particle")
    bad = np.flatnonzero(~(np.isfinite(arr) & (arr > 0)))
    if bad.size:
        raise ParticleInputError(f"{name}[{bad[0]}] = {arr[bad[0]]} is not a positive finite mass; pass masses > 0")
    return arr


def equal_masses(m: np.ndarray, n: np.ndarray) -> bool:
    """True iff N_x = N_y = N and every mass is 1/N (to 1e-12): the fast path applies."""
    N = m.size
    return n.size == N and bool(np.all(np.abs(m * N - 1.0) <= 1e-12) and np.all(np.abs(n * N - 1.0) <= 1e-12))


def resolve_initial_order(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merged order, ranks and stuck flags right after t = 0 for sorted x, y (Theorem 4.3).

    A point holding x-indices a..b and y-indices c..d (a one-species point has c = d + 1 = number of
    y strictly left + 1, and symmetrically) resolves into: leavers to the left (x-indices < c, or
    y-indices < a, by index), then the stuck pairs x_k = y_k for k in [a, b] ∩ [c, d], then leavers to
    the right (x-indices > d, or y-indices > b, by index). The rank velocities of this order are
    non-decreasing along it, and those of the leavers are Lemma 4.1's.

    Returns ``particle_at`` (slot -> particle id, x_i -> i-1, y_j -> N+j-1), ``rank`` (number of
    opposite-species particles before each particle) and ``stuck``.
    """
    N = x.size
    idx = np.arange(1, N + 1)
    c = np.searchsorted(y, x, side="left") + 1
    d = np.searchsorted(y, x, side="right")
    a = np.searchsorted(x, y, side="left") + 1
    b = np.searchsorted(x, y, side="right")
    group = np.concatenate([(idx > d).astype(np.int64) - (idx < c), (idx > b).astype(np.int64) - (idx < a)])
    species = np.repeat(np.array([0, 1]), N)
    particle_at = np.lexsort((species, np.tile(idx, 2), group, np.concatenate([x, y])))
    is_y = particle_at >= N
    y_before = np.cumsum(is_y) - is_y
    x_before = np.arange(2 * N) - y_before
    rank = np.empty(2 * N, dtype=np.int64)
    rank[particle_at] = np.where(is_y, x_before, y_before)
    return particle_at.astype(np.int64), rank, group == 0


def run_rank(
    x: np.ndarray,
    y: np.ndarray,
    t_out: np.ndarray,
    log: EventLog,
    run_to_final: bool,
    progress: Progress | None = None,
    budget: int = PROGRESS_EVENTS,
) -> EngineResult:
    """The rank engine (equal masses 1/N) for sorted, validated positions ``x``, ``y`` of N particles each.

    Args:
        x, y: sorted positions of the x- and y-particles.
        t_out: non-decreasing output times.
        log: where the events go (``solvers.particles.events``; chunks of ``log.buffers`` rows).
        run_to_final: keep processing events past max(t_out) until none is left.
        progress: called with (events done, time of the last one) after every kernel call.
        budget: events per kernel call (>= 1); the results do not depend on it.

    Returns:
        The positions and right derivatives at ``t_out``, the event counts and the last event's time.
    """
    check_drive(log, budget)
    N = x.size
    particle_at, rank, stuck = resolve_initial_order(x, y)
    state = initial_state(N, particle_at, rank, stuck, np.concatenate([x, y]))
    nt = t_out.size
    samples = Samples(t_out, np.empty((nt, N)), np.empty((nt, N)), np.empty((nt, N)), np.empty((nt, N)))

    def advance(events: int) -> tuple[int, int, float, bool]:
        return run_events(state, samples, run_to_final, events, log.buffers, log.recording)

    drive(advance, log, progress, budget)
    return EngineResult(
        samples.x,
        samples.y,
        samples.vx,
        samples.vy,
        int(state.counters[N_CROSS]),
        int(state.counters[N_STICK]),
        0,
        float(state.t_now[0]),
    )


def simulate(
    x0: ArrayLike,
    y0: ArrayLike,
    t_out: ArrayLike,
    *,
    m: ArrayLike | None = None,
    n: ArrayLike | None = None,
    record_events: bool = True,
    on_events: Callable[[EventChunk], None] | None = None,
    progress: Progress | None = None,
    run_to_final: bool = False,
    fast_path: bool = True,
) -> ParticleRun:
    """Exact solution of system (6) at the times ``t_out``.

    Masses ``m``, ``n`` (positive, one per particle, in input order) default to 1/N_x and 1/N_y.
    Equal masses 1/N with N_x = N_y = N use the rank engine (unless ``fast_path=False``), everything
    else the general block engine (``solvers.particles.general``). Unsorted ``x0``/``y0`` are sorted
    (the permutations are returned, masses follow their particles). With ``run_to_final`` the engine
    keeps processing events past max(t_out) until none is left (for equal masses: until the final
    state x_i = y_i is reached at ``t_last_event``). With ``record_events=False`` no event log is
    kept and the memory is O(N) plus the output.

    Args:
        x0, y0: initial positions (finite, any order).
        t_out: non-decreasing output times >= 0.
        m, n: positive masses, one per particle (default 1/N_x, 1/N_y).
        record_events: keep the event log in the result (``event_*`` fields).
        on_events: stream the log instead: called with every chunk of consecutive events (views
            valid during the call only); the result's ``event_*`` fields are then empty.
        progress: called as ``progress(events_done, t_now)`` every few million events.
        run_to_final: process events past max(t_out) until none is left.
        fast_path: allow the rank engine (``False`` forces the general engine).

    Returns:
        The ``ParticleRun``; ``engine`` says which engine ran.
    """
    x_in = _positions(x0, "x0")
    y_in = _positions(y0, "y0")
    m_in = _masses(m, "m", x_in.size)
    n_in = _masses(n, "n", y_in.size)
    t = check_output_times(t_out, ParticleInputError, repeats=True)
    order_x = np.argsort(x_in, kind="stable")
    order_y = np.argsort(y_in, kind="stable")
    x = x_in[order_x]
    y = y_in[order_y]
    if on_events is not None:
        log = EventLog("stream", on_events)
    else:
        log = EventLog("keep" if record_events else "none")
    if fast_path and equal_masses(m_in, n_in):
        engine: Literal["rank", "general"] = "rank"
        N = x.size
        out_x, out_y, out_vx, out_vy, n_cross, n_stick, n_merge, t_last = run_rank(x, y, t, log, run_to_final, progress)
        m_out, n_out = np.full(N, 1.0 / N), np.full(N, 1.0 / N)
    else:
        engine = "general"
        m_out, n_out = m_in[order_x], n_in[order_y]
        out_x, out_y, out_vx, out_vy, n_cross, n_stick, n_merge, t_last = run_sorted(x, y, m_out, n_out, t, log, run_to_final, progress)
    ev_t, ev_kind, ev_i, ev_j = log.events()
    return ParticleRun(
        t=t,
        x=out_x,
        y=out_y,
        vx=out_vx,
        vy=out_vy,
        m=m_out,
        n=n_out,
        event_t=ev_t,
        event_kind=ev_kind,
        event_i=ev_i,
        event_j=ev_j,
        n_events=int(n_cross + n_stick + n_merge),
        n_cross=int(n_cross),
        n_stick=int(n_stick),
        t_last_event=float(t_last),
        order_x=order_x,
        order_y=order_y,
        engine=engine,
        n_merge=int(n_merge),
    )
