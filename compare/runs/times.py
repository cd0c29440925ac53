"""The output times shared by every run: ``t_k = k T / nt``, k = 0..nt."""

from __future__ import annotations

import numpy as np

from solvers.checks import check_integer, check_number
from solvers.errors import InputError


def output_times(T: float, nt: int) -> np.ndarray:
    """The ``nt + 1`` output times ``k T / nt``, the last exactly ``T``; ``InputError`` for a
    non-positive or non-finite ``T`` or an ``nt`` that is not a positive integer."""
    T = check_number(T, "T", InputError, "pass e.g. T=2.0", positive=True, what="time")
    nt = check_integer(nt, "nt", InputError, "pass e.g. nt=40")
    t = np.arange(nt + 1) * T / nt
    t[-1] = T
    return t
