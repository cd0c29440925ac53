"""The event log of the exact engines: kept in memory, streamed in fixed-size chunks, or not recorded.

An engine's compiled kernel is resumable: each call processes events until its work is done, the
log's buffers are full, or a budget of events is spent, and returns. ``drive`` calls it until it is
done, handing the rows written to the ``EventLog`` (which passes them to a callback and reuses the
buffers, or keeps them where the kernel wrote them) and reporting progress between calls. So the
memory of a run is O(N + chunk) unless the caller asked to keep the log, a kept log is written once
and never copied, and a progress line costs nothing per event.

Row r of a chunk is one event: time ``t``, ``kind`` (0 cross, 1 stick, 2 merge: general engine
only), ``i``, ``j`` (1-based indices of the x- and y-particle of the event; general engine: the
smallest of each species in the cluster, 0 if none).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NamedTuple

import numpy as np

__all__ = [
    "CHUNK_EVENTS",
    "PROGRESS_EVENTS",
    "Advance",
    "EngineResult",
    "EventChunk",
    "EventLog",
    "Progress",
    "Samples",
    "check_drive",
    "drive",
]

CHUNK_EVENTS = 1 << 20
"""Rows of one chunk (21 MiB of buffers)."""
PROGRESS_EVENTS = 1 << 22
"""Events per kernel call between two progress reports (well under a second of work)."""

Progress = Callable[[int, float], None]
"""``progress(events_done, t_now)``, called between kernel calls."""


class EventChunk(NamedTuple):
    """Consecutive events of a run (views into the log's buffers until copied)."""

    t: np.ndarray
    kind: np.ndarray
    i: np.ndarray
    j: np.ndarray

    @staticmethod
    def empty() -> EventChunk:
        return EventChunk(np.empty(0), np.empty(0, np.int8), np.empty(0, np.int64), np.empty(0, np.int64))


class Samples(NamedTuple):
    """Output times and the positions and velocities at them (``x[k, i]`` is x_{i+1} at ``t[k]``)."""

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    vx: np.ndarray
    vy: np.ndarray


class Advance(NamedTuple):
    """What a call of a resumable kernel did: rows written to the log's buffers, events done in all,
    the time of the last one, and whether the run is finished (every output time written)."""

    rows: int
    done: int
    t_now: float
    finished: bool


class EngineResult(NamedTuple):
    """What an engine returns: samples at the output times, event counts and the last event's time
    (``n_merge``: the general engine's other rearrangements of clusters, 0 for the rank engine)."""

    x: np.ndarray
    y: np.ndarray
    vx: np.ndarray
    vy: np.ndarray
    n_cross: int
    n_stick: int
    n_merge: int
    t_last_event: float


class EventLog:
    """Buffers for a kernel and what happens to the rows written to them.

    ``mode``: ``"keep"`` (the buffers are the rows past ``count`` of the log's own arrays, which
    start with ``capacity`` rows and double when full; ``events`` returns them), ``"stream"`` (each
    chunk of at most ``capacity`` rows is passed to ``sink`` and its buffers are reused) or
    ``"none"`` (no buffers: the kernel records nothing). ``count``: the rows handed on so far.
    """

    def __init__(
        self, mode: Literal["keep", "stream", "none"], sink: Callable[[EventChunk], None] | None = None, capacity: int = CHUNK_EVENTS
    ) -> None:
        if (mode == "stream") != (sink is not None):
            raise ValueError("an EventLog streams exactly when it has a sink")
        self.mode = mode
        self.sink = sink
        size = 0 if mode == "none" else int(capacity)
        self._arrays = EventChunk(np.empty(size), np.empty(size, np.int8), np.empty(size, np.int64), np.empty(size, np.int64))
        self.buffers = self._arrays
        self.count = 0

    @property
    def recording(self) -> bool:
        return self.mode != "none"

    def flush(self, rows: int) -> None:
        """Take the first ``rows`` rows of the buffers: pass them to the sink (the kernel may then
        overwrite them), or keep them in place and point the buffers past them, doubling the arrays
        when they are full."""
        self.count += rows
        if self.mode == "keep":
            size = self._arrays.t.size
            if self.count == size and rows == 0:
                raise RuntimeError("events() has trimmed this log to its events: it keeps no more")
            self._resize(max(2 * size, CHUNK_EVENTS) if self.count == size else size)
        elif rows and self.sink is not None:
            self.sink(EventChunk(*(a[:rows] for a in self.buffers)))

    def _resize(self, rows: int) -> None:
        """Resize the kept arrays to ``rows`` rows in place (their first ``count`` rows stay) and point
        the buffers at the rows past ``count``.

        ``ndarray.resize`` reallocates: glibc moves the pages of a large allocation to the new address
        range (mremap) instead of copying them, so growing copies nothing and never holds the log twice
        (elsewhere realloc may copy). The arrays are read-only during the call so that numpy does not
        zero the new rows: a page of them becomes resident only when the kernel writes it. No view of
        the arrays outlives the call: the buffers are dropped first (views of them are valid until the
        next ``flush``), and after ``events`` has handed the arrays out they are never resized again,
        hence ``refcheck=False`` (numpy's reference count check is unreliable under tracers and on
        Python 3.14)."""
        self.buffers = EventChunk.empty()
        for a in self._arrays:
            a.flags.writeable = False
            a.resize(rows, refcheck=False)
            a.flags.writeable = True
        self.buffers = EventChunk(*(a[self.count :] for a in self._arrays))

    def events(self) -> EventChunk:
        """Every kept event in order: the log's arrays themselves, trimmed to ``count`` rows (no copy),
        after which the log keeps no more events; empty unless ``mode == "keep"``."""
        if self.mode != "keep":
            return EventChunk.empty()
        self._resize(self.count)
        return self._arrays


def check_drive(log: EventLog, budget: int) -> None:
    """``ValueError`` unless a recording ``log`` has buffers and ``budget`` is at least one event."""
    if log.recording and log.buffers.t.size == 0:
        raise ValueError("an event log that records needs buffers of at least one row")
    if budget < 1:
        raise ValueError(f"budget must be at least one event per call, got {budget}")


def drive(
    advance: Callable[[int], tuple[int, int, float, bool]], log: EventLog, progress: Progress | None, budget: int = PROGRESS_EVENTS
) -> None:
    """Run a resumable kernel to the end.

    ``advance(budget)`` processes at most ``budget`` events (fewer if the log's buffers fill up or
    the run ends) and returns ``(rows logged into the buffers, events done so far, t_now,
    finished)``."""
    while True:
        rows, done, t_now, finished = advance(budget)
        log.flush(rows)
        if progress is not None:
            progress(done, t_now)
        if finished:
            return
