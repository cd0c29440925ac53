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

Particle reconstructions over many frames (``reconstruction_terms``): the three terms
``moment_k = <rho~, chi_k>``, ``rate_k = d/dt <rho~, chi_k>`` (right derivative, from the particle
velocities) and ``flux_k = <rho~ v_rho, chi_k'>`` (the sign formula on the reconstructions), so that
``r_k = rate_k - flux_k``, computed for all frames at once on the same merged pieces and Gauss rule.

Space-time residual (``space_time_residual``): (16) itself takes space-time test functions. With
``phi = chi_k(x) theta_j(t)``, ``theta_j(t) = P_j(2t/T - 1)`` (Legendre, ``max|theta_j| = 1``) and the
reconstruction's own initial state in the initial term,

    R_jk = (1/T) int_0^T theta_j r_k dt
         = (1/T) ( theta_j(T) moment_k(T) - theta_j(0) moment_k(0) - int_0^T (theta_j' moment_k + theta_j flux_k) dt ),

(the second line integrates ``theta_j d/dt moment_k`` by parts: ``moment_k`` is Lipschitz in t). The
per-time residual ``r_k(t)`` jumps at every event (the velocities do), so neither its supremum nor
its mean square over [0, T] is resolved by sampling at affordable densities; ``moment_k`` and
``flux_k`` depend on the positions only and are continuous in t, so the second line converges under
refinement of the time grid (composite Simpson rule). Normalised like ``r_k``, ``|R_jk|`` is a
fraction of the largest possible flux averaged over [0, T].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.polynomial import Legendre
from numpy.typing import ArrayLike, NDArray

from compare.metrics.measures import Empirical, FloatArray, Measure, Polygonal, integrate
from solvers.errors import InputError, ParticleInputError

DEFAULT_K = 6
"""Number of test functions in space used by ``particle_residual``."""
DEFAULT_J = 4
"""Number of test functions in time, ``theta_j = P_j``, j = 0..J-1, used by ``space_time_residual``."""
FRAME_BLOCK = 1 << 18
"""Gauss points per block of frames in ``reconstruction_terms`` (bounds its memory)."""

Velocity = FloatArray | Callable[[FloatArray], FloatArray]


@dataclass(frozen=True)
class TestFunctions:
    """``chi_k``, ``k = 1..K``, on ``[a, b]`` (module docstring); ``chi`` and ``dchi`` hold ``chi_k`` and
    ``chi_k'`` as Legendre series on the domain ``[a, b]``, ``dchi_sup`` the exact maxima ``max |chi_k'|``."""

    a: float
    b: float
    chi: tuple[Legendre, ...]
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
        chi = tuple(bubble * Legendre.basis(k, domain=domain) for k in range(K))
        dchi = tuple(c.deriv() for c in chi)
        sup = np.empty(K)
        for k, d in enumerate(dchi):
            roots = d.deriv().roots()
            real = roots.real[(np.abs(roots.imag) <= 1e-12 * (b - a)) & (roots.real >= a) & (roots.real <= b)]
            sup[k] = np.max(np.abs(d(np.concatenate(([a, b], real)))))
        return cls(float(a), float(b), chi, dchi, sup)

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
        return _coefficients(self.dchi, self.degree + 2) @ self.legendre_sums(x, weights[:, None])[:, 0]

    def legendre_sums(self, x: FloatArray, weights: FloatArray) -> FloatArray:
        """``sum_i weights_ic P_d(z_i)``, ``z = 2 (x - a)/(b - a) - 1`` clipped to [-1, 1], for the
        degrees ``d = 0..degree + 1`` (those of the ``chi_k``): ``x`` of shape ``(..., n)``, ``weights``
        ``(..., n, c)``, result ``(..., degree + 2, c)``. The ``P_d(z_i)`` by the three-term recurrence."""
        z = np.clip(2.0 * (x - self.a) / (self.b - self.a) - 1.0, -1.0, 1.0)[..., None, :]
        values = np.empty((*x.shape[:-1], self.degree + 2, x.shape[-1]))
        values[..., :1, :] = 1.0
        values[..., 1:2, :] = z
        for j in range(1, self.degree + 1):
            step = values[..., j + 1 : j + 2, :]
            np.multiply(z, values[..., j : j + 1, :], out=step)
            step *= (2 * j + 1) / (j + 1)
            step -= j / (j + 1) * values[..., j - 1 : j, :]
        return values @ weights


def _coefficients(series: tuple[Legendre, ...], size: int) -> FloatArray:
    """The Legendre coefficients of ``series`` as the rows of a ``(len(series), size)`` matrix."""
    coef = np.zeros((len(series), size))
    for k, s in enumerate(series):
        coef[k, : s.coef.size] = s.coef
    return coef


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


def _particle_frames(x: ArrayLike, vx: ArrayLike, y: ArrayLike, vy: ArrayLike) -> tuple[FloatArray, ...]:
    """Positions and velocities as ``(frames, N)`` arrays of matching shapes, or ``ParticleInputError``."""
    x, vx, y, vy = (_frames(a, name) for a, name in ((x, "x"), (vx, "vx"), (y, "y"), (vy, "vy")))
    if not (x.shape == vx.shape and y.shape == vy.shape and x.shape[0] == y.shape[0]):
        raise ParticleInputError(
            f"shapes differ: x {x.shape}, vx {vx.shape}, y {y.shape}, vy {vy.shape}; pass positions and velocities of the same frames"
        )
    return x, vx, y, vy


def _hull_tests(x: FloatArray, y: FloatArray, K: int) -> TestFunctions:
    """The test functions on the hull of the first frame (the hull never grows, Prop. 4.1)."""
    return TestFunctions.on(min(x[0].min(), y[0].min()), max(x[0].max(), y[0].max()), K)


@dataclass(frozen=True)
class WeakTerms:
    """The terms of (16) on the reconstructions of a particle run (module docstring), shape
    ``(frames, 2, K)`` (species rho, eta): ``moment`` ``<rho~, chi_k>``, ``rate`` ``d/dt <rho~, chi_k>``
    (right derivative), ``flux`` ``<rho~ v_rho, chi_k'>``; ``scale`` ``(2, K)`` the normalisation
    ``M_rho (M_rho + M_eta) max|chi_k'|`` of each species."""

    moment: FloatArray
    rate: FloatArray
    flux: FloatArray
    scale: FloatArray

    def residual(self) -> FloatArray:
        """The normalised per-frame residuals ``(rate - flux) / scale``, shape ``(frames, 2, K)``."""
        return (self.rate - self.flux) / self.scale

    def every(self, step: int) -> WeakTerms:
        """The terms at every ``step``-th frame."""
        return WeakTerms(self.moment[::step], self.rate[::step], self.flux[::step], self.scale)


def _counts(rows: FloatArray, queries: FloatArray, side: Literal["left", "right"]) -> NDArray[np.intp]:
    """Per frame, the number of entries of the sorted row below (``left``) or at most (``right``) each query."""
    return np.stack([np.searchsorted(row, q, side=side) for row, q in zip(rows, queries, strict=True)])


def _cdf_on_cell(nodes: FloatArray, m: float, M: float, k: NDArray[np.intp], q: FloatArray) -> FloatArray:
    """The reconstruction's CDF at ``q`` (shape of ``k``) continued linearly on its cell ``[x_{k-1}, x_k]``
    (0-based nodes per row, cell mass ``m``): ``m (k - 1) + m (q - x_{k-1}) / (x_k - x_{k-1})``, 0 for
    ``k = 0`` and ``M`` for ``k = N``. With ``k = #{nodes <= q}`` it is ``F(q)``, with ``k = #{nodes < q}``
    the left limit ``F(q-)``; the cell then has positive width."""
    N = nodes.shape[-1]
    left = np.take_along_axis(nodes, np.clip(k - 1, 0, N - 1), axis=-1)
    width = np.take_along_axis(nodes, np.clip(k, 0, N - 1), axis=-1) - left
    inner = m * (k - 1) + m * (q - left) / np.where(width > 0, width, 1.0)
    return np.where(k == 0, 0.0, np.where(k == N, M, inner))


def _species_terms(
    x: FloatArray, v: FloatArray, y: FloatArray, M: float, M_other: float, tests: TestFunctions, gauss: tuple[FloatArray, FloatArray]
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``moment``, ``rate``, ``flux``, each ``(frames, K)``, of the reconstruction of the sorted rows
    ``x`` (node velocities ``v``, mass ``M``) against that of ``y`` (mass ``M_other``).

    In mass levels ``s`` the nodes sit at ``s_i = i m``, ``m = M / (N - 1)``; the pieces are cut at the
    ``s_i`` and at the levels ``F_x(y_j)`` where ``X`` passes a node of ``y``, the same number in every
    frame. On a piece ``X`` and ``V`` are linear in ``s`` (interpolation between the nodes of its cell),
    and so is ``F_y(X(s)-)`` (``X`` stays in one cell of ``y``: ``#{y_j < X}`` is the number of levels
    ``F_x(y_j)`` below the piece) and the sign convolution ``(N' * y)(X) = F_y(X) + F_y(X-) - M_other``,
    where ``F_y(X) = F_y(X-)`` except on a cell of ``x`` of zero width (an atom at ``x_i``, where
    ``F_y(x_i)`` takes ``#{y_j <= x_i}``). Each is evaluated at the ends of the piece and interpolated
    to the Gauss nodes. The integrands ``chi_k(X)``, ``chi_k'(X) V`` and ``chi_k'(X) ((2 s - M) - (N' * y)(X))``
    are polynomials in ``s`` of degree at most ``K + 3``, integrated exactly by the Gauss rule ``gauss``
    (nodes, weights on [0, 1])."""
    frames, N = x.shape
    m, m_other = M / (N - 1), M_other / (y.shape[1] - 1)
    s_nodes = np.linspace(0.0, M, N)
    crossings = _cdf_on_cell(x, m, M, _counts(x, y, "right"), y)
    levels = np.sort(np.concatenate((np.broadcast_to(s_nodes, (frames, N)), crossings), axis=1), axis=1)
    ends = np.stack((levels[:, :-1], levels[:, 1:]))
    mid = 0.5 * (ends[0] + ends[1])
    cell = np.clip(np.searchsorted(s_nodes, mid, side="right") - 1, 0, N - 2)
    below = _counts(crossings, mid, "left")
    atom = np.take_along_axis(np.diff(x, axis=1) == 0, cell, axis=1)
    at_most = np.where(atom, np.take_along_axis(_counts(y, x, "right"), cell, axis=1), below)
    fraction = (ends - s_nodes[cell]) / m
    x0, v0 = np.take_along_axis(x, cell, axis=1), np.take_along_axis(v, cell, axis=1)
    X = x0 + fraction * (np.take_along_axis(x, cell + 1, axis=1) - x0)
    V = v0 + fraction * (np.take_along_axis(v, cell + 1, axis=1) - v0)
    sign = _cdf_on_cell(y, m_other, M_other, below, X) + _cdf_on_cell(y, m_other, M_other, at_most, X) - M_other
    velocity = 2.0 * ends - M - sign
    u, w = gauss

    def at_nodes(pair: FloatArray) -> FloatArray:
        return (pair[0][..., None] + (pair[1] - pair[0])[..., None] * u).reshape(frames, -1)

    weight = ((ends[1] - ends[0])[..., None] * w).reshape(frames, -1)
    weights = np.stack((weight, weight * at_nodes(V), weight * at_nodes(velocity)), axis=-1)
    sums = tests.legendre_sums(at_nodes(X), weights)
    size = sums.shape[-2]
    chi, dchi = _coefficients(tests.chi, size), _coefficients(tests.dchi, size)
    return sums[..., 0] @ chi.T, sums[..., 1] @ dchi.T, sums[..., 2] @ dchi.T


def reconstruction_terms(
    x: ArrayLike, vx: ArrayLike, y: ArrayLike, vy: ArrayLike, *, K: int = DEFAULT_K, M_rho: float = 1.0, M_eta: float = 1.0
) -> WeakTerms:
    """The ``WeakTerms`` of the particle reconstructions (N - 1 cells of mass M/(N - 1) between the
    sorted particles of each species) at every frame of ``x``, ``y`` ``(frames, N)`` with the
    velocities ``vx``, ``vy``; test functions on the hull of the first frame. Frames are processed in
    blocks of at most ``FRAME_BLOCK`` Gauss points."""
    x, vx, y, vy = _particle_frames(x, vx, y, vy)
    for name, rows in (("x", x), ("y", y)):
        down = np.argwhere(np.diff(rows, axis=1) < 0)
        if down.size:
            k, i = down[0]
            raise ParticleInputError(f"{name} is not sorted at {name}[{k}, {i}]; pass each row sorted (particles keep their order)")
    tests = _hull_tests(x, y, K)
    u, w = np.polynomial.legendre.leggauss((tests.degree + 3) // 2)
    gauss = (0.5 * (u + 1.0), 0.5 * w)
    block = max(1, FRAME_BLOCK // ((x.shape[1] + y.shape[1]) * u.size))
    parts = []
    for start in range(0, x.shape[0], block):
        frames = slice(start, start + block)
        rho = _species_terms(x[frames], vx[frames], y[frames], M_rho, M_eta, tests, gauss)
        eta = _species_terms(y[frames], vy[frames], x[frames], M_eta, M_rho, tests, gauss)
        parts.append([np.stack((a, b), axis=1) for a, b in zip(rho, eta, strict=True)])
    moment, rate, flux = (np.concatenate(column) for column in zip(*parts, strict=True))
    scale = np.stack([M * (M_rho + M_eta) * tests.dchi_sup for M in (M_rho, M_eta)])
    return WeakTerms(moment, rate, flux, scale)


def simpson(values: FloatArray, h: float) -> FloatArray:
    """Composite Simpson rule along the first axis of ``values`` sampled at spacing ``h`` (an even
    number of intervals): ``h/3 (f_0 + 4 f_1 + 2 f_2 + ... + 4 f_{n-1} + f_n)``."""
    n = values.shape[0] - 1
    if n < 2 or n % 2:
        raise InputError(f"Simpson's rule needs an even number of intervals, got {n}; sample at an even number of intervals")
    weights = np.full(n + 1, 2.0)
    weights[1::2] = 4.0
    weights[[0, -1]] = 1.0
    return h / 3.0 * np.tensordot(weights, values, axes=1)


def space_time_residual(t: ArrayLike, terms: WeakTerms, J: int = DEFAULT_J) -> FloatArray:
    """The normalised space-time residuals ``R_jk / scale_k`` (module docstring), shape ``(2, J, K)``,
    of ``terms`` sampled at the equally spaced times ``t`` (an even number of intervals): the
    integral of ``theta_j' moment_k + theta_j flux_k`` by ``simpson``."""
    t = np.asarray(t, dtype=np.float64)
    h = np.diff(t)
    if t.size != terms.moment.shape[0] or not np.allclose(h, h[0], rtol=1e-9, atol=0.0):
        raise InputError(f"{t.size} times for {terms.moment.shape[0]} frames, or unequal spacing; pass the frames' equally spaced times")
    T = float(t[-1] - t[0])
    z = 2.0 * (t - t[0]) / T - 1.0
    theta = np.stack([Legendre.basis(j)(z) for j in range(J)])[:, :, None, None]
    dtheta = np.stack([Legendre.basis(j).deriv()(z) * 2.0 / T for j in range(J)])[:, :, None, None]
    integral = simpson(np.moveaxis(dtheta * terms.moment + theta * terms.flux, 1, 0), T / (t.size - 1))
    ends = theta[:, -1] * terms.moment[-1] - theta[:, 0] * terms.moment[0]
    return np.moveaxis((ends - integral) / T, 0, 1) / terms.scale[:, None, :]


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
    (``reconstruction_terms``) or, with ``empirical=True``, of the empirical measures (``weak_residual``
    frame by frame) at every output frame; test functions on the hull of the first frame."""
    if not empirical:
        return reconstruction_terms(x, vx, y, vy, K=K, M_rho=M_rho, M_eta=M_eta).residual()
    x, vx, y, vy = _particle_frames(x, vx, y, vy)
    tests = _hull_tests(x, y, K)
    out = np.empty((x.shape[0], 2, K))
    for k in range(x.shape[0]):
        rho, eta = Empirical(x[k], np.full(x.shape[1], M_rho / x.shape[1])), Empirical(y[k], np.full(y.shape[1], M_eta / y.shape[1]))
        v_rho, v_eta = np.repeat(vx[k][rho.order], 2), np.repeat(vy[k][eta.order], 2)
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
