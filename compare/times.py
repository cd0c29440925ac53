"""The output times shared by every run: ``t_k = k T / nt``, k = 0..nt."""

from __future__ import annotations

import math

import numpy as np

from solvers.errors import InputError


def output_times(T: float, nt: int) -> np.ndarray:
    """The ``nt + 1`` output times ``k T / nt``, the last exactly ``T``; ``InputError`` for a
    non-positive or non-finite ``T`` or an ``nt`` that is not a positive integer."""
    if isinstance(T, bool) or not isinstance(T, (int, float, np.integer, np.floating)) or not (math.isfinite(T) and T > 0):
        raise InputError(f"T must be a positive finite time, got {T!r}; pass e.g. T=2.0")
    if isinstance(nt, bool) or not isinstance(nt, (int, np.integer)) or nt < 1:
        raise InputError(f"nt must be a positive integer, got {nt!r}; pass e.g. nt=40")
    t = np.arange(nt + 1) * float(T) / nt
    t[-1] = float(T)
    return t
