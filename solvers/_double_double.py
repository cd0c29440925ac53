"""Error-free transformations and double-double arithmetic, compiled (Knuth, Dekker; Shewchuk 1997).

A double-double is an unevaluated sum ``hi + lo`` with ``|lo| <= ulp(hi)/2``: about 106 bits of
significand. The cluster solver's suffix sums and the regularised kernel's prefix sums use them so
that differences of large partial sums keep their small exact values.
"""

from __future__ import annotations

from solvers._jit import jit

__all__ = ["SPLITTER", "dd_add", "dd_diff", "dd_mul", "fast_two_sum", "two_prod", "two_sum"]

SPLITTER = 134217729.0
"""2^27 + 1: Veltkamp's splitting constant for Dekker's exact product of two doubles."""


@jit
def two_sum(a: float, b: float) -> tuple[float, float]:
    """s + e = a + b exactly, s = fl(a + b) (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@jit
def fast_two_sum(a: float, b: float) -> tuple[float, float]:
    """s + e = a + b exactly for |a| >= |b| (Dekker)."""
    s = a + b
    return s, b - (s - a)


@jit
def two_prod(a: float, b: float) -> tuple[float, float]:
    """p + e = a b exactly, p = fl(a b) (Dekker's product with Veltkamp's splitting)."""
    p = a * b
    c = SPLITTER * a
    a_hi = c - (c - a)
    a_lo = a - a_hi
    c = SPLITTER * b
    b_hi = c - (c - b)
    b_lo = b - b_hi
    return p, ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo


@jit
def dd_add(a_hi: float, a_lo: float, b_hi: float, b_lo: float) -> tuple[float, float]:
    """Double-double a + b, normalised (hi = fl(hi + lo)), to ~eps^2 (|a| + |b|)."""
    s, e = two_sum(a_hi, b_hi)
    return fast_two_sum(s, e + (a_lo + b_lo))


@jit
def dd_mul(a_hi: float, a_lo: float, b_hi: float, b_lo: float) -> tuple[float, float]:
    """Double-double a b, normalised, to ~eps^2 |a b|."""
    p, e = two_prod(a_hi, b_hi)
    return fast_two_sum(p, e + (a_hi * b_lo + a_lo * b_hi))


@jit
def dd_diff(a_hi: float, a_lo: float, b_hi: float, b_lo: float) -> float:
    """fl(a - b) of double-doubles: relative error eps/2 plus ~eps^2 (|a| + |b|)."""
    s, e = two_sum(a_hi, -b_hi)
    return s + (e + (a_lo - b_lo))
