"""Compiled, resumable core of the event-driven engine for arbitrary positive masses and N_x != N_y.

Particles are numbered p = 0..P-1 (P = N_x + N_y): p < N_x is x_{p+1}, p >= N_x is y_{p-N_x+1}.
``particle_at[s]`` is the particle in slot s of the merged left-to-right order (each species in
index order). A block is a maximal run of slots [a, b) whose particles coincide and move with one
velocity; it is stored at its first slot (``end[a] = b``, ``x_before[a]`` = number of x-particles in
slots < a, ``motion[a] = (position, reference time, velocity, bound on the velocity's round-off)``)
and found from its last slot (``start[b - 1] = a``). Its particles are at
``motion[a, POS] + motion[a, VEL] (t - motion[a, T_REF])``.

A block's velocity changes only when something meets it: the velocity a particle gets from the
particles outside its cluster depends on their order alone. At a meeting, the meeting blocks and
every adjacent block at the same position (to ``tol_pos``, a round-off allowance) form the cluster.
Block velocities come from exact partial mass sums (``_block_velocity``): late in a run velocities
are products of two small mass imbalances (~1e-12 for N = 500 random masses) and must be accurate
relative to themselves, not to the masses. A cluster is resolved by one of three rules, the first
two being exact shortcuts of the third:

1. Two single particles x_i, y_j (in ``run_general``). They cross iff, swapped, they separate:
   V(right) - V(left) > its round-off bound, with V the block velocity of each alone; this is the
   minimal-norm rule for two particles, Remark 4.1's m_i > 4 N_{j-1} + 3 n_j - 4 M_{i-1} for unit
   total masses. Otherwise they stick and move with the velocity of the pair.
2. Two blocks A (left, velocity V_A) and B (V_B < V_A), not both single particles, that approach
   slowly (``_sticks``). Each block is stable (its level-set function f_A(S) = V_A W(S) - WU(S) +
   cut(S) of ``solvers.particles.cluster`` is >= 0 on its upper sets S: that is why it is a block,
   and it stays so while nothing meets it). Writing the union's f_U over S = S_A + S_B with the
   free velocities of the union (those of A lose the pull of B, and conversely) gives, with V the
   union's velocity (the mass-weighted mean of V_A and V_B) and X, Y the x- and y-mass of a set,

       f_U(S) = f_A(S_A) + f_B(S_B) + (V - V_A) W(S_A) + (V - V_B) W(S_B)
                + 2 X(S_A) (N_B - Y(S_B)) + 2 Y(S_A) (M_B - X(S_B)).

   For S_B = B this is f_A(S_A) + (V_A - V)(W_A - W(S_A)) > 0; for S_A empty it is f_B(S_B) +
   (V - V_B) W(S_B) > 0; otherwise S_A holds one species only (S is a suffix of both species, so an
   x of A in S puts every x of B in S), say x, and the y of B with the lowest index is not in S, so
   the last terms are at least X(S_A) (2 n_first - (V_A - V)). So the union is one block whenever
   V_A - V = W_B (V_A - V_B) / W < 2 n_first (if A holds an x and B a y) and < 2 m_first (if A holds
   a y and B an x), n_first, m_first the masses of the lowest-index y and x of B. The engine uses
   half these bounds as a margin for round-off; late in a run V_A - V_B ~ 1e-12 is far below them.
3. Any other cluster (``_resolve``): ``solve_cluster`` gives its exact velocities, the cluster is
   re-sorted by velocity (slower to the left) and cut into blocks, whose velocities are recomputed
   from the partial mass sums, joining adjacent blocks that do not separate by more than round-off
   (pool adjacent violators).

Candidate meetings live in an indexed heap (``solvers.particles._block_queue``), one entry per block
(its meeting with its right neighbour), updated in place when a block changes: no stale entries.

``run_general`` is resumable (``solvers.particles.events``): the whole state lives in a ``Blocks``
of arrays between calls; each call processes at most ``budget`` events, stops when the log's chunk
buffers are full, and returns an ``Advance``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from solvers import _double_double
from solvers._jit import jit
from solvers.particles import _block_queue, _kernels, cluster
from solvers.particles._block_queue import block_queue_pop_root, block_queue_remove, block_queue_replace_root, block_queue_set
from solvers.particles._kernels import KIND_CROSS, KIND_STICK
from solvers.particles.cluster import solve_cluster
from solvers.particles.events import Advance, EventChunk, Samples

KIND_MERGE = 2
DEPENDS_ON = (_block_queue, _kernels, cluster, _double_double)
"""Modules whose jitted functions or constants these kernels use (``solvers._jit.jit``)."""

SIZE, NEXT_OUTPUT, N_CROSS, N_STICK, N_MERGE = range(5)
"""Entries of ``Blocks.counters``: heap size, next output index, event counts by kind."""
POS, T_REF, VEL, ERR = range(4)
"""Columns of ``Blocks.motion``."""


class Masses(NamedTuple):
    """The fixed data of a run: ``w`` (x masses then y masses), exact partial sums ``M_before[i] =
    M_i``, ``N_before[j] = N_j`` (``prefix_sums``) and the round-off allowances (``general.py``)."""

    Nx: int
    w: np.ndarray
    M_before: np.ndarray
    N_before: np.ndarray
    tol_pos: float
    tol_mass: float


class Blocks(NamedTuple):
    """The state of a run between calls of ``run_general`` (module docstring); ``scratch`` and
    ``ids`` are the workspace of ``_resolve``, allocated once."""

    particle_at: np.ndarray
    end: np.ndarray
    start: np.ndarray
    x_before: np.ndarray
    motion: np.ndarray
    heap_t: np.ndarray
    heap_s: np.ndarray
    where: np.ndarray
    counters: np.ndarray
    t_now: np.ndarray
    scratch: np.ndarray
    ids: np.ndarray


@jit(depends_on=DEPENDS_ON)
def _at(motion: np.ndarray, a: int, t: float) -> float:
    return motion[a, POS] + motion[a, VEL] * (t - motion[a, T_REF])


@jit(depends_on=DEPENDS_ON)
def prefix_sums(w: np.ndarray, first: int, count: int) -> np.ndarray:
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
def _velocity(M_lo: float, M_hi: float, N_lo: float, N_hi: float, C: float, tol_mass: float) -> tuple[float, float]:
    """Velocity of a block holding x_{i0+1..i1} and y_{j0+1..j1} that moves as one, and its round-off
    bound, from the partial sums M_lo = M_{i0}, M_hi = M_{i1}, N_lo = N_{j0}, N_hi = N_{j1} and C = M - N.

    Internal forces cancel in the mass-weighted sum, so the velocity is the weighted mean of what the
    particles outside give: with A = M_{i0} - N_{j0}, B = M_{i1} - N_{j1} (the imbalance of the
    species left of and through the block),

        V = (B - A)(A + B - C) / W = ((B - C/2)^2 - (A - C/2)^2) / W,   W = block mass.

    Exact partial sums make V accurate to a relative tol_mass / |factor| however small it is; a factor
    within tol_mass of 0 is round-off of an exact balance (M_C = N_C, or the outside balances) and
    gives V = 0 exactly. Returns (V, bound on its round-off)."""
    A = M_lo - N_lo
    B = M_hi - N_hi
    inside = B - A
    outside = A + B - C
    if abs(inside) <= tol_mass or abs(outside) <= tol_mass:
        return 0.0, 0.0
    W = (M_hi - M_lo) + (N_hi - N_lo)
    return inside * outside / W, tol_mass * (abs(inside) + abs(outside)) / W


@jit(depends_on=DEPENDS_ON)
def _block_velocity(masses: Masses, i0: int, i1: int, j0: int, j1: int) -> tuple[float, float]:
    """``_velocity`` of the block holding x_{i0+1..i1} and y_{j0+1..j1}."""
    M_before = masses.M_before
    N_before = masses.N_before
    C = M_before[M_before.shape[0] - 1] - N_before[N_before.shape[0] - 1]
    return _velocity(M_before[i0], M_before[i1], N_before[j0], N_before[j1], C, masses.tol_mass)


@jit(depends_on=DEPENDS_ON)
def _set_block(
    end: np.ndarray,
    start: np.ndarray,
    x_before: np.ndarray,
    motion: np.ndarray,
    a: int,
    b: int,
    i0: int,
    z: float,
    t: float,
    v: float,
    err: float,
) -> None:
    """Make slots [a, b) a block at z at time t with velocity v (round-off bound err), x_{i0+1} first."""
    end[a] = b
    start[b - 1] = a
    x_before[a] = i0
    motion[a, POS] = z
    motion[a, T_REF] = t
    motion[a, VEL] = v
    motion[a, ERR] = err


@jit(depends_on=DEPENDS_ON)
def _resolve(masses: Masses, blocks: Blocks, lo: int, hi: int, z: float, t: float) -> tuple[int, int, int]:
    """Resolve the cluster in slots [lo, hi) at position z and time t into blocks (rule 3).

    Free velocities (``solvers.particles.cluster``): with M_left, M_C (N_left, N_C) the x- (y-) mass
    left of and inside the cluster, u_{x_i} = (2 M_{i-1} + m_i - M) - (2 N_left + N_C - N) and
    u_{y_j} = (2 N_{j-1} + n_j - N) - (2 M_left + M_C - M).
    Returns (number of blocks formed, K_x, K_y).
    """
    Nx = masses.Nx
    w = masses.w
    M_before = masses.M_before
    N_before = masses.N_before
    particle_at = blocks.particle_at
    Kx = 0
    for s in range(lo, hi):
        Kx += particle_at[s] < Nx
    Ky = hi - lo - Kx
    x_left = blocks.x_before[lo]  # the cluster holds x_{x_left+1..x_left+Kx}, y_{y_left+1..y_left+Ky}
    y_left = lo - x_left
    M = M_before[M_before.shape[0] - 1]
    N = N_before[N_before.shape[0] - 1]
    x_side = 2 * M_before[x_left] + (M_before[x_left + Kx] - M_before[x_left]) - M
    y_side = 2 * N_before[y_left] + (N_before[y_left + Ky] - N_before[y_left]) - N
    scratch = blocks.scratch
    wx = scratch[0, :Kx]
    ux = scratch[1, :Kx]
    hx = scratch[2, :Kx]
    wy = scratch[0, Kx : Kx + Ky]
    uy = scratch[1, Kx : Kx + Ky]
    hy = scratch[2, Kx : Kx + Ky]
    for k in range(Kx):
        i = x_left + k
        wx[k] = w[i]
        ux[k] = (2 * M_before[i] + w[i] - M) - y_side
    for k in range(Ky):
        j = y_left + k
        wy[k] = w[Nx + j]
        uy[k] = (2 * N_before[j] + w[Nx + j] - N) - x_side
    solve_cluster(wx, ux, wy, uy, hx, hy)

    h = scratch[3, : hi - lo]
    kx = 0
    ky = 0
    for s in range(lo, hi):
        if ky == Ky or (kx < Kx and hx[kx] <= hy[ky]):
            particle_at[s] = x_left + kx
            h[s - lo] = hx[kx]
            kx += 1
        else:
            particle_at[s] = Nx + y_left + ky
            h[s - lo] = hy[ky]
            ky += 1

    # Runs of equal h are the blocks; their velocities are recomputed from the partial mass sums and
    # adjacent blocks that do not separate by more than round-off are joined (pool adjacent violators).
    block_at = blocks.ids[0]
    block_i = blocks.ids[1]
    block_j = blocks.ids[2]
    block_v = scratch[0]
    block_err = scratch[1]
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
        v, err = _block_velocity(masses, i0, i, j0, j)
        while n_blocks > 0 and v - block_v[n_blocks - 1] <= err + block_err[n_blocks - 1]:
            n_blocks -= 1
            a = block_at[n_blocks]
            i0 = block_i[n_blocks]
            j0 = block_j[n_blocks]
            v, err = _block_velocity(masses, i0, i, j0, j)
        block_at[n_blocks] = a
        block_i[n_blocks] = i0
        block_j[n_blocks] = j0
        block_v[n_blocks] = v
        block_err[n_blocks] = err
        n_blocks += 1
    block_at[n_blocks] = hi
    for k in range(n_blocks):
        _set_block(
            blocks.end,
            blocks.start,
            blocks.x_before,
            blocks.motion,
            block_at[k],
            block_at[k + 1],
            block_i[k],
            z,
            t,
            block_v[k],
            block_err[k],
        )
    return n_blocks, Kx, Ky


@jit(depends_on=DEPENDS_ON)
def _sticks(masses: Masses, blocks: Blocks, a: int, b: int, hi: int, z: float, t: float) -> bool:
    """Rule 2 for blocks [a, b) and [b, hi): if the bound certifies that they stick, make them one
    block and return True; otherwise change nothing and return False."""
    Nx = masses.Nx
    w = masses.w
    i0 = blocks.x_before[a]
    iB = blocks.x_before[b]
    i1 = blocks.x_before[hi] if hi < blocks.end.shape[0] else Nx
    j0 = a - i0
    jB = b - iB
    j1 = hi - i1
    v, err = _block_velocity(masses, i0, i1, j0, j1)
    drop = blocks.motion[a, VEL] - v
    if iB > i0 and j1 > jB and not drop < w[Nx + jB]:
        return False
    if jB > j0 and i1 > iB and not drop < w[iB]:
        return False
    _set_block(blocks.end, blocks.start, blocks.x_before, blocks.motion, a, hi, i0, z, t, v, err)
    return True


@jit(depends_on=DEPENDS_ON)
def _meeting(motion: np.ndarray, a: int, b: int, gap: float, t: float) -> float:
    """When block a meets its right neighbour b, ``gap`` ahead at time t: if they approach faster than
    the sum of their velocities' round-off bounds (``_velocity``; however slow, such an approach is
    real), else +inf (never)."""
    closing = motion[a, VEL] - motion[b, VEL]
    if closing > motion[a, ERR] + motion[b, ERR]:
        return t + max(gap, 0.0) / closing
    return np.inf


@jit(depends_on=DEPENDS_ON)
def _emit(masses: Masses, blocks: Blocks, samples: Samples, k: int) -> None:
    Nx = masses.Nx
    t = samples.t[k]
    a = 0
    while a < blocks.end.shape[0]:
        z = _at(blocks.motion, a, t)
        v = blocks.motion[a, VEL]
        for s in range(a, blocks.end[a]):
            p = blocks.particle_at[s]
            if p < Nx:
                samples.x[k, p] = z
                samples.vx[k, p] = v
            else:
                samples.y[k, p - Nx] = z
                samples.vy[k, p - Nx] = v
        a = blocks.end[a]


@jit(depends_on=DEPENDS_ON)
def initial_blocks(masses: Masses, particle_at: np.ndarray, z0: np.ndarray) -> Blocks:
    """The state at t = 0: the clusters (groups of equal ``z0``, the sorted merged positions, slot by
    slot) resolved by rule 3, and the meetings of approaching neighbours scheduled."""
    P = z0.shape[0]
    blocks = Blocks(
        particle_at.copy(),
        np.empty(P, np.int64),
        np.empty(P, np.int64),
        np.zeros(P, np.int64),
        np.zeros((P, 4)),
        np.full(P + 2, np.inf),
        np.zeros(P + 2, np.int64),
        np.zeros(P, np.int64),
        np.zeros(5, np.int64),
        np.zeros(1),
        np.empty((4, P + 1)),
        np.empty((3, P + 1), np.int64),
    )
    n_x = 0
    lo = 0
    while lo < P:
        hi = lo + 1
        while hi < P and z0[hi] == z0[lo]:
            hi += 1
        blocks.x_before[lo] = n_x
        for s in range(lo, hi):
            n_x += particle_at[s] < masses.Nx
        _resolve(masses, blocks, lo, hi, z0[lo], 0.0)
        lo = hi
    size = 0
    a = 0
    while blocks.end[a] < P:
        b = blocks.end[a]
        t_meet = _meeting(blocks.motion, a, b, _at(blocks.motion, b, 0.0) - _at(blocks.motion, a, 0.0), 0.0)
        if t_meet < np.inf:
            size = block_queue_set(blocks.heap_t, blocks.heap_s, blocks.where, size, a, t_meet)
        a = b
    blocks.counters[SIZE] = size
    return blocks


@jit(depends_on=DEPENDS_ON)
def run_general(
    masses: Masses, blocks: Blocks, samples: Samples, run_to_final: bool, budget: int, log: EventChunk, record: bool
) -> Advance:
    """Advance the run through at most ``budget`` (>= 1) events, up to max(``samples.t``) (or to the
    end with ``run_to_final``), writing events to ``log`` if ``record`` until its buffers are full.

    Output time t_k is written once every event with time <= t_k has been processed (right
    derivatives). Event rows: time, kind (cross, stick, merge), and the smallest 1-based x- and
    y-index in the cluster (0 if it has none of that species)."""
    P = blocks.end.shape[0]
    Nx = masses.Nx
    M_before = masses.M_before
    N_before = masses.N_before
    C = M_before[M_before.shape[0] - 1] - N_before[N_before.shape[0] - 1]
    tol_pos = masses.tol_pos
    tol_mass = masses.tol_mass
    particle_at = blocks.particle_at
    end = blocks.end
    start = blocks.start
    x_before = blocks.x_before
    motion = blocks.motion
    heap_t = blocks.heap_t
    heap_s = blocks.heap_s
    where = blocks.where
    counters = blocks.counters
    size = counters[SIZE]
    k = counters[NEXT_OUTPUT]
    n_cross = counters[N_CROSS]
    n_stick = counters[N_STICK]
    n_merge = counters[N_MERGE]
    nt = samples.t.shape[0]
    t_now = blocks.t_now[0]
    log_t = log.t
    log_kind = log.kind
    log_i = log.i
    log_j = log.j
    capacity = log_t.shape[0]
    rows = 0
    done = 0
    finished = False
    while True:
        if size == 0:
            finished = True
            break
        t_next = max(heap_t[1], t_now)
        while k < nt and samples.t[k] < t_next:
            _emit(masses, blocks, samples, k)
            k += 1
        if k == nt and not run_to_final:
            finished = True
            break
        if done == budget or (record and rows == capacity):
            break
        a = heap_s[1]
        where[a] = 0  # the root's entry is consumed; its node is reused or dropped below
        root_free = True
        t_now = t_next
        b = end[a]
        z = 0.5 * (_at(motion, a, t_now) + _at(motion, b, t_now))
        lo = a
        z_left = 0.0  # position of the block left of the cluster
        while lo > 0:
            z_left = _at(motion, start[lo - 1], t_now)
            if abs(z_left - z) > tol_pos:
                break
            lo = start[lo - 1]
        hi = end[b]
        z_right = 0.0  # position of the block right of the cluster
        while hi < P:
            z_right = _at(motion, hi, t_now)
            if abs(z_right - z) > tol_pos:
                break
            hi = end[hi]
        i_lo = x_before[lo]
        i_hi = x_before[hi] if hi < P else Nx
        first_x = i_lo if i_hi > i_lo else -1
        first_y = lo - i_lo if hi - lo > i_hi - i_lo else -1
        if lo == a and hi == a + 2 and b == a + 1 and i_hi - i_lo == 1:  # rule 1: x_{i+1}, y_{j+1}
            i = i_lo
            j = a - i
            left = particle_at[a]
            if left < Nx:  # swapped, y_{j+1} is left of x_{i+1}
                v_left, err_left = _velocity(M_before[i], M_before[i], N_before[j], N_before[j + 1], C, tol_mass)
                v_right, err_right = _velocity(M_before[i], M_before[i + 1], N_before[j + 1], N_before[j + 1], C, tol_mass)
            else:
                v_left, err_left = _velocity(M_before[i], M_before[i + 1], N_before[j], N_before[j], C, tol_mass)
                v_right, err_right = _velocity(M_before[i + 1], M_before[i + 1], N_before[j], N_before[j + 1], C, tol_mass)
            if v_right - v_left > err_left + err_right:
                kind = KIND_CROSS
                n_cross += 1
                particle_at[a] = particle_at[b]
                particle_at[b] = left
                _set_block(end, start, x_before, motion, a, b, i, z, t_now, v_left, err_left)
                _set_block(end, start, x_before, motion, b, b + 1, i + (left >= Nx), z, t_now, v_right, err_right)
            else:
                kind = KIND_STICK
                n_stick += 1
                v, err = _velocity(M_before[i], M_before[i + 1], N_before[j], N_before[j + 1], C, tol_mass)
                _set_block(end, start, x_before, motion, a, hi, i, z, t_now, v, err)
                if where[b] != 0:
                    size = block_queue_remove(heap_t, heap_s, where, size, b)
        elif lo == a and hi == end[b] and _sticks(masses, blocks, a, b, hi, z, t_now):  # rule 2
            kind = KIND_STICK
            n_stick += 1
            if where[b] != 0:
                size = block_queue_remove(heap_t, heap_s, where, size, b)
        else:  # rule 3
            c = lo
            while c < hi:
                if where[c] != 0:
                    size = block_queue_remove(heap_t, heap_s, where, size, c)
                c = end[c]
            n_blocks, Kx, Ky = _resolve(masses, blocks, lo, hi, z, t_now)
            if n_blocks == 1:
                kind = KIND_STICK
                n_stick += 1
            elif Kx == 1 and Ky == 1:
                kind = KIND_CROSS
                n_cross += 1
            else:
                kind = KIND_MERGE
                n_merge += 1
        for side in range(2):  # the entries of the blocks left of the cluster and last in it
            if side == 0:
                if lo == 0:
                    continue
                c = start[lo - 1]
                t_meet = _meeting(motion, c, lo, z - z_left, t_now)
            else:
                if hi == P:
                    continue
                c = start[hi - 1]
                t_meet = _meeting(motion, c, hi, z_right - z, t_now)
            if t_meet == np.inf:
                if where[c] != 0:
                    size = block_queue_remove(heap_t, heap_s, where, size, c)
            elif root_free and where[c] == 0:
                block_queue_replace_root(heap_t, heap_s, where, size, c, t_meet)
                root_free = False
            else:
                size = block_queue_set(heap_t, heap_s, where, size, c, t_meet)
        if root_free:
            size = block_queue_pop_root(heap_t, heap_s, where, size)
        done += 1
        if record:
            log_t[rows] = t_now
            log_kind[rows] = kind
            log_i[rows] = first_x + 1
            log_j[rows] = first_y + 1
            rows += 1
    if finished:
        while k < nt:
            _emit(masses, blocks, samples, k)
            k += 1
    counters[SIZE] = size
    counters[NEXT_OUTPUT] = k
    counters[N_CROSS] = n_cross
    counters[N_STICK] = n_stick
    counters[N_MERGE] = n_merge
    blocks.t_now[0] = t_now
    return Advance(rows, n_cross + n_stick + n_merge, t_now, finished)
