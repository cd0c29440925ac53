"""Exact solution of system (5) while the supports of ``rho`` and ``eta`` are disjoint.

While no ``eta`` mass lies between two ``rho`` characteristics, ``F_eta`` is constant along each
``rho`` characteristic (and vice versa), so the pseudo-inverse equations integrate to

    X(s, t) = X0(s) + (2 s - M_rho - 2 F_eta0(X0(s)) + M_eta) t,   s in [0, M_rho],
    Y(s, t) = Y0(s) + (2 s - M_eta - 2 F_rho0(Y0(s)) + M_rho) t,   s in [0, M_eta],

with the species ``M_rho rho0`` and ``M_eta eta0`` (``rho0``, ``eta0`` of unit mass; ``F`` in mass units).
For unit masses and ``rho0`` left of ``eta0``: ``X = X0 + 2 s t``, ``Y = Y0 - 2 (1 - s) t``. Along a
characteristic ``dX/ds`` grows by ``2 t``, so the density is ``rho0 / (1 + 2 t rho0)``. Each connected component of
a support moves as a block with the constant ``c = F_other0`` of its position; the formula holds
until two components of different species first touch (``contact_time``). A gap inside one
species' support keeps its width while no mass of the other species lies in it.

Initial data outside Theorem 5.1: a point mass at p (levels ``(F0(p-), F0(p)]``, ``X0`` flat there)
spreads at once into the uniform density ``1/(2t)`` on ``[X(F0(p-), t), X(F0(p), t)]``; a ``singular``
density ``|x - center|^(-alpha)`` becomes bounded by ``1/(2t)`` at once, the same formula
``rho0 / (1 + 2 t rho0)`` along characteristics. Point masses of both species at one point are not
disjoint supports (the minimal-norm rule decides what stays there, see
``solvers.continuum.lagrangian``) and are refused.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from solvers.errors import DensityError, InputError
from solvers.initial import Density, invert_increasing, root_tolerance

ENERGY_GAUSS_POINTS = 16
GRADING_LEVELS = 60
"""A quadrature piece ending at an unbounded density is split into pieces of lengths ``2^-k`` of it,
k = 1..GRADING_LEVELS, towards that end (the last one, of relative length ``2^-60``, is negligible)."""


@dataclass(frozen=True)
class ExactMarginal:
    """One species of the exact separated solution at time ``t``.

    Vectorised ``cdf``, ``quantile``, ``pdf`` and attributes ``support``, ``breakpoints``, so it can be
    wrapped by ``compare.metrics.measures.Continuous.from_density``. The species is ``mass`` times the unit-mass
    ``density0``; ``levels`` are in mass units. For ``t > 0`` it has a density (point masses have
    spread); at ``t = 0`` it is the initial measure, point masses included.
    """

    density0: Density
    components: np.ndarray
    levels: np.ndarray
    shift: np.ndarray
    t: float
    mass: float = 1.0

    @property
    def moved_components(self) -> np.ndarray:
        """Components at time ``t``: the left end moves by ``shift``, the right end also by ``2 t`` times the mass."""
        moved = self.components + self.shift[:, None]
        moved[:, 1] += 2.0 * self.t * (self.levels[:, 1] - self.levels[:, 0])
        return moved

    @property
    def support(self) -> tuple[float, float]:
        moved = self.moved_components
        return float(moved[0, 0]), float(moved[-1, 1])

    @property
    def breakpoints(self) -> np.ndarray:
        """Images of the initial breakpoints, each moved with its own component (inside ``support``);
        a point mass has two images, the ends of the uniform density it spreads into."""
        bp = np.asarray(self.density0.breakpoints, dtype=np.float64)
        moved = []
        for (a, b), lev, shift in zip(self.components, self.levels, self.shift):
            inner = bp[(bp >= a) & (bp <= b)]
            pts = np.concatenate(([a], inner, [b]))
            for F0 in (self.density0.cdf, self.density0.cdf_left):
                moved.append(pts + 2.0 * self.t * self.mass * np.asarray(F0(pts)) - 2.0 * self.t * lev[0] + shift)
        lo, hi = self.support
        return np.unique(np.clip(np.concatenate(moved), lo, hi))  # the ends agree with support to round-off

    def _component_of_level(self, s: np.ndarray) -> np.ndarray:
        """Index of the component holding level ``s`` (left-continuous: a gap level goes left)."""
        return np.clip(np.searchsorted(self.levels[:, 1], s, side="left"), 0, len(self.levels) - 1)

    def quantile(self, s: np.ndarray) -> np.ndarray:
        """``X(s, t) = X0(s) + 2 t (s - levels[j, 0]) + shift[j]`` on the component j holding level s."""
        s_arr = np.asarray(s, dtype=np.float64)
        j = self._component_of_level(s_arr)
        x0 = np.asarray(self.density0.quantile(s_arr / self.mass), dtype=np.float64)
        x0 = np.clip(x0, self.components[j, 0], self.components[j, 1])
        return x0 + 2.0 * self.t * (s_arr - self.levels[j, 0]) + self.shift[j]

    def _characteristic(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Component index ``j``, initial position ``y`` and level (mass units) of the characteristic
        through ``x`` (clipped to the component), and whether ``x`` lies in a spread point mass.

        On component j, ``y + c F0(y) = x - shift[j] + 2 t levels[j, 0]`` with ``c = 2 t mass``. Off the
        point masses the left side is continuous and increasing with derivative ``1 + c rho0 >= 1`` and
        is solved by ``invert_increasing`` on the table of ``F0``; at a point mass p it jumps over
        ``[p + c F0(p-), p + c F0(p)]``, where ``y = p`` and the level is ``(target - p) / c``. An error
        ``e`` of the root ``y`` moves ``F0(y)`` by ``rho0(y) e`` but ``(target - y) / c`` only by ``e / c``: the
        level is taken from the better conditioned of the two (near an unbounded density, the second)."""
        moved = self.moved_components
        j = np.clip(np.searchsorted(moved[:, 0], x, side="right") - 1, 0, len(moved) - 1)
        a, b = self.components[j, 0], self.components[j, 1]
        target = x - self.shift[j] + 2.0 * self.t * self.levels[j, 0]
        c = 2.0 * self.t * self.mass
        grid, F0 = self.density0.cdf_table
        y = invert_increasing(
            lambda z: z + c * np.asarray(self.density0.cdf(z)),
            lambda z: 1.0 + c * np.asarray(self.density0.continuous_pdf(z)),
            grid,
            grid + c * F0,
            target,
            root_tolerance(grid),
        )
        y = np.where(x <= moved[j, 0], a, np.where(x >= moved[j, 1], b, np.clip(y, a, b)))
        level = np.asarray(self.density0.cdf(y), dtype=np.float64)
        fan = np.zeros(x.shape, dtype=bool)
        if c > 0.0:
            steep = c * np.asarray(self.density0.continuous_pdf(y)) > 1.0
            level[steep] = np.clip((target[steep] - y[steep]) / c, 0.0, 1.0)
            p = self.density0.atoms[:, 0]
            below = np.asarray(self.density0.cdf_left(p), dtype=np.float64)
            above = np.asarray(self.density0.cdf(p), dtype=np.float64)
            for pk, lo, hi in zip(p, below, above):
                here = (target >= pk + c * lo) & (target <= pk + c * hi)
                y[here] = pk
                level[here] = np.clip((target[here] - pk) / c, lo, hi)
                fan |= here
        level = np.where(x <= moved[j, 0], self.levels[j, 0], np.where(x >= moved[j, 1], self.levels[j, 1], self.mass * level))
        return j, y, level, fan

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """``F(x, t)``: the level of the characteristic through ``x``."""
        x_arr = np.asarray(x, dtype=np.float64)
        if self.t == 0.0:
            return self.mass * np.asarray(self.density0.cdf(x_arr), dtype=np.float64)
        flat = x_arr.ravel()
        j, _, level, _ = self._characteristic(flat)
        return np.where(flat < self.moved_components[j, 0], 0.0, level).reshape(x_arr.shape)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        """``rho0(y) / (1 + 2 t rho0(y))`` inside the moved components (``1/(2t)`` where ``rho0(y)`` is
        infinite: a spread point mass, the centre of a ``singular`` density), zero outside; at ``t = 0``
        the initial pdf (``inf`` at a point mass)."""
        x_arr = np.asarray(x, dtype=np.float64)
        if self.t == 0.0:
            return self.mass * np.asarray(self.density0.pdf(x_arr), dtype=np.float64)
        flat = x_arr.ravel()
        j, y, _, fan = self._characteristic(flat)
        moved = self.moved_components
        d0 = self.mass * np.asarray(self.density0.continuous_pdf(y), dtype=np.float64)
        d0[fan] = np.inf
        finite = np.isfinite(d0)
        density = np.full(flat.shape, 1.0 / (2.0 * self.t))
        density[finite] = d0[finite] / (1.0 + 2.0 * self.t * d0[finite])
        inside = (flat >= moved[j, 0]) & (flat < moved[j, 1])
        return np.where(inside, density, 0.0).reshape(x_arr.shape)


class SeparatedSolution:
    """Exact solution for initial data ``mass_rho * rho0``, ``mass_eta * eta0`` (unit-mass densities)
    with disjoint supports, valid for ``0 <= t <= contact_time``."""

    def __init__(self, rho0: Density, eta0: Density, mass_rho: float = 1.0, mass_eta: float = 1.0) -> None:
        for name, mass in (("mass_rho", mass_rho), ("mass_eta", mass_eta)):
            if not (np.isfinite(mass) and mass > 0):
                raise InputError(f"{name} = {mass!r} is not a positive finite mass; pass e.g. {name}=1.0")
        self.rho0, self.eta0 = rho0, eta0
        self.mass_rho, self.mass_eta = float(mass_rho), float(mass_eta)
        self._rho_comps = rho0.components
        self._eta_comps = eta0.components
        for a, b in self._rho_comps:
            for c, d in self._eta_comps:
                if a < d and c < b:
                    raise DensityError(f"supports overlap on [{max(a, c):g}, {min(b, d):g}]; the exact solution needs disjoint supports")
        common = np.intersect1d(rho0.atoms[:, 0], eta0.atoms[:, 0])
        if common.size:
            raise DensityError(
                f"both species have a point mass at x = {common[0]:g}; the exact solution needs disjoint supports "
                "(the lagrangian scheme and the particles resolve it by the minimal-norm rule)"
            )
        self._rho_levels = self._levels(rho0, self._rho_comps, mass_rho)
        self._eta_levels = self._levels(eta0, self._eta_comps, mass_eta)
        # F of the other species, constant on each component (its value at the component's left end),
        # shifted by half the mass difference: a characteristic at level s moves with 2 (s - c)
        dM = self.mass_rho - self.mass_eta
        self._rho_c = mass_eta * np.asarray(eta0.cdf(self._rho_comps[:, 0]), dtype=np.float64) + 0.5 * dM
        self._eta_c = mass_rho * np.asarray(rho0.cdf(self._eta_comps[:, 0]), dtype=np.float64) - 0.5 * dM
        self.contact_time = self._contact_time()

    @staticmethod
    def _levels(density: Density, comps: np.ndarray, mass: float) -> np.ndarray:
        """Rows ``(mass F0(a-), mass F0(b))``: the levels of every component ``[a, b]`` (point masses at
        its ends included)."""
        return mass * np.stack((np.asarray(density.cdf_left(comps[:, 0])), np.asarray(density.cdf(comps[:, 1]))), axis=1).astype(np.float64)

    def _ends(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Component ends of both species, their velocities and species labels, sorted by left end."""
        left = np.concatenate((self._rho_comps[:, 0], self._eta_comps[:, 0]))
        right = np.concatenate((self._rho_comps[:, 1], self._eta_comps[:, 1]))
        v_left = 2.0 * np.concatenate((self._rho_levels[:, 0] - self._rho_c, self._eta_levels[:, 0] - self._eta_c))
        v_right = 2.0 * np.concatenate((self._rho_levels[:, 1] - self._rho_c, self._eta_levels[:, 1] - self._eta_c))
        species = np.concatenate((np.zeros(len(self._rho_comps), int), np.ones(len(self._eta_comps), int)))
        order = np.argsort(left)
        return np.stack((left, right))[:, order], np.stack((v_left, v_right))[:, order], species[order], order

    def _contact_time(self) -> float:
        """First time a component's right end meets the next component (of the other species)."""
        ends, vel, species, _ = self._ends()
        gap = ends[0, 1:] - ends[1, :-1]
        closing = vel[1, :-1] - vel[0, 1:]
        meets = (species[1:] != species[:-1]) & (closing > 0.0)
        times = np.where(meets, gap / np.where(meets, closing, 1.0), np.inf)
        return float(np.min(times)) if times.size else np.inf

    def _check_time(self, t: float) -> float:
        t = float(t)
        if not (0.0 <= t <= self.contact_time):
            raise InputError(f"t = {t:g} is outside [0, contact time {self.contact_time:g}]; the exact solution holds only before contact")
        return t

    def rho(self, t: float) -> ExactMarginal:
        """The ``rho`` marginal at time ``t``."""
        t = self._check_time(t)
        shift = 2.0 * t * (self._rho_levels[:, 0] - self._rho_c)
        return ExactMarginal(self.rho0, self._rho_comps, self._rho_levels, shift, t, self.mass_rho)

    def eta(self, t: float) -> ExactMarginal:
        """The ``eta`` marginal at time ``t``."""
        t = self._check_time(t)
        shift = 2.0 * t * (self._eta_levels[:, 0] - self._eta_c)
        return ExactMarginal(self.eta0, self._eta_comps, self._eta_levels, shift, t, self.mass_eta)

    @property
    def dissipation(self) -> float:
        """``-dE/dt = integral rho v_rho^2 + integral eta v_eta^2``, constant before contact: on a component
        with levels ``[l0, l1]`` the characteristic at level s moves with ``2 (s - c)``, so it contributes
        ``integral_{l0}^{l1} 4 (s - c)^2 ds = 4/3 ((l1 - c)^3 - (l0 - c)^3)``."""
        total = 0.0
        for levels, c in ((self._rho_levels, self._rho_c), (self._eta_levels, self._eta_c)):
            total += float(np.sum(4.0 / 3.0 * ((levels[:, 1] - c) ** 3 - (levels[:, 0] - c) ** 3)))
        return total

    @cached_property
    def initial_energy(self) -> float:
        """Energy (4) of the initial data, ``integral d (d - dM) dx`` with ``d = F_rho0 - F_eta0`` (mass
        units): Gauss-Legendre with ``ENERGY_GAUSS_POINTS`` nodes on every piece between the merged
        breakpoints, exact where the CDFs are polynomials of degree <= 15 on the pieces (every kind
        but ``singular``; a point mass is a jump at a breakpoint, which the interior nodes never
        see). Where a piece ends at an unbounded density (a ``singular`` centre, ``F`` like
        ``|x - center|^(1 - alpha)``), it is split geometrically towards that end
        (``GRADING_LEVELS`` halvings): on each sub-piece the integrand is analytic in an ellipse 5.8
        times its half-length, so the rule is accurate to ``5.8^-32``, i.e. to round-off."""
        lo = min(self.rho0.support[0], self.eta0.support[0])
        hi = max(self.rho0.support[1], self.eta0.support[1])
        bp = np.unique(np.concatenate(([lo, hi], self.rho0.breakpoints, self.eta0.breakpoints)))
        bp = bp[(bp >= lo) & (bp <= hi)]
        unbounded = np.concatenate((self.rho0.unbounded_points, self.eta0.unbounded_points))
        left, right = _graded_pieces(bp, unbounded)
        u, w = np.polynomial.legendre.leggauss(ENERGY_GAUSS_POINTS)
        half = 0.5 * (right - left)[:, None]
        x = 0.5 * (left + right)[:, None] + half * u
        d = self.mass_rho * np.asarray(self.rho0.cdf(x)) - self.mass_eta * np.asarray(self.eta0.cdf(x))
        return float(np.sum(half * w * d * (d - (self.mass_rho - self.mass_eta))))

    def energy(self, t: float) -> float:
        """Energy (4) at time ``t``: ``E(0) - t * dissipation`` (the dissipation is constant before contact)."""
        return self.initial_energy - self._check_time(t) * self.dissipation


def _graded_pieces(bp: np.ndarray, unbounded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature pieces ``(left ends, right ends)``: the pieces between consecutive breakpoints ``bp``,
    each one with an end in ``unbounded`` split at its midpoint and then into pieces of relative lengths
    ``2^-1, ..., 2^-GRADING_LEVELS`` towards that end (and a last piece at the end itself)."""
    fractions = np.concatenate((0.5 ** np.arange(GRADING_LEVELS + 1), [0.0]))
    left, right = [], []
    for a, b in itertools.pairwise(bp):
        at_a, at_b = bool(np.isin(a, unbounded)), bool(np.isin(b, unbounded))
        if not (at_a or at_b):
            left.append([a])
            right.append([b])
            continue
        mid = 0.5 * (a + b)
        for end, other, graded in ((a, mid, at_a), (b, mid, at_b)):
            points = end + (other - end) * fractions if graded else np.array([other, end])
            lo, hi = np.minimum(points[:-1], points[1:]), np.maximum(points[:-1], points[1:])
            left.append(lo)
            right.append(hi)
    return np.concatenate(left), np.concatenate(right)
