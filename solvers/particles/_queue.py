"""Binary min-heap of (time, payload) for the event-driven engines, compiled.

1-based split layout: times ``heap_t`` (float64) and payloads ``heap_s`` in two arrays, root at 1,
children 2i and 2i + 1 (siblings share an aligned 16-byte pair), with the sentinel
``heap_t[size + 1] = +inf`` so that a sift-down needs no bounds test for the right child.
"""

from __future__ import annotations

import numpy as np

from solvers._jit import jit


@jit
def queue_push(heap_t: np.ndarray, heap_s: np.ndarray, size: int, t: float, s: int) -> int:
    """Insert (time t, payload s) into the 1-based split heap; return the new size.

    Needs room for the sentinel: heap_t.shape[0] >= size + 3."""
    i = size + 1
    while i > 1:
        parent = i >> 1
        if heap_t[parent] <= t:
            break
        heap_t[i] = heap_t[parent]
        heap_s[i] = heap_s[parent]
        i = parent
    heap_t[i] = t
    heap_s[i] = s
    heap_t[size + 2] = np.inf
    return size + 1


@jit
def queue_replace_top(heap_t: np.ndarray, heap_s: np.ndarray, size: int, t: float, s: int) -> None:
    """Replace the root by (t, s): move the hole down to a leaf along smaller children, then sift up.

    Needs the sentinel heap_t[size + 1] = +inf."""
    i = 1
    c = 2
    while c <= size:
        c += heap_t[c + 1] < heap_t[c]
        heap_t[i] = heap_t[c]
        heap_s[i] = heap_s[c]
        i = c
        c = 2 * i
    while i > 1:
        parent = i >> 1
        if heap_t[parent] <= t:
            break
        heap_t[i] = heap_t[parent]
        heap_s[i] = heap_s[parent]
        i = parent
    heap_t[i] = t
    heap_s[i] = s


@jit
def queue_pop(heap_t: np.ndarray, heap_s: np.ndarray, size: int) -> int:
    """Remove the root of the split heap; return the new size."""
    t = heap_t[size]
    heap_t[size] = np.inf
    size -= 1
    if size > 0:
        queue_replace_top(heap_t, heap_s, size, t, heap_s[size + 1])
    return size
