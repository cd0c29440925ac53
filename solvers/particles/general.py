"""Exact event-driven solution of system (6) for arbitrary positive masses m_i, n_j and N_x, N_y.

Between meetings every block of coincident particles moves with one constant velocity; at a meeting
the cluster's velocities are the minimal-norm element of the subdifferential, computed exactly by
``solvers.particles.cluster`` (MATH.md section 2). The rule keeps together what moves together and
splits what it splits: a pair x_i, y_j crosses iff m_i > 4 N_{j-1} + 3 n_j - 4 M_{i-1} (unit total
masses, Remark 4.1) and otherwise moves on as a block with the mass-weighted mean velocity; blocks
can meet further particles and particles of one species can meet (when m_i + m_{i+1} < 2 n_j).
Clusters at t = 0 are resolved by the same rule. The compiled core is
``solvers.particles._general_kernels.run_general``; ``solvers.particles.engine.simulate`` validates
the input and dispatches here unless the masses are all equal with N_x = N_y (the fast path).

Event log, one row per meeting of two blocks: kind 0 = cross (a cluster of one x and one y that
comes out as two blocks, i.e. swapped), 1 = stick (the whole cluster comes out as one block),
2 = merge (any other rearrangement of a cluster of more than two particles); ``event_i``,
``event_j`` are the smallest 1-based x- and y-indices in the cluster (0 if it has none of that
species), so that a two-particle event names its pair as in the equal-mass engine.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from solvers.particles._general_kernels import KIND_MERGE, run_general
from solvers.particles.events import EventLog, Progress

__all__ = ["KIND_MERGE", "MASS_RTOL", "POSITION_RTOL", "GeneralResult", "run_sorted"]

POSITION_RTOL = 1e-12
"""Blocks closer than POSITION_RTOL * max|z0| at a meeting join its cluster (a round-off allowance;
by Theorem 3.1 such a snap changes the solution by no more than the snap itself)."""

MASS_RTOL = 64 * np.finfo(float).eps
"""A species imbalance (a difference of partial mass sums) below MASS_RTOL * (M + N) is round-off of an
exact balance, and a block it belongs to is at rest (``_general_kernels._block_velocity``). Block
velocities are exact up to a relative MASS_RTOL * (M + N) / imbalance, and blocks meet iff they
approach faster than that round-off: late approach speeds are genuinely ~1e-12 and slower."""


class GeneralResult(NamedTuple):
    """Output of ``run_sorted``: samples at the output times, event counts and the last event's time."""

    x: np.ndarray
    y: np.ndarray
    vx: np.ndarray
    vy: np.ndarray
    n_cross: int
    n_stick: int
    n_merge: int
    t_last_event: float


def run_sorted(
    x: np.ndarray,
    y: np.ndarray,
    m: np.ndarray,
    n: np.ndarray,
    t_out: np.ndarray,
    log: EventLog,
    run_to_final: bool,
    progress: Progress | None = None,
) -> GeneralResult:
    """Exact solution for sorted, validated positions ``x``, ``y`` with positive masses ``m``, ``n``;
    the events go to ``log`` (``solvers.particles.events``)."""
    z0 = np.concatenate([x, y])
    particle_at = np.argsort(z0, kind="stable").astype(np.int64)  # ties: x before y, by index
    w = np.concatenate([m, n])
    tol_pos = POSITION_RTOL * float(np.max(np.abs(z0)))
    tol_mass = MASS_RTOL * float(np.sum(w))
    out = run_general(x.size, w, particle_at, z0[particle_at], t_out, tol_pos, tol_mass, log.recording, run_to_final)
    n_events = int(out[8]) + int(out[9]) + int(out[10])
    if log.recording:
        # the kernel is not resumable yet: it returns the whole log, handed on chunk by chunk
        capacity = log.buffers.t.size
        for start in range(0, n_events, capacity):
            rows = min(capacity, n_events - start)
            for buffer, values in zip(log.buffers, out[4:8], strict=True):
                buffer[:rows] = values[start : start + rows]
            log.flush(rows)
    if progress is not None:
        progress(n_events, float(out[11]))
    return GeneralResult(*out[:4], int(out[8]), int(out[9]), int(out[10]), float(out[11]))
