"""Observables of an equal-mass particle run, exact over every t in [0, T], from its event log.

Between two events every particle of system (6) moves on a straight line with its rank velocity
``q / N`` (``q = 2 (i - L_i) - 1``, 0 once stuck), so on each interval ``[a, b]`` between
consecutive event times:

- the cell widths ``h_k(t)`` of the reconstruction (66)-(67) (``reconstruction.py``: N - 1 cells of
  mass ``c = 1/(N - 1)``) are linear in t, with slopes ``delta_k = (q_{k+1} - q_k)/N``;
- ``W1(rho^N, rho~^N) = sum_k w_k h_k`` (Lemma 5.1, closed form of ``reconstruction.py``) and the
  span ``x_N - x_1`` are linear, so their ratio is monotone;
- the energy (4) is linear with slope ``-||v||_w^2 = -sum q^2 / N^3`` (the merged order is fixed);
- for every convex G, ``h G(c/h)`` is the perspective of G, convex in h and hence in t: so
  ``Phi_G(t) = sum_k h_k G(c/h_k)`` over both species (Prop. 5.2 for ``G = r^m``, Prop. 5.3 for
  other G) is convex, and so are ``sup rho~ = max_k c/h_k`` and ``max(sup rho~, sup eta~)``.

Hence every supremum in time is attained at an event time or at 0 or T, and a function that is convex
on ``[a, b]`` is non-increasing there iff its left derivative at ``b`` is ``<= 0``. For ``Phi_G``
that derivative is ``-sum_k delta_k psi(d_k(b))`` with ``d_k = c/h_k`` and the non-decreasing
``psi(d) = d G'(d) - G(d)`` (``(m - 1) d^m`` for ``G = r^m``, ``d^2/(1 + d)`` for ``r log(1 + r)``):
the proof of Prop. 5.2, eq. (69). By Abel summation it is ``<= 0`` for *every* convex G at once iff
every tail sum of ``delta`` over the cells of density ``>= theta`` (both species) is ``>= 0``: the
certificate ``all_convex_margin`` (the paper's pairing argument after (69) builds exactly such a
matching). For ``max(sup rho~, sup eta~)`` (the m = inf statement) the left derivative is ``<= 0``
iff one of the cells of largest density at b has ``delta >= 0``.

``ContinuousTimeReplay`` replays an event log (a crossing moves the two velocities towards each other
by 2/N, a stick sets both to 0, and both particles restart from their midpoint, as the engine does)
from the state right after t = 0, in a compiled kernel with O(N) memory and O(N) work per distinct
event time (O(N log N) with the certificate), chunk by chunk, so it can consume a streamed log.
``observe`` runs the engine and the replay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from solvers._jit import jit
from solvers.checks import check_number
from solvers.errors import ParticleInputError
from solvers.particles.engine import simulate
from solvers.particles.reconstruction import lemma_5_1_weights

__all__ = ["DEFAULT_FUNCTIONALS", "RLOG1P", "ContinuousTimeObservables", "ContinuousTimeReplay", "observe"]

RLOG1P = "r log(1+r)"
DEFAULT_FUNCTIONALS: tuple[float | str, ...] = (1.5, 2.0, 4.0, 8.0, 64.0, RLOG1P)
"""The functionals ``int G(rho~) + int G(eta~)`` checked by default: ``G = r^m`` for these m
(Prop. 5.2) and ``G = r log(1 + r)`` (Prop. 5.3)."""
PEAK_RTOL = 1e-12
"""A later time counts as a new peak time only if the value exceeds the running maximum by this much."""
SIMULTANEOUS_RTOL = 8 * np.finfo(np.float64).eps
"""Events within this relative distance of the current event time belong to it: events that are
simultaneous in exact arithmetic come out a few ulps apart, and the velocities between them are a
transient of the order in which the engine processed them, not a state of the flow."""

# slots of the float state f
_T_NODE, _E_NODE, _S0, _M0, _S_PEAK, _S_PEAK_T, _M_PEAK, _M_PEAK_T = 0, 1, 2, 3, 4, 5, 6, 7
_E0, _E_RESIDUAL, _T_LAST, _MIN_THIRD, _MAX_MISMATCH, _CERT, _CERT_T, _SCALE = 8, 9, 10, 11, 12, 13, 14, 15
_W1_SUP, _W1_SUP_T, _LEMMA_CURRENT, _LIP_REC, _LIP_EMP, _REC_SUM = 16, 18, 20, 22, 24, 26  # two slots each (x, y)
_MAX_VIOL = 28  # three slots (x, y, both)
_N_FLOAT = 31
# slots of the integer state n
_EVENTS, _BAD, _DONE, _Q2, _ABS_Q = 0, 1, 2, 3, 4  # _ABS_Q: two slots (x, y)
_N_INT = 6
RECOMPUTE_EVERY = 4
"""The running sums of the Lemma 5.2 speeds are recomputed from scratch every RECOMPUTE_EVERY * N events."""


@jit
def _positions(b: float, N: int, pos: np.ndarray, tref: np.ndarray, q: np.ndarray, z: np.ndarray) -> None:
    """Positions at time b (the engine's formula ``pos + q / N (b - tref)``, bit for bit)."""
    for p in range(2 * N):
        z[p] = pos[p] + q[p] / N * (b - tref[p])


@jit
def _energy(z: np.ndarray, N: int) -> float:
    """E = int (F_x - F_y)^2 dx (Lemma 2.1) by one merge of the sorted x = z[:N] and y = z[N:], O(N).

    ``solvers.particles.energy.energy`` is the general-mass, sort-based version; this one runs inside
    the replay once per event time."""
    i = 0
    j = 0
    W = 0
    total = 0.0
    prev = 0.0
    for r in range(2 * N):
        take_x = j >= N or (i < N and z[i] <= z[N + j])
        cur = z[i] if take_x else z[N + j]
        if r > 0:
            total += (cur - prev) * (W * W)
        if take_x:
            W += 1
            i += 1
        else:
            W -= 1
            j += 1
        prev = cur
    return total / (N * N)


@jit
def _cell_speed(u: int, v: int) -> float:
    """int_0^1 |(1 - theta) u + theta v| d theta: N times the mean speed of the quantile on a cell whose
    end particles move with u/N and v/N (Lemma 5.2)."""
    if u * v >= 0:
        return 0.5 * (abs(u) + abs(v))
    return 0.5 * (u * u + v * v) / (abs(u) + abs(v))


@jit
def _particle_sums(p: int, sign: int, N: int, q: np.ndarray, f: np.ndarray, n: np.ndarray) -> None:
    """Add (sign = 1) or remove (-1) particle p's share of the running velocity sums: q^2, |q| and
    the speeds of its two cells."""
    s = 0 if p < N else 1
    k = p - s * N
    n[_Q2] += sign * q[p] * q[p]
    n[_ABS_Q + s] += sign * abs(q[p])
    if k > 0:
        f[_REC_SUM + s] += sign * _cell_speed(q[p - 1], q[p])
    if k < N - 1:
        f[_REC_SUM + s] += sign * _cell_speed(q[p], q[p + 1])


@jit
def _recompute_sums(N: int, q: np.ndarray, f: np.ndarray, n: np.ndarray) -> None:
    """The running velocity sums from scratch (no drift of the float ones)."""
    n[_Q2] = 0
    for s in range(2):
        off = s * N
        n[_ABS_Q + s] = 0
        f[_REC_SUM + s] = 0.0
        for k in range(N):
            n[_Q2] += q[off + k] * q[off + k]
            n[_ABS_Q + s] += abs(q[off + k])
            if k < N - 1:
                f[_REC_SUM + s] += _cell_speed(q[off + k], q[off + k + 1])


@jit
def _raise_peak(f: np.ndarray, slot: int, slot_t: int, value: float, t: float) -> None:
    """Keep the running maximum in f[slot] and the earliest time it was reached to a relative PEAK_RTOL in f[slot_t]."""
    if value > f[slot] * (1.0 + PEAK_RTOL):
        f[slot_t] = t
    f[slot] = max(f[slot], value)


@jit
def _psi(m: float, k: int, r: float, d: float) -> float:
    """psi(d) = d G'(d) - G(d) up to a positive factor: r^m = (d / d_max)^m for G = r^m (``k = m`` when m
    is a small integer, else -1), d^2 / (1 + d) for G = r log(1 + r) (``m = 0``)."""
    if m == 0.0:
        return d * d / (1.0 + d)
    if k < 0:
        return r**m
    out = 1.0
    while k > 0:  # exponentiation by squaring: a pow call per cell and event time would dominate
        if k & 1:
            out *= r
        r *= r
        k >>= 1
    return out


@jit
def _node(b: float, interval: bool, N: int, state: tuple, scratch: tuple, g_m: np.ndarray, g_k: np.ndarray, certificate: bool) -> None:
    """Values at the node b and, if ``interval``, the tests of the interval [f[_T_NODE], b] that ends there.

    ``state = (pos, tref, q, weights, f, n, viol, viol_t)``; ``scratch = (z, widths, slopes, sums)``:
    positions at b, the 2 (N - 1) cell widths (x cells, then y cells), their N dh/dt, and the
    functional sums (one row per functional: sum delta psi and sum |delta| psi for x, then y)."""
    pos, tref, q, weights, f, n, viol, viol_t = state
    z, widths, slopes, sums = scratch
    _positions(b, N, pos, tref, q, z)
    cells = N - 1
    c = 1.0 / cells
    tol = 64.0 * np.finfo(np.float64).eps * (1.0 + f[_SCALE])
    h_min = np.empty(2)
    for s in range(2):
        off = s * N
        lo = np.inf
        w1 = 0.0
        for k in range(cells):
            h = z[off + k + 1] - z[off + k]
            widths[s * cells + k] = h
            slopes[s * cells + k] = q[off + k + 1] - q[off + k]
            lo = min(lo, h)
            w1 += h * weights[k]
        h_min[s] = lo
        _raise_peak(f, _W1_SUP + s, _W1_SUP_T + s, w1, b)
        span = z[off + N - 1] - z[off]
        if span > 0:
            f[_LEMMA_CURRENT + s] = max(f[_LEMMA_CURRENT + s], 2.0 * N * w1 / span)
    sup_x = c / h_min[0] if h_min[0] > 0 else np.inf
    sup_y = c / h_min[1] if h_min[1] > 0 else np.inf
    _raise_peak(f, _S_PEAK, _S_PEAK_T, sup_x + sup_y, b)
    _raise_peak(f, _M_PEAK, _M_PEAK_T, max(sup_x, sup_y), b)
    energy = _energy(z, N)
    if not interval:
        f[_E_NODE] = energy
        return
    f[_E_RESIDUAL] = max(f[_E_RESIDUAL], abs(energy - f[_E_NODE] + n[_Q2] / (N * N * N) * (b - f[_T_NODE])))
    f[_E_NODE] = energy
    for s in range(2):  # Lemma 5.2: int |d/dt X~| dz and (1/N) sum |v_i| on this interval
        f[_LIP_REC + s] = max(f[_LIP_REC + s], f[_REC_SUM + s] / (N * cells))
        f[_LIP_EMP + s] = max(f[_LIP_EMP + s], n[_ABS_Q + s] / (N * N))
    h_all = min(h_min[0], h_min[1])
    n_g = g_m.shape[0]
    sums[:] = 0.0
    best = np.full(3, -(4 * N + 1))  # largest N delta among the cells of largest density: x, y, both
    for s in range(2):
        for k in range(cells):
            h = widths[s * cells + k]
            delta = slopes[s * cells + k]
            if h <= h_min[s] + tol:
                best[s] = max(best[s], delta)
            if h <= h_all + tol:
                best[2] = max(best[2], delta)
            if delta == 0 or n_g == 0:
                continue
            r = h_all / h
            d = c / h
            for g in range(n_g):
                psi = _psi(g_m[g], g_k[g], r, d)
                sums[g, 2 * s] += delta * psi
                sums[g, 2 * s + 1] += abs(delta) * psi
    for col in range(3):
        f[_MAX_VIOL + col] = max(f[_MAX_VIOL + col], -best[col])
    # the left derivative of Phi_G at b, normalised: -sum delta psi / sum |delta| psi, for x, y and both
    for g in range(n_g):
        for col in range(3):
            num = sums[g, 2 * col] if col < 2 else sums[g, 0] + sums[g, 2]
            den = sums[g, 2 * col + 1] if col < 2 else sums[g, 1] + sums[g, 3]
            value = -num / den if den > 0 else 0.0
            if value > viol[g, col]:
                viol[g, col] = value
                viol_t[g, col] = b
    if certificate:
        order = np.argsort(widths)
        tail = 0
        for r in range(2 * cells):
            tail += slopes[order[r]]
            last = r == 2 * cells - 1 or widths[order[r + 1]] > widths[order[r]] + tol
            if last and tail < f[_CERT]:
                f[_CERT] = tail
                f[_CERT_T] = b


@jit
def _start(N: int, state: tuple, scratch: tuple, g_m: np.ndarray, g_k: np.ndarray, certificate: bool) -> None:
    """Values at t = 0 (the reference of every peak) and the running velocity sums."""
    pos, tref, q, weights, f, n, viol, viol_t = state
    _recompute_sums(N, q, f, n)
    _node(0.0, False, N, state, scratch, g_m, g_k, certificate)
    f[_S0] = f[_S_PEAK]
    f[_M0] = f[_M_PEAK]
    f[_E0] = f[_E_NODE]


@jit
def _replay_chunk(
    ev_t: np.ndarray,
    ev_kind: np.ndarray,
    ev_i: np.ndarray,
    ev_j: np.ndarray,
    T: float,
    N: int,
    state: tuple,
    scratch: tuple,
    g_m: np.ndarray,
    g_k: np.ndarray,
    certificate: bool,
) -> None:
    """Apply the events of one chunk with 0 < t <= T, closing an interval at every new event time."""
    pos, tref, q, weights, f, n, viol, viol_t = state
    for e in range(ev_t.shape[0]):
        t = ev_t[e]
        if t > T:
            n[_DONE] = 1
            return
        if t <= 0.0:  # already in the velocities right after t = 0
            continue
        if t > f[_T_NODE] * (1.0 + SIMULTANEOUS_RTOL):
            _node(t, True, N, state, scratch, g_m, g_k, certificate)
            f[_T_NODE] = t
        px = ev_i[e] - 1
        py = N + ev_j[e] - 1
        zx = pos[px] + q[px] / N * (t - tref[px])
        zy = pos[py] + q[py] / N * (t - tref[py])
        meet = 0.5 * (zx + zy)
        f[_MAX_MISMATCH] = max(f[_MAX_MISMATCH], abs(zx - zy))
        for p, exists in ((px - 1, ev_i[e] > 1), (px + 1, ev_i[e] < N), (py - 1, ev_j[e] > 1), (py + 1, ev_j[e] < N)):
            if exists:  # a same-species neighbour of x_i or y_j
                f[_MIN_THIRD] = min(f[_MIN_THIRD], abs(pos[p] + q[p] / N * (t - tref[p]) - meet))
        _particle_sums(px, -1, N, q, f, n)
        _particle_sums(py, -1, N, q, f, n)
        if ev_kind[e] == 0:
            if ev_i[e] == ev_j[e] or q[px] == 0 or q[py] == 0 or (ev_i[e] > ev_j[e]) != (q[px] > q[py]):
                n[_BAD] += 1
            left, right = (px, py) if ev_i[e] > ev_j[e] else (py, px)
            q[left] -= 2
            q[right] += 2
        else:
            if ev_i[e] != ev_j[e] or q[px] == 0 or q[py] == 0:
                n[_BAD] += 1
            q[px] = 0
            q[py] = 0
        _particle_sums(px, 1, N, q, f, n)
        _particle_sums(py, 1, N, q, f, n)
        pos[px] = meet
        pos[py] = meet
        tref[px] = t
        tref[py] = t
        f[_T_LAST] = t
        n[_EVENTS] += 1
        if n[_EVENTS] % (RECOMPUTE_EVERY * N) == 0:
            _recompute_sums(N, q, f, n)


@dataclass(frozen=True)
class ContinuousTimeObservables:
    """Exact continuous-time values of one equal-mass run on [0, T] (see the module docstring).

    Per-species arrays are ``(x, y)``; the functional rows follow ``functional_names``; columns of
    ``functional_violation`` are (x only, y only, both species).

    - ``sup_sum_peak``: ``max_t S(t)/S(0) - 1`` with ``S = sup rho~ + sup eta~`` (the paper's bound
      after (69) claims 0), reached first at ``sup_sum_peak_t``; ``sup_max_peak``, ``sup_max_peak_t``:
      the same for ``max(sup rho~, sup eta~)``. NaN if the reconstruction is infinite at t = 0.
    - ``sup_max_violation``: for (x, y, both), the largest ``-N delta`` of the best cell of largest
      density at the right end of an interval (> 0: that sup norm rises there; the m = inf claim is
      about "both").
    - ``functional_violation``: largest normalised left derivative ``Phi_G'(b-) / sum_k |delta_k|
      psi(d_k)`` (in [-1, 1]) over the right ends b of the intervals, at time ``functional_violation_t``
      (> round-off: ``Phi_G`` rises just before b).
    - ``all_convex_margin``: smallest tail sum of ``N delta`` over the cells of density ``>= theta``,
      over all thresholds and intervals (>= 0: every ``Phi_G`` with G convex is non-increasing), at
      ``all_convex_margin_t``; NaN if not computed.
    - ``w1_sup``, ``w1_sup_t``: ``sup_t W1(rho^N, rho~^N)`` per species and where;
      ``lemma_5_1_current``: ``max_t 2N W1 / (x_N(t) - x_1(t))`` (<= 1: Lemma 5.1 with the current
      span); ``hull0``, ``span0``: ``b(0) - a(0)`` of the particles and each species' initial span,
      for the other forms of the bound (``lemma_5_1_hull``, ``lemma_5_1_initial_span``).
    - ``energy0``, ``energy_T``; ``energy_residual``: largest ``|E(b) - E(a) + ||v||^2 (b - a)|``.
    - ``lipschitz_reconstruction``: ``sup_t`` of the W1 metric derivative ``int |d/dt X~| dz`` of
      each reconstruction (Lemma 5.2's constant: ``W1(rho~(t), rho~(s)) <= L |t - s|``, attained);
      ``lipschitz_empirical``: the same for the empirical measures, ``(1/N) sum |v_i|``.
    - ``t_final``: time of the last event if the final state (all at rest) is reached by T, else NaN.
    - ``min_third_gap``: smallest distance from an event's meeting point to the same-species
      neighbours of its two particles (> 0: every collision is binary, Corollary 4.1);
      ``max_event_mismatch``: largest distance between the two particles of an event in the replay.
    - ``x_T``, ``y_T``: the replayed positions at T.
    """

    T: float
    N: int
    n_events: int
    sup_sum_peak: float
    sup_sum_peak_t: float
    sup_max_peak: float
    sup_max_peak_t: float
    sup_max_violation: np.ndarray
    functional_names: tuple[str, ...]
    functional_violation: np.ndarray
    functional_violation_t: np.ndarray
    all_convex_margin: float
    all_convex_margin_t: float
    w1_sup: np.ndarray
    w1_sup_t: np.ndarray
    lemma_5_1_current: np.ndarray
    hull0: float
    span0: np.ndarray
    energy0: float
    energy_T: float
    energy_residual: float
    lipschitz_reconstruction: np.ndarray
    lipschitz_empirical: np.ndarray
    t_final: float
    min_third_gap: float
    max_event_mismatch: float
    x_T: np.ndarray
    y_T: np.ndarray

    @property
    def lemma_5_1_hull(self) -> np.ndarray:
        """``sup_t 2N W1 / (b(0) - a(0))`` per species (<= 1: the bound with the joint initial hull holds)."""
        return 2 * self.N * self.w1_sup / self.hull0

    @property
    def lemma_5_1_initial_span(self) -> np.ndarray:
        """``sup_t 2N W1 / (x_N(0) - x_1(0))`` per species: the paper's last step, which can fail (> 1;
        ``inf`` for a species that starts as one point mass and spreads)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.span0 > 0, 2 * self.N * self.w1_sup / np.where(self.span0 > 0, self.span0, 1.0), np.inf)


def _functional(spec: float | str) -> tuple[str, float, int]:
    """Name, exponent m (0 for r log(1 + r)) and integer exponent (-1 if none) of one functional."""
    if spec == RLOG1P:
        return RLOG1P, 0.0, -1
    m = check_number(spec, "m", ParticleInputError, f"pass exponents m > 1 or {RLOG1P!r} (m = inf is always checked)", minimum=1.0)
    if m == 1.0:
        raise ParticleInputError("m = 1 is the conserved mass; pass exponents m > 1")
    return f"r^{m:g}", m, int(m) if m == int(m) and m <= 1024 else -1


class ContinuousTimeReplay:
    """Compiled replay of an equal-mass event log from the state right after t = 0 (module docstring).

    Args:
        x0, y0: sorted positions at t = 0, N >= 2 each.
        vx0, vy0: velocities right after t = 0 (``simulate(x0, y0, [0.0]).vx[0]``): multiples of 1/N.
        T: final time; events after T are ignored.
        functionals: the G of ``int G(rho~) + int G(eta~)`` to check: exponents m > 1 (``G = r^m``,
            Prop. 5.2) and ``RLOG1P`` (Prop. 5.3); each costs O(N) per event time.
        certificate: also compute ``all_convex_margin`` (O(N log N) per event time).

    ``feed(t, kind, i, j)`` takes consecutive events (one chunk of a log, or all of it; events at
    t = 0 are already in the initial velocities), ``result()`` closes the last interval at T.
    """

    def __init__(
        self,
        x0: ArrayLike,
        y0: ArrayLike,
        vx0: ArrayLike,
        vy0: ArrayLike,
        T: float,
        *,
        functionals: Sequence[float | str] = DEFAULT_FUNCTIONALS,
        certificate: bool = False,
    ) -> None:
        x, y = (np.asarray(v, dtype=float) for v in (x0, y0))
        if x.ndim != 1 or x.shape != y.shape or x.size < 2:
            raise ParticleInputError(
                f"x0 and y0 must be 1-D of one length N >= 2, got shapes {x.shape} and {y.shape}; pass N particles each"
            )
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y)) and np.all(np.diff(x) >= 0) and np.all(np.diff(y) >= 0)):
            raise ParticleInputError("x0 and y0 must be finite and sorted; pass simulate(x0, y0, [0.0]).x[0] and .y[0]")
        N = x.size
        v = np.concatenate([np.asarray(vx0, dtype=float), np.asarray(vy0, dtype=float)])
        q = np.rint(v * N)
        if v.shape != (2 * N,) or not np.all(np.abs(q - v * N) <= 1e-9 * N) or np.any(np.abs(q) >= 2 * N):
            raise ParticleInputError(
                "vx0 and vy0 must be the rank velocities (2k - 1)/N or 0 of an equal-mass run; pass simulate(x0, y0, [0.0]).vx[0]"
            )
        self.T = check_number(T, "T", ParticleInputError, "pass a final time T > 0", positive=True, what="time")
        self.N = N
        parsed = [_functional(spec) for spec in functionals]
        self.names = tuple(name for name, _, _ in parsed)
        self._g_m = np.array([m for _, m, _ in parsed], dtype=float)
        self._g_k = np.array([k for _, _, k in parsed], dtype=np.int64)
        self._certificate = bool(certificate)
        f = np.zeros(_N_FLOAT)
        f[[_MIN_THIRD, _CERT]] = np.inf
        f[_CERT_T] = np.nan
        f[_MAX_VIOL : _MAX_VIOL + 3] = -np.inf
        f[_SCALE] = float(max(np.abs(x).max(), np.abs(y).max()))
        n_g = len(parsed)
        self._state = (
            np.concatenate([x, y]),  # pos: reference positions
            np.zeros(2 * N),  # tref: their times
            q.astype(np.int64),  # q: N times the velocities
            lemma_5_1_weights(N),
            f,
            np.zeros(_N_INT, dtype=np.int64),
            np.full((n_g, 3), -np.inf),  # viol
            np.full((n_g, 3), np.nan),  # viol_t
        )
        self._scratch = (np.empty(2 * N), np.empty(2 * (N - 1)), np.empty(2 * (N - 1), dtype=np.int64), np.zeros((n_g, 4)))
        self._hull0 = float(max(x[-1], y[-1]) - min(x[0], y[0]))
        self._span0 = np.array([x[-1] - x[0], y[-1] - y[0]])
        _start(N, self._state, self._scratch, self._g_m, self._g_k, self._certificate)
        self._finished = False

    def feed(self, t: ArrayLike, kind: ArrayLike, i: ArrayLike, j: ArrayLike) -> None:
        """Replay the next events (times non-decreasing, ``kind`` 0 cross / 1 stick, 1-based ``i``, ``j``)."""
        if self._finished:
            raise ParticleInputError("this replay is finished; feed every event before calling result()")
        ev_t = np.ascontiguousarray(t, dtype=float)
        ev_kind = np.ascontiguousarray(kind, dtype=np.int8)
        ev_i, ev_j = (np.ascontiguousarray(a, dtype=np.int64) for a in (i, j))
        if not (ev_t.shape == ev_kind.shape == ev_i.shape == ev_j.shape and ev_t.ndim == 1):
            raise ParticleInputError("event arrays t, kind, i, j must be 1-D of one length; pass the columns of one event log")
        f, counts = self._state[4], self._state[5]
        if ev_t.size == 0 or counts[_DONE]:
            return
        if np.any(np.diff(ev_t) < 0) or ev_t[0] < f[_T_NODE]:
            raise ParticleInputError("event times must not decrease; feed the chunks of one log in order")
        if np.any((ev_kind != 0) & (ev_kind != 1)) or np.any((ev_i < 1) | (ev_i > self.N) | (ev_j < 1) | (ev_j > self.N)):
            raise ParticleInputError("events must be crossings (0) or sticks (1) with indices in 1..N; pass an equal-mass event log")
        _replay_chunk(ev_t, ev_kind, ev_i, ev_j, self.T, self.N, self._state, self._scratch, self._g_m, self._g_k, self._certificate)
        if counts[_BAD]:
            raise ParticleInputError(
                f"{counts[_BAD]} events do not fit the replayed state (a crossing needs i != j and the left particle faster, "
                "a stick i == j); pass the log of the run that starts from x0, y0"
            )

    def result(self) -> ContinuousTimeObservables:
        """Close the last interval at T and return the observables."""
        q, f, counts, viol, viol_t = self._state[2], self._state[4], self._state[5], self._state[6], self._state[7]
        if not self._finished:
            if self.T > f[_T_NODE]:
                _node(self.T, True, self.N, self._state, self._scratch, self._g_m, self._g_k, self._certificate)
                f[_T_NODE] = self.T
            self._finished = True
        z = self._scratch[0]
        _positions(self.T, self.N, self._state[0], self._state[1], q, z)  # after the events at T, as the engine reports them
        finite0 = np.isfinite(f[_S0])
        return ContinuousTimeObservables(
            T=self.T,
            N=self.N,
            n_events=int(counts[_EVENTS]),
            sup_sum_peak=f[_S_PEAK] / f[_S0] - 1 if finite0 else np.nan,
            sup_sum_peak_t=f[_S_PEAK_T] if finite0 else np.nan,
            sup_max_peak=f[_M_PEAK] / f[_M0] - 1 if finite0 else np.nan,
            sup_max_peak_t=f[_M_PEAK_T] if finite0 else np.nan,
            sup_max_violation=f[_MAX_VIOL : _MAX_VIOL + 3].copy(),
            functional_names=self.names,
            functional_violation=viol.copy(),
            functional_violation_t=viol_t.copy(),
            all_convex_margin=f[_CERT] if self._certificate else np.nan,
            all_convex_margin_t=f[_CERT_T],
            w1_sup=f[_W1_SUP : _W1_SUP + 2].copy(),
            w1_sup_t=f[_W1_SUP_T : _W1_SUP_T + 2].copy(),
            lemma_5_1_current=f[_LEMMA_CURRENT : _LEMMA_CURRENT + 2].copy(),
            hull0=self._hull0,
            span0=self._span0,
            energy0=f[_E0],
            energy_T=f[_E_NODE],
            energy_residual=f[_E_RESIDUAL],
            lipschitz_reconstruction=f[_LIP_REC : _LIP_REC + 2].copy(),
            lipschitz_empirical=f[_LIP_EMP : _LIP_EMP + 2].copy(),
            t_final=f[_T_LAST] if not np.any(q) else np.nan,
            min_third_gap=f[_MIN_THIRD],
            max_event_mismatch=f[_MAX_MISMATCH],
            x_T=z[: self.N].copy(),
            y_T=z[self.N :].copy(),
        )


def observe(
    x0: ArrayLike, y0: ArrayLike, T: float, *, functionals: Sequence[float | str] = DEFAULT_FUNCTIONALS, certificate: bool = False
) -> ContinuousTimeObservables:
    """Run the exact engine on [0, T] (equal masses 1/N) and replay its event log.

    Args:
        x0, y0: initial positions (N >= 2 each, any order).
        T: final time.
        functionals: the G to check (see ``ContinuousTimeReplay``); ``()`` for the peaks, Lemmas 5.1
            and 5.2, the energy and t_final alone (about a sixth of the default cost).
        certificate: also compute the all-convex-G certificate (O(N log N) per event time).

    Returns:
        The ``ContinuousTimeObservables`` of the run. The engine keeps its log in memory (O(events));
        the replay itself needs O(N).
    """
    T = check_number(T, "T", ParticleInputError, "pass a final time T > 0", positive=True, what="time")
    run = simulate(x0, y0, [0.0, T], record_events=True)
    replay = ContinuousTimeReplay(run.x[0], run.y[0], run.vx[0], run.vy[0], T, functionals=functionals, certificate=certificate)
    replay.feed(run.event_t, run.event_kind, run.event_i, run.event_j)
    return replay.result()
