"""The indexed heap of the general engine against a plain dict of entries, operation by operation."""

from __future__ import annotations

import numpy as np

from solvers.particles._block_queue import block_queue_pop_root, block_queue_remove, block_queue_replace_root, block_queue_set

SLOTS = 12


def check(heap_t: np.ndarray, heap_s: np.ndarray, where: np.ndarray, size: int, entries: dict[int, float]) -> None:
    """Heap order, the sentinel, ``where`` and the contents agree with the reference."""
    assert size == len(entries)
    assert heap_t[size + 1] == np.inf
    for i in range(2, size + 1):
        assert heap_t[i >> 1] <= heap_t[i]
    assert {int(heap_s[i]): float(heap_t[i]) for i in range(1, size + 1)} == entries
    for s in range(SLOTS):
        assert (where[s] != 0) == (s in entries)
        if s in entries:
            assert heap_s[where[s]] == s


def test_operations_agree_with_a_dict() -> None:
    """100 random sequences of 60 operations, times on a coarse grid (ties are frequent). "consume"
    takes the root's entry as the engine does (its time is a minimum), then either gives its node to a
    slot without an entry, with a time not below the consumed one, or drops it."""
    for seed in range(100):
        rng = np.random.default_rng(seed)
        heap_t = np.full(SLOTS + 2, np.inf)
        heap_s = np.zeros(SLOTS + 2, np.int64)
        where = np.zeros(SLOTS, np.int64)
        size = 0
        entries: dict[int, float] = {}
        for _ in range(60):
            op, s, t = rng.integers(0, 4), int(rng.integers(0, SLOTS)), float(rng.integers(0, 7))
            if op == 0:
                size = block_queue_set(heap_t, heap_s, where, size, s, t)
                entries[s] = t
            elif op == 1:
                size = block_queue_remove(heap_t, heap_s, where, size, s)
                entries.pop(s, None)
            elif size > 0:
                root = int(heap_s[1])
                assert heap_t[1] == min(entries.values())
                where[root] = 0
                t_root = entries.pop(root)
                if op == 2:
                    free = [q for q in range(SLOTS) if q not in entries]
                    q = free[s % len(free)]
                    block_queue_replace_root(heap_t, heap_s, where, size, q, t_root + t)
                    entries[q] = t_root + t
                else:
                    size = block_queue_pop_root(heap_t, heap_s, where, size)
            check(heap_t, heap_s, where, size, entries)
