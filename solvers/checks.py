"""Argument checks shared by every module: one rule per kind of value, the error class chosen by the caller.

An *integer* is a Python ``int`` or a numpy integer; a *number* is an integer, a ``float`` or a numpy
floating-point scalar. ``bool`` is neither (``True`` is not a particle count). Every failure raises
``error`` with one line: what is wrong, the value received, and ``fix`` (how to correct it).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from solvers.errors import InputError

__all__ = ["check_integer", "check_number", "check_output_times", "is_integer", "is_number"]


def is_integer(value: Any) -> bool:
    """True for ``int`` and numpy integers, False for ``bool`` and everything else."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_number(value: Any) -> bool:
    """True for integers (``is_integer``), ``float`` and numpy floating-point scalars."""
    return is_integer(value) or isinstance(value, (float, np.floating))


def check_integer(value: Any, name: str, error: type[InputError], fix: str, *, minimum: int = 1, below: str | None = None) -> int:
    """``value`` as an ``int`` if it is an integer ``>= minimum``, else ``error``; ``below`` words the
    message for an integer under the minimum ("too few": ``cells = 2 is too few; ...``)."""
    if is_integer(value) and value < minimum and below is not None:
        raise error(f"{name} = {value!r} is {below}; {fix}")
    if not is_integer(value) or value < minimum:
        wanted = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise error(f"{name} must be {wanted}, got {value!r}; {fix}")
    return int(value)


def check_number(
    value: Any,
    name: str,
    error: type[InputError],
    fix: str,
    *,
    minimum: float | None = None,
    positive: bool = False,
    maximum: float | None = None,
    what: str = "number",
) -> float:
    """``value`` as a ``float`` if it is a finite number (``> 0`` if ``positive``, within
    ``[minimum, maximum]`` where given), else ``error``; ``what`` names the kind of value in the
    message ("time", "mass", ...)."""
    ok = is_number(value) and math.isfinite(value)
    ok = ok and not (positive and value <= 0) and not (minimum is not None and value < minimum)
    ok = ok and not (maximum is not None and value > maximum)
    if not ok:
        wanted = f"a positive finite {what}" if positive else f"a finite {what}"
        if minimum is not None:
            wanted += f" >= {minimum:g}"
        if maximum is not None:
            wanted += f" <= {maximum:g}"
        raise error(f"{name} must be {wanted}, got {value!r}; {fix}")
    return float(value)


def check_output_times(t_out: ArrayLike, error: type[InputError], *, repeats: bool = False, name: str = "t_out") -> np.ndarray:
    """The output times as a float64 array: non-empty, 1-D, finite, ``>= 0`` and increasing (strictly,
    unless ``repeats``: an exact engine may be sampled twice at one instant), else ``error`` naming the
    first offending entry."""
    t = np.atleast_1d(np.asarray(t_out, dtype=float))
    if t.ndim != 1 or t.size == 0:
        raise error(f"{name} must be a non-empty 1-D array of times, got shape {t.shape}; pass e.g. np.linspace(0, T, nt + 1)")
    bad = np.flatnonzero(~np.isfinite(t) | (t < 0))
    if bad.size:
        raise error(f"{name}[{bad[0]}] = {t[bad[0]]} is not a finite time >= 0; pass finite non-negative times")
    steps = np.diff(t)
    wrong = np.flatnonzero(steps < 0 if repeats else steps <= 0)
    if wrong.size:
        k = int(wrong[0])
        problem, relation = ("not sorted", ">") if steps[k] < 0 else ("repeating a time", "=")
        order = "non-decreasing" if repeats else "strictly increasing"
        raise error(f"{name} is {problem}: {name}[{k}] = {t[k]} {relation} {name}[{k + 1}] = {t[k + 1]}; pass {order} times")
    return t
