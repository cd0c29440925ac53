"""Validation of the parameters shared by the continuum schemes."""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from solvers.errors import SchemeError


def check_cfl(cfl: float, upper: float, why: str = "") -> None:
    """Raise ``SchemeError`` unless ``cfl`` is a real number in ``(0, upper]``."""
    if isinstance(cfl, bool) or not isinstance(cfl, Real) or not math.isfinite(cfl):
        raise SchemeError(f"cfl = {cfl!r} is not a finite number; pass e.g. cfl=0.45")
    if not (0.0 < cfl <= upper):
        raise SchemeError(f"cfl = {cfl!r} is outside (0, {upper}]; pass e.g. cfl=0.45{why}")


def check_output_times(t_out: np.ndarray) -> np.ndarray:
    """``t_out`` as a float64 array; ``SchemeError`` unless it is non-empty, finite and strictly increasing."""
    t_out = np.asarray(t_out, dtype=np.float64)
    if t_out.ndim != 1 or t_out.size < 1 or not np.all(np.isfinite(t_out)) or np.any(np.diff(t_out) <= 0.0):
        raise SchemeError("output times must be finite and strictly increasing; pass e.g. np.linspace(0, T, nt + 1)")
    return t_out
