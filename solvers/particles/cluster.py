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
W(S) the mass of S. Each of the (K_x + 1)(K_y + 1) candidate sets is a line in lambda; their lower
envelope runs from the full set (lambda -> -inf) to the empty set (lambda -> +inf), the minimising
sets along it are nested, and h_p is the breakpoint at which p leaves the minimising set.
Cost O(K^2 log K) for K = K_x + K_y. Lines whose slopes agree to round-off are treated as parallel
and breakpoints that agree to round-off as one, so particles that move together in exact arithmetic
get bit-identical velocities.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import ArrayLike

from solvers.errors import ParticleInputError

ROUND_OFF = 64 * np.finfo(float).eps


@numba.njit(cache=True)
def _suffix_sums(w: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """W[a] = mass of the last a particles, WU[a] = sum of w u over them (a = 0..K)."""
    K = w.shape[0]
    W = np.zeros(K + 1)
    WU = np.zeros(K + 1)
    for a in range(1, K + 1):
        W[a] = W[a - 1] + w[K - a]
        WU[a] = WU[a - 1] + w[K - a] * u[K - a]
    return W, WU


@numba.njit(cache=True)
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
    SWx, SWUx = _suffix_sums(wx, ux)
    SWy, SWUy = _suffix_sums(wy, uy)
    MC = SWx[Kx]
    NC = SWy[Ky]
    n_lines = (Kx + 1) * (Ky + 1)
    slope = np.empty(n_lines)
    icept = np.empty(n_lines)
    u_scale = 0.0
    for k in range(Kx):
        u_scale = max(u_scale, abs(ux[k]))
    for k in range(Ky):
        u_scale = max(u_scale, abs(uy[k]))
    for a in range(Kx + 1):
        for b in range(Ky + 1):
            line = a * (Ky + 1) + b
            slope[line] = SWx[a] + SWy[b]
            icept[line] = SWx[a] * (NC - SWy[b]) + (MC - SWx[a]) * SWy[b] - SWUx[a] - SWUy[b]
    w_min = np.inf
    for k in range(Kx):
        w_min = min(w_min, wx[k])
    for k in range(Ky):
        w_min = min(w_min, wy[k])
    tol_slope = ROUND_OFF * (MC + NC)
    tol_lambda = ROUND_OFF * (MC + NC) / w_min * (u_scale + MC + NC)

    order = np.argsort(-slope)  # steepest first: the envelope from lambda = -inf to +inf
    hull = np.empty(n_lines, np.int64)
    top = 0
    for line in order:
        if top > 0 and slope[hull[top - 1]] - slope[line] <= tol_slope:
            if icept[line] >= icept[hull[top - 1]]:
                continue
            top -= 1
        while top >= 2:
            l1 = hull[top - 2]
            l2 = hull[top - 1]
            x12 = (icept[l2] - icept[l1]) / (slope[l1] - slope[l2])
            x13 = (icept[line] - icept[l1]) / (slope[l1] - slope[line])
            if x13 <= x12 + tol_lambda:
                top -= 1
            else:
                break
        hull[top] = line
        top += 1

    a_in = Kx  # particles x_{Kx - a_in} .. x_{Kx - 1} (0-based) are still in the set
    b_in = Ky
    lam = -np.inf
    for k in range(top - 1):
        l1 = hull[k]
        l2 = hull[k + 1]
        lam = max(lam, (icept[l2] - icept[l1]) / (slope[l1] - slope[l2]))
        a_next = min(a_in, l2 // (Ky + 1))
        b_next = min(b_in, l2 % (Ky + 1))
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
