"""Distances between one-dimensional measures, computed exactly over merged breakpoints.

- ``wasserstein(mu, nu, p)``: ``W_p^p = int_0^M |X_mu(s) - X_nu(s)|^p ds`` (mass levels ``s``; equal to
  ``M int_0^1 |X_mu - X_nu|^p`` in the paper's normalisation), and for ``p = 1`` the equivalent
  ``W_1 = int |F_mu - F_nu| dx``.
- ``wasserstein_inf(mu, nu)``: ``ess sup_s |X_mu(s) - X_nu(s)|``.
- ``lp_distance(mu, nu, p)``: ``||f_mu - f_nu||_{L^p}`` of the densities.
- ``measure_energy(rho, eta)``: the energy (4), ``E = int d (d - (M_rho - M_eta)) dx`` with ``d = F_rho - F_eta``
  (``int d^2 dx`` for equal masses, Lemma 2.1).

For two polygonal measures (``Empirical``, ``Histogram``) the integrand difference is linear on
every merged piece, so each integral is a closed-form finite sum (round-off only). When a
``Continuous`` measure takes part, every merged piece is first cut at the sign changes of the
difference (so ``|d|^p`` has no kink inside a piece) and then integrated with the adaptive
Gauss-Kronrod rule ``measures.integrate`` (accuracy ~1e-14 relative, or the round-off level of the
difference when that is larger).
"""

from __future__ import annotations

import numpy as np

from compare.metrics.measures import FloatArray, Integrand, Measure, Polygonal, integrate, piece_nodes
from solvers.errors import InputError

MERGE_ULPS = 8
"""Breakpoints closer than this many ulps of the largest are merged (``_merged``)."""
MASS_RTOL = 1e-9
"""Relative mismatch of total masses accepted as round-off by the distances."""

BISECTION_STEPS = 40
GOLDEN_STEPS = 48


def _check_p(p: float) -> float:
    p = float(p)
    if not (p >= 1.0 and np.isfinite(p)):
        raise InputError(f"exponent p = {p} is not usable; pass a finite p >= 1 (wasserstein_inf for p = inf)")
    return p


def _check_equal_mass(mu: Measure, nu: Measure) -> None:
    """Equal masses up to ``MASS_RTOL``, or a one-line error."""
    if abs(mu.mass - nu.mass) > MASS_RTOL * max(mu.mass, nu.mass):
        raise InputError(
            f"masses differ: {mu.mass!r} and {nu.mass!r}; compare measures of equal mass (use .normalized() to compare shapes only)"
        )


def _merged(*sets: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Consecutive pairs ``(lo, hi)`` of the union of breakpoint sets, where points closer than
    ``MERGE_ULPS`` ulps of the largest one are one point: two measures' levels that agree up to
    round-off (a mass rescaled, a sum in another order) would otherwise open a sliver between them,
    on which W_inf sees the two quantiles on different sides of a jump."""
    points = np.unique(np.concatenate(sets))
    tol = MERGE_ULPS * np.finfo(float).eps * float(np.max(np.abs(points)))
    points = points[np.concatenate(([True], np.diff(points) > tol))]
    return points[:-1], points[1:]


def _cross_images(mu: Measure, nu: Measure, p: float) -> bool:
    """Whether to add each measure's breakpoints mapped through the other's CDF or quantile: with a
    ``Continuous`` measure and ``|d|^p`` not smooth, these are the roots of ``d`` against an atom
    (``X_nu(F_mu)`` in x, ``F_nu(x_k)`` in s), so cutting there spares the root search."""
    return not _both_polygonal(mu, nu) and p % 2 != 0


def _mean_abs_power(a: FloatArray, b: FloatArray, p: float) -> FloatArray:
    """``int_0^1 |a + (b - a) t|^p dt`` in closed form, without cancellation.

    Same signs, ``lo = min(|a|,|b|)``, ``hi = max``: ``(hi^q - lo^q)/(q (hi - lo))`` with ``q = p + 1``,
    evaluated as ``lo^p expm1(q log1p(delta))/(q delta)``, ``delta = (hi - lo)/lo`` when ``lo >= hi/2``.
    Opposite signs (one root inside): ``(|a|^q + |b|^q)/(q (|a| + |b|))``.
    """
    q = p + 1.0
    u, v = np.abs(a), np.abs(b)
    hi, lo = np.maximum(u, v), np.minimum(u, v)
    out = np.zeros(np.shape(hi))
    opposite = ((a < 0) & (b > 0)) | ((a > 0) & (b < 0))
    near = ~opposite & (lo >= 0.5 * hi) & (lo > 0)  # lo > 0, not hi > 0: 0.5 * hi underflows for subnormal hi
    far = ~opposite & ~near & (hi > 0)
    h = hi[opposite]
    x, y = u[opposite] / h, v[opposite] / h
    out[opposite] = h**p * (x**q + y**q) / (q * (x + y))
    lo_n = lo[near]
    delta = (hi[near] - lo_n) / lo_n
    safe = np.where(delta > 0, delta, 1.0)
    out[near] = lo_n**p * np.where(delta > 0, np.expm1(q * np.log1p(safe)) / (q * safe), 1.0)
    r = lo[far] / hi[far]
    out[far] = hi[far] ** p * (1.0 - r**q) / (q * (1.0 - r))
    return out


def _roots(
    d: Integrand, a: FloatArray, b: FloatArray, d_a: FloatArray, d_b: FloatArray, lo: FloatArray, hi: FloatArray, noise: float
) -> FloatArray:
    """A root of ``d`` in each bracket ``[a, b]`` (``d_a``, ``d_b`` of opposite signs) of the pieces ``[lo, hi]``:
    to ``2^-BISECTION_STEPS`` of the bracket, or a point where ``|d| <= noise`` (the round-off of ``d``).

    Illinois false position (superlinear for a simple root: it stops when its step is below the
    tolerance), with every fourth step a bisection, so the bracket at least halves every four steps."""
    root = 0.5 * (a + b)
    sign_a = np.sign(d_a)
    tol = np.ldexp(b - a, -BISECTION_STEPS)
    idx = np.arange(a.size)
    x_old = np.full(a.size, np.inf)
    retained = np.zeros(a.size, dtype=np.int8)
    for step in range(4 * BISECTION_STEPS):
        bisect = step % 4 == 3
        x = 0.5 * (a + b) if bisect else np.clip(a + (b - a) * (d_a / (d_a - d_b)), a, b)
        d_x = d(x, lo, hi)
        right = np.sign(d_x) == sign_a  # the root is in [x, b]
        # Illinois: an end retained twice in a row has its value halved
        d_b = np.where(right, np.where(retained == 1, 0.5 * d_b, d_b), d_x)
        d_a = np.where(right, d_x, np.where(retained == -1, 0.5 * d_a, d_a))
        retained = np.where(right, 1, -1).astype(np.int8)
        a, b = np.where(right, x, a), np.where(right, b, x)
        done = (np.abs(d_x) <= noise) | (b - a <= tol[idx])
        if not bisect:
            done |= np.abs(x - x_old) <= tol[idx]
        root[idx[done]] = x[done]
        keep = ~done
        if not keep.any():
            break
        idx, a, b, d_a, d_b, sign_a = idx[keep], a[keep], b[keep], d_a[keep], d_b[keep], sign_a[keep]
        retained, lo, hi, x_old = retained[keep], lo[keep], hi[keep], x[keep]
    return root


def _cut_at_roots(
    f: Integrand, g: Integrand, samples: FloatArray, d: FloatArray, lo: FloatArray, hi: FloatArray, noise: float
) -> tuple[FloatArray, FloatArray]:
    """The pieces cut at the sign changes of ``d = f - g`` between consecutive samples (values ``d``;
    roots by ``_roots`` down to the round-off ``noise`` of ``d``) and at samples where ``d`` vanishes
    between opposite signs."""
    sign = np.sign(d)
    piece, k = np.nonzero(sign[:, :-1] * sign[:, 1:] < 0)

    def difference(t: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
        return f(t, a, b) - g(t, a, b)

    roots = _roots(difference, samples[piece, k], samples[piece, k + 1], d[piece, k], d[piece, k + 1], lo[piece], hi[piece], noise)
    zero_piece, zero_k = np.nonzero((sign[:, 1:-1] == 0) & (sign[:, :-2] * sign[:, 2:] < 0))
    cuts = np.concatenate((lo, roots, samples[zero_piece, zero_k + 1]))
    owner = np.concatenate((np.arange(lo.size), piece, zero_piece))
    order = np.lexsort((cuts, owner))
    cuts, owner = cuts[order], owner[order]
    last = np.append(owner[1:] != owner[:-1], True)
    ends = np.where(last, hi[owner], np.append(cuts[1:], 0.0))
    keep = ends > cuts
    return cuts[keep], ends[keep]


def _integral_abs_power(f: Integrand, g: Integrand, lo: FloatArray, hi: FloatArray, p: float, linear: bool) -> float:
    """``int |f - g|^p`` over the pieces.

    Closed form if ``f - g`` is linear on each piece. Otherwise the pieces on which ``d = f - g``
    changes sign between the ends and Kronrod nodes are cut at the roots (not needed for even integer
    ``p``, where ``|d|^p`` is smooth), and everything goes to ``measures.integrate`` with the noise level
    ``p eps_d |d|_max^(p-1)``, ``eps_d = 4 eps max(|f|, |g|)`` the round-off of ``d``.
    """

    def power(t: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
        return np.abs(f(t, a, b) - g(t, a, b)) ** p

    if linear:
        return float(np.sum((hi - lo) * _mean_abs_power(f(lo, lo, hi) - g(lo, lo, hi), f(hi, lo, hi) - g(hi, lo, hi), p)))
    samples = np.concatenate((lo[:, None], piece_nodes(lo, hi), hi[:, None]), axis=1)
    f_values, g_values = f(samples, lo[:, None], hi[:, None]), g(samples, lo[:, None], hi[:, None])
    d = f_values - g_values
    eps_d = 4.0 * np.finfo(float).eps * float(max(np.max(np.abs(f_values)), np.max(np.abs(g_values))))
    noise = p * eps_d * (float(np.max(np.abs(d))) + eps_d) ** (p - 1.0)
    sign = np.sign(d)
    if p % 2 == 0:
        whole = np.ones(lo.size, dtype=bool)
    else:
        changes = sign[:, :-1] * sign[:, 1:] < 0
        touches = (sign[:, 1:-1] == 0) & (sign[:, :-2] * sign[:, 2:] < 0)
        whole = ~(np.any(changes, axis=1) | np.any(touches, axis=1))
    total = integrate(power, lo[whole], hi[whole], noise, np.abs(d[whole, 1:-1]) ** p) if whole.any() else 0.0
    if whole.all():
        return total
    split = ~whole
    cut_lo, cut_hi = _cut_at_roots(f, g, samples[split], d[split], lo[split], hi[split], eps_d)
    return total + integrate(power, cut_lo, cut_hi, noise)


def _both_polygonal(mu: Measure, nu: Measure) -> bool:
    return isinstance(mu, Polygonal) and isinstance(nu, Polygonal)


def _cdf_pair(mu: Measure, nu: Measure) -> tuple[Integrand, Integrand]:
    """``F_mu`` and ``F_nu`` rescaled to the mass of ``mu`` (a round-off correction)."""
    scale = mu.mass / nu.mass

    def g(x: FloatArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
        return scale * nu.cdf_on(x, lo, hi)

    return mu.cdf_on, g


def _x_pieces(mu: Measure, nu: Measure, cross: bool) -> tuple[FloatArray, FloatArray]:
    """Merged x-breakpoints (with the cross images if ``cross``)."""
    if not cross:
        return _merged(mu.x_breakpoints, nu.x_breakpoints)
    scale = nu.mass / mu.mass
    images = (mu.quantile(nu.s_breakpoints / scale), nu.quantile(mu.s_breakpoints * scale))
    return _merged(mu.x_breakpoints, nu.x_breakpoints, *images)


def _quantile_pair(mu: Measure, nu: Measure, cross: bool) -> tuple[Integrand, Integrand, FloatArray, FloatArray]:
    """``X_mu`` and ``X_nu`` on the mass levels of ``mu``, and the merged s-pieces (with the cross
    images if ``cross``)."""
    scale = nu.mass / mu.mass

    def g(s: FloatArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
        return nu.quantile_on(s * scale, lo * scale, hi * scale)

    levels = [mu.s_breakpoints, nu.s_breakpoints / scale]
    if cross:
        levels += [mu.cdf(nu.x_breakpoints), nu.cdf(mu.x_breakpoints) / scale]
    lo, hi = _merged(*levels)
    return mu.quantile_on, g, lo, hi


def wasserstein(mu: Measure, nu: Measure, p: float = 1.0) -> float:
    """``W_p(mu, nu)`` for measures of equal mass ``M`` and ``p >= 1``.

    ``W_p^p = int_0^M |X_mu(s) - X_nu(s)|^p ds``; ``p = 1`` uses ``int |F_mu - F_nu| dx`` (same value;
    the CDFs of ``Continuous`` measures are smooth in x where their quantiles may be singular).
    Exact up to round-off for polygonal pairs; with a ``Continuous`` measure, quadrature accuracy
    (see ``measures.integrate``).
    """
    p = _check_p(p)
    _check_equal_mass(mu, nu)
    linear = _both_polygonal(mu, nu)
    cross = _cross_images(mu, nu, p)
    if p == 1.0:
        lo, hi = _x_pieces(mu, nu, cross)
        return _integral_abs_power(*_cdf_pair(mu, nu), lo, hi, 1.0, linear)
    f, g, lo, hi = _quantile_pair(mu, nu, cross)
    return _integral_abs_power(f, g, lo, hi, p, linear) ** (1.0 / p)


def wasserstein_inf(mu: Measure, nu: Measure) -> float:
    """``W_inf(mu, nu) = ess sup_s |X_mu(s) - X_nu(s)|`` for measures of equal mass.

    Exact for polygonal pairs (the difference is linear on each merged piece, so the supremum is at
    a piece end). With a ``Continuous`` measure every piece is sampled at its ends and quadrature
    nodes; on the pieces whose sampled maximum is at least half the largest, a golden-section search
    between the neighbours of the best sample locates the interior maximum (exact to round-off when
    ``|d|`` is unimodal there, which holds on pieces small against the scale of the density). Note that
    ``W_inf`` jumps under mass perturbations: levels that should coincide but differ by round-off
    open a sliver on which the two quantiles sit on different sides of a jump.
    """
    _check_equal_mass(mu, nu)
    f, g, lo, hi = _quantile_pair(mu, nu, _cross_images(mu, nu, 1.0))
    if _both_polygonal(mu, nu):
        return float(max(np.max(np.abs(f(lo, lo, hi) - g(lo, lo, hi))), np.max(np.abs(f(hi, lo, hi) - g(hi, lo, hi)))))
    samples = np.concatenate((lo[:, None], piece_nodes(lo, hi), hi[:, None]), axis=1)
    f_values, g_values = f(samples, lo[:, None], hi[:, None]), g(samples, lo[:, None], hi[:, None])
    values = np.abs(f_values - g_values)
    best = np.argmax(values, axis=1)
    # Both quantiles are non-decreasing: where one is constant on a piece, |d| is quasi-convex there
    # and its maximum is at a (sampled) end.
    both_vary = (f_values[:, 0] != f_values[:, -1]) & (g_values[:, 0] != g_values[:, -1])
    candidates = np.flatnonzero((values[np.arange(lo.size), best] >= 0.5 * values.max()) & both_vary)
    if candidates.size == 0:
        return float(values.max())
    k = best[candidates]
    a = samples[candidates, np.maximum(k - 1, 0)]
    b = samples[candidates, np.minimum(k + 1, samples.shape[1] - 1)]
    piece_lo, piece_hi = lo[candidates], hi[candidates]

    def size(t: FloatArray, twice: bool = False) -> FloatArray:
        a_, b_ = (np.tile(piece_lo, 2), np.tile(piece_hi, 2)) if twice else (piece_lo, piece_hi)
        return np.abs(f(t, a_, b_) - g(t, a_, b_))

    # Golden-section search, one new evaluation per step: the interior points c < e of [a, b].
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    c, e = b - ratio * (b - a), a + ratio * (b - a)
    both = size(np.concatenate((c, e)), twice=True)
    size_c, size_e = both[: c.size], both[c.size :]
    for _ in range(GOLDEN_STEPS - 1):
        left = size_c >= size_e  # the maximum is in [a, e]: e becomes the new upper interior point
        a, b = np.where(left, a, c), np.where(left, e, b)
        new = np.where(left, b - ratio * (b - a), a + ratio * (b - a))
        size_new = size(new)
        c, e = np.where(left, new, e), np.where(left, c, new)
        size_c, size_e = np.where(left, size_new, size_e), np.where(left, size_c, size_new)
    left = size_c >= size_e
    a, b = np.where(left, a, c), np.where(left, e, b)
    return float(max(values.max(), np.max(size(0.5 * (a + b)))))


def lp_distance(mu: Measure, nu: Measure, p: float = 1.0) -> float:
    """``||f_mu - f_nu||_{L^p(R)}`` of the densities (``DensityError`` for a measure with atoms).

    Exact on merged cell edges for two piecewise-constant densities; quadrature with a ``Continuous``
    measure (which then needs a ``pdf``).
    """
    p = _check_p(p)
    for measure in (mu, nu):
        measure._require_density()

    lo, hi = _merged(mu.x_breakpoints, nu.x_breakpoints)
    return _integral_abs_power(mu.pdf_on, nu.pdf_on, lo, hi, p, _both_polygonal(mu, nu)) ** (1.0 / p)


def measure_energy(rho: Measure, eta: Measure) -> float:
    """Energy (4) ``E(rho, eta) = int d (d - dM) dx``, ``d = F_rho - F_eta``, ``dM = M_rho - M_eta``.

    Writing ``|x - y|`` as the length of the interval between x and y turns the three kernel terms
    of (4) into this integral (the integrand vanishes outside the joint support). Masses equal up to
    ``MASS_RTOL`` give ``int d^2 dx >= 0`` (Lemma 2.1), with ``eta`` rescaled to the mass of ``rho``
    (a round-off correction). Exact for polygonal measures (``d`` is linear between merged
    breakpoints); with a ``Continuous`` measure, quadrature accuracy.
    """
    lo, hi = _merged(rho.x_breakpoints, eta.x_breakpoints)
    linear = _both_polygonal(rho, eta)
    if abs(rho.mass - eta.mass) <= MASS_RTOL * max(rho.mass, eta.mass):
        return _integral_abs_power(*_cdf_pair(rho, eta), lo, hi, 2.0, linear)
    square = _integral_abs_power(rho.cdf_on, eta.cdf_on, lo, hi, 2.0, linear)

    def d(x: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
        return rho.cdf_on(x, a, b) - eta.cdf_on(x, a, b)

    if linear:
        mean = float(np.sum((hi - lo) * 0.5 * (d(lo, lo, hi) + d(hi, lo, hi))))
    else:
        mean = integrate(d, lo, hi, 4.0 * np.finfo(float).eps * max(rho.mass, eta.mass))
    return square - (rho.mass - eta.mass) * mean
