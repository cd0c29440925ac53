"""Exact event-driven solution of system (6) for arbitrary positive masses m_i, n_j and N_x, N_y.

Between meetings every block of coincident particles moves with one constant velocity; at a meeting
the cluster's velocities are the minimal-norm element of the subdifferential, computed exactly by
``solvers.particles.cluster`` (MATH.md section 2). The rule keeps together what moves together and
splits what it splits: a pair x_i, y_j crosses iff m_i > 4 N_{j-1} + 3 n_j - 4 M_{i-1} (unit total
masses, Remark 4.1) and otherwise moves on as a block with the mass-weighted mean velocity; blocks
can meet further particles and particles of one species can meet (when m_i + m_{i+1} < 2 n_j).
Clusters at t = 0 are resolved by the same rule. The compiled core is
``solvers.particles._general_kernels``: exact shortcuts for the two common meetings (two single
particles; two blocks approaching slowly, which stick) and the full cluster solver otherwise, an
indexed heap of meeting times, and a resumable kernel that ``run_sorted`` drives chunk by chunk
(``solvers.particles.events.drive``), so that a run's memory is O(N + chunk) unless the log is kept.
``solvers.particles.engine.simulate`` validates the input and dispatches here unless the masses are
all equal with N_x = N_y (the fast path).

Event log, one row per meeting of two blocks: kind 0 = cross (a cluster of one x and one y that
comes out as two blocks, i.e. swapped), 1 = stick (the whole cluster comes out as one block),
2 = merge (any other rearrangement of a cluster of more than two particles); ``event_i``,
``event_j`` are the smallest 1-based x- and y-indices in the cluster (0 if it has none of that
species), so that a two-particle event names its pair as in the equal-mass engine.
"""

from __future__ import annotations

import numpy as np

from solvers.particles._general_kernels import (
    KIND_MERGE,
    N_CROSS,
    N_MERGE,
    N_STICK,
    Masses,
    initial_blocks,
    prefix_sums,
    run_general,
)
from solvers.particles.events import PROGRESS_EVENTS, Advance, EngineResult, EventLog, Progress, Samples, check_drive, drive

__all__ = ["KIND_MERGE", "MASS_RTOL", "POSITION_RTOL", "run_sorted"]

POSITION_RTOL = 1e-12
"""Blocks closer than POSITION_RTOL * max|z0| at a meeting join its cluster (a round-off allowance;
by Theorem 3.1 such a snap changes the solution by no more than the snap itself)."""

MASS_RTOL = 64 * np.finfo(float).eps
"""A species imbalance (a difference of partial mass sums) below MASS_RTOL * (M + N) is round-off of an
exact balance, and a block it belongs to is at rest (``_general_kernels._block_velocity``). Block
velocities are exact up to a relative MASS_RTOL * (M + N) / imbalance, and blocks meet iff they
approach faster than that round-off: late approach speeds are genuinely ~1e-12 and slower."""


def run_sorted(
    x: np.ndarray,
    y: np.ndarray,
    m: np.ndarray,
    n: np.ndarray,
    t_out: np.ndarray,
    log: EventLog,
    run_to_final: bool,
    progress: Progress | None = None,
    budget: int = PROGRESS_EVENTS,
) -> EngineResult:
    """Exact solution for sorted, validated positions ``x``, ``y`` with positive masses ``m``, ``n``.

    Args:
        x, y: sorted positions of the x- and y-particles.
        m, n: their positive masses.
        t_out: non-decreasing output times.
        log: where the events go (``solvers.particles.events``; chunks of ``log.buffers`` rows).
        run_to_final: keep processing events past max(t_out) until none is left.
        progress: called with (events done, time of the last one) after every kernel call.
        budget: events per kernel call (>= 1); the results do not depend on it.

    Returns:
        The positions and right derivatives at ``t_out``, the event counts and the last event's time.
    """
    check_drive(log, budget)
    Nx, Ny = x.size, y.size
    z0 = np.concatenate([x, y])
    particle_at = np.argsort(z0, kind="stable").astype(np.int64)  # ties: x before y, by index
    w = np.concatenate([m, n])
    masses = Masses(
        Nx,
        w,
        prefix_sums(w, 0, Nx),
        prefix_sums(w, Nx, Ny),
        POSITION_RTOL * float(np.max(np.abs(z0))),
        MASS_RTOL * float(np.sum(w)),
    )
    blocks = initial_blocks(masses, particle_at, z0[particle_at])
    nt = t_out.size
    samples = Samples(t_out, np.empty((nt, Nx)), np.empty((nt, Ny)), np.empty((nt, Nx)), np.empty((nt, Ny)))

    def advance(events: int) -> Advance:
        return run_general(masses, blocks, samples, run_to_final, events, log.buffers, log.recording)

    drive(advance, log, progress, budget)
    counts = blocks.counters
    return EngineResult(
        samples.x,
        samples.y,
        samples.vx,
        samples.vy,
        int(counts[N_CROSS]),
        int(counts[N_STICK]),
        int(counts[N_MERGE]),
        float(blocks.t_now[0]),
    )
