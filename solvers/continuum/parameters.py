"""Validation of the parameters shared by the continuum schemes."""

from __future__ import annotations

import math

from solvers.checks import is_number
from solvers.errors import SchemeError


def check_cfl(cfl: float, upper: float, why: str = "") -> None:
    """Raise ``SchemeError`` unless ``cfl`` is a real number in ``(0, upper]``."""
    if not is_number(cfl) or not math.isfinite(cfl):
        raise SchemeError(f"cfl = {cfl!r} is not a finite number; pass e.g. cfl=0.45")
    if not (0.0 < cfl <= upper):
        raise SchemeError(f"cfl = {cfl!r} is outside (0, {upper}]; pass e.g. cfl=0.45{why}")
