"""The event log of the exact engines: kept in memory, streamed in fixed-size chunks, or not recorded.

An engine's compiled kernel is resumable: each call processes events until its work is done, the
log's chunk buffers are full, or a budget of events is spent, and returns. ``drive`` calls it until
it is done, handing every filled chunk to the ``EventLog`` (which keeps a copy or passes it to a
callback and reuses the buffers) and reporting progress between calls. So the memory of a run is
O(N + chunk) unless the caller asked to keep the log, and a progress line costs nothing per event.

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
    """Chunk buffers for a kernel and what happens to a full chunk.

    ``mode``: ``"keep"`` (copies are kept and concatenated by ``events``), ``"stream"`` (each chunk
    is passed to ``sink`` and forgotten) or ``"none"`` (no buffers: the kernel records nothing).
    """

    def __init__(
        self, mode: Literal["keep", "stream", "none"], sink: Callable[[EventChunk], None] | None = None, capacity: int = CHUNK_EVENTS
    ) -> None:
        if (mode == "stream") != (sink is not None):
            raise ValueError("an EventLog streams exactly when it has a sink")
        self.mode = mode
        self.sink = sink
        size = 0 if mode == "none" else int(capacity)
        self.buffers = EventChunk(np.empty(size), np.empty(size, np.int8), np.empty(size, np.int64), np.empty(size, np.int64))
        self._kept: list[EventChunk] = []
        self.count = 0

    @property
    def recording(self) -> bool:
        return self.mode != "none"

    def flush(self, rows: int) -> None:
        """Hand the first ``rows`` rows of the buffers on; the kernel may then overwrite them."""
        if rows == 0:
            return
        chunk = EventChunk(*(a[:rows] for a in self.buffers))
        self.count += rows
        if self.mode == "keep":
            self._kept.append(EventChunk(*(a.copy() for a in chunk)))
        elif self.sink is not None:
            self.sink(chunk)

    def events(self) -> EventChunk:
        """Every kept event in order (empty unless ``mode == "keep"``)."""
        if not self._kept:
            return EventChunk.empty()
        return EventChunk(*(np.concatenate(parts) for parts in zip(*self._kept, strict=True)))


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
