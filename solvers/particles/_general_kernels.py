"""Compiled core of the event-driven engine for arbitrary positive masses and N_x != N_y.

Particles are numbered p = 0..P-1 (P = N_x + N_y): p < N_x is x_{p+1}, p >= N_x is y_{p-N_x+1}.
``particle_at[s]`` is the particle in slot s of the merged left-to-right order (each species in
index order). A block is a maximal run of slots [a, b) whose particles coincide and move with one
velocity; it is stored at its first slot (``end[a] = b``, ``pos[a]``, ``t_ref[a]``, ``vel[a]``,
``stamp[a]``) and found from its last slot (``start[b - 1] = a``). Its particles are at
``pos[a] + vel[a] (t - t_ref[a])``.

A block's velocity changes only when something meets it: the velocity a particle gets from the
particles outside its cluster depends on their order alone. At a meeting, the meeting blocks and
every adjacent block at the same position (to ``tol_pos``, a round-off allowance) form the cluster,
``solve_cluster`` gives its exact velocities, and the cluster is re-sorted by velocity (slower to the
left) and cut into new blocks. Each block's velocity is then recomputed from exact partial mass sums
(``_block_velocity``): late in a run velocities are products of two small mass imbalances (~1e-12
for N = 500 random masses) and must be accurate relative to themselves, not to the masses.

Neighbouring approaching pairs can coexist, so heap entries (meeting time, entry id) carry the stamps
of both blocks and are dropped when popped stale (every rewritten block gets a fresh stamp, every
dissolved one stamp -1). Entry ids are recycled. The heap is the equal-mass engine's 1-based split
queue (``solvers.particles._queue``): meeting times ``heap_t`` (float64, sentinel
``heap_t[size + 1] = +inf``) and entry ids ``heap_e`` (int64, numba's own specialisation of the
queue; the equal-mass engine's int32 one is unchanged).
"""

from __future__ import annotations

import numpy as np

from solvers._jit import jit
from solvers.particles import _kernels, _queue, cluster
from solvers.particles._kernels import KIND_CROSS, KIND_STICK, _grow, _log_event, _new_event_log
from solvers.particles._queue import queue_pop, queue_push
from solvers.particles.cluster import solve_cluster

KIND_MERGE = 2
DEPENDS_ON = (_kernels, _queue, cluster)
"""Modules whose jitted functions these kernels call (``solvers._jit.jit``)."""


@jit(depends_on=DEPENDS_ON)
def _at(pos: np.ndarray, t_ref: np.ndarray, vel: np.ndarray, a: int, t: float) -> float:
    return pos[a] + vel[a] * (t - t_ref[a])


@jit(depends_on=DEPENDS_ON)
def _prefix_sums(w: np.ndarray, first: int, count: int) -> np.ndarray:
    """S[k] = w[first] + ... + w[first + k - 1] (k = 0..count), compensated (Neumaier) summation: each
    S[k] is the exact sum of the float masses to a few units of round-off of S[count]."""
    S = np.zeros(count + 1)
    total = 0.0
    carry = 0.0
    for k in range(count):
        v = w[first + k]
        t = total + v
        if abs(total) >= abs(v):
            carry += (total - t) + v
        else:
            carry += (v - t) + total
        total = t
        S[k + 1] = total + carry
    return S


@jit(depends_on=DEPENDS_ON)
def _block_velocity(M_before: np.ndarray, N_before: np.ndarray, i0: int, i1: int, j0: int, j1: int, tol_mass: float) -> tuple[float, float]:
    """Velocity of a block holding x_{i0+1..i1} and y_{j0+1..j1} that moves as one, and its round-off bound.

    Internal forces cancel in the mass-weighted sum, so the velocity is the weighted mean of what the
    particles outside give: with A = M_{i0} - N_{j0}, B = M_{i1} - N_{j1} (the imbalance of the
    species left of and through the block) and C = M - N,

        V = (B - A)(A + B - C) / W = ((B - C/2)^2 - (A - C/2)^2) / W,   W = block mass.

    Exact partial sums make V accurate to a relative tol_mass / |factor| however small it is; a factor
    within tol_mass of 0 is round-off of an exact balance (M_C = N_C, or the outside balances) and
    gives V = 0 exactly. Returns (V, bound on its round-off)."""
    A = M_before[i0] - N_before[j0]
    B = M_before[i1] - N_before[j1]
    C = M_before[M_before.shape[0] - 1] - N_before[N_before.shape[0] - 1]
    inside = B - A
    outside = A + B - C
    if abs(inside) <= tol_mass or abs(outside) <= tol_mass:
        return 0.0, 0.0
    W = (M_before[i1] - M_before[i0]) + (N_before[j1] - N_before[j0])
    return inside * outside / W, tol_mass * (abs(inside) + abs(outside)) / W


@jit(depends_on=DEPENDS_ON)
def _resolve(
    lo: int,
    hi: int,
    z: float,
    t: float,
    Nx: int,
    w: np.ndarray,
    M_before: np.ndarray,
    N_before: np.ndarray,
    particle_at: np.ndarray,
    end: np.ndarray,
    start: np.ndarray,
    pos: np.ndarray,
    t_ref: np.ndarray,
    vel: np.ndarray,
    vel_err: np.ndarray,
    stamp: np.ndarray,
    next_stamp: int,
    tol_mass: float,
    scratch: np.ndarray,
    ids: np.ndarray,
) -> tuple[int, int, int, int, int, int]:
    """Resolve the cluster in slots [lo, hi) at position z and time t into blocks.

    Free velocities (``solvers.particles.cluster``): with M_left, M_C (N_left, N_C) the x- (y-) mass
    left of and inside the cluster, u_{x_i} = (2 M_{i-1} + m_i - M) - (2 N_left + N_C - N) and
    u_{y_j} = (2 N_{j-1} + n_j - N) - (2 M_left + M_C - M).
    Returns (next_stamp, number of blocks formed, K_x, K_y, first x index, first y index) (0-based).
    """
    Kx = 0
    Ky = 0
    for s in range(lo, hi):
        p = particle_at[s]
        if p < Nx:
            Kx += 1
        else:
            Ky += 1
    xs = ids[:Kx]
    ys = ids[Kx : Kx + Ky]
    kx = 0
    ky = 0
    for s in range(lo, hi):
        p = particle_at[s]
        if p < Nx:
            xs[kx] = p
            kx += 1
        else:
            ys[ky] = p - Nx
            ky += 1
    x_left = xs[0] if Kx > 0 else lo - ys[0]
    y_left = ys[0] if Ky > 0 else lo - x_left
    M = M_before[M_before.shape[0] - 1]
    N = N_before[N_before.shape[0] - 1]
    x_side = 2 * M_before[x_left] + (M_before[x_left + Kx] - M_before[x_left]) - M
    y_side = 2 * N_before[y_left] + (N_before[y_left + Ky] - N_before[y_left]) - N
    wx = scratch[0, :Kx]
    ux = scratch[1, :Kx]
    hx = scratch[2, :Kx]
    wy = scratch[0, Kx : Kx + Ky]
    uy = scratch[1, Kx : Kx + Ky]
    hy = scratch[2, Kx : Kx + Ky]
    for k in range(Kx):
        i = xs[k]
        wx[k] = w[i]
        ux[k] = (2 * M_before[i] + w[i] - M) - y_side
    for k in range(Ky):
        j = ys[k]
        wy[k] = w[Nx + j]
        uy[k] = (2 * N_before[j] + w[Nx + j] - N) - x_side
    solve_cluster(wx, ux, wy, uy, hx, hy)

    first_x = xs[0] if Kx > 0 else -1
    first_y = ys[0] if Ky > 0 else -1
    h = scratch[0, : hi - lo]
    kx = 0
    ky = 0
    for s in range(lo, hi):
        if ky == Ky or (kx < Kx and hx[kx] <= hy[ky]):
            particle_at[s] = xs[kx]
            h[s - lo] = hx[kx]
            kx += 1
        else:
            particle_at[s] = Nx + ys[ky]
            h[s - lo] = hy[ky]
            ky += 1
        stamp[s] = -1

    # Runs of equal h are the blocks; their velocities are recomputed from the partial mass sums and
    # adjacent blocks that do not separate by more than round-off are joined (pool adjacent violators).
    block_at = np.empty(hi - lo + 1, np.int64)
    block_i = np.empty(hi - lo + 1, np.int64)
    block_j = np.empty(hi - lo + 1, np.int64)
    block_v = np.empty(hi - lo)
    block_err = np.empty(hi - lo)
    n_blocks = 0
    i = x_left
    j = y_left
    s = lo
    while s < hi:
        a = s
        i0 = i
        j0 = j
        while True:
            if particle_at[s] < Nx:
                i += 1
            else:
                j += 1
            s += 1
            if s == hi or h[s - lo] != h[a - lo]:
                break
        v, err = _block_velocity(M_before, N_before, i0, i, j0, j, tol_mass)
        while n_blocks > 0 and v - block_v[n_blocks - 1] <= err + block_err[n_blocks - 1]:
            n_blocks -= 1
            a = block_at[n_blocks]
            i0 = block_i[n_blocks]
            j0 = block_j[n_blocks]
            v, err = _block_velocity(M_before, N_before, i0, i, j0, j, tol_mass)
        block_at[n_blocks] = a
        block_i[n_blocks] = i0
        block_j[n_blocks] = j0
        block_v[n_blocks] = v
        block_err[n_blocks] = err
        n_blocks += 1
    block_at[n_blocks] = hi
    for k in range(n_blocks):
        a = block_at[k]
        b = block_at[k + 1]
        end[a] = b
        start[b - 1] = a
        pos[a] = z
        t_ref[a] = t
        vel[a] = block_v[k]
        vel_err[a] = block_err[k]
        stamp[a] = next_stamp
        next_stamp += 1
    return next_stamp, n_blocks, Kx, Ky, first_x, first_y


@jit(depends_on=DEPENDS_ON)
def _schedule(
    a: int,
    t: float,
    P: int,
    end: np.ndarray,
    pos: np.ndarray,
    t_ref: np.ndarray,
    vel: np.ndarray,
    vel_err: np.ndarray,
    stamp: np.ndarray,
    heap_t: np.ndarray,
    heap_e: np.ndarray,
    size: int,
    entries: np.ndarray,
    free: np.ndarray,
    n_free: int,
    n_entries: int,
) -> tuple[int, np.ndarray, np.ndarray, int, int]:
    """Push the meeting of block a with its right neighbour if they approach faster than the sum of
    their velocities' round-off bounds (``_block_velocity``); however slow, such an approach is real.

    The caller keeps room for the push (``heap_t.shape[0] >= size + 3``). Returns (size, entries, free,
    n_free, n_entries) (``entries`` and ``free`` may have been grown)."""
    b = end[a]
    if b >= P or vel[a] - vel[b] <= vel_err[a] + vel_err[b]:
        return size, entries, free, n_free, n_entries
    gap = max(_at(pos, t_ref, vel, b, t) - _at(pos, t_ref, vel, a, t), 0.0)
    t_meet = t + gap / (vel[a] - vel[b])
    if n_free > 0:
        n_free -= 1
        e = free[n_free]
    else:
        e = n_entries
        n_entries += 1
        if e >= entries.shape[0]:
            grown = np.empty((2 * entries.shape[0], 3), np.int64)
            grown[: entries.shape[0]] = entries
            entries = grown
            free = _grow(free, entries.shape[0])
    entries[e, 0] = a
    entries[e, 1] = stamp[a]
    entries[e, 2] = stamp[b]
    size = queue_push(heap_t, heap_e, size, t_meet, e)
    return size, entries, free, n_free, n_entries


@jit(depends_on=DEPENDS_ON)
def _emit(
    k: int,
    t: float,
    P: int,
    Nx: int,
    particle_at: np.ndarray,
    end: np.ndarray,
    pos: np.ndarray,
    t_ref: np.ndarray,
    vel: np.ndarray,
    out_x: np.ndarray,
    out_y: np.ndarray,
    out_vx: np.ndarray,
    out_vy: np.ndarray,
) -> None:
    a = 0
    while a < P:
        z = _at(pos, t_ref, vel, a, t)
        for s in range(a, end[a]):
            p = particle_at[s]
            if p < Nx:
                out_x[k, p] = z
                out_vx[k, p] = vel[a]
            else:
                out_y[k, p - Nx] = z
                out_vy[k, p - Nx] = vel[a]
        a = end[a]


@jit(depends_on=DEPENDS_ON)
def run_general(
    Nx: int,
    w: np.ndarray,
    particle_at: np.ndarray,
    z0: np.ndarray,
    t_out: np.ndarray,
    tol_pos: float,
    tol_mass: float,
    record_events: bool,
    run_to_final: bool,
):
    """Resolve the clusters at t = 0 (groups of equal ``z0``, the sorted merged positions) and
    advance through all events up to max(t_out) (or to the end).

    Output time t_k is written once every event with time <= t_k has been processed (right
    derivatives). Returns (x, y, vx, vy, event_t, event_kind, event_i, event_j, n_cross, n_stick,
    n_merge, t_last_event); event indices are 1-based, 0 if the cluster has no particle of that species.
    """
    P = w.shape[0]
    Ny = P - Nx
    M_before = _prefix_sums(w, 0, Nx)
    N_before = _prefix_sums(w, Nx, Ny)
    end = np.empty(P, np.int64)
    start = np.empty(P, np.int64)
    pos = np.zeros(P)
    t_ref = np.zeros(P)
    vel = np.zeros(P)
    vel_err = np.zeros(P)
    stamp = np.full(P, -1, np.int64)
    scratch = np.empty((3, P))
    ids = np.empty(P, np.int64)
    next_stamp = 0

    lo = 0
    while lo < P:
        hi = lo + 1
        while hi < P and z0[hi] == z0[lo]:
            hi += 1
        next_stamp = _resolve(
            lo,
            hi,
            z0[lo],
            0.0,
            Nx,
            w,
            M_before,
            N_before,
            particle_at,
            end,
            start,
            pos,
            t_ref,
            vel,
            vel_err,
            stamp,
            next_stamp,
            tol_mass,
            scratch,
            ids,
        )[0]
        lo = hi

    heap_t = np.full(P + 3, np.inf)  # room for the at most P - 1 pushes below
    heap_e = np.zeros(P + 3, np.int64)
    size = 0
    entries = np.empty((P + 2, 3), np.int64)
    free = np.empty(P + 2, np.int64)
    n_free = 0
    n_entries = 0
    a = 0
    while a < P:
        size, entries, free, n_free, n_entries = _schedule(
            a, 0.0, P, end, pos, t_ref, vel, vel_err, stamp, heap_t, heap_e, size, entries, free, n_free, n_entries
        )
        a = end[a]

    nt = t_out.shape[0]
    out_x = np.empty((nt, Nx))
    out_y = np.empty((nt, Ny))
    out_vx = np.empty((nt, Nx))
    out_vy = np.empty((nt, Ny))
    log = _new_event_log(record_events)

    n_cross = 0
    n_stick = 0
    n_merge = 0
    t_now = 0.0
    k = 0
    while size > 0:
        e = heap_e[1]
        a = entries[e, 0]
        b = end[a]
        if stamp[a] != entries[e, 1] or b >= P or stamp[b] != entries[e, 2]:
            size = queue_pop(heap_t, heap_e, size)
            free[n_free] = e
            n_free += 1
            continue
        t_next = max(heap_t[1], t_now)
        while k < nt and t_out[k] < t_next:
            _emit(k, t_out[k], P, Nx, particle_at, end, pos, t_ref, vel, out_x, out_y, out_vx, out_vy)
            k += 1
        if k == nt and not run_to_final:
            break
        size = queue_pop(heap_t, heap_e, size)
        free[n_free] = e
        n_free += 1
        t_now = t_next
        z = 0.5 * (_at(pos, t_ref, vel, a, t_now) + _at(pos, t_ref, vel, b, t_now))
        lo = a
        hi = end[b]
        while lo > 0 and abs(_at(pos, t_ref, vel, start[lo - 1], t_now) - z) <= tol_pos:
            lo = start[lo - 1]
        while hi < P and abs(_at(pos, t_ref, vel, hi, t_now) - z) <= tol_pos:
            hi = end[hi]
        next_stamp, n_blocks, Kx, Ky, first_x, first_y = _resolve(
            lo,
            hi,
            z,
            t_now,
            Nx,
            w,
            M_before,
            N_before,
            particle_at,
            end,
            start,
            pos,
            t_ref,
            vel,
            vel_err,
            stamp,
            next_stamp,
            tol_mass,
            scratch,
            ids,
        )
        if n_blocks == 1:
            kind = KIND_STICK
            n_stick += 1
        elif Kx == 1 and Ky == 1:
            kind = KIND_CROSS
            n_cross += 1
        else:
            kind = KIND_MERGE
            n_merge += 1
        if size + 4 > heap_t.shape[0]:  # room for the two pushes below
            heap_t = _grow(heap_t, 2 * heap_t.shape[0])
            heap_e = _grow(heap_e, heap_t.shape[0])
        if lo > 0:
            size, entries, free, n_free, n_entries = _schedule(
                start[lo - 1], t_now, P, end, pos, t_ref, vel, vel_err, stamp, heap_t, heap_e, size, entries, free, n_free, n_entries
            )
        if hi < P:
            size, entries, free, n_free, n_entries = _schedule(
                start[hi - 1], t_now, P, end, pos, t_ref, vel, vel_err, stamp, heap_t, heap_e, size, entries, free, n_free, n_entries
            )
        if record_events:
            n_ev = n_cross + n_stick + n_merge
            log = _log_event(log, n_ev - 1, t_now, kind, first_x + 1, first_y + 1)
    while k < nt:
        _emit(k, t_out[k], P, Nx, particle_at, end, pos, t_ref, vel, out_x, out_y, out_vx, out_vy)
        k += 1
    n_ev = n_cross + n_stick + n_merge if record_events else 0
    return (
        out_x,
        out_y,
        out_vx,
        out_vy,
        log[0][:n_ev].copy(),
        log[1][:n_ev].copy(),
        log[2][:n_ev].copy(),
        log[3][:n_ev].copy(),
        n_cross,
        n_stick,
        n_merge,
        t_now,
    )
