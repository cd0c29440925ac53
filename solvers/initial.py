"""Initial densities of the cases: exact pdf, CDF and quantile, atomisation and cell averages.

Every density is normalised to unit mass. Notation: ``F(x) = rho((-inf, x])`` is the cumulative
distribution and ``Q(s) = inf{x : F(x) >= s}`` its left-continuous pseudo-inverse (quantile), with
``Q(0) = min supp`` (the paper's ``xbar_0``) by convention.

Kinds (each a TOML-like table with a ``kind`` key, see ``density_from_spec``):

- ``uniform`` (``a``, ``b``): the indicator of [a, b] divided by b - a.
- ``piecewise_constant`` (``edges``, ``values``): ``values[k]`` on [edges[k], edges[k+1]), zero
  outside; the pdf is right-continuous.
- ``piecewise_linear`` (``nodes``, ``values``): the linear interpolant of ``values`` on
  [nodes[0], nodes[-1]], zero outside (jumps at the ends are allowed); the CDF is piecewise
  quadratic and its quantile is the stable root of that quadratic.
- ``bump`` (``center``, ``radius``): ``35 / (32 R) (1 - r^2)^3`` with ``r = (x - center) / R``,
  ``|r| <= 1``: a C^2 compactly supported profile. With ``t = (1 + r) / 2`` its CDF is the
  regularised incomplete beta function ``I_t(4, 4) = t^4 (35 - 84 t + 70 t^2 - 20 t^3)``.
- ``delta`` (``at``): a unit point mass at ``at``: ``F`` jumps from 0 to 1 there, ``Q(s) = at`` for
  every s (initial data outside Theorem 5.1, which assumes densities in ``L^m``).
- ``singular`` (``a``, ``b``, ``center``, ``alpha``): ``|x - center|^(-alpha)`` on [a, b], normalised,
  ``0 < alpha < 1``, ``a <= center <= b``: in ``L^1`` but not in ``L^m`` for ``m >= 1/alpha``. With
  ``beta = 1 - alpha``, ``A = (center - a)^beta``, ``B = (b - center)^beta`` the CDF is
  ``(A - (center - x)^beta) / (A + B)`` left of the centre and ``(A + (x - center)^beta) / (A + B)``
  right of it, and the quantile inverts each branch in closed form.
- ``sum`` (``parts``): a list of such tables, each with an extra positive ``weight``; the density is
  ``sum_k weight_k rho_k / sum_k weight_k``.

Point masses (``atoms``: ``delta``, or a ``sum`` with ``delta`` parts): ``F`` is right-continuous and
``cdf_left`` gives ``F(x-)``; the quantile is flat, ``Q(s) = p`` for ``F(p-) < s <= F(p)``, so
``atomise`` puts the corresponding particles at the same point (a cluster). ``pdf`` is ``inf`` at a
point mass (it has no density there) and the density of the absolutely continuous part elsewhere
(``continuous_pdf``, which is 0 at a point mass); ``max_density`` is ``inf`` when there is a point mass
or an unbounded density (``singular``). ``cell_averages`` refuses point masses: the finite-volume
schemes cannot represent them, the pseudo-inverse scheme (``lagrangian``) can.

Quantiles without a closed form (``bump``, ``sum``) solve ``F(x) = s`` by safeguarded Newton steps
(the pdf is ``F'``) from the linear interpolation of a table of the exact CDF, down to a few ulps of
the support's scale (``invert_increasing``); levels inside the jump of a point mass give its position.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import Any, Literal

import numpy as np
from numpy.polynomial import Polynomial

from solvers.checks import check_integer, check_number, is_number
from solvers.errors import DensityError, suggest

__all__ = [
    "KINDS",
    "Bump",
    "Delta",
    "Density",
    "PiecewiseConstant",
    "PiecewiseLinear",
    "Singular",
    "Sum",
    "Uniform",
    "atomise",
    "atomise_grid",
    "cell_averages",
    "density_from_spec",
    "invert_increasing",
    "root_tolerance",
]

TABLE_POINTS = 16384
EPS = float(np.finfo(float).eps)
NEWTON_MAX_STEPS = 100


def _as_output(values: np.ndarray, like: Any) -> np.ndarray:
    """Return ``values`` with the shape of ``like`` (0-d input gives a numpy scalar)."""
    return values[()] if np.ndim(like) == 0 else values


def root_tolerance(grid: np.ndarray) -> float:
    """A few ulps of the scale of the interval spanned by ``grid``."""
    return 4.0 * np.finfo(float).eps * max(abs(grid[0]), abs(grid[-1]), grid[-1] - grid[0])


def invert_increasing(
    f: Callable[[np.ndarray], np.ndarray],
    df: Callable[[np.ndarray], np.ndarray],
    grid: np.ndarray,
    table: np.ndarray,
    target: Any,
    tol: float,
) -> np.ndarray:
    """Solve ``f(x) = target`` (vectorised) for a non-decreasing ``f`` with derivative ``df >= 0``.

    ``table = f(grid)`` (non-decreasing, ``grid`` increasing, ``f`` smooth inside every cell). Each
    target is solved in the cell ``[grid[i-1], grid[i]]`` with ``table[i-1] < target <= table[i]``
    (so a flat stretch of ``f`` at the target's level gives its left end, as the quantile needs), by
    Newton steps from the linear interpolation of the table, kept inside the shrinking bracket: a
    step that would leave it, or that does not halve the previous step, is replaced by bisection.
    A target stops when its Newton step is at most ``tol`` or its residual is at the round-off level
    of ``f`` (``eps |target|``: ``f`` must be that accurate relative to the target), or its last
    step or bracket is at most ``tol``. Targets ``<= table[0]`` give ``grid[0]``, targets
    ``> table[-1]`` give ``grid[-1]``. Where ``df`` is infinite (an unbounded density) the step is a
    bisection; a jump of ``f`` (a point mass) is found as the bracket shrinks onto it.
    """
    y_all = np.asarray(target, dtype=np.float64)
    y = y_all.ravel()
    i = np.searchsorted(table, y, side="left")
    x_out = np.where(i == 0, grid[0], grid[-1])
    idx = np.flatnonzero((i > 0) & (i < table.size))
    i, y = i[idx], y[idx]
    lo, hi = grid[i - 1], grid[i]
    f_lo, f_hi = table[i - 1], table[i]
    x = np.clip(lo + (y - f_lo) / (f_hi - f_lo) * (hi - lo), lo, hi)
    step_old = hi - lo
    for _ in range(NEWTON_MAX_STEPS):
        if idx.size == 0:
            return x_out.reshape(y_all.shape)
        r = np.asarray(f(x), dtype=np.float64) - y
        d = np.asarray(df(x), dtype=np.float64)
        d = np.where(np.isfinite(d), d, 0.0)
        hi = np.where(r >= 0.0, x, hi)
        lo = np.where(r < 0.0, x, lo)
        # the Newton point x - r/d lies in (lo, hi), or is x itself
        inside = (r == 0.0) | (((x - lo) * d - r > 0.0) & ((x - hi) * d - r < 0.0))
        x_newton = x - r / np.where(inside & (d > 0.0), d, 1.0)
        newton = inside & (2.0 * np.abs(r) <= np.abs(step_old) * d)
        x_new = np.where(newton, x_newton, 0.5 * (lo + hi))
        step = x_new - x
        # a small Newton step, or a residual at the round-off level of f (where the steps stop halving)
        converged = inside & (np.abs(r) <= tol * d + EPS * np.abs(y))
        done = converged | (np.abs(step) <= tol) | (hi - lo <= tol)
        final = np.where(converged, x_newton, x_new)
        x_out[idx[done]] = final[done]
        keep = ~done
        idx, y, x, lo, hi, step_old = idx[keep], y[keep], x_new[keep], lo[keep], hi[keep], step[keep]
    raise RuntimeError(f"invert_increasing: {idx.size} targets did not converge in {NEWTON_MAX_STEPS} steps")


class Density(ABC):
    """A probability measure on the line with exact CDF: a density, point masses, or a mixture.

    Attributes: ``support`` (convex hull of the support; a single point for a lone point mass),
    ``breakpoints`` (sorted points where the pdf is not smooth, including the support ends, the point
    masses and the singular centres; between two consecutive breakpoints the CDF is smooth, and a
    polynomial for every kind but ``singular``), ``spec`` (the canonical table that rebuilds the
    density through ``density_from_spec``), ``atoms`` (point masses) and ``max_density`` (the
    supremum of the pdf, ``inf`` with a point mass or an unbounded density).
    """

    support: tuple[float, float]
    breakpoints: np.ndarray
    spec: dict[str, Any]

    def pdf(self, x: Any) -> np.ndarray:
        """Density at ``x`` (vectorised): ``inf`` at a point mass, else the density of the absolutely
        continuous part (``inf`` at the centre of a ``singular`` density)."""
        x_arr = np.asarray(x, dtype=float)
        values = self._pdf(x_arr)
        if self.atoms.size:
            values = np.where(np.isin(x_arr, self.atoms[:, 0]), np.inf, values)
        return _as_output(values, x)

    def continuous_pdf(self, x: Any) -> np.ndarray:
        """Density of the absolutely continuous part at ``x`` (``pdf`` without the point masses); the
        derivative of ``F`` wherever ``F`` is continuous."""
        return _as_output(self._pdf(np.asarray(x, dtype=float)), x)

    def cdf(self, x: Any) -> np.ndarray:
        """Exact cumulative distribution ``F(x)`` (vectorised, right-continuous)."""
        return _as_output(self._cdf(np.asarray(x, dtype=float)), x)

    def cdf_left(self, x: Any) -> np.ndarray:
        """``F(x-)``, the mass of ``(-inf, x)`` (vectorised): ``F`` minus the point mass at ``x``."""
        return _as_output(self._cdf_left(np.asarray(x, dtype=float)), x)

    @abstractmethod
    def _pdf(self, x: np.ndarray) -> np.ndarray:
        """Density of the absolutely continuous part at the points of the float array ``x``."""

    @abstractmethod
    def _cdf(self, x: np.ndarray) -> np.ndarray:
        """``F`` at the points of the float array ``x``."""

    def _cdf_left(self, x: np.ndarray) -> np.ndarray:
        """``F(x-)`` at the points of ``x``; equal to ``F`` for the kinds without point masses."""
        return self._cdf(x)

    @abstractmethod
    def _sf(self, x: np.ndarray) -> np.ndarray:
        """``1 - F`` at the points of ``x``, accurate relative to itself in the right tail (not
        computed as a difference with 1 where the tail is small)."""

    @property
    @abstractmethod
    def max_density(self) -> float:
        """``sup pdf``; ``inf`` with a point mass or an unbounded density."""

    @property
    def atoms(self) -> np.ndarray:
        """Point masses as rows ``(position, mass)``, sorted by position; shape ``(0, 2)`` if none."""
        return np.empty((0, 2))

    @property
    def unbounded_points(self) -> np.ndarray:
        """Points where the density of the absolutely continuous part is unbounded (the centres of
        ``singular`` parts), sorted; near them the CDF is not a polynomial."""
        return np.empty(0)

    @cached_property
    def _atom_levels(self) -> np.ndarray:
        """Rows ``(p, F(p-), F(p))`` of the point masses: the levels ``F(p-) < s <= F(p)`` have ``Q(s) = p``."""
        p = self.atoms[:, 0]
        return np.stack((p, np.asarray(self._cdf_left(p), dtype=np.float64), np.asarray(self._cdf(p), dtype=np.float64)), axis=1)

    def quantile(self, s: Any) -> np.ndarray:
        """``Q(s) = inf{x : F(x) >= s}`` for s in [0, 1] (vectorised); exactly the support ends
        ``Q(0) = min supp`` and ``Q(1) = max supp``, exactly ``p`` on the levels of a point mass at ``p``."""
        s_arr = _check_levels(s)
        x = np.where(s_arr <= 0.0, self.support[0], np.where(s_arr >= 1.0, self.support[1], self._quantile(s_arr)))
        return _as_output(x, s)

    def _quantile(self, s: np.ndarray) -> np.ndarray:
        """The levels ``F(p-) < s <= F(p)`` of a point mass give its position (and ``F(p-)`` too when the
        density reaches p from the left); the others solve ``F(x) = s`` for s <= 1/2 and
        ``-(1 - F(x)) = -(1 - s)`` for s > 1/2 (``1 - s`` is exact there, and ``_sf`` is accurate in the
        right tail) by ``invert_increasing``."""
        x = np.empty(s.shape)
        rest = np.ones(s.shape, dtype=bool)
        starts = self.components[:, 0]
        for p, below, above in self._atom_levels:
            # F(p-) itself is reached at p too unless a component starts at p (a gap or nothing before it)
            at_atom = (s > below) & (s <= above) | ((s == below) & ~np.isin(p, starts))
            x[at_atom] = p
            rest &= ~at_atom
        grid, F = self.cdf_table
        tol = root_tolerance(grid)
        lower, upper = rest & (s <= 0.5), rest & (s > 0.5)
        x[lower] = invert_increasing(self._cdf, self._pdf, grid, F, s[lower], tol)
        x[upper] = invert_increasing(lambda z: -self._sf(z), self._pdf, grid, -self._sf_table, -(1.0 - s[upper]), tol)
        return x

    @cached_property
    def cdf_table(self) -> tuple[np.ndarray, np.ndarray]:
        """``(grid, F(grid))``: about ``TABLE_POINTS`` points refining every piece between consecutive
        breakpoints of the support evenly (so the CDF is smooth inside every cell), ``F`` made
        non-decreasing against round-off. A lone point mass gives the single point ``(p, 1)``."""
        lo, hi = self.support
        bp = np.unique(np.concatenate(([lo], self.breakpoints[(self.breakpoints > lo) & (self.breakpoints < hi)], [hi])))
        if bp.size == 1:
            grid = bp
        else:
            m = max(8, TABLE_POINTS // (bp.size - 1))
            grid = np.append((bp[:-1, None] + np.diff(bp)[:, None] * (np.arange(m) / m)).ravel(), hi)
        return grid, np.maximum.accumulate(np.asarray(self.cdf(grid), dtype=np.float64))

    @cached_property
    def _sf_table(self) -> np.ndarray:
        """``1 - F`` on the grid of ``cdf_table``, made non-increasing against round-off."""
        return np.minimum.accumulate(self._sf(self.cdf_table[0]))

    @cached_property
    def components(self) -> np.ndarray:
        """Connected components of the support as rows ``(a, b)``, left to right (``a = b`` for an
        isolated point mass).

        A gap is a piece between consecutive breakpoints whose interior carries no mass (exact
        ``F(b-) - F(a)`` zero) and where the density vanishes at the piece's midpoint.
        """
        lo, hi = self.support
        bp = self.breakpoints[(self.breakpoints >= lo) & (self.breakpoints <= hi)].astype(np.float64)
        inner_mass = np.asarray(self.cdf_left(bp[1:]), dtype=np.float64) - np.asarray(self.cdf(bp[:-1]), dtype=np.float64)
        empty = (inner_mass <= 0.0) & (np.asarray(self.continuous_pdf(0.5 * (bp[:-1] + bp[1:]))) == 0.0)
        starts = [float(bp[0])]
        ends = []
        for k in np.flatnonzero(empty):
            ends.append(float(bp[k]))
            starts.append(float(bp[k + 1]))
        ends.append(float(bp[-1]))
        atoms = set(self.atoms[:, 0].tolist())
        return np.array([(a, b) for a, b in zip(starts, ends) if b > a or a in atoms], dtype=np.float64).reshape(-1, 2)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec})"


class Uniform(Density):
    """``1 / (b - a)`` on [a, b]."""

    def __init__(self, a: float, b: float) -> None:
        self.a, self.b = float(a), float(b)
        self.support = (self.a, self.b)
        self.breakpoints = np.array([self.a, self.b])
        self.spec = {"kind": "uniform", "a": self.a, "b": self.b}

    @cached_property
    def max_density(self) -> float:
        return 1.0 / (self.b - self.a)

    def _pdf(self, x: np.ndarray) -> np.ndarray:
        return np.where((x >= self.a) & (x < self.b), 1.0 / (self.b - self.a), 0.0)

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        return np.clip((x - self.a) / (self.b - self.a), 0.0, 1.0)

    def _sf(self, x: np.ndarray) -> np.ndarray:
        return np.clip((self.b - x) / (self.b - self.a), 0.0, 1.0)

    def _quantile(self, s: np.ndarray) -> np.ndarray:
        return np.minimum(self.a + s * (self.b - self.a), self.b)

    def _pdf_polynomial(self, a: float, b: float) -> Polynomial:
        inside = self.a <= 0.5 * (a + b) < self.b
        return Polynomial([1.0 / (self.b - self.a) if inside else 0.0])


class PiecewiseConstant(Density):
    """``values[k] / mass`` on [edges[k], edges[k+1]), zero outside."""

    def __init__(self, edges: Sequence[float], values: Sequence[float]) -> None:
        self.edges = np.asarray(edges, dtype=float)
        raw = np.asarray(values, dtype=float)
        masses = raw * np.diff(self.edges)
        mass = float(masses.sum())
        self.values = raw / mass
        self.cum = np.concatenate(([0.0], np.cumsum(masses) / mass))
        self.cum[-1] = 1.0
        self.tail = np.concatenate((np.cumsum(masses[::-1])[::-1] / mass, [0.0]))
        self.tail[0] = 1.0
        positive = np.flatnonzero(masses > 0)
        self.support = (float(self.edges[positive[0]]), float(self.edges[positive[-1] + 1]))
        self.breakpoints = self.edges.copy()
        self.spec = {"kind": "piecewise_constant", "edges": self.edges.tolist(), "values": raw.tolist()}

    @cached_property
    def max_density(self) -> float:
        return float(self.values.max())

    def _pdf(self, x: np.ndarray) -> np.ndarray:
        k = np.searchsorted(self.edges, x, side="right") - 1
        inside = (k >= 0) & (k < self.values.size)
        return np.where(inside, self.values[np.clip(k, 0, self.values.size - 1)], 0.0)

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        k = np.clip(np.searchsorted(self.edges, x, side="right") - 1, 0, self.values.size - 1)
        f = self.cum[k] + self.values[k] * (x - self.edges[k])
        return np.clip(np.where(x < self.edges[0], 0.0, f), 0.0, 1.0)

    def _sf(self, x: np.ndarray) -> np.ndarray:
        k = np.clip(np.searchsorted(self.edges, x, side="right") - 1, 0, self.values.size - 1)
        f = self.tail[k + 1] + self.values[k] * (self.edges[k + 1] - x)
        return np.clip(np.where(x >= self.edges[-1], 0.0, f), 0.0, 1.0)

    def _quantile(self, s: np.ndarray) -> np.ndarray:
        # first k with cum[k] >= s: the point lies in cell k - 1, whose mass is positive
        k = np.clip(np.searchsorted(self.cum, s, side="left"), 1, self.values.size)
        x = self.edges[k - 1] + (s - self.cum[k - 1]) / np.where(self.values[k - 1] > 0, self.values[k - 1], 1.0)
        return np.minimum(x, self.edges[k])

    def _pdf_polynomial(self, a: float, b: float) -> Polynomial:
        return Polynomial([float(self._pdf(np.array(0.5 * (a + b))))])


class PiecewiseLinear(Density):
    """The linear interpolant of ``values / mass`` at ``nodes``, zero outside [nodes[0], nodes[-1]]."""

    def __init__(self, nodes: Sequence[float], values: Sequence[float]) -> None:
        self.nodes = np.asarray(nodes, dtype=float)
        raw = np.asarray(values, dtype=float)
        h = np.diff(self.nodes)
        masses = 0.5 * h * (raw[:-1] + raw[1:])
        mass = float(masses.sum())
        self.values = raw / mass
        self.slopes = np.diff(self.values) / h
        self.cum = np.concatenate(([0.0], np.cumsum(masses) / mass))
        self.cum[-1] = 1.0
        self.tail = np.concatenate((np.cumsum(masses[::-1])[::-1] / mass, [0.0]))
        self.tail[0] = 1.0
        positive = np.flatnonzero(masses > 0)
        self.support = (float(self.nodes[positive[0]]), float(self.nodes[positive[-1] + 1]))
        self.breakpoints = self.nodes.copy()
        self.spec = {"kind": "piecewise_linear", "nodes": self.nodes.tolist(), "values": raw.tolist()}

    def _cell(self, x: np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(self.nodes, x, side="right") - 1, 0, self.slopes.size - 1)

    @cached_property
    def max_density(self) -> float:
        return float(self.values.max())

    def _pdf(self, x: np.ndarray) -> np.ndarray:
        k = self._cell(x)
        f = self.values[k] + self.slopes[k] * (x - self.nodes[k])
        inside = (x >= self.nodes[0]) & (x < self.nodes[-1])
        return np.where(inside, np.maximum(f, 0.0), 0.0)

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        k = self._cell(x)
        u = np.clip(x - self.nodes[k], 0.0, self.nodes[k + 1] - self.nodes[k])
        f = self.cum[k] + u * (self.values[k] + 0.5 * self.slopes[k] * u)
        return np.clip(np.where(x < self.nodes[0], 0.0, f), 0.0, 1.0)

    def _sf(self, x: np.ndarray) -> np.ndarray:
        k = self._cell(x)
        w = np.clip(self.nodes[k + 1] - x, 0.0, self.nodes[k + 1] - self.nodes[k])
        f = self.tail[k + 1] + w * (self.values[k + 1] - 0.5 * self.slopes[k] * w)
        return np.clip(np.where(x >= self.nodes[-1], 0.0, f), 0.0, 1.0)

    def _quantile(self, s: np.ndarray) -> np.ndarray:
        """In the cell k with ``cum[k] < s <= cum[k+1]``, the distance u from the end where the pdf is
        smaller (the left end if the slope is >= 0, else the right end) solves
        ``|slope|/2 u^2 + v u = d`` with v the pdf and d the cell's mass on that side of the point:
        ``u = 2 d / (v + sqrt(v^2 + 2 |slope| d))``, a sum of non-negative terms (no cancellation)."""
        k = np.clip(np.searchsorted(self.cum, s, side="left"), 1, self.slopes.size) - 1
        rising = self.slopes[k] >= 0.0
        v = np.where(rising, self.values[k], self.values[k + 1])
        d = np.maximum(np.where(rising, s - self.cum[k], self.cum[k + 1] - s), 0.0)
        denom = v + np.sqrt(v * v + 2.0 * np.abs(self.slopes[k]) * d)
        u = np.where(denom > 0.0, 2.0 * d / np.where(denom > 0.0, denom, 1.0), 0.0)
        return np.clip(np.where(rising, self.nodes[k] + u, self.nodes[k + 1] - u), self.nodes[k], self.nodes[k + 1])

    def _pdf_polynomial(self, a: float, b: float) -> Polynomial:
        mid, half = 0.5 * (a + b), 0.5 * (b - a)
        if not self.nodes[0] <= mid < self.nodes[-1]:
            return Polynomial([0.0])
        k = int(self._cell(np.array(mid)))
        return Polynomial([self.values[k] + self.slopes[k] * (mid - self.nodes[k]), self.slopes[k] * half])


class Bump(Density):
    """``35 / (32 R) (1 - r^2)^3``, ``r = (x - center) / R`` in [-1, 1]: C^2, compact support."""

    def __init__(self, center: float, radius: float) -> None:
        self.center, self.radius = float(center), float(radius)
        self.support = (self.center - self.radius, self.center + self.radius)
        self.breakpoints = np.array(self.support)
        self.spec = {"kind": "bump", "center": self.center, "radius": self.radius}

    def _t(self, x: np.ndarray) -> np.ndarray:
        return np.clip((x - self.support[0]) / (2.0 * self.radius), 0.0, 1.0)

    @cached_property
    def max_density(self) -> float:
        return 35.0 / (32.0 * self.radius)

    def _pdf(self, x: np.ndarray) -> np.ndarray:
        t = self._t(x)
        return 70.0 / self.radius * (t * (1.0 - t)) ** 3

    @staticmethod
    def _short_tail(t: np.ndarray) -> np.ndarray:
        """``I_tau(4, 4)`` with ``tau = min(t, 1 - t)``: the mass of the shorter side, accurate near both ends."""
        tau = np.minimum(t, 1.0 - t)
        return tau**4 * (35.0 + tau * (-84.0 + tau * (70.0 - 20.0 * tau)))

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        # I_t(4, 4) = 1 - I_{1-t}(4, 4)
        t = self._t(x)
        g = self._short_tail(t)
        return np.where(t <= 0.5, g, 1.0 - g)

    def _sf(self, x: np.ndarray) -> np.ndarray:
        t = self._t(x)
        g = self._short_tail(t)
        return np.where(t >= 0.5, g, 1.0 - g)

    def _pdf_polynomial(self, a: float, b: float) -> Polynomial:
        mid, half = 0.5 * (a + b), 0.5 * (b - a)
        if not self.support[0] <= mid <= self.support[1]:
            return Polynomial([0.0])
        t = Polynomial([(mid - self.support[0]) / (2.0 * self.radius), half / (2.0 * self.radius)])
        return 70.0 / self.radius * (t * (1.0 - t)) ** 3


class Delta(Density):
    """A unit point mass at ``at``: ``F(x) = 1`` for ``x >= at`` and 0 before, ``Q(s) = at`` for every s.

    It has no density: ``pdf`` is ``inf`` at ``at`` and 0 elsewhere (``continuous_pdf`` is 0)."""

    def __init__(self, at: float) -> None:
        self.at = float(at)
        self.support = (self.at, self.at)
        self.breakpoints = np.array([self.at])
        self.spec = {"kind": "delta", "at": self.at}

    @property
    def atoms(self) -> np.ndarray:
        return np.array([[self.at, 1.0]])

    @property
    def max_density(self) -> float:
        return np.inf

    def _pdf(self, x: np.ndarray) -> np.ndarray:
        return np.zeros(x.shape)

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        return (x >= self.at).astype(np.float64)

    def _cdf_left(self, x: np.ndarray) -> np.ndarray:
        return (x > self.at).astype(np.float64)

    def _sf(self, x: np.ndarray) -> np.ndarray:
        return (x < self.at).astype(np.float64)

    def _quantile(self, s: np.ndarray) -> np.ndarray:
        return np.full(s.shape, self.at)


def _log_ratio(near: np.ndarray, far: np.ndarray) -> np.ndarray:
    """``log r`` for a ratio ``r = near in [0, 1]`` with ``far = 1 - r`` also known: ``log(near)`` where
    r <= 1/2 and ``log1p(-far)`` above, so that it is accurate relative to itself on the whole range
    (``-inf`` at r = 0)."""
    small = near <= 0.5
    log_near = np.log(near, out=np.full(near.shape, -np.inf), where=small & (near > 0.0))
    return np.where(small, log_near, np.log1p(-np.where(small, 0.0, far)))


class Singular(Density):
    """``|x - center|^(-alpha) / Z`` on [a, b], ``0 < alpha < 1``, ``a <= center <= b``: in ``L^1`` only.

    With ``beta = 1 - alpha``, ``A = (center - a)^beta``, ``B = (b - center)^beta``, ``Z = (A + B)/beta``
    and the distances to the centre as fractions of their side, ``u = (center - x)/(center - a)``,
    ``v = (x - center)/(b - center)``: left of the centre ``F = A (1 - u^beta) / (A + B)`` and
    ``1 - F = (B + A u^beta) / (A + B)``; right of it ``F = (A + B v^beta) / (A + B)`` and
    ``1 - F = B (1 - v^beta) / (A + B)``. Every ``1 - r^beta`` is ``-expm1(beta log r)`` with ``log r``
    accurate near both ends of the side (``_log_ratio``), so ``F`` and ``1 - F`` are accurate relative
    to themselves everywhere. The quantile inverts the branch holding the level in closed form:
    ``u = (1 - s (A + B)/A)^(1/beta)`` for ``s <= A/(A + B)``, else ``v = (1 - (1 - s)(A + B)/B)^(1/beta)``.
    The pdf is ``inf`` at the centre.
    """

    def __init__(self, a: float, b: float, center: float, alpha: float) -> None:
        self.a, self.b, self.center, self.alpha = float(a), float(b), float(center), float(alpha)
        self.beta = 1.0 - self.alpha
        self.left, self.right = self.center - self.a, self.b - self.center
        self.A, self.B = self.left**self.beta, self.right**self.beta
        self.s_center = self.A / (self.A + self.B)
        self.support = (self.a, self.b)
        self.breakpoints = np.unique([self.a, self.center, self.b])
        self.spec = {"kind": "singular", "a": self.a, "b": self.b, "center": self.center, "alpha": self.alpha}

    @property
    def max_density(self) -> float:
        return np.inf

    @property
    def unbounded_points(self) -> np.ndarray:
        return np.array([self.center])

    def _pdf(self, x: np.ndarray) -> np.ndarray:
        distance = np.abs(x - self.center)
        inside = ((x >= self.a) & (x < self.b)) | (x == self.center)
        power = np.power(distance, -self.alpha, out=np.full(x.shape, np.inf), where=distance > 0.0)
        return np.where(inside, power * (self.beta / (self.A + self.B)), 0.0)

    def _side_logs(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``log u`` (left of the centre) and ``log v`` (right of it) at ``x``, clipped to the support."""
        log_u, log_v = np.full(x.shape, -np.inf), np.full(x.shape, -np.inf)
        if self.left > 0.0:
            log_u = _log_ratio(np.clip((self.center - x) / self.left, 0.0, 1.0), np.clip((x - self.a) / self.left, 0.0, 1.0))
        if self.right > 0.0:
            log_v = _log_ratio(np.clip((x - self.center) / self.right, 0.0, 1.0), np.clip((self.b - x) / self.right, 0.0, 1.0))
        return log_u, log_v

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        log_u, log_v = self._side_logs(x)
        left = self.A * -np.expm1(self.beta * log_u)
        right = self.A + self.B * np.exp(self.beta * log_v)
        return np.where(x <= self.center, left, right) / (self.A + self.B)

    def _sf(self, x: np.ndarray) -> np.ndarray:
        log_u, log_v = self._side_logs(x)
        left = self.B + self.A * np.exp(self.beta * log_u)
        right = self.B * -np.expm1(self.beta * log_v)
        return np.where(x < self.center, left, right) / (self.A + self.B)

    def _quantile(self, s: np.ndarray) -> np.ndarray:
        """``log u = log1p(-q) / beta`` (``q`` the level's share of its side); x from the nearer end of the side."""
        left = s <= self.s_center
        q = np.where(left, s * (self.A + self.B) / max(self.A, EPS), (1.0 - s) * (self.A + self.B) / max(self.B, EPS))
        log_r = np.log1p(-np.minimum(q, 1.0), out=np.full(s.shape, -np.inf), where=q < 1.0) / self.beta
        r, one_minus_r = np.exp(log_r), -np.expm1(log_r)
        x_left = np.where(r <= 0.5, self.center - self.left * r, self.a + self.left * one_minus_r)
        x_right = np.where(r <= 0.5, self.center + self.right * r, self.b - self.right * one_minus_r)
        return np.clip(np.where(left, x_left, x_right), self.a, self.b)


class Sum(Density):
    """``sum_k w_k rho_k / sum_k w_k`` for densities ``rho_k`` with positive weights ``w_k``.

    Its point masses are those of the parts; like the bounded kinds it gives its pdf on a piece as a
    polynomial (``_pdf_polynomial``) when every part is bounded."""

    def __init__(self, parts: Sequence[Density], weights: Sequence[float]) -> None:
        self.parts = tuple(parts)
        w = np.asarray(weights, dtype=float)
        self.weights = w / w.sum()
        self.support = (min(p.support[0] for p in self.parts), max(p.support[1] for p in self.parts))
        self.breakpoints = np.unique(np.concatenate([p.breakpoints for p in self.parts]))
        self.spec = {
            "kind": "sum",
            "parts": [{**p.spec, "weight": float(wk)} for p, wk in zip(self.parts, w)],
        }

    @cached_property
    def atoms(self) -> np.ndarray:
        """The parts' point masses times their weights, those at one position merged."""
        rows = np.concatenate([p.atoms * np.array([1.0, wk]) for p, wk in zip(self.parts, self.weights)])
        positions, index = np.unique(rows[:, 0], return_inverse=True)
        return np.stack((positions, np.bincount(index, weights=rows[:, 1], minlength=positions.size)), axis=1)

    @cached_property
    def unbounded_points(self) -> np.ndarray:
        return np.unique(np.concatenate([p.unbounded_points for p in self.parts]))

    @cached_property
    def max_density(self) -> float:
        """``inf`` if a part has a point mass or an unbounded density; else the maximum of the
        polynomial pieces of the pdf at their ends and critical points (one small polynomial per piece)."""
        if not all(math.isfinite(p.max_density) for p in self.parts):
            return np.inf
        best = 0.0
        for a, b in zip(self.breakpoints[:-1], self.breakpoints[1:]):
            p = self._pdf_polynomial(float(a), float(b))
            roots = p.deriv().roots() if p.degree() > 1 else np.empty(0)
            real = roots.real[(np.abs(roots.imag) < 1e-12) & (np.abs(roots.real) < 1.0)]
            best = max(best, float(np.max(p(np.concatenate(([-1.0, 1.0], real))))))
        return best

    def _pdf(self, x: np.ndarray) -> np.ndarray:
        return sum((wk * p._pdf(x) for p, wk in zip(self.parts, self.weights)), np.zeros(x.shape))

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        f = sum((wk * p._cdf(x) for p, wk in zip(self.parts, self.weights)), np.zeros(x.shape))
        return np.clip(f, 0.0, 1.0)

    def _cdf_left(self, x: np.ndarray) -> np.ndarray:
        f = sum((wk * p._cdf_left(x) for p, wk in zip(self.parts, self.weights)), np.zeros(x.shape))
        return np.clip(f, 0.0, 1.0)

    def _sf(self, x: np.ndarray) -> np.ndarray:
        f = sum((wk * p._sf(x) for p, wk in zip(self.parts, self.weights)), np.zeros(x.shape))
        return np.clip(f, 0.0, 1.0)

    def _pdf_polynomial(self, a: float, b: float) -> Polynomial:
        """The pdf on (a, b) as a polynomial in u in [-1, 1] (parts with bounded polynomial pieces only)."""
        return sum((wk * p._pdf_polynomial(a, b) for p, wk in zip(self.parts, self.weights)), Polynomial([0.0]))


# ---------------------------------------------------------------------------------------------
# Validation of TOML-like tables
# ---------------------------------------------------------------------------------------------

KINDS: dict[str, tuple[str, ...]] = {
    "uniform": ("a", "b"),
    "piecewise_constant": ("edges", "values"),
    "piecewise_linear": ("nodes", "values"),
    "bump": ("center", "radius"),
    "delta": ("at",),
    "singular": ("a", "b", "center", "alpha"),
    "sum": ("parts",),
}


def _number(value: Any, where: str) -> float:
    if not is_number(value):
        raise DensityError(f"{where} must be a number, got {type(value).__name__} {value!r}; pass a finite number")
    if not math.isfinite(float(value)):
        raise DensityError(f"{where} is not finite ({value}); pass a finite number")
    return float(value)


def _array(value: Any, where: str, min_len: int) -> np.ndarray:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (Sequence, np.ndarray)):
        raise DensityError(f"{where} must be an array of numbers, got {type(value).__name__}; pass a list like [0.0, 1.0]")
    if np.ndim(value) != 1 and len(value) > 0:
        raise DensityError(f"{where} must be a flat array of numbers; pass a list like [0.0, 1.0]")
    out = np.array([_number(v, f"{where}[{k}]") for k, v in enumerate(value)], dtype=float)
    if out.size < min_len:
        raise DensityError(f"{where} has {out.size} entries; pass at least {min_len}")
    return out


def _increasing(values: np.ndarray, where: str) -> None:
    bad = np.flatnonzero(np.diff(values) <= 0)
    if bad.size:
        k = int(bad[0])
        raise DensityError(
            f"{where} must be strictly increasing: {where}[{k}] = {values[k]:g} >= {where}[{k + 1}] = {values[k + 1]:g}; sort them and drop repeats"
        )


def _nonnegative(values: np.ndarray, where: str) -> None:
    bad = np.flatnonzero(values < 0)
    if bad.size:
        k = int(bad[0])
        raise DensityError(f"{where} must be >= 0: {where}[{k}] = {values[k]:g}; pass non-negative density values")


def _positive_mass(mass: float, where: str) -> None:
    if not mass > 0 or not math.isfinite(mass):
        raise DensityError(f"{where} has total mass {mass:g}; pass values with positive finite mass")


def density_from_spec(spec: Mapping[str, Any], name: str = "density") -> Density:
    """Build and validate a density from a TOML-like table (see the module docstring for kinds).

    ``name`` prefixes every error message (e.g. ``rho0``). Raises ``DensityError`` with a one-line
    message for an unknown kind or key (with the closest valid suggestion), a missing key, a wrong
    type, a negative or non-finite value, zero mass, unsorted edges/nodes, ``a >= b``, ``radius <= 0``,
    ``alpha`` outside (0, 1) or ``center`` outside [a, b].
    """
    with np.errstate(over="ignore"):  # an overflowing mass becomes inf and is refused by _positive_mass
        return _build(spec, name)


def _build(spec: Mapping[str, Any], name: str) -> Density:
    if not isinstance(spec, Mapping):
        raise DensityError(
            f"{name} must be a table with a 'kind' key, got {type(spec).__name__}; pass e.g. {{kind = \"uniform\", a = 0, b = 1}}"
        )
    if "kind" not in spec:
        raise DensityError(f"{name} has no 'kind'; add kind = one of {', '.join(KINDS)}")
    kind = spec["kind"]
    if not isinstance(kind, str) or kind not in KINDS:
        raise DensityError(f"{name}: unknown kind {kind!r}; {suggest(str(kind), list(KINDS))}")
    where = f"{name}.{{}}"
    allowed = KINDS[kind]
    for key in spec:
        if key != "kind" and key not in allowed:
            raise DensityError(f"{name}: unknown key {key!r} for kind '{kind}'; {suggest(str(key), list(allowed))}")
    for key in allowed:
        if key not in spec:
            raise DensityError(f"{name}: missing key '{key}' for kind '{kind}'; add it (keys: {', '.join(allowed)})")

    if kind == "uniform":
        a, b = _number(spec["a"], where.format("a")), _number(spec["b"], where.format("b"))
        if not a < b:
            raise DensityError(f"{name}: uniform needs a < b, got a = {a:g}, b = {b:g}; swap or widen them")
        if not math.isfinite(b - a):
            raise DensityError(f"{name}: uniform interval [{a:g}, {b:g}] is too wide for float64; pass a finite width")
        return Uniform(a, b)
    if kind == "bump":
        center = _number(spec["center"], where.format("center"))
        radius = _number(spec["radius"], where.format("radius"))
        if not radius > 0:
            raise DensityError(f"{name}.radius must be > 0, got {radius:g}; pass a positive radius")
        return Bump(center, radius)
    if kind == "delta":
        return Delta(_number(spec["at"], where.format("at")))
    if kind == "singular":
        a, b = _number(spec["a"], where.format("a")), _number(spec["b"], where.format("b"))
        center = _number(spec["center"], where.format("center"))
        alpha = _number(spec["alpha"], where.format("alpha"))
        if not a < b:
            raise DensityError(f"{name}: singular needs a < b, got a = {a:g}, b = {b:g}; swap or widen them")
        if not math.isfinite(b - a):
            raise DensityError(f"{name}: singular interval [{a:g}, {b:g}] is too wide for float64; pass a finite width")
        if not a <= center <= b:
            raise DensityError(f"{name}.center = {center:g} is outside [a, b] = [{a:g}, {b:g}]; pass a <= center <= b")
        if not 0.0 < alpha < 1.0:
            raise DensityError(
                f"{name}.alpha = {alpha:g} is outside (0, 1); pass 0 < alpha < 1 (|x - center|^(-alpha) is not integrable for alpha >= 1)"
            )
        return Singular(a, b, center, alpha)
    if kind in ("piecewise_constant", "piecewise_linear"):
        grid_key = "edges" if kind == "piecewise_constant" else "nodes"
        grid = _array(spec[grid_key], where.format(grid_key), 2)
        values = _array(spec["values"], where.format("values"), 1)
        expected = grid.size - 1 if kind == "piecewise_constant" else grid.size
        if values.size != expected:
            raise DensityError(f"{name}.values has {values.size} entries but {grid_key} has {grid.size}; pass {expected} values")
        _increasing(grid, where.format(grid_key))
        _nonnegative(values, where.format("values"))
        h = np.diff(grid)
        mass = float(np.sum(values * h) if kind == "piecewise_constant" else np.sum(0.5 * h * (values[:-1] + values[1:])))
        _positive_mass(mass, name)
        return PiecewiseConstant(grid, values) if kind == "piecewise_constant" else PiecewiseLinear(grid, values)

    parts_spec = spec["parts"]
    if isinstance(parts_spec, (str, Mapping)) or not isinstance(parts_spec, Sequence) or len(parts_spec) == 0:
        raise DensityError(f"{name}.parts must be a non-empty list of tables; pass [[{name}.parts]] tables with a kind and a weight")
    parts: list[Density] = []
    weights: list[float] = []
    for k, part in enumerate(parts_spec):
        part_name = f"{name}.parts[{k}]"
        if not isinstance(part, Mapping):
            raise DensityError(f"{part_name} must be a table, got {type(part).__name__}; pass a table with a kind and a weight")
        if "weight" not in part:
            raise DensityError(f"{part_name} has no 'weight'; add weight = <positive number>")
        weight = _number(part["weight"], f"{part_name}.weight")
        if not weight > 0:
            raise DensityError(f"{part_name}.weight must be > 0, got {weight:g}; pass a positive weight")
        parts.append(_build({k2: v for k2, v in part.items() if k2 != "weight"}, part_name))
        weights.append(weight)
    _positive_mass(float(np.sum(weights)), name)
    return Sum(parts, weights)


# ---------------------------------------------------------------------------------------------
# Atomisation and projection
# ---------------------------------------------------------------------------------------------


def _check_levels(s: Any) -> np.ndarray:
    s_arr = np.asarray(s, dtype=float)
    bad = ~np.isfinite(s_arr) | (s_arr < 0) | (s_arr > 1)
    if np.any(bad):
        first = s_arr[bad].ravel()[0]
        raise DensityError(f"quantile levels must lie in [0, 1], got {first}; pass mass levels s with 0 <= s <= 1")
    return s_arr


def atomise(density: Density, N: int, placement: Literal["right", "mid"] = "right") -> np.ndarray:
    """N equal-mass particles of ``density``, sorted, float64.

    ``placement="right"`` is the paper's (65): ``x_i = Q(i / N)``, i = 1..N, the right ends of N
    cells of mass 1/N (so ``x_N = max supp``); ``placement="mid"``: ``x_i = Q((i - 1/2) / N)``,
    the mass midpoints of the same cells.
    """
    check_integer(N, "N", DensityError, "pass N >= 1")
    if placement == "right":
        s = np.arange(1, N + 1) / N
    elif placement == "mid":
        s = (np.arange(1, N + 1) - 0.5) / N
    else:
        raise DensityError(f"unknown placement {placement!r}; {suggest(str(placement), ['right', 'mid'])}")
    return np.sort(np.asarray(density.quantile(s), dtype=np.float64))


def atomise_grid(density: Density, cells: int, mass: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Fixed-grid atomisation: split the support hull into ``cells`` equal cells and put one particle
    at the centre of every cell of positive mass, carrying ``mass`` times the cell's exact mass
    ``F(e_{k+1}) - F(e_k)`` (the first cell is closed, ``F(e_0-) = 0``, so a point mass at the left
    end counts; a lone point mass is one particle). Returns sorted positions and their masses
    (summing to ``mass``)."""
    check_integer(cells, "cells", DensityError, "pass cells >= 1")
    check_number(mass, "mass", DensityError, "pass e.g. mass=1.0", positive=True)
    a, b = density.support
    edges = np.linspace(a, b, cells + 1)
    cell_mass = np.diff(np.concatenate(([0.0], density.cdf(edges[1:]))))
    keep = cell_mass > 0
    centres = 0.5 * (edges[:-1] + edges[1:])
    return centres[keep], mass * cell_mass[keep]


def cell_averages(density: Density, edges: Any) -> np.ndarray:
    """Exact cell averages ``(F(e_{k+1}) - F(e_k)) / (e_{k+1} - e_k)`` on the cells of ``edges``.

    A density with a point mass has no cell averages (the finite-volume schemes would smear it into
    one cell): ``DensityError`` pointing to the pseudo-inverse scheme, which represents it exactly."""
    if density.atoms.size:
        raise DensityError(
            f"the density has a point mass at x = {density.atoms[0, 0]:g}, which the finite-volume schemes "
            "(fv1, fv2) cannot represent; run the scheme lagrangian (pseudo-inverse), which can"
        )
    e = np.asarray(edges, dtype=float)
    if e.ndim != 1 or e.size < 2:
        raise DensityError(f"edges must be a 1-D array of at least 2 points, got shape {e.shape}; pass cell edges")
    if not np.all(np.isfinite(e)):
        k = int(np.flatnonzero(~np.isfinite(e))[0])
        raise DensityError(f"edges are not finite: edges[{k}] = {e[k]}; pass finite cell edges")
    _increasing(e, "edges")
    return np.diff(density.cdf(e)) / np.diff(e)
