"""Compiled core of the event-driven engine for equal masses 1/N.

Particles are numbered p = 0..2N-1: p < N is x_{p+1}, p >= N is y_{p-N+1}. The state is a kinetic
sorted list indexed by slot s of the merged left-to-right order: ``ids[s] = (particle, rank)`` and
``state[s] = (reference position, reference time, velocity)``, so the particle in slot s is at
``state[s, POS] + state[s, VEL] (t - state[s, T])``. The velocity is ``(2 (idx - rank) - 1) / N``
(rank = number of opposite-species particles before it), recomputed from the integer rank at every
crossing, or 0 once stuck; a moving particle's velocity is an odd multiple of 1/N, so "stuck" is
exactly "velocity == 0". A crossing swaps two neighbouring slots.

Candidate meetings of adjacent approaching opposite pairs live in a binary min-heap of rows
(time, left slot). Two adjacent opposite pairs sharing a particle are never both approaching (it
would need idx(prev) >= idx(a) >= idx(b) for same-species prev before b), so no heap entry ever
goes stale and its slots keep their particles until it is popped: a crossing in slots (s, s+1) only
creates the new adjacent pairs (s-1, s) and (s+1, s+2), and a stick creates no approaching pair
(next to a stuck pair k the left neighbour moves with velocity <= -1/N, the right one >= 1/N).
"""

from __future__ import annotations

import numba
import numpy as np

KIND_CROSS = 0
KIND_STICK = 1
POS = 0
T = 1
VEL = 2
PID = 0
RANK = 1


@numba.njit(cache=True)
def _heap_push(heap: np.ndarray, size: int, t: float, s: int) -> int:
    """Insert the entry (time t, slot s); return the new size."""
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if heap[parent, 0] <= t:
            break
        heap[i, 0] = heap[parent, 0]
        heap[i, 1] = heap[parent, 1]
        i = parent
    heap[i, 0] = t
    heap[i, 1] = s
    heap[size + 1, 0] = np.inf
    return size + 1


@numba.njit(cache=True)
def _heap_replace_top(heap: np.ndarray, size: int, t: float, s: int) -> None:
    """Replace the root by (t, s): move the hole down to a leaf along smaller children, then sift up.

    Needs the sentinel heap[size, 0] = +inf."""
    i = 0
    c = 1
    while c < size:
        c += heap[c + 1, 0] < heap[c, 0]
        heap[i, 0] = heap[c, 0]
        heap[i, 1] = heap[c, 1]
        i = c
        c = 2 * i + 1
    while i > 0:
        parent = (i - 1) >> 1
        if heap[parent, 0] <= t:
            break
        heap[i, 0] = heap[parent, 0]
        heap[i, 1] = heap[parent, 1]
        i = parent
    heap[i, 0] = t
    heap[i, 1] = s


@numba.njit(cache=True)
def _heap_pop(heap: np.ndarray, size: int) -> int:
    """Remove the root; return the new size."""
    size -= 1
    t = heap[size, 0]
    heap[size, 0] = np.inf
    if size > 0:
        _heap_replace_top(heap, size, t, heap[size, 1])
    return size


@numba.njit(cache=True)
def _grow(a: np.ndarray, cap: int) -> np.ndarray:
    out = np.empty(cap, a.dtype)
    out[: a.shape[0]] = a
    return out


@numba.njit(cache=True)
def _position(state: np.ndarray, s: int, t: float) -> float:
    return state[s, POS] + state[s, VEL] * (t - state[s, T])


@numba.njit(cache=True)
def _meeting_time(s: int, t_now: float, N: int, state: np.ndarray, ids: np.ndarray) -> float:
    """Meeting time of the particles in slots s, s+1, or -1.0 if they do not approach.

    An opposite pair of moving particles approaches iff d = idx(left) - idx(right) >= 0; its
    relative speed is (4 d + 2) / N.
    """
    left = ids[s, PID]
    right = ids[s + 1, PID]
    if (left < N) == (right < N) or state[s, VEL] == 0.0 or state[s + 1, VEL] == 0.0:
        return -1.0
    d = left - right + N if left < N else left - right - N
    if d < 0:
        return -1.0
    gap = _position(state, s + 1, t_now) - _position(state, s, t_now)
    return t_now + max(gap, 0.0) * N / (4 * d + 2)


@numba.njit(cache=True)
def _emit(
    k: int,
    t: float,
    N: int,
    state: np.ndarray,
    ids: np.ndarray,
    out_x: np.ndarray,
    out_y: np.ndarray,
    out_vx: np.ndarray,
    out_vy: np.ndarray,
) -> None:
    for s in range(2 * N):
        p = ids[s, PID]
        if p < N:
            out_x[k, p] = _position(state, s, t)
            out_vx[k, p] = state[s, VEL]
        else:
            out_y[k, p - N] = _position(state, s, t)
            out_vy[k, p - N] = state[s, VEL]


@numba.njit(cache=True)
def run_events(
    N: int,
    particle_at: np.ndarray,
    rank: np.ndarray,
    stuck: np.ndarray,
    pos0: np.ndarray,
    t_out: np.ndarray,
    record_events: bool,
    run_to_final: bool,
):
    """Advance from the resolved t = 0 state through all events up to max(t_out) (or to the end).

    Output time t_k is written once every event with time <= t_k has been processed, so the
    recorded velocities are right derivatives. Returns (x, y, vx, vy, event_t, event_kind,
    event_i, event_j, n_cross, n_stick, t_last_event).
    """
    n2 = 2 * N
    state = np.zeros((n2, 3))
    ids = np.empty((n2, 2), np.int64)
    for s in range(n2):
        p = particle_at[s]
        ids[s, PID] = p
        ids[s, RANK] = rank[p]
        state[s, POS] = pos0[p]
        if not stuck[p]:
            state[s, VEL] = (2 * (p % N + 1 - rank[p]) - 1) / N

    heap = np.full((N + 3, 2), np.inf)  # rows (meeting time, left slot), +inf beyond the end
    size = 0
    for s in range(n2 - 1):
        t_meet = _meeting_time(s, 0.0, N, state, ids)
        if t_meet >= 0.0:
            size = _heap_push(heap, size, t_meet, s)

    nt = t_out.shape[0]
    out_x = np.empty((nt, N))
    out_y = np.empty((nt, N))
    out_vx = np.empty((nt, N))
    out_vy = np.empty((nt, N))

    cap = 1024 if record_events else 0
    ev_t = np.empty(cap)
    ev_kind = np.empty(cap, np.int8)
    ev_i = np.empty(cap, np.int64)
    ev_j = np.empty(cap, np.int64)

    n_cross = 0
    n_stick = 0
    t_now = 0.0
    k = 0
    while size > 0:
        t_next = max(heap[0, 0], t_now)
        while k < nt and t_out[k] < t_next:
            _emit(k, t_out[k], N, state, ids, out_x, out_y, out_vx, out_vy)
            k += 1
        if k == nt and not run_to_final:
            break
        s = int(heap[0, 1])
        t_now = t_next
        meet = 0.5 * (_position(state, s, t_now) + _position(state, s + 1, t_now))
        a = ids[s, PID]
        b = ids[s + 1, PID]
        ia = a + 1 if a < N else a - N + 1
        ib = b + 1 if b < N else b - N + 1
        if ia == ib:
            kind = KIND_STICK
            n_stick += 1
            va = 0.0
            vb = 0.0
        else:
            kind = KIND_CROSS
            n_cross += 1
            ra = ids[s, RANK] + 1
            rb = ids[s + 1, RANK] - 1
            va = (2 * (ia - ra) - 1) / N
            vb = (2 * (ib - rb) - 1) / N
            ids[s, PID] = b
            ids[s, RANK] = rb
            ids[s + 1, PID] = a
            ids[s + 1, RANK] = ra
        state[s, POS] = meet
        state[s + 1, POS] = meet
        state[s, T] = t_now
        state[s + 1, T] = t_now
        state[s, VEL] = vb if kind == KIND_CROSS else va
        state[s + 1, VEL] = va if kind == KIND_CROSS else vb
        root_replaced = False
        if kind == KIND_CROSS:
            for s_new in (s - 1, s + 1):
                if 0 <= s_new < n2 - 1:
                    t_meet = _meeting_time(s_new, t_now, N, state, ids)
                    if t_meet >= 0.0 and root_replaced:
                        size = _heap_push(heap, size, t_meet, s_new)
                    elif t_meet >= 0.0:
                        _heap_replace_top(heap, size, t_meet, s_new)
                        root_replaced = True
        if not root_replaced:
            size = _heap_pop(heap, size)
        if record_events:
            n_ev = n_cross + n_stick
            if n_ev > cap:
                cap *= 2
                ev_t = _grow(ev_t, cap)
                ev_kind = _grow(ev_kind, cap)
                ev_i = _grow(ev_i, cap)
                ev_j = _grow(ev_j, cap)
            ev_t[n_ev - 1] = t_now
            ev_kind[n_ev - 1] = kind
            ev_i[n_ev - 1] = ia if a < N else ib
            ev_j[n_ev - 1] = ib if a < N else ia
    while k < nt:
        _emit(k, t_out[k], N, state, ids, out_x, out_y, out_vx, out_vy)
        k += 1
    n_ev = n_cross + n_stick if record_events else 0
    return (
        out_x,
        out_y,
        out_vx,
        out_vy,
        ev_t[:n_ev].copy(),
        ev_kind[:n_ev].copy(),
        ev_i[:n_ev].copy(),
        ev_j[:n_ev].copy(),
        n_cross,
        n_stick,
        t_now,
    )
