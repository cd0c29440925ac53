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

__all__ = ["KIND_MERGE", "POSITION_RTOL", "VELOCITY_RTOL", "GeneralEvents", "run_sorted"]

POSITION_RTOL = 1e-12
"""Blocks closer than POSITION_RTOL * max|z0| at a meeting join its cluster (a round-off allowance;
by Theorem 3.1 such a snap changes the solution by no more than the snap itself)."""

VELOCITY_RTOL = 1e-12
"""Adjacent blocks approaching slower than VELOCITY_RTOL * (M + N) are taken to move together: such a
relative speed is round-off in the velocities of particles that move together exactly (a stuck pair
would otherwise "meet" its neighbour at t ~ 1e16)."""


class GeneralEvents(NamedTuple):
    """Raw output of the compiled core (see ``run_general``)."""

    x: np.ndarray
    y: np.ndarray
    vx: np.ndarray
    vy: np.ndarray
    event_t: np.ndarray
    event_kind: np.ndarray
    event_i: np.ndarray
    event_j: np.ndarray
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
    record_events: bool,
    run_to_final: bool,
) -> GeneralEvents:
    """Exact solution for sorted, validated positions ``x``, ``y`` with positive masses ``m``, ``n``."""
    z0 = np.concatenate([x, y])
    particle_at = np.argsort(z0, kind="stable").astype(np.int64)  # ties: x before y, by index
    w = np.concatenate([m, n])
    tol_pos = POSITION_RTOL * float(np.max(np.abs(z0)))
    tol_vel = VELOCITY_RTOL * float(np.sum(w))
    out = run_general(x.size, w, particle_at, z0[particle_at], t_out, tol_pos, tol_vel, record_events, run_to_final)
    return GeneralEvents(*out[:8], int(out[8]), int(out[9]), int(out[10]), float(out[11]))
