"""Residual of the weak formulation (Definition 2.1, eq. (16)) on a numerical state.

With test functions ``phi(x, t) = chi(x) theta(t)``, (16) says that for every ``chi`` in ``C^1_c``

    d/dt <rho, chi> = <rho v_rho, chi'>,   v_rho = N' * rho - N' * eta   (and symmetrically for eta),

with ``(N' * mu)(x) = int sign(x - y) dmu(y)``, ``sign(0) = 0``. Write ``<rho, chi> = int_0^M chi(X(s)) ds``
with the quantile ``X`` of ``rho`` (mass ``M``) and ``V = dX/dt``. Since ``(N' * rho)(X(s)) = 2 s - M`` for
a.e. ``s`` when ``rho`` has no atoms, and its average over the levels of an atom is the ``sign(0) = 0``
value ``F(x) + F(x-) - M``, the residual

    r[chi] = int_0^M chi'(X(s)) [ V(s) - (2 s - M) + (N' * eta)(X(s)) ] ds

equals ``d/dt <rho, chi> - <rho v_rho, chi'>`` for every measure, atoms included. It vanishes for an
exact solution and, for the empirical measure of a particle solution, whenever no particles of the
same species coincide and every x-y coincidence is a stuck pair (Theorem 4.1): the particle
velocities are then the sign-formula velocities.

Evaluation: a polygonal state (``Histogram`` or ``Empirical`` plus velocities at its nodes)
has ``X`` and ``V`` linear in ``s`` between its s-breakpoints and ``(N' * eta)(X(s))`` linear between
the levels ``F_rho(x)`` of eta's x-breakpoints; on the merged pieces the integrand is a polynomial,
integrated exactly by Gauss-Legendre. A ``Continuous`` state takes a callable ``V(s)`` and
``measures.integrate``.

Test functions (``TestFunctions``): on the initial hull ``[a, b]`` (which never grows, Prop. 4.1),
``chi_k(x) = (1 - z^2)^2 P_{k-1}(z) / 16``, ``z = 2 (x - a)/(b - a) - 1``, ``k = 1..K`` (``P`` Legendre),
zero outside: ``chi_k`` and ``chi_k'`` vanish at ``a`` and ``b``, so ``chi_k`` is ``C^1_c``.
Normalisation: ``|<rho v_rho, chi'>|`` and ``|d/dt <rho, chi>|`` are at most
``M_rho (M_rho + M_eta) max|chi'|`` (every velocity is bounded by the total mass), so the reported
residual is ``max_k |r_k| / (M_rho (M_rho + M_eta) max|chi_k'|)``, a fraction of the largest possible flux.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.polynomial import Legendre
from numpy.typing import ArrayLike

from compare.metrics.measures import Empirical, FloatArray, Histogram, Measure, Polygonal, integrate
from solvers.errors import InputError, ParticleInputError

DEFAULT_K = 6
"""Number of test functions used by ``particle_residual``."""

Velocity = FloatArray | Callable[[FloatArray], FloatArray]


@dataclass(frozen=True)
class TestFunctions:
    """``chi_k``, ``k = 1..K``, on ``[a, b]`` (module docstring); ``dchi`` holds ``chi_k'`` as Legendre
    series on the domain ``[a, b]``, ``dchi_sup`` the exact maxima ``max |chi_k'|``."""

    a: float
    b: float
    dchi: tuple[Legendre, ...]
    dchi_sup: FloatArray

    __test__ = False  # not a pytest class

    @classmethod
    def on(cls, a: float, b: float, K: int = DEFAULT_K) -> TestFunctions:
        """The family on the hull ``[a, b]``."""
        if not (np.isfinite(a) and np.isfinite(b) and a < b):
            raise InputError(f"test-function hull [{a}, {b}] is empty or not finite; pass finite a < b")
        if K < 1:
            raise InputError(f"K = {K} test functions; pass K >= 1")
        domain = [a, b]
        bubble = Legendre(np.polynomial.legendre.poly2leg([1.0, 0.0, -2.0, 0.0, 1.0]) / 16.0, domain=domain)
        dchi = tuple((bubble * Legendre.basis(k, domain=domain)).deriv() for k in range(K))
        sup = np.empty(K)
        for k, d in enumerate(dchi):
            roots = d.deriv().roots()
            real = roots.real[(np.abs(roots.imag) <= 1e-12 * (b - a)) & (roots.real >= a) & (roots.real <= b)]
            sup[k] = np.max(np.abs(d(np.concatenate(([a, b], real)))))
        return cls(float(a), float(b), dchi, sup)

    @property
    def degree(self) -> int:
        """Largest polynomial degree of the ``chi_k'``."""
        return max(d.degree() for d in self.dchi)

    def derivatives(self, x: ArrayLike) -> FloatArray:
        """``chi_k'(x)``, shape ``x.shape + (K,)``; zero outside ``[a, b]``."""
        x = np.clip(np.asarray(x, dtype=np.float64), self.a, self.b)
        return np.stack([d(x) for d in self.dchi], axis=-1)

    def moments(self, x: FloatArray, weights: FloatArray) -> FloatArray:
        """``sum_i weights_i chi_k'(x_i)`` for every ``k`` (Legendre recurrence, memory O(len(x)))."""
        z = np.clip(2.0 * (x - self.a) / (self.b - self.a) - 1.0, -1.0, 1.0)
        coef = np.zeros((len(self.dchi), self.degree + 1))
        for k, d in enumerate(self.dchi):
            coef[k, : d.coef.size] = d.coef
        moments = np.empty(self.degree + 1)
        previous, current = np.zeros_like(z), np.ones_like(z)
        for j in range(self.degree + 1):
            moments[j] = np.dot(weights, current)
            previous, current = current, ((2 * j + 1) * z * current - j * previous) / (j + 1)
        return coef @ moments


def _levels(rho: Measure, eta: Measure) -> tuple[FloatArray, FloatArray]:
    """s-pieces of ``rho`` on which ``X``, ``V`` and ``(N' * eta)(X)`` are smooth."""
    crossings = np.clip(rho.cdf(eta.x_breakpoints), 0.0, rho.mass)
    levels = np.union1d(rho.s_breakpoints, crossings)
    return levels[:-1], levels[1:]


def weak_residual(rho: Measure, velocity: Velocity, eta: Measure, tests: TestFunctions) -> FloatArray:
    """Raw residuals ``r_k = d/dt <rho, chi_k> - <rho v_rho, chi_k'>``, shape ``(K,)``.

    ``velocity``: for a polygonal ``rho`` the velocities of its nodes (``rho.nodes``; for a particle
    reconstruction the particle velocities, for an ``Empirical`` measure each particle velocity
    twice); for a ``Continuous`` ``rho`` a callable ``V(s)`` on mass levels.
    """
    lo, hi = _levels(rho, eta)

    def mismatch(s: FloatArray, x: FloatArray, v: FloatArray) -> FloatArray:
        return v - (2.0 * s - rho.mass) + eta.sign_convolution(x)

    if isinstance(rho, Polygonal):
        nodes_v = np.asarray(velocity, dtype=np.float64)
        if nodes_v.shape != rho.nodes[0].shape:
            raise InputError(f"{nodes_v.size} node velocities for {rho.nodes[0].size} nodes; pass one velocity per node of rho.nodes")
        order = tests.degree // 2 + 2
        u, w = np.polynomial.legendre.leggauss(order)
        s = 0.5 * (lo + hi)[:, None] + 0.5 * (hi - lo)[:, None] * u
        weights = 0.5 * (hi - lo)[:, None] * w
        x = rho.quantile_on(s, lo[:, None], hi[:, None])
        v = rho.node_interpolant_on(nodes_v, s, lo[:, None], hi[:, None])
        return tests.moments(x.ravel(), (weights * mismatch(s, x, v)).ravel())
    if not callable(velocity):
        raise InputError("a Continuous rho needs its velocity as a callable V(s) on mass levels; pass velocity=V")

    def term(k: int) -> Callable[[FloatArray, FloatArray, FloatArray], FloatArray]:
        def f(s: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
            x = rho.quantile_on(s, a, b)
            return tests.dchi[k](np.clip(x, tests.a, tests.b)) * mismatch(s, x, np.asarray(velocity(s)))

        return f

    return np.array([integrate(term(k), lo, hi) for k in range(len(tests.dchi))])


def normalized_residual(residual: FloatArray, rho: Measure, eta: Measure, tests: TestFunctions) -> FloatArray:
    """``r_k / (M_rho (M_rho + M_eta) max|chi_k'|)`` (module docstring)."""
    return residual / (rho.mass * (rho.mass + eta.mass) * tests.dchi_sup)


def _frames(values: ArrayLike, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] < 2:
        raise ParticleInputError(f"{name} must have shape (nt, N) or (N,) with N >= 2, got {np.shape(values)}; pass particle rows")
    bad = np.argwhere(~np.isfinite(array))
    if bad.size:
        k, i = bad[0]
        raise ParticleInputError(f"{name} is not finite: {name}[{k}, {i}] = {array[k, i]}; pass finite values")
    return array


def _particle_state(x: FloatArray, v: FloatArray, M: float, empirical: bool) -> tuple[Measure, FloatArray]:
    """The reconstruction (N - 1 cells of mass M/(N - 1) between the sorted particles) or the empirical
    measure of one frame, with the velocities of its nodes."""
    if empirical:
        measure = Empirical(x, np.full(x.size, M / x.size))
        return measure, np.repeat(v[measure.order], 2)
    down = np.flatnonzero(np.diff(x) < 0)
    if down.size:
        raise ParticleInputError(f"positions are not sorted at index {down[0]}; pass each row sorted (particles keep their order)")
    return Histogram(x, np.full(x.size - 1, M / (x.size - 1))), v


def particle_residual_components(
    x: ArrayLike,
    vx: ArrayLike,
    y: ArrayLike,
    vy: ArrayLike,
    *,
    K: int = DEFAULT_K,
    M_rho: float = 1.0,
    M_eta: float = 1.0,
    empirical: bool = False,
) -> FloatArray:
    """Normalised residuals, shape ``(nt, 2, K)`` (species rho, eta), of the particle reconstructions
    (or of the empirical measures with ``empirical=True``) at every output frame; test functions on
    the hull of the first frame."""
    x, vx, y, vy = (_frames(a, name) for a, name in ((x, "x"), (vx, "vx"), (y, "y"), (vy, "vy")))
    if not (x.shape == vx.shape and y.shape == vy.shape and x.shape[0] == y.shape[0]):
        raise ParticleInputError(
            f"shapes differ: x {x.shape}, vx {vx.shape}, y {y.shape}, vy {vy.shape}; pass positions and velocities of the same frames"
        )
    tests = TestFunctions.on(min(x[0].min(), y[0].min()), max(x[0].max(), y[0].max()), K)
    out = np.empty((x.shape[0], 2, K))
    for k in range(x.shape[0]):
        rho, v_rho = _particle_state(x[k], vx[k], M_rho, empirical)
        eta, v_eta = _particle_state(y[k], vy[k], M_eta, empirical)
        out[k, 0] = normalized_residual(weak_residual(rho, v_rho, eta, tests), rho, eta, tests)
        out[k, 1] = normalized_residual(weak_residual(eta, v_eta, rho, tests), eta, rho, tests)
    return out


def particle_residual(
    x: ArrayLike,
    vx: ArrayLike,
    y: ArrayLike,
    vy: ArrayLike,
    *,
    K: int = DEFAULT_K,
    M_rho: float = 1.0,
    M_eta: float = 1.0,
    empirical: bool = False,
) -> FloatArray:
    """Weak-form residual per output frame, shape ``(nt,)``: the maximum over both species and the ``K``
    test functions of the normalised ``|r_k|`` (see ``particle_residual_components``)."""
    components = particle_residual_components(x, vx, y, vy, K=K, M_rho=M_rho, M_eta=M_eta, empirical=empirical)
    return np.max(np.abs(components), axis=(1, 2))
