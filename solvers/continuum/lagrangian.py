"""Pseudo-inverse (Lagrangian) scheme for system (5).

Each species is followed through its quantile function at fixed mass levels: nodes ``X_k(t)`` at
levels ``s_k`` for ``rho`` and ``Y_l(t)`` at levels ``sigma_l`` for ``eta`` (each species has its own
grid). Between consecutive nodes the density is constant, ``(s_{k+1} - s_k) / (X_{k+1} - X_k)``,
so ``F_rho`` is the piecewise-linear interpolant of the points ``(X_k, s_k)``; nodes at one position
with increasing levels (a flat piece of the quantile function) are a point mass, where ``F_rho``
jumps from the first level to the last. The nodes move with the velocity of system (5) at their
position:

    dX_k/dt = (2 s_k - M_rho) - (2 F_eta(X_k) - M_eta),   dY_l/dt = (2 sigma_l - M_eta) - (2 F_rho(Y_l) - M_rho),

(unit masses: ``dX/dt = 2 s - 2 F_eta(X)``), ``F_eta`` from the interpolant of ``(Y_l, sigma_l)``
and vice versa, integrated with the classical fourth-order Runge-Kutta method.

Point masses. A point mass of ``rho`` spreads at once: its nodes share the position but not the
level, so they leave with the velocities ``2 (s_k - F_eta)`` (a uniform density ``1/(2t)`` while
``F_eta`` is constant, as in the exact solution). Where ``eta`` has a point mass at ``X_k``, ``F_eta``
has the whole interval ``[F_eta(X_k-), F_eta(X_k)]`` of values there, and the velocity is the element
of least modulus of the resulting interval of velocities, ``2 (w - clip(w, F_eta(X_k-), F_eta(X_k)))``
with ``w = s_k - (M_rho - M_eta)/2``: the minimal-norm element of the subdifferential, i.e. the
gradient-flow selection the particles follow (Theorem 4.3, Lemma 4.1). When both species have a
point mass at one point, the levels held by both stay there for ever, ``rho`` levels below the
``eta`` ones leave to the left and those above to the right (and symmetrically): the continuum
form of Theorem 4.3 (measure solutions from such data are not unique, see Carrillo, Di Francesco,
Esposito, Fagioli, Schmidtchen, DCDS 2020; this is the one selected by the gradient flow).

Grid: the support is split into its connected components (maximal intervals without a gap where
the density vanishes; a lone point mass is a component of length 0). Inside a component nodes
equidistribute ``(x - a)/(2 L) + (F(x) - F(a-))/2`` (``L`` the total length of the components; only
the mass term when ``L = 0``) along the completed graph of the CDF (its jumps as vertical
segments), so both the mass and the length between nodes are O(1/n): the interpolant of the
quantile function is second-order accurate also where the density vanishes at the support's ends,
and a point mass of weight w gets about ``n w / 2`` nodes on its vertical segment. A gap becomes a
double node: two nodes at the same mass level carrying the left and right limits of the quantile
function, so the interpolated CDF is flat across the gap (no smearing).

Time step, adapted every step: ``dt = cfl * min(h_min / max|velocity|, 1 / (2 max density))``, and
no longer than the time until two disjoint components of different species touch (computed from
the velocities of their ends, exact before contact: the step lands on the first contact). The
density maximum is over the intervals of positive mass; ``h_min`` is the shortest of those that do
not grow or that hold a node of the other species (where the interpolated CDF of the other species
has kinks to resolve). An interval that grows without interacting (a point mass spreading, an
unbounded ``singular`` density thinning out) cannot break the order, and bounding the step by its
length would make the steps as short as the shortest interval near the singularity. Intervals
shorter than ``RESOLUTION`` ulps of their position count as length 0 (a point mass): float64 cannot
resolve them, and steps bounded by them would lose their growth to rounding. A step that would break
the order of the nodes (a negative interval; equal positions are allowed) is halved. The last step
before an output time lands on it exactly.
"""

from __future__ import annotations

import numpy as np

from solvers._jit import jit
from solvers.checks import check_integer, check_number, check_output_times
from solvers.continuum.energy import energy_and_dissipation
from solvers.continuum.parameters import check_cfl
from solvers.errors import SchemeError
from solvers.initial import EPS, Density, invert_increasing, root_tolerance

MIN_INTERVALS = 4
RESOLUTION = 8.0
"""Intervals shorter than ``RESOLUTION`` ulps of their ends count as length 0 (point masses) in the step bounds."""


def pseudo_inverse_grid(density: Density, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Initial nodes ``(s, X0)``: about ``n`` intervals, graded along the completed graph of the CDF.

    Every component gets at least two intervals; at a gap the mass level is repeated (double node)
    with the two ends of the gap as positions; a point mass at p is a run of nodes at p whose levels
    run from ``F(p-)`` to ``F(p)``. ``s`` is non-decreasing from exactly 0 to exactly 1, ``X0``
    non-decreasing (strictly where there is no point mass), and ``s_k = F(X0_k)`` exactly at the
    nodes off point masses (the nodes lie on the completed graph).
    """
    comps = density.components
    a, b = comps[:, 0], comps[:, 1]
    L = float(np.sum(b - a))
    length_weight = 0.5 / L if L > 0.0 else 0.0
    mass_weight = 0.5 if L > 0.0 else 1.0
    F_a = np.asarray(density.cdf_left(a), dtype=np.float64)
    F_b = np.asarray(density.cdf(b), dtype=np.float64)
    F_a[1:] = F_b[:-1]  # no mass between components
    weight = length_weight * (b - a) + mass_weight * (F_b - F_a)
    counts = np.maximum(2, np.rint(n * weight).astype(np.int64))
    atoms = density.atoms[:, 0]
    atom_below = np.asarray(density.cdf_left(atoms), dtype=np.float64)
    atom_above = np.asarray(density.cdf(atoms), dtype=np.float64)
    grid, F = density.cdf_table
    xs, ss = [], []
    for j in range(comps.shape[0]):
        # tau(x) = length_weight (x - a) + mass_weight (F(x) - F(a-)), increasing with jumps at the point masses
        target = np.linspace(0.0, weight[j], counts[j] + 1)[1:-1]
        here = (atoms >= a[j]) & (atoms <= b[j])
        p, below, above = atoms[here], atom_below[here], atom_above[here]
        offset = length_weight * (p - a[j])
        jump_lo = offset + mass_weight * (below - F_a[j])
        jump_hi = offset + mass_weight * (above - F_a[j])
        k = np.searchsorted(jump_hi, target, side="left")
        in_jump = (k < p.size) & (target >= jump_lo[np.minimum(k, p.size - 1)]) if p.size else np.zeros(target.size, dtype=bool)
        kk = k[in_jump]
        x_jump = p[kk]
        s_jump = np.clip(F_a[j] + (target[in_jump] - offset[kk]) / mass_weight, below[kk], above[kk])
        smooth = target[~in_jump]
        if smooth.size:
            cell = (grid >= a[j]) & (grid <= b[j])
            x_smooth = invert_increasing(
                lambda z, j=j: length_weight * (z - a[j]) + mass_weight * (np.asarray(density.cdf(z)) - F_a[j]),
                lambda z: length_weight + mass_weight * np.asarray(density.continuous_pdf(z)),
                grid[cell],
                length_weight * (grid[cell] - a[j]) + mass_weight * (F[cell] - F_a[j]),
                smooth,
                root_tolerance(grid),
            )
            s_smooth = np.asarray(density.cdf(x_smooth), dtype=np.float64)
            # a root that converged onto a point mass from one side keeps the level of its target
            on_atom = np.isin(x_smooth, p)
            s_smooth[on_atom] = F_a[j] + (smooth[on_atom] - length_weight * (x_smooth[on_atom] - a[j])) / mass_weight
        else:
            x_smooth = s_smooth = np.empty(0)
        x = np.concatenate(([a[j], b[j]], p, p, x_jump, x_smooth))
        s = np.concatenate(([F_a[j], F_b[j]], below, above, s_jump, s_smooth))
        order = np.lexsort((s, x))
        x, s = x[order], np.maximum.accumulate(s[order])
        keep = np.concatenate(([True], (np.diff(x) > 0.0) | (np.diff(s) > 0.0)))
        xs.append(x[keep])
        ss.append(s[keep])
    s_all = np.concatenate(ss)
    s_all[0], s_all[-1] = 0.0, 1.0
    return np.maximum.accumulate(s_all), np.concatenate(xs)


@jit
def _velocities(X: np.ndarray, w: np.ndarray, Y: np.ndarray, sigma: np.ndarray, dX: np.ndarray) -> None:
    """``dX[k] = 2 (w_k - clip(w_k, F_eta(X_k-), F_eta(X_k)))``: the minimal-norm velocity, with
    ``w_k = s_k - (M_rho - M_eta)/2`` and ``F_eta`` the piecewise-linear CDF through ``(Y, sigma)``
    (``2 (w_k - F_eta(X_k))`` where it is continuous; a run of equal ``Y`` nodes is a point mass, where
    it jumps from the run's first level to its last). One merge pass, ``X`` and ``Y`` non-decreasing;
    at a ``Y`` node, the run's first level is searched once per distinct ``X`` position."""
    m = Y.shape[0]
    j = 0  # the last Y node <= X[k] (while X[k] < Y[m - 1])
    below = 0.0
    above = 0.0
    for k in range(X.shape[0]):
        xk = X[k]
        if xk < Y[0]:
            below = sigma[0]
            above = below
        elif xk >= Y[m - 1]:
            above = sigma[m - 1]
            if xk > Y[m - 1]:
                below = above
            elif k == 0 or X[k - 1] != xk:
                i = m - 1
                while i > 0 and Y[i - 1] == xk:
                    i -= 1
                below = sigma[i]
        else:
            while Y[j + 1] <= xk:
                j += 1
            if Y[j] != xk:
                below = sigma[j] + (sigma[j + 1] - sigma[j]) * (xk - Y[j]) / (Y[j + 1] - Y[j])
                above = below
            else:
                above = sigma[j]
                if k == 0 or X[k - 1] != xk:
                    i = j
                    while i > 0 and Y[i - 1] == xk:
                        i -= 1
                    below = sigma[i]
        dX[k] = 2.0 * (w[k] - min(max(w[k], below), above))


@jit
def _rhs(
    X: np.ndarray, w_x: np.ndarray, Y: np.ndarray, w_y: np.ndarray, s: np.ndarray, sigma: np.ndarray, dX: np.ndarray, dY: np.ndarray
) -> None:
    """Node velocities of both species (``w_x = s - dM/2``, ``w_y = sigma + dM/2``, ``dM = M_rho - M_eta``)."""
    _velocities(X, w_x, Y, sigma, dX)
    _velocities(Y, w_y, X, s, dY)


@jit
def _resolved(h: float, x0: float, x1: float) -> bool:
    """Whether an interval of length ``h`` between ``x0`` and ``x1`` is longer than the float resolution
    of its ends: a shorter one cannot grow by steps without its growth being lost to rounding."""
    return h > RESOLUTION * EPS * max(abs(x0), abs(x1))


@jit
def _ordered(X: np.ndarray) -> bool:
    """No negative interval (equal positions, a point mass, are allowed)."""
    for k in range(X.shape[0] - 1):
        if X[k + 1] < X[k]:
            return False
    return True


@jit
def _step_bounds(X: np.ndarray, s: np.ndarray, V: np.ndarray, Y: np.ndarray) -> tuple[float, float]:
    """Over the resolved intervals of positive mass: the largest density, and the shortest length among
    those that do not grow (``V[k+1] <= V[k]``) or that hold a node of the other species ``Y`` (ends
    included); ``(inf, 0)`` if there is none. A second pass, with a pointer into ``Y`` (sorted, like
    ``X``), looks only at the growing intervals shorter than the shortest non-growing one."""
    h_min = np.inf
    d_max = 0.0
    n = X.shape[0]
    for k in range(n - 1):
        h = X[k + 1] - X[k]
        ds = s[k + 1] - s[k]
        if ds > 0.0 and _resolved(h, X[k], X[k + 1]):
            d_max = max(d_max, ds / h)
            if V[k + 1] <= V[k]:
                h_min = min(h_min, h)
    j = 0  # the first Y node >= X[k]
    for k in range(n - 1):
        h = X[k + 1] - X[k]
        if h < h_min and s[k + 1] > s[k] and V[k + 1] > V[k] and _resolved(h, X[k], X[k + 1]):
            while j < Y.shape[0] and Y[j] < X[k]:
                j += 1
            if j < Y.shape[0] and Y[j] <= X[k + 1]:
                h_min = h
    return h_min, d_max


@jit
def _component_ends(s: np.ndarray) -> np.ndarray:
    """Indices of the first and last node of every component, shape ``(components, 2)``: runs of nodes
    between gaps, the intervals of zero mass (double nodes). The levels are fixed, so are the runs."""
    ends = np.empty((s.shape[0], 2), dtype=np.int64)
    count = 0
    ends[0, 0] = 0
    for k in range(s.shape[0] - 1):
        if s[k + 1] == s[k]:
            ends[count, 1] = k
            count += 1
            ends[count, 0] = k + 1
    ends[count, 1] = s.shape[0] - 1
    return ends[: count + 1]


@jit
def _time_to_contact(X: np.ndarray, VX: np.ndarray, ex: np.ndarray, Y: np.ndarray, VY: np.ndarray, ey: np.ndarray) -> float:
    """The first time two disjoint components of different species (ends ``ex``, ``ey``) touch if their
    ends keep their velocities (exactly when they do: before contact every node moves on a straight
    line); gaps within the float resolution count as touching. ``inf`` if no pair approaches."""
    first = np.inf
    for i in range(ex.shape[0]):
        for j in range(ey.shape[0]):
            for left, v_left, right, v_right in (
                (X[ex[i, 1]], VX[ex[i, 1]], Y[ey[j, 0]], VY[ey[j, 0]]),
                (Y[ey[j, 1]], VY[ey[j, 1]], X[ex[i, 0]], VX[ex[i, 0]]),
            ):
                gap = right - left
                closing = v_left - v_right
                if closing > 0.0 and _resolved(gap, left, right):
                    first = min(first, gap / closing)
    return first


@jit
def _advance_rk4(X: np.ndarray, s: np.ndarray, Y: np.ndarray, sigma: np.ndarray, t: float, t_end: float, cfl: float) -> int:
    """Advance the nodes in place from ``t`` to exactly ``t_end`` with RK4; returns the step count."""
    nx = X.shape[0]
    ny = Y.shape[0]
    half_dM = 0.5 * (s[nx - 1] - sigma[ny - 1])
    w_x = s - half_dM
    w_y = sigma + half_dM
    kx = np.empty((4, nx))
    ky = np.empty((4, ny))
    Xs = np.empty(nx)
    Ys = np.empty(ny)
    Xn = np.empty(nx)
    Yn = np.empty(ny)
    ex = _component_ends(s)
    ey = _component_ends(sigma)
    steps = 0
    while t < t_end:
        _rhs(X, w_x, Y, w_y, s, sigma, kx[0], ky[0])
        hx, dx_max = _step_bounds(X, s, kx[0], Y)
        hy, dy_max = _step_bounds(Y, sigma, ky[0], X)
        h, d_max = min(hx, hy), max(dx_max, dy_max)
        v_max = max(np.max(np.abs(kx[0])), np.max(np.abs(ky[0])))
        dt = cfl / (2.0 * d_max) if d_max > 0.0 else np.inf
        if v_max > 0.0 and h < np.inf:
            dt = min(dt, cfl * h / v_max)
        dt = min(dt, _time_to_contact(X, kx[0], ex, Y, ky[0], ey))
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
                _rhs(Xs, w_x, Ys, w_y, s, sigma, kx[stage], ky[stage])
            for k in range(nx):
                Xn[k] = X[k] + dt / 6.0 * (kx[0, k] + 2.0 * kx[1, k] + 2.0 * kx[2, k] + kx[3, k])
            for k in range(ny):
                Yn[k] = Y[k] + dt / 6.0 * (ky[0, k] + 2.0 * ky[1, k] + 2.0 * ky[2, k] + ky[3, k])
            if _ordered(Xn) and _ordered(Yn):
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

    The species are ``mass_rho * rho0`` and ``mass_eta * eta0`` (``rho0``, ``eta0`` of unit mass, point
    masses allowed): the mass levels run over ``[0, mass_rho]`` and ``[0, mass_eta]``. Returns
    ``s (nx,)``, ``X (nt, nx)``, ``sigma (ny,)``, ``Y (nt, ny)`` (row 0 the initial nodes, taken at
    ``t_out[0]``; equal positions in a row are a point mass) and the total number of RK4 steps.
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


def cdf_limits_at(x: np.ndarray, X: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(F(x-), F(x))`` of the piecewise-linear CDF through the non-decreasing nodes ``(X, s)`` (0 left of
    ``X[0]``, the total mass right of ``X[-1]``; ``F`` jumps at a run of equal nodes)."""
    x = np.asarray(x, dtype=np.float64)
    values = []
    for side, node in (("left", 0), ("right", -1)):
        # left: X[i-1] < x <= X[i]; right: X[i-1] <= x < X[i]; interpolate on that edge, and at a node
        # take its level itself (the first of a run from the left, the last from the right)
        i = np.searchsorted(X, x, side=side)
        inside = (i > 0) & (i < X.size)
        j = np.clip(i, 1, X.size - 1)
        x0, x1, s0, s1 = X[j - 1], X[j], s[j - 1], s[j]
        width = np.where(inside, x1 - x0, 1.0)
        f = s0 + (s1 - s0) * ((x - x0) / width)
        at_node = (x == x1) if node == 0 else (x == x0)
        f = np.where(inside & at_node, s1 if node == 0 else s0, f)
        values.append(np.where(i == 0, 0.0, np.where(i == X.size, float(s[-1]), f)))
    return values[0], values[1]


def cdf_at(x: np.ndarray, X: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Piecewise-linear CDF through the nodes ``(X, s)`` at the points ``x`` (right-continuous: 0 left,
    the total mass right; at a point mass, its upper level)."""
    return cdf_limits_at(x, X, s)[1]


def _atom_dissipation(lo: np.ndarray, hi: np.ndarray, other_lo: np.ndarray, other_hi: np.ndarray) -> np.ndarray:
    """``integral_lo^hi (2 (w - clip(w, other_lo, other_hi)))^2 dw``: the dissipation of a point mass
    whose levels (shifted by the mass difference) run over ``[lo, hi]``, at a point where the other
    species' CDF runs over ``[other_lo, other_hi]`` (minimal-norm velocities)."""
    below = np.maximum(other_lo - lo, 0.0) ** 3 - np.maximum(other_lo - hi, 0.0) ** 3
    above = np.maximum(hi - other_hi, 0.0) ** 3 - np.maximum(lo - other_hi, 0.0) ** 3
    return 4.0 / 3.0 * (below + above)


def lagrangian_energy_and_dissipation(X: np.ndarray, s: np.ndarray, Y: np.ndarray, sigma: np.ndarray) -> tuple[float, float]:
    """Exact energy and dissipation of one state, on the merged nodes of both species.

    At every merged position ``z`` both one-sided limits of both CDFs are nodes (a piece of length 0
    carries the point masses at z), so ``energy_and_dissipation`` is exact on the pieces of positive
    length; a point mass contributes ``integral over its levels of v^2`` with the minimal-norm
    velocities of the scheme (``_atom_dissipation``), which also covers point masses of both
    species at one point.
    """
    z = np.unique(np.concatenate((X, Y)))
    rho_lo, rho_hi = cdf_limits_at(z, X, s)
    eta_lo, eta_hi = cdf_limits_at(z, Y, sigma)
    x2 = np.repeat(z, 2)
    energy, dissipation = energy_and_dissipation(x2, np.stack((rho_lo, rho_hi), axis=1).ravel(), np.stack((eta_lo, eta_hi), axis=1).ravel())
    # replace the linear-velocity value on every piece of length 0 by the exact point-mass dissipation
    half_dM = 0.5 * (float(s[-1]) - float(sigma[-1]))
    d_lo, d_hi = rho_lo - eta_lo, rho_hi - eta_hi
    v_lo, v_hi = 2.0 * d_lo - 2.0 * half_dM, 2.0 * d_hi - 2.0 * half_dM
    linear = (rho_hi - rho_lo + eta_hi - eta_lo) * (v_lo * v_lo + v_lo * v_hi + v_hi * v_hi) / 3.0
    exact = _atom_dissipation(rho_lo - half_dM, rho_hi - half_dM, eta_lo, eta_hi) + _atom_dissipation(
        eta_lo + half_dM, eta_hi + half_dM, rho_lo, rho_hi
    )
    return float(energy), float(dissipation - np.sum(linear) + np.sum(exact))
