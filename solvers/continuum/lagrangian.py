"""Pseudo-inverse (Lagrangian) scheme for system (5).

Each species is followed through its quantile function at fixed mass levels: nodes ``X_k(t)`` at
levels ``s_k`` for ``rho`` and ``Y_l(t)`` at levels ``sigma_l`` for ``eta`` (each species has its own
grid). Between consecutive nodes the density is constant, ``(s_{k+1} - s_k) / (X_{k+1} - X_k)``,
so ``F_rho`` is the piecewise-linear interpolant of the points ``(X_k, s_k)``. The nodes move with
the velocity of system (5) at their position:

    dX_k/dt = (2 s_k - M_rho) - (2 F_eta(X_k) - M_eta),   dY_l/dt = (2 sigma_l - M_eta) - (2 F_rho(Y_l) - M_rho),

(unit masses: ``dX/dt = 2 s - 2 F_eta(X)``), ``F_eta`` from the interpolant of ``(Y_l, sigma_l)``
and vice versa, integrated with the classical fourth-order Runge-Kutta method.

Grid: the support is split into its connected components (maximal intervals without a gap where
the density vanishes). Inside a component nodes equidistribute ``(x - a)/L + (F(x) - F(a))/M``
(``L`` the total length of the components, ``M`` the mass), i.e. they are equally spaced along
the graph of the CDF, so both the mass and the length between nodes are O(1/n): the interpolant of
the quantile function is second-order accurate also where the density vanishes at the support's
ends. A gap becomes a double node: two nodes at the same mass level carrying the left and right
limits of the quantile function, so the interpolated CDF is flat across the gap (no smearing).

Time step, adapted every step: ``dt = cfl * min(h_min / max|velocity|, 1 / (2 max density))``
with ``h_min`` the shortest interval of positive mass; a step that would break the order of the
nodes is halved. The last step before an output time lands on it exactly.
"""

from __future__ import annotations

import numpy as np

from solvers._jit import jit
from solvers.checks import check_integer, check_number, check_output_times
from solvers.continuum.energy import energy_and_dissipation
from solvers.continuum.parameters import check_cfl
from solvers.errors import SchemeError
from solvers.initial import Density, invert_increasing, root_tolerance

MIN_INTERVALS = 4


def pseudo_inverse_grid(density: Density, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Initial nodes ``(s, X0)``: about ``n`` intervals of positive mass, graded along the CDF graph.

    Every component gets at least two intervals; at a gap the mass level is repeated (double node)
    with the two ends of the gap as positions. ``s`` is non-decreasing from exactly 0 to exactly 1,
    ``X0`` strictly increasing, and ``s_k = F(X0_k)`` exactly (the nodes lie on the CDF's graph).
    """
    comps = density.components
    a, b = comps[:, 0], comps[:, 1]
    L = float(np.sum(b - a))
    F_a = np.asarray(density.cdf(a), dtype=np.float64)
    F_b = np.asarray(density.cdf(b), dtype=np.float64)
    weight = 0.5 * ((b - a) / L + (F_b - F_a))
    counts = np.maximum(2, np.rint(n * weight).astype(np.int64))
    xs, ss = [], []
    grid, F = density.cdf_table
    for j in range(comps.shape[0]):
        target = np.linspace(0.0, 2.0 * weight[j], counts[j] + 1)[1:-1]
        # (x - a)/L + F(x) - F(a) is increasing with derivative 1/L + pdf >= 1/L on the component
        cell = (grid >= a[j]) & (grid <= b[j])
        inner = invert_increasing(
            lambda z, j=j: (z - a[j]) / L + (np.asarray(density.cdf(z)) - F_a[j]),
            lambda z: 1.0 / L + np.asarray(density.pdf(z)),
            grid[cell],
            (grid[cell] - a[j]) / L + (F[cell] - F_a[j]),
            target,
            root_tolerance(grid),
        )
        x = np.concatenate(([a[j]], inner, [b[j]]))
        s = np.asarray(density.cdf(x), dtype=np.float64)
        s[0] = ss[-1][-1] if ss else 0.0
        xs.append(x)
        ss.append(s)
    s_all = np.concatenate(ss)
    s_all[-1] = 1.0
    return np.maximum.accumulate(s_all), np.concatenate(xs)


@jit
def _interp_sorted(x: np.ndarray, nodes: np.ndarray, levels: np.ndarray, out: np.ndarray) -> None:
    """``out[k] = F(x[k])`` for the piecewise-linear CDF through ``(nodes, levels)``; ``x`` sorted.

    One merge pass (both arrays are non-decreasing); ``nodes`` strictly increasing.
    """
    m = nodes.shape[0]
    j = 0
    for k in range(x.shape[0]):
        xk = x[k]
        if xk <= nodes[0]:
            out[k] = levels[0]
        elif xk >= nodes[m - 1]:
            out[k] = levels[m - 1]
        else:
            while nodes[j + 1] <= xk:
                j += 1
            out[k] = levels[j] + (levels[j + 1] - levels[j]) * (xk - nodes[j]) / (nodes[j + 1] - nodes[j])


@jit
def _rhs(X: np.ndarray, s: np.ndarray, Y: np.ndarray, sigma: np.ndarray, dX: np.ndarray, dY: np.ndarray) -> None:
    """Node velocities of both species (general total masses ``s[-1]``, ``sigma[-1]``)."""
    M_rho = s[-1]
    M_eta = sigma[-1]
    _interp_sorted(X, Y, sigma, dX)
    _interp_sorted(Y, X, s, dY)
    for k in range(X.shape[0]):
        dX[k] = (2.0 * s[k] - M_rho) - (2.0 * dX[k] - M_eta)
    for k in range(Y.shape[0]):
        dY[k] = (2.0 * sigma[k] - M_eta) - (2.0 * dY[k] - M_rho)


@jit
def _spacing(X: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    """Shortest interval of positive mass and largest density; ``-1`` if the order is broken."""
    h_min = np.inf
    d_max = 0.0
    for k in range(X.shape[0] - 1):
        h = X[k + 1] - X[k]
        if h <= 0.0:
            return -1.0, 0.0
        ds = s[k + 1] - s[k]
        if ds > 0.0:
            h_min = min(h_min, h)
            d_max = max(d_max, ds / h)
    return h_min, d_max


@jit
def _advance_rk4(X: np.ndarray, s: np.ndarray, Y: np.ndarray, sigma: np.ndarray, t: float, t_end: float, cfl: float) -> int:
    """Advance the nodes in place from ``t`` to exactly ``t_end`` with RK4; returns the step count."""
    nx = X.shape[0]
    ny = Y.shape[0]
    kx = np.empty((4, nx))
    ky = np.empty((4, ny))
    Xs = np.empty(nx)
    Ys = np.empty(ny)
    Xn = np.empty(nx)
    Yn = np.empty(ny)
    steps = 0
    while t < t_end:
        _rhs(X, s, Y, sigma, kx[0], ky[0])
        hx, dx_max = _spacing(X, s)
        hy, dy_max = _spacing(Y, sigma)
        v_max = max(np.max(np.abs(kx[0])), np.max(np.abs(ky[0])))
        dt = cfl / (2.0 * max(dx_max, dy_max))
        if v_max * dt > cfl * min(hx, hy):
            dt = cfl * min(hx, hy) / v_max
        land = t + dt >= t_end
        if land:
            dt = t_end - t
        while True:
            for stage in range(1, 4):
                c = 0.5 * dt if stage < 3 else dt
                for k in range(nx):
                    Xs[k] = X[k] + c * kx[stage - 1, k]
                for k in range(ny):
                    Ys[k] = Y[k] + c * ky[stage - 1, k]
                _rhs(Xs, s, Ys, sigma, kx[stage], ky[stage])
            for k in range(nx):
                Xn[k] = X[k] + dt / 6.0 * (kx[0, k] + 2.0 * kx[1, k] + 2.0 * kx[2, k] + kx[3, k])
            for k in range(ny):
                Yn[k] = Y[k] + dt / 6.0 * (ky[0, k] + 2.0 * ky[1, k] + 2.0 * ky[2, k] + ky[3, k])
            if _spacing(Xn, s)[0] > 0.0 and _spacing(Yn, sigma)[0] > 0.0:
                break
            dt *= 0.5
            land = False
        X[:] = Xn
        Y[:] = Yn
        t = t_end if land else t + dt
        steps += 1
    return steps


def check_lagrangian_parameters(cells: int, cfl: float) -> None:
    """Raise ``SchemeError`` for too few intervals or a CFL number outside (0, 1]."""
    check_integer(
        cells, "cells", SchemeError, f"pass an integer >= {MIN_INTERVALS}", minimum=MIN_INTERVALS, below="too few for the lagrangian scheme"
    )
    check_cfl(cfl, 1.0)


def solve_lagrangian(
    rho0: Density,
    eta0: Density,
    n: int,
    t_out: np.ndarray,
    *,
    cfl: float = 0.45,
    mass_rho: float = 1.0,
    mass_eta: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Run the pseudo-inverse scheme with about ``n`` intervals per species through the times ``t_out``.

    The species are ``mass_rho * rho0`` and ``mass_eta * eta0`` (``rho0``, ``eta0`` of unit mass): the
    mass levels run over ``[0, mass_rho]`` and ``[0, mass_eta]``. Returns ``s (nx,)``, ``X (nt, nx)``,
    ``sigma (ny,)``, ``Y (nt, ny)`` (row 0 the initial nodes, taken at ``t_out[0]``) and the total
    number of RK4 steps.
    """
    check_lagrangian_parameters(n, cfl)
    for name, mass in (("mass_rho", mass_rho), ("mass_eta", mass_eta)):
        check_number(mass, name, SchemeError, f"pass e.g. {name}=1.0", positive=True)
    t_out = check_output_times(t_out, SchemeError)
    s, X0 = pseudo_inverse_grid(rho0, n)
    sigma, Y0 = pseudo_inverse_grid(eta0, n)
    s, sigma = mass_rho * s, mass_eta * sigma
    X = np.empty((t_out.size, X0.size))
    Y = np.empty((t_out.size, Y0.size))
    X[0], Y[0] = X0, Y0
    steps = 0
    for k in range(1, t_out.size):
        steps += _advance_rk4(X0, s, Y0, sigma, float(t_out[k - 1]), float(t_out[k]), float(cfl))
        X[k], Y[k] = X0, Y0
    return s, X, sigma, Y, steps


def cdf_at(x: np.ndarray, X: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Piecewise-linear CDF through the nodes ``(X, s)`` at the points ``x`` (0 left, total mass right)."""
    return np.interp(x, X, s, left=0.0, right=float(s[-1]))


def lagrangian_energy_and_dissipation(X: np.ndarray, s: np.ndarray, Y: np.ndarray, sigma: np.ndarray) -> tuple[float, float]:
    """Exact energy and dissipation of one state, on the merged nodes of both species."""
    z = np.sort(np.concatenate((X, Y)))
    energy, dissipation = energy_and_dissipation(z, cdf_at(z, X, s), cdf_at(z, Y, sigma))
    return float(energy), float(dissipation)
