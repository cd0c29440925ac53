"""Will a particle run fit? Its memory and (with an event log) its disk space, estimated before it starts.

A run that cannot fit is refused with one line naming the option that fixes it, instead of ending in
a ``MemoryError`` traceback after minutes of work or filling the disk.

- Memory: the samples ``x, y, vx, vy`` at the ``nt + 1`` output times (8 bytes each), held about
  ``SAMPLE_COPIES`` times at the peak (the engine's arrays, the energies, the encoding of the write),
  plus ``BYTES_PER_PARTICLE`` for the initial data and the engine's O(N) state. The event log of the
  command line is streamed to the file in fixed-size chunks (``solvers.particles.events``), so it adds
  O(chunk) memory, not O(events).
- Disk, with ``--events all``: with equal masses 1/N at most ``N (N + 1)`` collisions happen in the
  whole run (the paper's Section 4.5), each stored in ``EVENT_BYTES`` before compression; for other
  masses no bound is known and only the disk's own limit applies.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from solvers.errors import InputError

__all__ = ["BYTES_PER_PARTICLE", "EVENT_BYTES", "SAMPLE_COPIES", "available_memory", "check_particle_run_fits", "format_bytes"]

SAMPLE_COPIES = 3
BYTES_PER_PARTICLE = 1024
"""Initial data (quantiles, masses, sort permutations) and the engines' state, per particle (measured:
204 bytes for the rank engine's state; the general engine's blocks take more)."""
EVENT_BYTES = 25
"""One event row uncompressed: time (8), kind (1), i (8), j (8)."""


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``), else the physical memory
    (``os.sysconf``), or None where neither is known."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def format_bytes(count: float) -> str:
    """``"3.2 GB"``, ``"512 MB"`` (decimal units)."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count / 1e3:.3g} kB"


def check_particle_run_fits(N_x: int, N_y: int, nt: int, *, events: bool, equal_masses: bool, out: Path) -> None:
    """``InputError`` (one line, naming the option to change) if a particle run of ``N_x`` and ``N_y``
    particles with ``nt`` output intervals needs more memory than is available, or, when its event
    log is written (``events``) with ``equal_masses``, may need more disk than is free beside ``out``.

    Args:
        N_x, N_y: particles of the two species.
        nt: output intervals (``nt + 1`` output times).
        events: the event log is streamed to ``out``.
        equal_masses: masses 1/N with N_x = N_y = N, where at most N (N + 1) events can happen.
        out: the output file (its nearest existing directory is where the disk space is measured).
    """
    particles = N_x + N_y
    need = SAMPLE_COPIES * 4 * 8 * (nt + 1) * particles + BYTES_PER_PARTICLE * particles
    have = available_memory()
    if have is not None and need > have:
        raise InputError(
            f"a run of {N_x} + {N_y} particles with {nt + 1} output times needs about {format_bytes(need)} of memory, "
            f"but {format_bytes(have)} are available; lower --nt (the samples are {nt + 1} x {particles} x 4 values) or --N"
        )
    if not (events and equal_masses):
        return
    bound = EVENT_BYTES * N_x * (N_x + 1)
    directory = out.absolute().parent
    while not directory.exists():
        directory = directory.parent
    free = shutil.disk_usage(directory).free
    if bound > free:
        raise InputError(
            f"--events all at N = {N_x} may write up to {format_bytes(bound)} (N(N+1) events of {EVENT_BYTES} bytes), "
            f"but {format_bytes(free)} are free under {directory}; use --events none, or a smaller --N"
        )
