"""The regularised particle system of Remark 5.1: the kernel |x| smoothed on [-delta, delta].

    |d|_delta = d^2 / (2 delta) + delta / 2   (|d| <= delta),   |d|   (|d| > delta),
    sign_delta(d) = d/dx |d|_delta = clip(d / delta, -1, 1).

System (6) with sign_delta in place of sign, positive masses m_i (x-particles) and n_j (y-particles),
N_x != N_y allowed:

    x_i' = sum_k m_k sign_delta(x_i - x_k) - sum_k n_k sign_delta(x_i - y_k)
    y_j' = sum_l n_l sign_delta(y_j - y_l) - sum_k m_k sign_delta(y_j - x_k)

(self-repulsion, cross-attraction, the same convention as ``solvers.particles.engine.simulate``,
which is the delta = 0 limit with the minimal-norm rule). The right-hand side is Lipschitz (constant
about 2 (sum m + sum n) / delta), so the solution is unique and C^1; it is the gradient flow of

    E_delta = - sum_{i<k} m_i m_k |x_i - x_k|_delta - sum_{j<l} n_j n_l |y_j - y_l|_delta
              + sum_{i,j} m_i n_j |x_i - y_j|_delta

in the norm weighted by the masses: dE_delta/dt = -(sum m x'^2 + sum n y'^2) <= 0.

Two consequences of uniqueness: particles of one species never cross (x_i and x_k solve the same
scalar equation u' = G(t, u)), so the input order of each species is kept; and particles of one
species that coincide at t = 0 coincide forever (sign_delta(0) = 0 and they get the same velocity).
So an initial same-species cluster does not scatter as it does in the exact system (Lemma 4.1,
Theorem 4.3), where the minimal-norm rule makes it split: the regularised flow approximates the
exact one only for initial data whose same-species particles are distinct (for example a cluster
spread over a width of order delta).

Velocity field: O(P) after a sort (P = N_x + N_y), exact to a few ulps of the total mass
(``solvers.particles._regularised_kernels``). Time integration: Dormand-Prince 5(4) with a global
error certificate by reintegration, see ``simulate_regularised``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from solvers.checks import check_number, check_output_times
from solvers.errors import ParticleInputError
from solvers.particles import _regularised_kernels as kernels
from solvers.particles.energy import discrete_energy
from solvers.particles.engine import ParticleCounts, _masses, _positions

__all__ = ["TOL_RATIO", "TOL_STEP", "RegularisedRun", "regularised_energy", "regularised_velocity", "simulate_regularised"]

TOL_STEP = 1e-3
"""Per-step tolerance of the first (coarse) run as a fraction of ``tol``: the right-hand side has a
kink whenever two particles are exactly delta apart, where the local error estimate of an embedded
pair is unreliable and the global error grows like the per-step tolerance to the power 0.75 to 1,
about 1e2 to 1e3 times the per-step tolerance (measured on random and overlapping configurations)."""
TOL_RATIO = 16.0
"""The second (reported) run uses a per-step tolerance this many times smaller than the first."""
MAX_RETRIES = 3
"""How many times the pair of runs is tightened (by ``TOL_RATIO`` each) when the estimate exceeds tol."""
MAX_STEPS = 50_000_000
"""Steps (accepted and rejected) allowed per run."""


@dataclass(frozen=True)
class RegularisedRun(ParticleCounts):
    """Trajectory of the regularised system sampled at the output times.

    ``x[k, i-1]``, ``y[k, j-1]`` are x_i, y_j at ``t[k]`` (species sorted at t = 0, an order the flow
    keeps); ``vx``, ``vy`` the velocities there. ``m``, ``n`` are the masses in sorted order,
    ``order_x``, ``order_y`` sort the input (``x0_sorted = x0[order_x]``). ``delta`` is the smoothing
    width, ``tol`` the requested absolute accuracy of the positions. ``steps`` and ``rejected`` count
    the accepted and rejected steps of the reported run, ``runs`` the integrations made (two, more if
    the certificate had to be tightened). ``error_estimate`` is ``max |x_coarse - x|`` over the output
    times, both species and every particle, with ``x_coarse`` the previous run at a ``TOL_RATIO``
    times looser per-step tolerance: it bounds the reported run's error as long as the tighter
    tolerance at least halves the error (see ``simulate_regularised``); a value above ``tol`` says the
    target was not certified.
    """

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    vx: np.ndarray
    vy: np.ndarray
    m: np.ndarray
    n: np.ndarray
    order_x: np.ndarray
    order_y: np.ndarray
    delta: float
    tol: float
    steps: int
    rejected: int
    error_estimate: float
    runs: int = 2


def _delta(delta: object) -> float:
    return check_number(
        delta, "delta", ParticleInputError, "pass the smoothing width delta > 0 (delta = 0 is the exact engine, simulate)", positive=True
    )


def _species(x: ArrayLike, y: ArrayLike, m: ArrayLike | None, n: ArrayLike | None, names: tuple[str, str]) -> tuple[np.ndarray, ...]:
    """Validated positions and masses, merged: ``z`` (x then y), signed weights ``w``, signs ``sgn``."""
    xa = _positions(x, names[0])
    ya = _positions(y, names[1])
    ma = _masses(m, "m", xa.size)
    na = _masses(n, "n", ya.size)
    z = np.concatenate([xa, ya])
    w = np.concatenate([ma, -na])
    sgn = np.concatenate([np.ones(xa.size), -np.ones(ya.size)])
    return xa, ya, ma, na, z, w, sgn


def regularised_velocity(
    x: ArrayLike, y: ArrayLike, m: ArrayLike | None, n: ArrayLike | None, delta: float
) -> tuple[np.ndarray, np.ndarray]:
    """Velocities of the regularised system (Remark 5.1) at one configuration.

        x_i' = sum_k m_k sign_delta(x_i - x_k) - sum_k n_k sign_delta(x_i - y_k)
        y_j' = sum_l n_l sign_delta(y_j - y_l) - sum_k m_k sign_delta(y_j - x_k)

    One merge sort and O(N_x + N_y) work: with the merged order, particles farther than delta
    contribute +-(signed mass) through prefix sums, those within delta ``w (z - z_q) / delta``
    through prefix sums of mass and mass times position, kept in double-double so the result is
    correct to a few ulps of the total mass for every delta (``_regularised_kernels``).

    Args:
        x, y: positions (finite, any order).
        m, n: positive masses, one per particle (``None``: 1/N_x, 1/N_y).
        delta: smoothing width, a positive finite number.

    Returns:
        ``(vx, vy)``, aligned with the inputs ``x`` and ``y``.
    """
    xa, _, _, _, z, w, sgn = _species(x, y, m, n, ("x", "y"))
    v = kernels.velocity(z, w, sgn, _delta(delta))
    return v[: xa.size], v[xa.size :]


def regularised_energy(x: ArrayLike, y: ArrayLike, m: ArrayLike | None, n: ArrayLike | None, delta: float) -> float | np.ndarray:
    """The regularised energy E_delta of configurations, row-wise.

        E_delta = - sum_{i<k} m_i m_k |x_i - x_k|_delta - sum_{j<l} n_j n_l |y_j - y_l|_delta
                  + sum_{i,j} m_i n_j |x_i - y_j|_delta

    Computed as E[Z] (``solvers.particles.energy.discrete_energy``, gaps between merged points)
    minus ``sum_{pairs within delta} w_p w_q (delta - |z_p - z_q|)^2 / (2 delta)`` (w = m for x, -n
    for y), the second sum from double-double prefix sums of w, w z, w z^2 over the merged order:
    O(P log P) per row, P = N_x + N_y.

    Args:
        x, y: positions of shape (N_x,) and (N_y,), or (rows, N_x) and (rows, N_y) (finite).
        m, n: positive masses, one per particle (``None``: 1/N_x, 1/N_y).
        delta: smoothing width, a positive finite number.

    Returns:
        A float for one configuration, an array of one energy per row otherwise.
    """
    d = _delta(delta)
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    single = xa.ndim == 1 and ya.ndim == 1
    x2, y2 = np.atleast_2d(xa), np.atleast_2d(ya)
    if x2.ndim != 2 or y2.ndim != 2 or x2.shape[0] != y2.shape[0]:
        raise ParticleInputError(
            f"x and y have shapes {xa.shape} and {ya.shape}; pass 1-D arrays or 2-D arrays with one row per configuration"
        )
    for arr, name in ((x2, "x"), (y2, "y")):
        _positions(arr.ravel(), name)
    ma = _masses(m, "m", x2.shape[1])
    na = _masses(n, "n", y2.shape[1])
    exact = discrete_energy(x2, y2, ma, na)
    correction = kernels.energy_correction(np.ascontiguousarray(np.concatenate([x2, y2], axis=1)), np.concatenate([ma, -na]), d)
    energy = exact - correction
    return float(energy[0]) if single else energy


def _integrate(z: np.ndarray, w: np.ndarray, sgn: np.ndarray, delta: float, t: np.ndarray, atol: float) -> tuple:
    Z, V, steps, rejected, _, t_end, status = kernels.integrate(z, w, sgn, delta, t, atol, MAX_STEPS)
    if status == kernels.STEP_UNDERFLOW:
        raise ParticleInputError(f"the step size underflowed at t = {t_end:.6g} (per-step tolerance {atol:.3g}); pass a larger tol")
    if status == kernels.TOO_MANY_STEPS:
        raise ParticleInputError(
            f"more than {MAX_STEPS} steps were needed to reach t = {t[-1]:.6g} (stopped at {t_end:.6g}); pass a larger tol or delta"
        )
    return Z, V, int(steps), int(rejected)


def simulate_regularised(
    x0: ArrayLike,
    y0: ArrayLike,
    t_out: ArrayLike,
    delta: float,
    *,
    m: ArrayLike | None = None,
    n: ArrayLike | None = None,
    tol: float = 1e-7,
) -> RegularisedRun:
    """Solution of the regularised system (Remark 5.1) at the times ``t_out``, positions accurate to
    about ``tol`` (absolute), with an error estimate.

    Integrator: Dormand-Prince 5(4) (local extrapolation, first same as last, PI step control on the
    absolute per-step error in the max norm), compiled, landing exactly on every output time. Its
    right-hand side is piecewise linear with a kink each time two particles are delta apart; there
    the embedded estimate is unreliable and the global error is not proportional to the per-step
    tolerance. The accuracy is therefore certified by reintegration: a first run at the per-step
    tolerance ``TOL_STEP * tol``, a second, reported run at a ``TOL_RATIO`` times smaller one, and
    ``error_estimate = max |x_first - x_second|`` (over output times, species and particles). Since
    ``|x_first - x_second| >= err_first - err_second``, this bounds the reported run's error whenever
    the 16 times tighter tolerance at least halves the error (measured on 4 configurations and
    delta = 0.1, 0.001: the estimate is 2 to 20 times the actual error of the reported run).
    If the estimate exceeds ``tol``, the pair is tightened (the second run becomes the first) up to
    ``MAX_RETRIES`` times. Cost: the second run takes 2 to 4 times the steps of the first (the kinks
    limit the order), so the pair costs 3 to 5 times the first run alone.

    Args:
        x0, y0: initial positions (finite, any order; sorted per species, the permutations returned).
        t_out: strictly increasing output times >= 0.
        delta: smoothing width, a positive finite number.
        m, n: positive masses, one per particle in input order (default 1/N_x, 1/N_y).
        tol: target absolute accuracy of the positions, in [1e-12, 1e-2].

    Returns:
        The ``RegularisedRun``.
    """
    x_in = _positions(x0, "x0")
    y_in = _positions(y0, "y0")
    m_in = _masses(m, "m", x_in.size)
    n_in = _masses(n, "n", y_in.size)
    t = check_output_times(t_out, ParticleInputError)
    d = _delta(delta)
    tol = check_number(tol, "tol", ParticleInputError, "pass an absolute position tolerance such as 1e-7", minimum=1e-12, maximum=1e-2)
    order_x = np.argsort(x_in, kind="stable")
    order_y = np.argsort(y_in, kind="stable")
    m_s, n_s = m_in[order_x], n_in[order_y]
    z = np.concatenate([x_in[order_x], y_in[order_y]])
    w = np.concatenate([m_s, -n_s])
    sgn = np.concatenate([np.ones(x_in.size), -np.ones(y_in.size)])
    atol = TOL_STEP * tol
    coarse, _, _, _ = _integrate(z, w, sgn, d, t, atol)
    runs = 1
    while True:
        atol /= TOL_RATIO
        Z, V, steps, rejected = _integrate(z, w, sgn, d, t, atol)
        runs += 1
        estimate = float(np.max(np.abs(Z - coarse)))
        if estimate <= tol or runs > MAX_RETRIES + 1:
            break
        coarse = Z
    Nx = x_in.size
    return RegularisedRun(
        t=t,
        x=Z[:, :Nx],
        y=Z[:, Nx:],
        vx=V[:, :Nx],
        vy=V[:, Nx:],
        m=m_s,
        n=n_s,
        order_x=order_x,
        order_y=order_y,
        delta=d,
        tol=tol,
        steps=steps,
        rejected=rejected,
        error_estimate=estimate,
        runs=runs,
    )
