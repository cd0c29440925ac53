"""Finite-volume schemes for system (5) on a uniform grid with zero-flux boundaries.

State: cell averages ``rho_i``, ``eta_i`` on cells ``[x_edge[i], x_edge[i+1]]`` of width ``dx``.
At the interior interface ``i + 1/2`` the cumulative distributions are exact partial sums of cell
masses, so with ``D = F_rho - F_eta = dx * sum_{k <= i} (rho_k - eta_k)``

    v_rho = (2 F_rho - M_rho) - (2 F_eta - M_eta) = 2 D - (M_rho - M_eta),     v_eta = -v_rho,

and the fluxes ``rho v_rho``, ``eta v_eta`` are upwinded. The boundary fluxes are zero: for equal total
masses the hull of the joint support never grows, so a grid covering it loses no mass. (With
unequal masses the excess mass spreads outwards for ever and the grid's ends act as walls.)

- ``fv1``: piecewise-constant reconstruction, forward Euler.
- ``fv2``: MUSCL reconstruction with the monotonised-central limiter (zero density outside the
  grid), Heun's SSP Runge-Kutta method of order 2.

Time step (adapted every step): ``dt = cfl * min(dx / max|v|, 1 / (2 max(rho, eta)))``; the first
term is the CFL condition, the second resolves the reaction rate of ``d rho/dt = -2 rho (rho - eta)``
along characteristics. The last step before an output time is shortened to land on it exactly.
Positivity: every forward-Euler stage keeps the densities non-negative when
``dt max|v| / dx <= 1/2`` (the outflow of a cell is at most ``2 (dt/dx) max|v|`` times its
average); ``fv2`` checks this for its second stage and halves the step when it fails.
Mass is conserved to round-off because the update is in flux form.
"""

from __future__ import annotations

import numpy as np

from solvers._jit import jit
from solvers.checks import check_integer, check_output_times
from solvers.continuum.parameters import check_cfl
from solvers.errors import SchemeError

FV_SCHEMES = ("fv1", "fv2")
MIN_CELLS = 4
MAX_CFL = 0.5


@jit
def _bounds(u: np.ndarray, w: np.ndarray, dx: float, dM: float) -> tuple[float, float]:
    """Return ``max |v_rho|`` over interior interfaces and ``max(rho, eta)`` over cells."""
    K = u.shape[0]
    S = 0.0
    vmax = 0.0
    dmax = 0.0
    for i in range(K):
        S += u[i] - w[i]
        if i < K - 1:
            vmax = max(vmax, abs(2.0 * dx * S - dM))
        dmax = max(dmax, max(u[i], w[i]))
    return vmax, dmax


@jit
def _time_step(vmax: float, dmax: float, dx: float, cfl: float) -> float:
    dt = cfl / (2.0 * dmax)
    if vmax * dt > cfl * dx:
        dt = cfl * dx / vmax
    return dt


@jit
def _step_fv1(u: np.ndarray, w: np.ndarray, dx: float, dM: float, lam: float) -> tuple[float, float]:
    """One upwind forward-Euler step in place (``lam = dt/dx``); returns the bounds of the new state."""
    K = u.shape[0]
    S = 0.0
    S_new = 0.0
    vmax = 0.0
    dmax = 0.0
    fu_left = 0.0
    fw_left = 0.0
    for i in range(K - 1):
        ui = u[i]
        wi = w[i]
        S += ui - wi
        v = 2.0 * dx * S - dM
        vp = max(v, 0.0)
        vm = min(v, 0.0)
        fu = vp * ui + vm * u[i + 1]
        fw = -vm * wi - vp * w[i + 1]
        un = ui - lam * (fu - fu_left)
        wn = wi - lam * (fw - fw_left)
        u[i] = un
        w[i] = wn
        S_new += un - wn
        vmax = max(vmax, abs(2.0 * dx * S_new - dM))
        dmax = max(dmax, max(un, wn))
        fu_left = fu
        fw_left = fw
    un = u[K - 1] + lam * fu_left
    wn = w[K - 1] + lam * fw_left
    u[K - 1] = un
    w[K - 1] = wn
    dmax = max(dmax, max(un, wn))
    return vmax, dmax


@jit
def _mc_slope(a: float, b: float) -> float:
    """Monotonised-central limited slope from the backward and forward differences ``a``, ``b``."""
    if a * b <= 0.0:
        return 0.0
    s = min(2.0 * abs(a), 2.0 * abs(b), 0.5 * abs(a + b))
    return s if a > 0.0 else -s


@jit
def _stage_fv2(
    su: np.ndarray,
    sw: np.ndarray,
    bu: np.ndarray,
    bw: np.ndarray,
    ou: np.ndarray,
    ow: np.ndarray,
    c: float,
    dx: float,
    dM: float,
    lam: float,
) -> tuple[float, float]:
    """Forward-Euler MUSCL stage ``o = c b + (1 - c) (s - lam div(flux(s)))``; returns bounds of ``o``.

    ``o`` may alias ``b`` (each cell reads ``b[i]`` before writing ``o[i]``) but not ``s``.
    """
    K = su.shape[0]
    S = 0.0
    S_new = 0.0
    vmax = 0.0
    dmax = 0.0
    fu_left = 0.0
    fw_left = 0.0
    u_prev = 0.0
    w_prev = 0.0
    u_cur = su[0]
    w_cur = sw[0]
    u_next = su[1]
    w_next = sw[1]
    slope_u = _mc_slope(u_cur - u_prev, u_next - u_cur)
    slope_w = _mc_slope(w_cur - w_prev, w_next - w_cur)
    for i in range(K):
        u_next2 = su[i + 2] if i + 2 < K else 0.0
        w_next2 = sw[i + 2] if i + 2 < K else 0.0
        slope_u_next = _mc_slope(u_next - u_cur, u_next2 - u_next)
        slope_w_next = _mc_slope(w_next - w_cur, w_next2 - w_next)
        S += u_cur - w_cur
        if i < K - 1:
            v = 2.0 * dx * S - dM
            vp = max(v, 0.0)
            vm = min(v, 0.0)
            fu = vp * (u_cur + 0.5 * slope_u) + vm * (u_next - 0.5 * slope_u_next)
            fw = -vm * (w_cur + 0.5 * slope_w) - vp * (w_next - 0.5 * slope_w_next)
        else:
            fu = 0.0
            fw = 0.0
        un = c * bu[i] + (1.0 - c) * (u_cur - lam * (fu - fu_left))
        wn = c * bw[i] + (1.0 - c) * (w_cur - lam * (fw - fw_left))
        ou[i] = un
        ow[i] = wn
        S_new += un - wn
        if i < K - 1:
            vmax = max(vmax, abs(2.0 * dx * S_new - dM))
        dmax = max(dmax, max(un, wn))
        fu_left = fu
        fw_left = fw
        u_cur = u_next
        w_cur = w_next
        u_next = u_next2
        w_next = w_next2
        slope_u = slope_u_next
        slope_w = slope_w_next
    return vmax, dmax


@jit
def _advance_fv1(u: np.ndarray, w: np.ndarray, dx: float, dM: float, t: float, t_end: float, cfl: float) -> int:
    """Advance ``(u, w)`` in place from ``t`` to exactly ``t_end``; returns the number of steps."""
    vmax, dmax = _bounds(u, w, dx, dM)
    steps = 0
    while t < t_end:
        dt = _time_step(vmax, dmax, dx, cfl)
        if t + dt >= t_end:
            dt = t_end - t
            t = t_end
        else:
            t += dt
        vmax, dmax = _step_fv1(u, w, dx, dM, dt / dx)
        steps += 1
    return steps


@jit
def _advance_fv2(u: np.ndarray, w: np.ndarray, dx: float, dM: float, t: float, t_end: float, cfl: float) -> int:
    """Advance ``(u, w)`` in place from ``t`` to exactly ``t_end`` with SSP-RK2 MUSCL steps."""
    u1 = np.empty_like(u)
    w1 = np.empty_like(w)
    vmax, dmax = _bounds(u, w, dx, dM)
    steps = 0
    while t < t_end:
        dt = _time_step(vmax, dmax, dx, cfl)
        land = t + dt >= t_end
        if land:
            dt = t_end - t
        while True:
            vmax1, _ = _stage_fv2(u, w, u, w, u1, w1, 0.0, dx, dM, dt / dx)
            if vmax1 * dt <= MAX_CFL * dx:
                break
            dt *= 0.5
            land = False
        vmax, dmax = _stage_fv2(u1, w1, u, w, u, w, 0.5, dx, dM, dt / dx)
        t = t_end if land else t + dt
        steps += 1
    return steps


def check_fv_parameters(scheme: str, cells: int, cfl: float) -> None:
    """Raise ``SchemeError`` for an unknown scheme, too few cells or a CFL number outside (0, 1/2]."""
    if scheme not in FV_SCHEMES:
        raise SchemeError(f"unknown finite-volume scheme {scheme!r}; pass one of {', '.join(FV_SCHEMES)}")
    check_integer(cells, "cells", SchemeError, f"pass an integer >= {MIN_CELLS}", minimum=MIN_CELLS, below="too few")
    check_cfl(cfl, MAX_CFL, " (positivity needs <= 0.5)")


def solve_fv(
    rho0: np.ndarray,
    eta0: np.ndarray,
    dx: float,
    t_out: np.ndarray,
    *,
    scheme: str = "fv2",
    cfl: float = 0.45,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Run ``scheme`` from cell averages ``rho0``, ``eta0`` (at ``t_out[0]``) through the times ``t_out``.

    Returns ``rho (nt, K)``, ``eta (nt, K)`` (cell averages at every output time, row 0 the initial
    data) and the total number of time steps.
    """
    u = np.array(rho0, dtype=np.float64)
    w = np.array(eta0, dtype=np.float64)
    if u.shape != w.shape or u.ndim != 1:
        raise SchemeError(f"rho0 and eta0 have shapes {u.shape} and {w.shape}; pass two 1-D arrays of equal length")
    check_fv_parameters(scheme, u.size, cfl)
    advance = _advance_fv1 if scheme == "fv1" else _advance_fv2
    if not (np.all(np.isfinite(u)) and np.all(np.isfinite(w)) and u.min() >= 0.0 and w.min() >= 0.0):
        raise SchemeError("cell averages must be finite and non-negative; project the initial densities exactly")
    if not (np.isfinite(dx) and dx > 0.0) or u.max() <= 0.0 or w.max() <= 0.0:
        raise SchemeError("need dx > 0 and a positive mass of each species; pass a valid grid and data")
    t_out = check_output_times(t_out, SchemeError)
    dM = dx * float(np.sum(u) - np.sum(w))
    rho = np.empty((t_out.size, u.size))
    eta = np.empty((t_out.size, u.size))
    rho[0], eta[0] = u, w
    steps = 0
    for k in range(1, t_out.size):
        steps += advance(u, w, dx, dM, float(t_out[k - 1]), float(t_out[k]), float(cfl))
        rho[k], eta[k] = u, w
    return rho, eta, steps
