"""Indexed binary min-heap of meeting times, one entry per block, for the general engine.

The general engine (``solvers.particles._general_kernels``) keeps at most one candidate meeting per
block: that of the block starting at slot s with its right neighbour. An entry is updated or removed
in place when a block changes (``where[s]`` is its heap position, 0 if it has none), so the heap
holds at most one entry per pair of adjacent blocks, never a stale one, and needs no growing.

Layout as in ``solvers.particles._queue``: 1-based, times ``heap_t`` (float64) and slots ``heap_s``
(int64) in two arrays, root at 1, children 2i and 2i + 1, sentinel ``heap_t[size + 1] = +inf``; the
arrays hold at least ``size + 2`` entries. Equal times keep their order (a sift stops at ``<=``), so
a key that is not below the root never displaces it.
"""

from __future__ import annotations

import numpy as np

from solvers._jit import jit


@jit
def _sift_up(heap_t: np.ndarray, heap_s: np.ndarray, where: np.ndarray, i: int, t: float, s: int) -> None:
    """Fill the hole at position i with (t, s), moving it up past larger parents."""
    while i > 1:
        parent = i >> 1
        if heap_t[parent] <= t:
            break
        heap_t[i] = heap_t[parent]
        moved = heap_s[parent]
        heap_s[i] = moved
        where[moved] = i
        i = parent
    heap_t[i] = t
    heap_s[i] = s
    where[s] = i


@jit
def _sift_down(heap_t: np.ndarray, heap_s: np.ndarray, where: np.ndarray, size: int, i: int, t: float, s: int) -> None:
    """Fill the hole at position i with (t, s), t not below the parent of i: move the hole to a leaf
    along smaller children, then sift (t, s) up (Floyd's bottom-up variant)."""
    c = 2 * i
    while c <= size:
        c += heap_t[c + 1] < heap_t[c]
        heap_t[i] = heap_t[c]
        moved = heap_s[c]
        heap_s[i] = moved
        where[moved] = i
        i = c
        c = 2 * i
    _sift_up(heap_t, heap_s, where, i, t, s)


@jit
def block_queue_set(heap_t: np.ndarray, heap_s: np.ndarray, where: np.ndarray, size: int, s: int, t: float) -> int:
    """Insert the entry of slot s with time t, or move it to time t; return the new size."""
    i = where[s]
    if i == 0:
        _sift_up(heap_t, heap_s, where, size + 1, t, s)
        heap_t[size + 2] = np.inf
        return size + 1
    if t <= heap_t[i]:
        _sift_up(heap_t, heap_s, where, i, t, s)
    else:
        _sift_down(heap_t, heap_s, where, size, i, t, s)
    return size


@jit
def block_queue_remove(heap_t: np.ndarray, heap_s: np.ndarray, where: np.ndarray, size: int, s: int) -> int:
    """Remove the entry of slot s if it has one; return the new size."""
    i = where[s]
    if i == 0:
        return size
    where[s] = 0
    t = heap_t[size]
    last = heap_s[size]
    heap_t[size] = np.inf
    size -= 1
    if i <= size:
        if i > 1 and t < heap_t[i >> 1]:
            _sift_up(heap_t, heap_s, where, i, t, last)
        else:
            _sift_down(heap_t, heap_s, where, size, i, t, last)
    return size


@jit
def block_queue_replace_root(heap_t: np.ndarray, heap_s: np.ndarray, where: np.ndarray, size: int, s: int, t: float) -> None:
    """Give the root's node, whose entry has been consumed (its slot's ``where`` cleared), to the
    entry of slot s (which has none) with time t."""
    _sift_down(heap_t, heap_s, where, size, 1, t, s)


@jit
def block_queue_pop_root(heap_t: np.ndarray, heap_s: np.ndarray, where: np.ndarray, size: int) -> int:
    """Drop the root's node, whose entry has been consumed; return the new size."""
    t = heap_t[size]
    last = heap_s[size]
    heap_t[size] = np.inf
    size -= 1
    if size > 0:
        _sift_down(heap_t, heap_s, where, size, 1, t, last)
    return size
