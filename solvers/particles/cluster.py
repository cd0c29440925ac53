"""Exact velocities of a cluster of coincident particles: the minimal-norm rule of MATH.md section 2.

A cluster C holds x-particles with masses ``wx`` (left to right by index) and y-particles with
masses ``wy``. Write ``u_p`` for the velocity p would get from every particle except its
opposite-species partners inside C, with its same-species partners in C counted by index order:

    u_{x_k} = sum_{i != k} m_i sign(k - i) - sum_{y_j not in C} n_j sign(x - y_j)

(and symmetrically for y). The velocities h of the cluster minimise

    Phi(h) = sum_p w_p (h_p - u_p)^2 / 2 + sum_{x_i, y_j in C} m_i n_j |h_{x_i} - h_{y_j}|

over the ordered cone h_{x_1} <= h_{x_2} <= ..., h_{y_1} <= h_{y_2} <= ... (on that cone the
same-species terms of MATH.md are the linear part of the first sum). This is the proximal map of the
cluster's interaction energy, and the threshold theorem for separable convex + submodular
objectives (Hochbaum 2001; Chambolle & Darbon 2009) makes it a finite problem: for every lambda the
level set S = {p : h_p > lambda} minimises

    G_lambda(S) = lambda W(S) - sum_{p in S} w_p u_p + cut(S),   cut(S) = sum_{x, y split by S} m n,

over "upper" sets (by the order constraints: a suffix of the x's and a suffix of the y's), with
W(S) the mass of S. Each of the (K_x + 1)(K_y + 1) candidate sets S = (X, Y) (X, Y the masses of its
x- and y-suffix) is a line G = W lambda + I with slope W = X + Y and intercept
I = X (N_C - Y) + (M_C - X) Y - WU_x - WU_y (M_C, N_C the cluster's species masses, WU the suffix
sums of w u). Their lower envelope runs from the full set (lambda -> -inf) to the empty set
(lambda -> +inf), the minimising sets along it are nested, and h_p is the breakpoint at which p
leaves the minimising set. Cost O(K^2 log K) for K = K_x + K_y.

Round-off. The suffix sums of w and w u are kept in double-double (error-free TwoSum and Dekker's
TwoProduct), exact to ~K eps^2 (M_C + N_C + sum w |u|) ("tiny" below). For two lines, the slope
difference and the intercept difference

    I_2 - I_1 = dX (N_C - 2 Y_2) + dY (M_C - 2 X_1) - dWU_x - dWU_y     (d = line 2 minus line 1)

are formed from double-double differences each rounded once, so the slope difference is exact to
eps / 2 relative plus tiny and the intercept difference to 4 eps times the sum of the magnitudes of
its four terms plus tiny. A breakpoint lambda = (I_2 - I_1) / (W_1 - W_2) of two nested sets is then
exact to about eps (|u| + M_C + N_C), independent of the smallest mass. Lines count as parallel only
when their slopes agree to tiny, i.e. exactly up to the double-double error; the lines are sorted by
their double-double slope. Building the envelope, the top line leaves it when the new line
overtakes it no later than it overtook its predecessor, lambda_23 <= lambda_12, with the two
breakpoints' bounds added to the right-hand side: so breakpoints that agree within round-off are one,
and level sets separating at speed >> eps (|u| + M_C + N_C) stay apart. The stored envelope
breakpoints are the output velocities, so particles that move together in exact arithmetic get
bit-identical velocities, in the exact order.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from solvers import _double_double
from solvers._double_double import dd_add, dd_diff, two_prod, two_sum
from solvers._jit import jit
from solvers.errors import ParticleInputError

EPS = np.finfo(float).eps


@jit(depends_on=(_double_double,))
def _suffix_sums(w: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Row a = (W, WU) of the last a particles as double-doubles (W_hi, W_lo, WU_hi, WU_lo), a = 0..K:
    W = their mass, WU = sum of w u over them, each exact to ~K eps^2 (W, sum w |u|)."""
    K = w.shape[0]
    S = np.zeros((K + 1, 4))
    for a in range(1, K + 1):
        k = K - a
        S[a, 0], S[a, 1] = dd_add(S[a - 1, 0], S[a - 1, 1], w[k], 0.0)
        p, e = two_prod(w[k], u[k])
        S[a, 2], S[a, 3] = dd_add(S[a - 1, 2], S[a - 1, 3], p, e)
    return S


@jit(depends_on=(_double_double,))
def _slope_gap(Sx: np.ndarray, Sy: np.ndarray, a1: int, b1: int, a2: int, b2: int) -> float:
    """fl(W(S_1) - W(S_2)), exact to eps/2 relative plus ~eps^2 (M_C + N_C)."""
    sx, ex = two_sum(Sx[a1, 0], -Sx[a2, 0])
    sy, ey = two_sum(Sy[b1, 0], -Sy[b2, 0])
    s, e = two_sum(sx, sy)
    return s + (e + ex + ey + (Sx[a1, 1] - Sx[a2, 1]) + (Sy[b1, 1] - Sy[b2, 1]))


@jit(depends_on=(_double_double,))
def _intercept_gap(Sx: np.ndarray, Sy: np.ndarray, a1: int, b1: int, a2: int, b2: int, tiny: float) -> tuple[float, float]:
    """I_2 - I_1 for the lines of S_1 = (a1, b1) and S_2 = (a2, b2), and a bound on its round-off.

    With X, Y the masses of the x- and y-parts of S and WU_x, WU_y their sums of w u, the intercept
    I = X (N_C - Y) + (M_C - X) Y - WU_x - WU_y gives
        I_2 - I_1 = dX (N_C - 2 Y_2) + dY (M_C - 2 X_1) - dWU_x - dWU_y   (d = line 2 minus line 1);
    every factor is one rounding of an exact double-double difference, so the error is at most
    4 eps times the sum of the magnitudes of the four terms, plus ``tiny`` (the double-double error)."""
    Kx = Sx.shape[0] - 1
    Ky = Sy.shape[0] - 1
    dX = dd_diff(Sx[a2, 0], Sx[a2, 1], Sx[a1, 0], Sx[a1, 1])
    dY = dd_diff(Sy[b2, 0], Sy[b2, 1], Sy[b1, 0], Sy[b1, 1])
    dUx = dd_diff(Sx[a2, 2], Sx[a2, 3], Sx[a1, 2], Sx[a1, 3])
    dUy = dd_diff(Sy[b2, 2], Sy[b2, 3], Sy[b1, 2], Sy[b1, 3])
    cY = dd_diff(Sy[Ky, 0], Sy[Ky, 1], 2.0 * Sy[b2, 0], 2.0 * Sy[b2, 1])
    cX = dd_diff(Sx[Kx, 0], Sx[Kx, 1], 2.0 * Sx[a1, 0], 2.0 * Sx[a1, 1])
    t1 = dX * cY
    t2 = dY * cX
    return t1 + t2 - dUx - dUy, 4.0 * EPS * (abs(t1) + abs(t2) + abs(dUx) + abs(dUy)) + tiny


@jit(depends_on=(_double_double,))
def _breakpoint(Sx: np.ndarray, Sy: np.ndarray, Ky: int, l1: int, l2: int, tiny_slope: float, tiny_icept: float) -> tuple[float, float]:
    """Where line l2 (flatter) overtakes line l1: lambda = (I_2 - I_1) / (W_1 - W_2), and a bound on
    its round-off (``_intercept_gap``, ``_slope_gap``)."""
    a1, b1 = divmod(l1, Ky + 1)
    a2, b2 = divmod(l2, Ky + 1)
    dS = _slope_gap(Sx, Sy, a1, b1, a2, b2)
    dI, err_I = _intercept_gap(Sx, Sy, a1, b1, a2, b2, tiny_icept)
    lam = dI / dS
    return lam, 2.0 * (err_I + abs(lam) * tiny_slope) / dS + 2.0 * EPS * abs(lam)


@jit(depends_on=(_double_double,))
def solve_cluster(wx: np.ndarray, ux: np.ndarray, wy: np.ndarray, uy: np.ndarray, hx: np.ndarray, hy: np.ndarray) -> None:
    """Write the minimiser of Phi (module docstring) into ``hx``, ``hy``; masses must be positive."""
    Kx = wx.shape[0]
    Ky = wy.shape[0]
    if Kx + Ky == 1:
        if Kx == 1:
            hx[0] = ux[0]
        else:
            hy[0] = uy[0]
        return
    Sx = _suffix_sums(wx, ux)
    Sy = _suffix_sums(wy, uy)
    mass = Sx[Kx, 0] + Sy[Ky, 0]
    wu_abs = 0.0
    for k in range(Kx):
        wu_abs += wx[k] * abs(ux[k])
    for k in range(Ky):
        wu_abs += wy[k] * abs(uy[k])
    tiny_slope = 8.0 * (Kx + Ky + 2) * EPS * EPS * mass
    tiny_icept = 16.0 * (Kx + Ky + 2) * EPS * EPS * (mass * mass + wu_abs)

    n_lines = (Kx + 1) * (Ky + 1)
    slope_hi = np.empty(n_lines)
    slope_lo = np.empty(n_lines)
    for a in range(Kx + 1):
        for b in range(Ky + 1):
            line = a * (Ky + 1) + b
            slope_hi[line], slope_lo[line] = dd_add(Sx[a, 0], Sx[a, 1], Sy[b, 0], Sy[b, 1])
    # steepest first (the envelope from lambda = -inf to +inf), by the exact double-double slope
    order = np.argsort(-slope_lo, kind="mergesort")
    order = order[np.argsort(-slope_hi[order], kind="mergesort")]

    hull = np.empty(n_lines, np.int64)
    cut = np.empty(n_lines)  # cut[k]: where hull[k] overtakes hull[k - 1] (k >= 1)
    cut_err = np.empty(n_lines)
    top = 0
    for line in order:
        if top > 0:
            l0 = hull[top - 1]
            a0, b0 = divmod(l0, Ky + 1)
            a1, b1 = divmod(line, Ky + 1)
            if _slope_gap(Sx, Sy, a0, b0, a1, b1) <= tiny_slope:  # parallel: keep the lower line
                if _intercept_gap(Sx, Sy, a0, b0, a1, b1, tiny_icept)[0] >= 0.0:
                    continue
                top -= 1
        # the top line leaves the envelope when the new line overtakes it no later than it overtook
        # its predecessor, within the two bounds (lambda_13 would shrink the gap by a mass ratio)
        while top >= 1:
            lam23, err23 = _breakpoint(Sx, Sy, Ky, hull[top - 1], line, tiny_slope, tiny_icept)
            if top >= 2 and lam23 <= cut[top - 1] + cut_err[top - 1] + err23:
                top -= 1
            else:
                cut[top], cut_err[top] = lam23, err23
                break
        hull[top] = line
        top += 1

    a_in = Kx  # particles x_{Kx - a_in} .. x_{Kx - 1} (0-based) are still in the set
    b_in = Ky
    for k in range(1, top):  # cut[1:top] increases strictly (by the hull test)
        lam = cut[k]
        a_next = min(a_in, hull[k] // (Ky + 1))
        b_next = min(b_in, hull[k] % (Ky + 1))
        for p in range(Kx - a_in, Kx - a_next):
            hx[p] = lam
        for p in range(Ky - b_in, Ky - b_next):
            hy[p] = lam
        a_in = a_next
        b_in = b_next


def cluster_velocities(wx: ArrayLike, ux: ArrayLike, wy: ArrayLike, uy: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Velocities ``(hx, hy)`` of a cluster with masses ``wx``, ``wy`` (by index) and free velocities
    ``ux``, ``uy`` (module docstring): the exact minimiser of Phi on the ordered cone."""
    arrays = []
    for name, values in (("wx", wx), ("ux", ux), ("wy", wy), ("uy", uy)):
        arr = np.atleast_1d(np.asarray(values, dtype=float))
        if arr.ndim != 1 or not np.all(np.isfinite(arr)):
            raise ParticleInputError(f"{name} must be a 1-D array of finite numbers, got {values!r}; pass finite values")
        arrays.append(arr)
    wx_a, ux_a, wy_a, uy_a = arrays
    if wx_a.shape != ux_a.shape or wy_a.shape != uy_a.shape:
        raise ParticleInputError(
            f"masses and free velocities differ in length ({wx_a.size} vs {ux_a.size}, {wy_a.size} vs {uy_a.size}); pass one of each per particle"
        )
    if wx_a.size + wy_a.size == 0:
        raise ParticleInputError("the cluster is empty; pass at least one particle")
    if np.any(wx_a <= 0) or np.any(wy_a <= 0):
        raise ParticleInputError("cluster masses must be positive; pass wx > 0 and wy > 0")
    hx = np.empty(wx_a.size)
    hy = np.empty(wy_a.size)
    solve_cluster(wx_a, ux_a, wy_a, uy_a, hx, hy)
    return hx, hy
