"""Compiled core of the event-driven engine for equal masses 1/N.

Particles are numbered p = 0..2N-1: p < N is x_{p+1}, p >= N is y_{p-N+1}. The state is a kinetic
sorted list indexed by slot s of the merged left-to-right order: ``xt[s] = (reference position,
reference time)`` and ``code[s] = (particle, q)`` with the integer ``q = 2 (idx - rank) - 1``
(rank = number of opposite-species particles before it) for a moving particle and ``q = 0`` once it
is stuck. The particle in slot s has velocity ``q / N`` and is at ``xt[s, POS] + q / N (t - xt[s, T])``.
A moving particle's q is odd, so "stuck" is exactly "q == 0"; a crossing moves the left particle's
rank up by one and the right one's down by one, i.e. q -= 2 and q += 2, and swaps the two slots.
Velocities are computed from the exact integer q each time (bit for bit the rank formula).

Candidate meetings of adjacent approaching opposite pairs live in a binary min-heap of (time, left
slot), stored as two arrays ``heap_t`` (float64) and ``heap_s`` (int32), 1-based (root at 1,
children 2i and 2i + 1, so siblings share an aligned 16-byte pair) with the sentinel
``heap_t[size + 1] = +inf``. The slot state (24 bytes per slot) plus the heap (12 bytes per entry)
stay within a 1 MiB L2 cache up to N ~ 16000, which is what keeps the event rate from dropping with N.
Two adjacent opposite pairs sharing a particle are never both approaching (it would need
idx(prev) >= idx(a) >= idx(b) for same-species prev before b), so no heap entry ever goes stale and
its slots keep their particles until it is popped: a crossing in slots (s, s+1) only creates the new
adjacent pairs (s-1, s) and (s+1, s+2), whose inner particles' data are already in registers, and a
stick creates no approaching pair (next to a stuck pair k the left neighbour moves with velocity
<= -1/N, the right one >= 1/N).

The queue functions (``solvers.particles._queue``) are also used by the general engine
``solvers.particles._general_kernels``, with an int64 payload (an entry id instead of a slot); numba
compiles one specialisation per payload dtype, so this engine keeps its int32 one.
"""

from __future__ import annotations

import numpy as np

from solvers._jit import jit
from solvers.particles import _queue
from solvers.particles._queue import queue_pop, queue_push, queue_replace_top

KIND_CROSS = 0
KIND_STICK = 1
POS = 0
T = 1
PID = 0
Q = 1


@jit
def _grow(a: np.ndarray, cap: int) -> np.ndarray:
    out = np.empty(cap, a.dtype)
    out[: a.shape[0]] = a
    return out


@jit
def _new_event_log(record: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Empty event log (times, kinds, x-index, y-index); capacity 0 when nothing is recorded."""
    cap = 1024 if record else 0
    return np.empty(cap), np.empty(cap, np.int8), np.empty(cap, np.int64), np.empty(cap, np.int64)


@jit
def _log_event(
    log: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], n: int, t: float, kind: int, i: int, j: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Write event number n (0-based) into the log, doubling its capacity when full."""
    ev_t, ev_kind, ev_i, ev_j = log
    if n >= ev_t.shape[0]:
        cap = 2 * ev_t.shape[0]
        ev_t, ev_kind, ev_i, ev_j = _grow(ev_t, cap), _grow(ev_kind, cap), _grow(ev_i, cap), _grow(ev_j, cap)
    ev_t[n] = t
    ev_kind[n] = kind
    ev_i[n] = i
    ev_j[n] = j
    return ev_t, ev_kind, ev_i, ev_j


@jit
def _position(xt: np.ndarray, code: np.ndarray, s: int, t: float, N: int) -> float:
    return xt[s, POS] + code[s, Q] / N * (t - xt[s, T])


@jit
def _closing_rate(left: int, q_left: int, right: int, q_right: int, N: int) -> int:
    """N times the closing speed, (4 d + 2) with d = idx(left) - idx(right), or 0 if no approach.

    An adjacent pair (left, right) approaches iff the species differ, both move and d >= 0."""
    if (left < N) == (right < N) or q_left == 0 or q_right == 0:
        return 0
    d = left - right + N if left < N else left - right - N
    if d < 0:
        return 0
    return 4 * d + 2


@jit
def _meeting_time(gap: float, rate: int, t_now: float, N: int) -> float:
    """Meeting time of an approaching pair at distance ``gap`` (clipped at 0) at time t_now."""
    return t_now + max(gap, 0.0) * N / rate


@jit
def _emit(
    k: int,
    t: float,
    N: int,
    xt: np.ndarray,
    code: np.ndarray,
    out_x: np.ndarray,
    out_y: np.ndarray,
    out_vx: np.ndarray,
    out_vy: np.ndarray,
) -> None:
    for s in range(2 * N):
        p = code[s, PID]
        if p < N:
            out_x[k, p] = _position(xt, code, s, t, N)
            out_vx[k, p] = code[s, Q] / N
        else:
            out_y[k, p - N] = _position(xt, code, s, t, N)
            out_vy[k, p - N] = code[s, Q] / N


@jit(depends_on=(_queue,))
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
    event_i, event_j, n_cross, n_stick, t_last_event). Slots, particle ids and q are int32 (N < 2^30).
    """
    n2 = 2 * N
    xt = np.zeros((n2, 2))
    code = np.zeros((n2, 2), np.int32)
    for s in range(n2):
        p = particle_at[s]
        code[s, PID] = p
        xt[s, POS] = pos0[p]
        if not stuck[p]:
            code[s, Q] = 2 * (p % N + 1 - rank[p]) - 1

    heap_t = np.full(N + 4, np.inf)
    heap_s = np.zeros(N + 4, np.int32)
    size = 0
    for s in range(n2 - 1):
        rate = _closing_rate(code[s, PID], code[s, Q], code[s + 1, PID], code[s + 1, Q], N)
        if rate != 0:
            size = queue_push(heap_t, heap_s, size, _meeting_time(xt[s + 1, POS] - xt[s, POS], rate, 0.0, N), s)

    nt = t_out.shape[0]
    out_x = np.empty((nt, N))
    out_y = np.empty((nt, N))
    out_vx = np.empty((nt, N))
    out_vy = np.empty((nt, N))

    log = _new_event_log(record_events)

    n_cross = 0
    n_stick = 0
    t_now = 0.0
    k = 0
    while size > 0:
        t_next = max(heap_t[1], t_now)
        while k < nt and t_out[k] < t_next:
            _emit(k, t_out[k], N, xt, code, out_x, out_y, out_vx, out_vy)
            k += 1
        if k == nt and not run_to_final:
            break
        s = heap_s[1]
        t_now = t_next
        meet = 0.5 * (_position(xt, code, s, t_now, N) + _position(xt, code, s + 1, t_now, N))
        a = code[s, PID]
        b = code[s + 1, PID]
        ia = a + 1 if a < N else a - N + 1
        ib = b + 1 if b < N else b - N + 1
        xt[s, POS] = meet
        xt[s + 1, POS] = meet
        xt[s, T] = t_now
        xt[s + 1, T] = t_now
        root_replaced = False
        if ia == ib:
            kind = KIND_STICK
            n_stick += 1
            code[s, Q] = 0
            code[s + 1, Q] = 0
        else:
            kind = KIND_CROSS
            n_cross += 1
            qa = code[s, Q] - 2
            qb = code[s + 1, Q] + 2
            code[s, PID] = b
            code[s, Q] = qb
            code[s + 1, PID] = a
            code[s + 1, Q] = qa
            if s > 0:
                rate = _closing_rate(code[s - 1, PID], code[s - 1, Q], b, qb, N)
                if rate != 0:
                    t_meet = _meeting_time(meet - _position(xt, code, s - 1, t_now, N), rate, t_now, N)
                    queue_replace_top(heap_t, heap_s, size, t_meet, s - 1)
                    root_replaced = True
            if s + 2 < n2:
                rate = _closing_rate(a, qa, code[s + 2, PID], code[s + 2, Q], N)
                if rate != 0:
                    t_meet = _meeting_time(_position(xt, code, s + 2, t_now, N) - meet, rate, t_now, N)
                    if root_replaced:
                        size = queue_push(heap_t, heap_s, size, t_meet, s + 1)
                    else:
                        queue_replace_top(heap_t, heap_s, size, t_meet, s + 1)
                        root_replaced = True
        if not root_replaced:
            size = queue_pop(heap_t, heap_s, size)
        if record_events:
            log = _log_event(log, n_cross + n_stick - 1, t_now, kind, ia if a < N else ib, ib if a < N else ia)
    while k < nt:
        _emit(k, t_out[k], N, xt, code, out_x, out_y, out_vx, out_vy)
        k += 1
    n_ev = n_cross + n_stick if record_events else 0
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
        t_now,
    )
