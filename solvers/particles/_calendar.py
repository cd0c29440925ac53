"""Event calendar of the rank engine (``solvers.particles._kernels``): an exact priority queue of the
pending meeting times with O(1) expected cost per event, after G. Paul, J. Comput. Phys. 221 (2007),
with the rungs of a ladder queue for the bursts of (nearly) simultaneous meetings.

Entries are (time, node) with node = the left slot of a pending pair; at most one entry per node
and at most N entries, none ever stale (module docstring of ``_kernels``). The time and the list
link of a node filed in a bucket live in the caller's slot records, ``rec[node, KEY]`` and
``rec.view(np.int32)[node, LINK]``, so that filing an event touches the cache lines its slots use.

- The ring: ``head[b]`` is a linked list of the entries with ``floor((t - base) inv_w) == b``,
  for b in [0, B); bucket ``cur`` is being consumed. ``inv_w`` is chosen when the ring is refilled
  (``spread_overflow``) so that a bucket holds ``BUCKET_LOAD`` entries on average.
- The overflow: entries past the ring (b >= B), appended to two arrays and spread into a new ring
  (based at their earliest time) when the ring is used up.
- The current bucket: a bucket of at most ``HEAP_MAX`` entries goes into a binary heap
  (``solvers.particles._queue``); a bucket whose entries all have one time is a tie list consumed
  in any order; a larger bucket opens a rung, a finer ring of up to ``RUNG_BUCKETS`` buckets over
  [its earliest, its latest time] with its own overflow list, consumed bucket by bucket in the same
  way (up to ``MAX_RUNGS`` rungs deep, then a heap). Lattice configurations meet in bursts of
  thousands of meetings within a few ulps: rungs and tie lists keep those O(1) per event.
- A new entry goes where its time belongs: the ring (or the overflow) if it is past bucket ``cur``,
  else the outermost rung whose current bucket does not hold it, else the heap.

The smallest entry is the smaller of the heap's root and the tie list's time: the order is exact
(ties in any order). The scalars of the state are ``Calendar.ints`` and ``Calendar.flts`` between
kernel calls; the kernel (``_kernels.run_events``) keeps them in locals, takes and files entries
inline (the hot path) and moves on to the next bucket when the heap and the tie list are empty,
with the helpers here.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from solvers._jit import jit
from solvers.particles import _queue
from solvers.particles._queue import queue_push

BUCKET_LOAD = 1.0
"""Mean number of entries of a ring bucket right after a refill."""
RUNG_BUCKETS = 4096
MAX_RUNGS = 8
HEAP_MAX = 32
"""Buckets of at most this many entries are ordered by the heap."""
R_CUR, R_COUNT, R_OVF = range(3)
"""Columns of ``Calendar.rung_int``: current bucket, number of buckets, head of the overflow list."""
R_BASE, R_INV_W = range(2)
"""Columns of ``Calendar.rung_flt``."""
HSIZE, CUR, RING_N, OVF_N, DEPTH, TIE_N, TIE_HEAD = range(7)
"""Entries of ``Calendar.ints``: heap size, current ring bucket, entries in the ring, in the
overflow, number of open rungs, length and head of the tie list."""
KEY = 2
"""Float64 column of the caller's slot records holding the time of a filed entry."""
LINK = 7
"""Int32 column of the records' int32 view holding the next entry of a list (-1 ends it)."""
BASE, INV_W, TIE_T = range(3)
"""Entries of ``Calendar.flts``: ring base time, 1 / bucket width, time of the tie list."""


class Calendar(NamedTuple):
    """The queue's arrays (module docstring)."""

    head: np.ndarray
    ovf_t: np.ndarray
    ovf_s: np.ndarray
    rung_head: np.ndarray
    rung_int: np.ndarray
    rung_flt: np.ndarray
    heap_t: np.ndarray
    heap_s: np.ndarray
    ints: np.ndarray
    flts: np.ndarray


@jit(depends_on=(_queue,))
def new_calendar(capacity: int) -> Calendar:
    """An empty calendar for at most ``capacity`` entries (ring of >= capacity buckets)."""
    B = 1
    while B < capacity:
        B *= 2
    ints = np.zeros(7, np.int64)
    ints[CUR] = -1
    return Calendar(
        np.full(B, -1, np.int32),
        np.empty(capacity + 1),
        np.empty(capacity + 1, np.int32),
        np.full((MAX_RUNGS, RUNG_BUCKETS), -1, np.int32),
        np.zeros((MAX_RUNGS, 3), np.int64),
        np.zeros((MAX_RUNGS, 2)),
        np.full(capacity + 4, np.inf),
        np.zeros(capacity + 4, np.int32),
        ints,
        np.zeros(3),
    )


@jit(depends_on=(_queue,))
def defer(cal: Calendar, t: float, s: int) -> None:
    """File an entry in the overflow (before the first event)."""
    n = cal.ints[OVF_N]
    cal.ovf_t[n] = t
    cal.ovf_s[n] = s
    cal.ints[OVF_N] = n + 1


@jit(depends_on=(_queue,))
def spread_overflow(cal: Calendar, rec: np.ndarray, recI: np.ndarray, n: int) -> tuple[float, float, int]:
    """A new ring over the ``n`` overflow entries, based at the earliest; returns (base, inv_w,
    entries left in the overflow)."""
    head = cal.head
    B = head.shape[0]
    t_min = np.inf
    t_max = -np.inf
    for e in range(n):
        t = cal.ovf_t[e]
        t_min = min(t_min, t)
        t_max = max(t_max, t)
    w = BUCKET_LOAD * (t_max - t_min) / n
    if not (w > 0.0 and 1.0 / w < np.inf):  # one time only (or a subnormal width): any finite width
        w = max(abs(t_min) * 1e-12, 1e-290)
    inv_w = 1.0 / w
    left = 0
    for e in range(n):
        t = cal.ovf_t[e]
        s = cal.ovf_s[e]
        b = (t - t_min) * inv_w
        if b < B:
            ib = int(b)
            rec[s, KEY] = t
            recI[s, LINK] = head[ib]
            head[ib] = s
        else:
            cal.ovf_t[left] = t
            cal.ovf_s[left] = s
            left += 1
    return t_min, inv_w, left


@jit(depends_on=(_queue,))
def extent(rec: np.ndarray, recI: np.ndarray, s: int) -> tuple[int, float, float]:
    """Length, earliest and latest time of the list starting at ``s``."""
    n = 0
    t_min = np.inf
    t_max = -np.inf
    while s >= 0:
        t = rec[s, KEY]
        t_min = min(t_min, t)
        t_max = max(t_max, t)
        n += 1
        s = recI[s, LINK]
    return n, t_min, t_max


@jit(depends_on=(_queue,))
def to_heap(cal: Calendar, rec: np.ndarray, recI: np.ndarray, s: int, hsize: int) -> int:
    """Push the list at ``s`` into the heap of size ``hsize``; returns the new size."""
    while s >= 0:
        hsize = queue_push(cal.heap_t, cal.heap_s, hsize, rec[s, KEY], s)
        s = recI[s, LINK]
    return hsize


@jit(depends_on=(_queue,))
def open_rung(cal: Calendar, rec: np.ndarray, recI: np.ndarray, d: int, s: int, n: int, t_min: float, t_max: float) -> bool:
    """Spread the list at ``s`` (n > HEAP_MAX entries in [t_min < t_max]) over a new rung number d;
    False (nothing done) if d == MAX_RUNGS or the span is too small for a finite bucket width."""
    count = min(n, RUNG_BUCKETS)
    inv_w = count / (t_max - t_min) * (1.0 - 2.0**-40)  # the factor keeps t_max in the last bucket
    if d == MAX_RUNGS or not inv_w < np.inf:
        return False
    cal.rung_int[d, R_CUR] = -1
    cal.rung_int[d, R_COUNT] = count
    cal.rung_int[d, R_OVF] = -1
    cal.rung_flt[d, R_BASE] = t_min
    cal.rung_flt[d, R_INV_W] = inv_w
    while s >= 0:
        nxt = recI[s, LINK]
        b = int((rec[s, KEY] - t_min) * inv_w)
        recI[s, LINK] = cal.rung_head[d, b]
        cal.rung_head[d, b] = s
        s = nxt
    return True
