"""Compiled core of the event-driven engine for equal masses 1/N.

Particles are numbered p = 0..2N-1: p < N is x_{p+1}, p >= N is y_{p-N+1}. The state is a kinetic
sorted list indexed by slot s of the merged left-to-right order, one 32-byte record per slot
(``rec[s]``: reference position, reference time, and the calendar's key; in its int32 view the
particle's code and the calendar's link). The code is p for a moving particle and ~p (< 0) once it
is stuck. A moving particle's velocity is ``q / N`` with the integer ``q = 2 (idx - rank) - 1``
(rank = number of opposite-species particles before it); particles of one species never overtake
each other, so rank = s - (idx - 1) and q = 4 (p mod N) - 2 s + 1 follows from the slot: a crossing
only swaps two codes. The particle in slot s is at ``rec[s, POS] + q / N (t - rec[s, TREF])``;
velocities are computed from the exact integer q each time (bit for bit the rank formula).

Candidate meetings of adjacent approaching opposite pairs (time, left slot) live in an event
calendar (``solvers.particles._calendar``: O(1) expected per event, exact order, ties in any order).
Two adjacent opposite pairs sharing a particle are never both approaching (it would need
idx(prev) >= idx(a) >= idx(b) for same-species prev before b), so no entry ever goes stale and its
slots keep their particles until it is taken: a crossing in slots (s, s+1) only creates the new
adjacent pairs (s-1, s) and (s+1, s+2), and a stick creates no approaching pair (next to a stuck
pair k the left neighbour moves with velocity <= -1/N, the right one >= 1/N). The records of a
slot and of its pending meeting share cache lines: at N = 100000 the working set (6.4 MB of
records) is beyond L2, and this layout (instead of separate position, code and heap arrays, and a
binary heap whose deep levels miss the cache at every event) is what keeps the event rate up.

``run_events`` is resumable (``solvers.particles.events``): the whole state lives in a ``RankState``
of arrays between calls (``initial_state`` makes it); each call processes at most ``budget`` events,
stops when the log's chunk buffers are full, and returns an ``Advance``; ``engine.run_rank`` drives it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from solvers._jit import jit
from solvers.particles import _calendar, _queue
from solvers.particles._calendar import (
    BASE,
    CUR,
    DEPTH,
    HEAP_MAX,
    HSIZE,
    INV_W,
    KEY,
    LINK,
    OVF_N,
    R_BASE,
    R_COUNT,
    R_CUR,
    R_INV_W,
    R_OVF,
    RING_N,
    TIE_HEAD,
    TIE_N,
    TIE_T,
    Calendar,
    defer,
    extent,
    new_calendar,
    open_rung,
    spread_overflow,
    to_heap,
)
from solvers.particles._queue import queue_pop, queue_push
from solvers.particles.events import Advance, EventChunk, Samples

DEPENDS_ON = (_calendar, _queue)
"""Modules whose jitted functions these kernels use (``solvers._jit.jit``)."""

KIND_CROSS = 0
KIND_STICK = 1
POS, TREF = range(2)
"""Float64 columns of the slot records ``RankState.rec`` (column ``_calendar.KEY`` is the calendar's)."""
PID = 6
"""Int32 column of ``RankState.rec.view(np.int32)`` holding the particle's code (``_calendar.LINK``
is the calendar's)."""
NEXT_OUTPUT, N_CROSS, N_STICK = range(3)
"""Entries of ``RankState.counters``: next output index, event counts by kind."""


class RankState(NamedTuple):
    """The state of a run between calls of ``run_events``: the slot records ``rec``, the calendar
    ``cal`` of pending meetings, the ``counters`` and the time of the last event ``t_now[0]``."""

    rec: np.ndarray
    cal: Calendar
    counters: np.ndarray
    t_now: np.ndarray


@jit(depends_on=DEPENDS_ON)
def _q(code: int, s: int, N: int) -> int:
    """q of the particle with code ``code`` in slot s: 0 if stuck, else 2 (idx - rank) - 1 with
    rank = s - (idx - 1), the slots before it less its own species' (which never overtake it)."""
    if code < 0:
        return 0
    return 4 * (code % N) - 2 * s + 1


@jit(depends_on=DEPENDS_ON)
def _position(rec: np.ndarray, q: int, s: int, t: float, N: int) -> float:
    return rec[s, POS] + q / N * (t - rec[s, TREF])


@jit(depends_on=DEPENDS_ON)
def _closing_rate(left: int, right: int, N: int) -> int:
    """N times the closing speed of the adjacent codes (left, right), (4 d + 2) with d = idx(left) -
    idx(right), or 0 if they do not approach: an adjacent pair approaches iff the species differ,
    both move and d >= 0."""
    if left < 0 or right < 0 or (left < N) == (right < N):
        return 0
    d = left - right + N if left < N else left - right - N
    if d < 0:
        return 0
    return 4 * d + 2


@jit(depends_on=DEPENDS_ON)
def _meeting_time(gap: float, rate: int, t_now: float, N: int) -> float:
    """Meeting time of an approaching pair at distance ``gap`` (clipped at 0) at time t_now."""
    return t_now + max(gap, 0.0) * N / rate


@jit(depends_on=DEPENDS_ON)
def _emit(k: int, t: float, N: int, rec: np.ndarray, recI: np.ndarray, samples: Samples) -> None:
    for s in range(2 * N):
        code = recI[s, PID]
        q = _q(code, s, N)
        p = code if code >= 0 else ~code
        if p < N:
            samples.x[k, p] = _position(rec, q, s, t, N)
            samples.vx[k, p] = q / N
        else:
            samples.y[k, p - N] = _position(rec, q, s, t, N)
            samples.vy[k, p - N] = q / N


@jit(depends_on=DEPENDS_ON)
def initial_state(N: int, particle_at: np.ndarray, rank: np.ndarray, stuck: np.ndarray, pos0: np.ndarray) -> RankState:
    """The state right after t = 0 (``engine.resolve_initial_order``) with every approaching pair's
    meeting filed in the calendar. ``rank`` is implied by the order (``_q``); it is checked."""
    n2 = 2 * N
    rec = np.zeros((n2, 4))
    recI = rec.view(np.int32)
    for s in range(n2):
        p = particle_at[s]
        recI[s, PID] = ~p if stuck[p] else p
        rec[s, POS] = pos0[p]
        if not stuck[p] and _q(p, s, N) != 2 * (p % N + 1 - rank[p]) - 1:
            raise ValueError("rank is not the number of opposite-species particles before the particle")
    cal = new_calendar(N)
    for s in range(n2 - 1):
        rate = _closing_rate(recI[s, PID], recI[s + 1, PID], N)
        if rate != 0:
            defer(cal, _meeting_time(rec[s + 1, POS] - rec[s, POS], rate, 0.0, N), s)
    return RankState(rec, cal, np.zeros(3, np.int64), np.zeros(1))


@jit(depends_on=DEPENDS_ON)
def run_events(state: RankState, samples: Samples, run_to_final: bool, budget: int, log: EventChunk, record: bool) -> Advance:
    """Advance the run through at most ``budget`` (>= 1) events, up to max(``samples.t``) (or to the
    end with ``run_to_final``), writing events to ``log`` if ``record`` until its buffers are full.

    Output time t_k is written once every event with time <= t_k has been processed, so the
    recorded velocities are right derivatives. Event rows: time, kind (cross, stick), 1-based x- and
    y-index. Slots and particle codes are int32 (N < 2^29)."""
    rec = state.rec
    recI = rec.view(np.int32)
    cal = state.cal
    counters = state.counters
    n2 = rec.shape[0]
    N = n2 // 2
    head = cal.head
    B = head.shape[0]
    ovf_t = cal.ovf_t
    ovf_s = cal.ovf_s
    rung_head = cal.rung_head
    rung_int = cal.rung_int
    rung_flt = cal.rung_flt
    heap_t = cal.heap_t
    heap_s = cal.heap_s
    hsize = cal.ints[HSIZE]
    cur = cal.ints[CUR]
    ring_n = cal.ints[RING_N]
    ovf_n = cal.ints[OVF_N]
    depth = cal.ints[DEPTH]
    tie_n = cal.ints[TIE_N]
    tie_head = cal.ints[TIE_HEAD]
    tie_t = cal.flts[TIE_T]
    base = cal.flts[BASE]
    inv_w = cal.flts[INV_W]
    k = counters[NEXT_OUTPUT]
    n_cross = counters[N_CROSS]
    n_stick = counters[N_STICK]
    t_now = state.t_now[0]
    t_out = samples.t
    nt = t_out.shape[0]
    log_t = log.t
    log_kind = log.kind
    log_i = log.i
    log_j = log.j
    capacity = log_t.shape[0]
    rows = 0
    done = 0
    finished = False
    while True:
        while hsize == 0 and tie_n == 0:  # next bucket: of the deepest rung, else of the ring
            if depth > 0:
                d = depth - 1
                bucket = rung_int[d, R_CUR] + 1
                if bucket < rung_int[d, R_COUNT]:
                    rung_int[d, R_CUR] = bucket
                    s = rung_head[d, bucket]
                    if s < 0:
                        continue
                    rung_head[d, bucket] = -1
                else:  # the rung is used up: what is left is its overflow
                    depth -= 1
                    s = rung_int[d, R_OVF]
                    if s < 0:
                        continue
                n, t_min, t_max = extent(rec, recI, s)
            else:
                if ring_n == 0:
                    if ovf_n == 0:
                        break
                    ring_n = ovf_n
                    base, inv_w, ovf_n = spread_overflow(cal, rec, recI, ovf_n)
                    ring_n -= ovf_n
                    cur = -1
                cur += 1
                s = head[cur]
                if s < 0:
                    continue
                head[cur] = -1
                n, t_min, t_max = extent(rec, recI, s)
                ring_n -= n
            if n <= HEAP_MAX:
                hsize = to_heap(cal, rec, recI, s, hsize)
            elif t_min == t_max:
                tie_head = s
                tie_n = n
                tie_t = t_min
            elif open_rung(cal, rec, recI, depth, s, n, t_min, t_max):
                depth += 1
            else:
                hsize = to_heap(cal, rec, recI, s, hsize)
        if hsize == 0 and tie_n == 0:
            finished = True
            break
        from_tie = tie_n > 0 and (hsize == 0 or tie_t <= heap_t[1])
        t_next = max(tie_t if from_tie else heap_t[1], t_now)
        while k < nt and t_out[k] < t_next:
            _emit(k, t_out[k], N, rec, recI, samples)
            k += 1
        if k == nt and not run_to_final:
            finished = True
            break
        if done == budget or (record and rows == capacity):
            break
        if from_tie:
            s = tie_head
            tie_head = recI[s, LINK]
            tie_n -= 1
        else:
            s = heap_s[1]
            hsize = queue_pop(heap_t, heap_s, hsize)
        t_now = t_next
        a = recI[s, PID]
        b = recI[s + 1, PID]
        qa = 4 * (a % N) - 2 * s + 1  # _q of the two moving particles
        qb = 4 * (b % N) - 2 * s - 1
        meet = 0.5 * (_position(rec, qa, s, t_now, N) + _position(rec, qb, s + 1, t_now, N))
        ia = a + 1 if a < N else a - N + 1
        ib = b + 1 if b < N else b - N + 1
        rec[s, POS] = meet
        rec[s + 1, POS] = meet
        rec[s, TREF] = t_now
        rec[s + 1, TREF] = t_now
        if ia == ib:
            kind = KIND_STICK
            n_stick += 1
            recI[s, PID] = ~a
            recI[s + 1, PID] = ~b
        else:
            kind = KIND_CROSS
            n_cross += 1
            recI[s, PID] = b
            recI[s + 1, PID] = a
            for side in range(2):  # file the meetings of the new pairs (s - 1, s) and (s + 1, s + 2)
                if side == 0:
                    if s == 0:
                        continue
                    c = recI[s - 1, PID]
                    rate = _closing_rate(c, b, N)
                    if rate == 0:
                        continue
                    t_meet = _meeting_time(meet - _position(rec, _q(c, s - 1, N), s - 1, t_now, N), rate, t_now, N)
                    node = s - 1
                else:
                    if s + 2 == n2:
                        continue
                    c = recI[s + 2, PID]
                    rate = _closing_rate(a, c, N)
                    if rate == 0:
                        continue
                    t_meet = _meeting_time(_position(rec, _q(c, s + 2, N), s + 2, t_now, N) - meet, rate, t_now, N)
                    node = s + 1
                bf = (t_meet - base) * inv_w
                if bf >= cur + 1:  # the ring or the overflow
                    if bf < B:
                        bucket = int(bf)
                        rec[node, KEY] = t_meet
                        recI[node, LINK] = head[bucket]
                        head[bucket] = node
                        ring_n += 1
                    else:
                        ovf_t[ovf_n] = t_meet
                        ovf_s[ovf_n] = node
                        ovf_n += 1
                    continue
                d = 0  # the current bucket: the first rung whose current bucket does not hold it
                while d < depth:
                    bf = (t_meet - rung_flt[d, R_BASE]) * rung_flt[d, R_INV_W]
                    if bf >= rung_int[d, R_CUR] + 1:
                        rec[node, KEY] = t_meet
                        if bf < rung_int[d, R_COUNT]:
                            bucket = int(bf)
                            recI[node, LINK] = rung_head[d, bucket]
                            rung_head[d, bucket] = node
                        else:
                            recI[node, LINK] = rung_int[d, R_OVF]
                            rung_int[d, R_OVF] = node
                        break
                    d += 1
                if d == depth:
                    hsize = queue_push(heap_t, heap_s, hsize, t_meet, node)
        done += 1
        if record:
            log_t[rows] = t_now
            log_kind[rows] = kind
            log_i[rows] = ia if a < N else ib
            log_j[rows] = ib if a < N else ia
            rows += 1
    if finished:
        while k < nt:
            _emit(k, t_out[k], N, rec, recI, samples)
            k += 1
    cal.ints[HSIZE] = hsize
    cal.ints[CUR] = cur
    cal.ints[RING_N] = ring_n
    cal.ints[OVF_N] = ovf_n
    cal.ints[DEPTH] = depth
    cal.ints[TIE_N] = tie_n
    cal.ints[TIE_HEAD] = tie_head
    cal.flts[TIE_T] = tie_t
    cal.flts[BASE] = base
    cal.flts[INV_W] = inv_w
    counters[NEXT_OUTPUT] = k
    counters[N_CROSS] = n_cross
    counters[N_STICK] = n_stick
    state.t_now[0] = t_now
    return Advance(rows, n_cross + n_stick, t_now, finished)
