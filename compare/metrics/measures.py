"""One-dimensional measures of finite mass in exact representations.

A measure ``mu`` of mass ``M`` is described by its cumulative distribution ``F(x) = mu((-inf, x])``
(right-continuous, values in ``[0, M]``) and its pseudo-inverse ``X(s) = inf{x : F(x) >= s}``
(left-continuous, ``s`` in ``[0, M]``: mass levels, not fractions of the mass).

- ``Empirical`` and ``Histogram`` are *polygonal*: the completed graph of ``F`` is the
  polyline through nodes ``(X_j, S_j)`` with both coordinates non-decreasing, so ``F`` is linear
  between consecutive x-nodes and ``X`` linear between consecutive s-nodes. A vertical edge
  (``X_j = X_{j+1}``) is an atom, a horizontal edge (``S_j = S_{j+1}``) a gap. Every integral over
  merged breakpoints is then an exact finite sum.
- ``Continuous`` wraps callables; integrals against it use ``integrate`` (adaptive Gauss-Kronrod).

The ``*_on(values, lo, hi)`` methods evaluate on pieces ``[lo, hi]`` that contain no breakpoint of
the measure in their interior and treat a value at ``lo`` (``hi``) as the one-sided limit from
inside the piece; the metrics evaluate every piece this way so jumps at breakpoints are never
sampled on the wrong side.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solvers.errors import DensityError, InputError, ParticleInputError

FloatArray = NDArray[np.float64]
Function = Callable[[FloatArray], ArrayLike]
Integrand = Callable[[FloatArray, FloatArray, FloatArray], FloatArray]
"""``f(t, lo, hi)``: values at points ``t`` of pieces ``[lo, hi]`` (shapes broadcast), one-sided at the ends."""

QUADRATURE_RTOL = 1e-14
"""Accepted ``|K15 - G7|`` per piece, relative to the integral of ``|f|`` over all pieces."""
MAX_LEVELS = 60
"""Bisection levels of the adaptive quadrature."""

_KRONROD_X = np.array(
    [
        0.991455371120812639206854697526329,
        0.949107912342758524526189684047851,
        0.864864423359769072789712788640926,
        0.741531185599394439863864773280788,
        0.586087235467691130294144845693013,
        0.405845151377397166906606412076961,
        0.207784955007898467600689403773245,
        0.0,
    ]
)
_KRONROD_W = np.array(
    [
        0.022935322010529224963732008058970,
        0.063092092629978553290700663189204,
        0.104790010322250183839876322541518,
        0.140653259715525918745189590510238,
        0.169004726639267902826583426598550,
        0.190350578064785409913256402421014,
        0.204432940075298892414161999234649,
        0.209482141084727828012999174891714,
    ]
)
_GAUSS7_W = np.array(
    [
        0.129484966168869693270611432679082,
        0.279705391489276667901467771423780,
        0.381830050505118944950369775488975,
        0.417959183673469387755102040816327,
    ]
)
# The 15 Kronrod nodes on [0, 1] (ascending) with their weights and the embedded 7-point Gauss weights.
_U = 0.5 * np.concatenate((-_KRONROD_X[:-1], _KRONROD_X[::-1])) + 0.5
_WK = 0.5 * np.concatenate((_KRONROD_W[:-1], _KRONROD_W[::-1]))
_WG = np.zeros(15)
_WG[1::2] = 0.5 * np.concatenate((_GAUSS7_W, _GAUSS7_W[-2::-1]))


def piece_nodes(lo: FloatArray, hi: FloatArray) -> FloatArray:
    """The 15 Gauss-Kronrod nodes of every piece ``[lo, hi]``, shape ``(len(lo), 15)``, all interior."""
    return lo[:, None] + (hi - lo)[:, None] * _U


def integrate(f: Integrand, lo: FloatArray, hi: FloatArray, noise: float = 0.0, values: FloatArray | None = None) -> float:
    """``sum_k int_{lo_k}^{hi_k} f`` by adaptive Gauss-Kronrod (G7, K15) on every piece.

    A piece is accepted when ``|K15 - G7| <= QUADRATURE_RTOL * int |f| + noise * (hi - lo)`` (``noise``:
    the round-off level of the values of ``f``) and contributes its K15 value (exact for polynomials of
    degree 22; for smooth ``f`` its error is far below ``|K15 - G7|``, so results are at round-off);
    otherwise it is halved, for at most ``MAX_LEVELS`` levels. End singularities of the ``x^alpha`` type
    (a quantile where the density vanishes, ``|d|^p`` at a root of ``d``) are resolved by the halving.
    Refinement stops early once the unresolved pieces outnumber twice those unresolved at the first
    level plus 1024: pieces that keep doubling are round-off noise (e.g. an ill-conditioned quantile
    callable near a support end), not resolvable structure. ``values``: ``f`` at ``piece_nodes(lo, hi)``
    if already known. Halving keeps every sub-piece inside its piece, so ``f`` keeps evaluating
    one-sided limits on the correct side.
    """
    total, scale, cap = 0.0, 0.0, 0
    for level in range(MAX_LEVELS):
        if values is None:
            values = f(piece_nodes(lo, hi), lo[:, None], hi[:, None])
        length = hi - lo
        kronrod, gauss = length * (values @ _WK), length * (values @ _WG)
        if level == 0:
            scale = float(np.sum(np.abs(length * (np.abs(values) @ _WK))))
        done = np.abs(kronrod - gauss) <= QUADRATURE_RTOL * scale + noise * length
        if level == 0:
            cap = 2 * np.count_nonzero(~done) + 1024
        total += float(np.sum(kronrod[done]))
        if done.all() or 2 * np.count_nonzero(~done) > cap or level == MAX_LEVELS - 1:
            return total + float(np.sum(kronrod[~done]))
        keep = ~done
        mid = 0.5 * (lo[keep] + hi[keep])
        lo, hi = np.concatenate((lo[keep], mid)), np.concatenate((mid, hi[keep]))
        values = None
    return total


def _as_finite_1d(values: ArrayLike, name: str, what: str, fix: str, error: type[InputError]) -> FloatArray:
    """Float copy of a 1-D array of finite values, or a one-line ``error``."""
    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise error(f"{what} are not numbers: {name} = {values!r:.60}; {fix}") from None
    if array.ndim != 1:
        raise error(f"{what} must be a 1-D array, got shape {array.shape}; {fix}")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise error(f"{what} are not finite: {name}[{bad[0]}] = {array[bad[0]]}; {fix}")
    return array


def _check_masses(masses: FloatArray, name: str, error: type[InputError]) -> None:
    """Masses must be non-negative with a positive total."""
    negative = np.flatnonzero(masses < 0)
    if negative.size:
        raise error(f"negative mass: {name}[{negative[0]}] = {masses[negative[0]]}; pass non-negative masses")
    if not masses.sum() > 0:
        raise error(f"total mass is zero ({name} sums to 0); pass at least one positive mass")


class Measure(ABC):
    """A finite measure on the real line (see the module docstring for conventions)."""

    mass: float
    x_breakpoints: FloatArray
    """Sorted distinct points (support ends included) between which ``F`` is smooth."""
    s_breakpoints: FloatArray
    """Sorted distinct mass levels between which ``X`` is smooth; starts at 0, ends at ``mass``."""

    @property
    def support(self) -> tuple[float, float]:
        """Ends of the convex hull of the support."""
        return float(self.quantile(np.zeros(1))[0]), float(self.quantile(np.full(1, self.mass))[0])

    @property
    @abstractmethod
    def has_density(self) -> bool:
        """Whether the measure is absolutely continuous with a density that can be evaluated."""

    @abstractmethod
    def cdf(self, x: ArrayLike) -> FloatArray:
        """``F(x) = mu((-inf, x])``."""

    @abstractmethod
    def quantile(self, s: ArrayLike) -> FloatArray:
        """``X(s) = inf{x : F(x) >= s}`` for mass levels ``s`` (clipped to ``[0, mass]``); ``X(0)`` is the
        left end of the support."""

    @abstractmethod
    def pdf(self, x: ArrayLike) -> FloatArray:
        """Density at ``x`` (right-continuous at jumps); ``DensityError`` if there is none."""

    @abstractmethod
    def sign_convolution(self, x: ArrayLike) -> FloatArray:
        """``(N' * mu)(x) = int sign(x - y) dmu(y) = F(x) + F(x-) - mass``, with ``sign(0) = 0``."""

    @abstractmethod
    def cdf_on(self, x: FloatArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
        """``F`` at ``x`` in pieces ``[lo, hi]`` free of x-breakpoints, one-sided at the ends."""

    @abstractmethod
    def pdf_on(self, x: FloatArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
        """Density at ``x`` in pieces ``[lo, hi]`` free of x-breakpoints, one-sided at the ends."""

    @abstractmethod
    def quantile_on(self, s: FloatArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
        """``X`` at ``s`` in pieces ``[lo, hi]`` free of s-breakpoints, one-sided at the ends."""

    @abstractmethod
    def normalized(self) -> Measure:
        """The same measure divided by its mass (a probability measure)."""

    def _require_density(self) -> None:
        if not self.has_density:
            raise DensityError(
                f"{type(self).__name__} measure has atoms and no density; use a Histogram reconstruction with cells of positive width"
            )


class Polygonal(Measure):
    """Measure whose completed CDF graph is the polyline through ``(X_j, S_j)``, both non-decreasing."""

    def _set_nodes(self, x_nodes: FloatArray, s_nodes: FloatArray) -> None:
        self._x = x_nodes
        self._s = s_nodes
        self.mass = float(s_nodes[-1])
        self.x_breakpoints = np.unique(x_nodes)
        self.s_breakpoints = np.unique(s_nodes)

    @property
    def has_density(self) -> bool:
        return not bool(np.any((np.diff(self._x) == 0) & (np.diff(self._s) > 0)))

    @property
    def nodes(self) -> tuple[FloatArray, FloatArray]:
        """The polyline ``(X_j, S_j)`` of the completed CDF graph."""
        return self._x, self._s

    def _linear(self, t: FloatArray, j: NDArray[np.intp], along: FloatArray, to: FloatArray) -> FloatArray:
        """Value of ``to`` interpolated linearly in ``along`` on edge ``j`` (which has ``along_{j+1} > along_j``)."""
        a0, a1, v0, v1 = along[j], along[j + 1], to[j], to[j + 1]
        return v0 + (v1 - v0) * ((t - a0) / np.where(a1 > a0, a1 - a0, 1.0))

    def cdf(self, x: ArrayLike) -> FloatArray:
        x = np.asarray(x, dtype=np.float64)
        k = np.searchsorted(self._x, x, side="right")
        inside = (k > 0) & (k < self._x.size)
        out = np.where(k == 0, 0.0, self.mass)
        j = k[inside] - 1
        out[inside] = self._linear(x[inside], j, self._x, self._s)
        return out

    def quantile(self, s: ArrayLike) -> FloatArray:
        s = np.clip(np.asarray(s, dtype=np.float64), 0.0, self.mass)
        k = np.searchsorted(self._s, s, side="left")
        start = np.searchsorted(self._s, 0.0, side="right") - 1
        out = np.full(s.shape, self._x[start])
        inside = k > 0
        out[inside] = self._linear(s[inside], k[inside] - 1, self._s, self._x)
        return out

    def sign_convolution(self, x: ArrayLike) -> FloatArray:
        x = np.asarray(x, dtype=np.float64)
        k = np.searchsorted(self._x, x, side="left")
        inside = (k > 0) & (k < self._x.size)
        left = np.where(k == 0, 0.0, self.mass)
        left[inside] = self._linear(x[inside], k[inside] - 1, self._x, self._s)
        return self.cdf(x) + left - self.mass

    def pdf(self, x: ArrayLike) -> FloatArray:
        self._require_density()
        x = np.asarray(x, dtype=np.float64)
        k = np.searchsorted(self._x, x, side="right")
        inside = (k > 0) & (k < self._x.size)
        out = np.zeros(x.shape)
        j = k[inside] - 1
        out[inside] = (self._s[j + 1] - self._s[j]) / (self._x[j + 1] - self._x[j])
        return out

    def _edge(self, along: FloatArray, lo: FloatArray, hi: FloatArray) -> NDArray[np.intp]:
        """Index ``j`` of the edge with ``along_j <= lo < hi <= along_{j+1}`` (-1 or the last node outside)."""
        mid = 0.5 * (np.asarray(lo) + np.asarray(hi))
        return np.searchsorted(along, mid, side="right") - 1

    def cdf_on(self, x: FloatArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
        j = self._edge(self._x, lo, hi)
        inner = self._linear(x, np.clip(j, 0, self._x.size - 2), self._x, self._s)
        return np.where(j < 0, 0.0, np.where(j >= self._x.size - 1, self.mass, inner))

    def pdf_on(self, x: FloatArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
        self._require_density()
        j = self._edge(self._x, lo, hi)
        jc = np.clip(j, 0, self._x.size - 2)
        width = self._x[jc + 1] - self._x[jc]
        density = (self._s[jc + 1] - self._s[jc]) / np.where(width > 0, width, 1.0)
        density = np.where((j < 0) | (j >= self._x.size - 1), 0.0, density)
        return np.broadcast_to(density, np.broadcast_shapes(np.shape(x), density.shape)).copy()

    def quantile_on(self, s: FloatArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
        return self.node_interpolant_on(self._x, s, lo, hi)

    def node_interpolant_on(self, values: FloatArray, s: FloatArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
        """Interpolant, linear in the mass level ``s``, of ``values`` given at the nodes (e.g. node
        velocities), on s-pieces ``[lo, hi]`` free of s-breakpoints."""
        j = np.clip(self._edge(self._s, lo, hi), 0, self._s.size - 2)
        return self._linear(s, j, self._s, values)


class Histogram(Polygonal):
    """Density ``masses[k] / (edges[k+1] - edges[k])`` on cell ``[edges[k], edges[k+1]]``.

    Cells of zero width hold an atom of mass ``masses[k]``; cells of zero mass are gaps. Covers
    finite-volume solutions (``masses = averages * dx``), the particle reconstruction and the
    pseudo-inverse solution (``edges = X_k``, ``masses = diff(s_k)``).
    """

    def __init__(self, edges: ArrayLike, masses: ArrayLike) -> None:
        fix = "pass finite, non-decreasing cell edges"
        self.edges = _as_finite_1d(edges, "edges", "cell edges", fix, DensityError)
        self.masses = _as_finite_1d(masses, "masses", "cell masses", "pass finite cell masses", DensityError)
        if self.masses.size + 1 != self.edges.size:
            raise DensityError(f"{self.edges.size} edges for {self.masses.size} cells; pass len(edges) == len(masses) + 1")
        down = np.flatnonzero(np.diff(self.edges) < 0)
        if down.size:
            k = down[0]
            raise DensityError(f"cell edges decrease: edges[{k}] = {self.edges[k]} > edges[{k + 1}] = {self.edges[k + 1]}; {fix}")
        _check_masses(self.masses, "masses", DensityError)
        self._set_nodes(self.edges, np.concatenate(([0.0], np.cumsum(self.masses))))

    @classmethod
    def from_averages(cls, edges: ArrayLike, averages: ArrayLike) -> Histogram:
        """Cells with the given average densities (finite-volume output)."""
        edges = _as_finite_1d(edges, "edges", "cell edges", "pass finite cell edges", DensityError)
        averages = _as_finite_1d(averages, "averages", "cell averages", "pass finite averages", DensityError)
        if averages.size + 1 != edges.size:
            raise DensityError(f"{edges.size} edges for {averages.size} cells; pass len(edges) == len(averages) + 1")
        negative = np.flatnonzero(averages < 0)
        if negative.size:
            k = negative[0]
            raise DensityError(f"negative cell average: averages[{k}] = {averages[k]}; pass non-negative densities")
        return cls(edges, averages * np.diff(edges))

    def normalized(self) -> Histogram:
        return Histogram(self.edges, self.masses / self.mass)


class Empirical(Polygonal):
    """Atoms of masses ``w`` at positions ``x`` (any order; default ``w = 1/N``, total mass 1).

    Stored sorted: ``self.x = x[self.order]``, ``self.w = w[self.order]`` (stable order).
    """

    def __init__(self, x: ArrayLike, w: ArrayLike | None = None) -> None:
        x = _as_finite_1d(x, "x", "x positions", "pass finite positions", ParticleInputError)
        if x.size == 0:
            raise ParticleInputError("no positions: x is empty; pass at least one position")
        order = np.argsort(x, kind="stable")
        self.order = order
        self.x = x[order]
        if w is None:
            self.w = np.full(x.size, 1.0 / x.size)
            levels = np.arange(1, x.size + 1) / x.size
        else:
            w = _as_finite_1d(w, "w", "weights", "pass finite weights", ParticleInputError)
            if w.size != x.size:
                raise ParticleInputError(f"{w.size} weights for {x.size} positions; pass one weight per position")
            _check_masses(w, "w", ParticleInputError)
            self.w = w[order]
            levels = np.cumsum(self.w)
        s_nodes = np.concatenate(([0.0], np.repeat(levels, 2)[:-1]))
        self._set_nodes(np.repeat(self.x, 2), s_nodes)

    def normalized(self) -> Empirical:
        return Empirical(self.x, self.w / self.mass)


class Continuous(Measure):
    """Absolutely continuous measure given by callables ``cdf`` and ``quantile`` (vectorised).

    ``cdf`` must return mass (``cdf(support[1])`` is the total mass) and ``quantile`` its left-continuous
    pseudo-inverse on mass levels. ``breakpoints`` are the points inside the support where the density
    is not smooth; an interval where the density vanishes identically must be bounded by breakpoints
    (inside a piece the density may vanish only at isolated points). ``pdf`` is optional (needed for
    L^p distances and the weak-form residual).
    """

    def __init__(
        self,
        cdf: Function,
        quantile: Function,
        support: tuple[float, float],
        breakpoints: ArrayLike = (),
        pdf: Function | None = None,
    ) -> None:
        ends = _as_finite_1d(support, "support", "support ends", "pass a finite support (a, b) with a < b", DensityError)
        if ends.size != 2 or not ends[0] < ends[1]:
            raise DensityError(f"support must be (a, b) with a < b, got {tuple(ends)}; pass a finite interval")
        inner = _as_finite_1d(breakpoints, "breakpoints", "breakpoints", "pass finite breakpoints", DensityError)
        outside = inner[(inner < ends[0]) | (inner > ends[1])]
        if outside.size:
            raise DensityError(f"breakpoint {outside[0]} lies outside the support {tuple(ends)}; pass breakpoints inside the support")
        self._cdf, self._quantile, self._pdf = cdf, quantile, pdf
        self._a, self._b = float(ends[0]), float(ends[1])
        self.x_breakpoints = np.unique(np.concatenate((ends, inner)))
        levels = np.asarray(cdf(self.x_breakpoints), dtype=np.float64)
        if levels.shape != self.x_breakpoints.shape or not np.all(np.isfinite(levels)):
            raise DensityError("cdf does not return finite values at the breakpoints; pass a vectorised, finite cdf")
        self.mass = float(levels[-1])
        if not self.mass > 0:
            raise DensityError(f"total mass is cdf(b) = {self.mass}; pass a cdf of positive mass")
        tol = 1e-12 * self.mass
        if abs(levels[0]) > tol or np.any(np.diff(levels) < -tol):
            raise DensityError(
                "cdf is not a cumulative distribution (cdf(a) != 0 or decreasing at the breakpoints); pass F(x) = mass of (-inf, x]"
            )
        self._levels = np.maximum.accumulate(np.clip(levels, 0.0, self.mass))
        self._levels[0] = 0.0
        self.s_breakpoints = np.unique(self._levels)

    @classmethod
    def from_density(cls, density: Any) -> Continuous:
        """Wrap an object with vectorised ``pdf``, ``cdf``, ``quantile`` and ``support``, ``breakpoints``."""
        return cls(density.cdf, density.quantile, density.support, density.breakpoints, density.pdf)

    @property
    def support(self) -> tuple[float, float]:
        return self._a, self._b

    @property
    def has_density(self) -> bool:
        return self._pdf is not None

    def cdf(self, x: ArrayLike) -> FloatArray:
        x = np.asarray(x, dtype=np.float64)
        inner = np.asarray(self._cdf(np.clip(x, self._a, self._b)), dtype=np.float64)
        return np.where(x < self._a, 0.0, np.where(x >= self._b, self.mass, inner))

    def quantile(self, s: ArrayLike) -> FloatArray:
        s = np.clip(np.asarray(s, dtype=np.float64), 0.0, self.mass)
        return np.clip(np.asarray(self._quantile(s), dtype=np.float64), self._a, self._b)

    def pdf(self, x: ArrayLike) -> FloatArray:
        if self._pdf is None:
            raise DensityError("this Continuous measure has no pdf; pass pdf=... when building it")
        x = np.asarray(x, dtype=np.float64)
        inside = (x >= self._a) & (x <= self._b)
        return np.where(inside, np.asarray(self._pdf(np.clip(x, self._a, self._b)), dtype=np.float64), 0.0)

    def sign_convolution(self, x: ArrayLike) -> FloatArray:
        return 2.0 * self.cdf(x) - self.mass

    def cdf_on(self, x: FloatArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
        return self.cdf(x)

    def pdf_on(self, x: FloatArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
        x = np.asarray(x, dtype=np.float64)
        # One-sided values at the piece ends: step one float inside (the density may jump there).
        x = np.where(x == lo, np.nextafter(x, np.inf), np.where(x == hi, np.nextafter(x, -np.inf), x))
        return self.pdf(x)

    def quantile_on(self, s: FloatArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
        s = np.asarray(s, dtype=np.float64)
        out = self.quantile(s)
        # At a level held by several breakpoints (a gap of the support) the one-sided limits are the
        # outermost of those breakpoints; at the foot or the top of a point mass the limit from inside
        # the piece is the point mass itself (the quantile one ulp inside the piece).
        at_lo = (s == lo) & np.isin(s, self._levels)
        if np.any(at_lo):
            gap_end = self.x_breakpoints[np.searchsorted(self._levels, s[at_lo], side="right") - 1]
            out[at_lo] = np.maximum(gap_end, self.quantile(np.nextafter(s[at_lo], np.inf)))
        at_hi = (s == hi) & np.isin(s, self._levels)
        if np.any(at_hi):
            gap_start = self.x_breakpoints[np.searchsorted(self._levels, s[at_hi], side="left")]
            out[at_hi] = np.minimum(gap_start, self.quantile(np.nextafter(s[at_hi], -np.inf)))
        return out

    def normalized(self) -> Continuous:
        mass = self.mass
        pdf = None if self._pdf is None else (lambda x: np.asarray(self._pdf(x)) / mass)
        return Continuous(
            lambda x: np.asarray(self._cdf(x)) / mass,
            lambda s: self._quantile(np.asarray(s) * mass),
            (self._a, self._b),
            self.x_breakpoints[1:-1],
            pdf,
        )
