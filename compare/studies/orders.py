"""When an observed order is a number: the one rule of the tables and the figures.

An order is the least-squares slope p of ``log error = log C - p log N``
(``compare.studies.assembly.fit_power``). It is shown only when it measures the convergence:

- with fewer than three N there is no fit to speak of (two points give a slope, the ``rate``
  column, but no standard error): ``n/a (2 N)``;
- errors at round-off level, at most ``ROUND_OFF`` times the size of the problem (the width of the
  joint initial hull, at least 1), carry no convergence information: the ``stationary`` case's
  weak-form residual of 1e-19 would give "order 0.70". ``n/a (round-off)`` when every error is at
  that level, ``n/a (part round-off)`` when a part is (the fit would mix the two regimes).

Exact zeros count as round-off. The rate between two N is ``n/a`` when either error is at round-off.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

__all__ = ["MIN_FIT_POINTS", "ROUND_OFF", "order_note", "rates", "round_off_level"]

ROUND_OFF = 1e-12
"""Errors up to this multiple of the problem's size are round-off (double precision, many steps)."""
MIN_FIT_POINTS = 3
"""Particle numbers (or resolutions) needed for a fitted order with a standard error."""


def round_off_level(study: xr.Dataset) -> float:
    """``ROUND_OFF`` times the width of the study's reference grid (the joint hull), at least 1."""
    width = float(study["x_edge"].values[-1] - study["x_edge"].values[0]) if "x_edge" in study.coords else 1.0
    return ROUND_OFF * max(1.0, width)


def order_note(errors: ArrayLike, level: float, what: tuple[str, str] = ("N", "N")) -> str | None:
    """``None`` if the fitted order of ``errors`` (one per N, or per resolution: ``what`` is the
    noun, singular and plural) is meaningful, else why not: ``"n/a (no density)"`` (NaN errors: a
    density metric of data with a point mass), ``"n/a (2 N)"``, ``"n/a (round-off)"`` or
    ``"n/a (part round-off)"``."""
    e = np.asarray(errors, dtype=float)
    if np.isnan(e).all():
        return "n/a (no density)"
    at_round_off = ~(e > level)
    if at_round_off.all():
        return "n/a (round-off)"
    if at_round_off.any():
        return "n/a (part round-off)"
    if e.size < MIN_FIT_POINTS:
        return f"n/a ({e.size} {what[0] if e.size == 1 else what[1]})"
    return None


def rates(N: ArrayLike, errors: ArrayLike, level: float) -> np.ndarray:
    """Observed orders between consecutive N, ``-log(e_{k+1}/e_k) / log(N_{k+1}/N_k)``; NaN where
    either error is at round-off (``level``)."""
    N, e = np.asarray(N, dtype=float), np.asarray(errors, dtype=float)
    usable = e > level
    with np.errstate(divide="ignore", invalid="ignore"):
        r = -np.diff(np.log(np.where(usable, e, np.nan))) / np.diff(np.log(N))
    return np.where(usable[1:] & usable[:-1], r, np.nan)
