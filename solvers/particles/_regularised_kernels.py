"""Compiled core of the regularised particle system (Remark 5.1): velocity field, energy correction
and an adaptive Dormand-Prince 5(4) integrator.

Both species live in one array ``z`` of P = N_x + N_y positions (x first, then y) with signed
weights ``w`` (``m_i`` for x, ``-n_j`` for y) and signs ``sgn`` (+1 for x, -1 for y), so that

    z_p' = sgn_p G(z_p),   G(s) = sum_q w_q sign_delta(s - z_q),   sign_delta(d) = clip(d / delta, -1, 1).

Velocity in O(P) after sorting: with the merged order z_(0) <= ... <= z_(P-1) and the window
``[a, b)`` of the sorted indices with ``|z_(r) - z_q| <= delta`` (two pointers, both non-decreasing in r),

    G(z_(r)) = A_a - (A_P - A_b) + (z_(r) (A_b - A_a) - (B_b - B_a)) / delta,

``A_r = w_(0) + ... + w_(r-1)``, ``B_r = w_(0) z_(0) + ... + w_(r-1) z_(r-1)``. The inner term is a sum
of numbers of size ``|w| delta`` obtained from prefix sums of size ``sum |w z|``: in plain floating
point its error is ``eps sum |w z| / delta``, 1e-12 for delta = 1e-4. The prefix sums and the window
term are therefore kept in double-double arithmetic (error-free TwoSum and Dekker's TwoProduct),
which makes the result correct to a few ulps of ``sum |w|``, independent of delta and of the
positions' origin. The window is decided on the computed differences, ``fl(z_q - z_p) <= delta``
(exact for nearby points by Sterbenz's lemma), not on ``z_q <= fl(z_p + delta)``: a point ulp(z_p)
outside the window would otherwise contribute ``1 + ulp(z_p) / delta`` instead of 1.

The merged order is kept between calls (``perm``) and restored by insertion sort, O(P + inversions):
the order changes only where an x and a y particle cross (same-species particles never cross, the
right-hand side being Lipschitz). More than ``8 P`` moves fall back to a merge sort.

Positions must stay below about 1e300 in magnitude (Dekker's splitting constant 2^27 + 1).
"""

from __future__ import annotations

import numpy as np

from solvers import _double_double
from solvers._double_double import dd_add, dd_mul, two_prod
from solvers._jit import jit

OK, STEP_UNDERFLOW, TOO_MANY_STEPS = 0, 1, 2
"""Status codes of ``integrate``."""

# Dormand-Prince 5(4) (Hairer, Norsett, Wanner, Solving ODEs I, Table 5.2): nodes, stages, weights of
# the 5th-order solution (the last stage row, FSAL) and of the error y5 - y4.
C2, C3, C4, C5 = 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0
A21 = 1.0 / 5.0
A31, A32 = 3.0 / 40.0, 9.0 / 40.0
A41, A42, A43 = 44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0
A51, A52, A53, A54 = 19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0
A61, A62, A63, A64, A65 = 9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0, -5103.0 / 18656.0
B1, B3, B4, B5, B6 = 35.0 / 384.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0
E1, E3, E4, E5, E6, E7 = 71.0 / 57600.0, -71.0 / 16695.0, 71.0 / 1920.0, -17253.0 / 339200.0, 22.0 / 525.0, -1.0 / 40.0

SAFETY, FAC_MIN, FAC_MAX, BETA = 0.9, 0.2, 10.0, 0.04
"""Step-size controller (Hairer's DOPRI5): safety factor, bounds of the step ratio, PI gain."""


# ---------------------------------------------------------------- velocity field


@jit(depends_on=(_double_double,))
def restore_order(z: np.ndarray, perm: np.ndarray) -> None:
    """Sort ``perm`` so that ``z[perm]`` is non-decreasing: insertion sort from the previous order,
    O(P + inversions); a merge sort after more than 8 P moves."""
    P = perm.size
    budget = 8 * P
    moves = 0
    for r in range(1, P):
        p = perm[r]
        zp = z[p]
        s = r
        while s > 0 and z[perm[s - 1]] > zp:
            perm[s] = perm[s - 1]
            s -= 1
            moves += 1
        perm[s] = p
        if moves > budget:
            perm[:] = np.argsort(z, kind="mergesort")
            return


@jit(depends_on=(_double_double,))
def sorted_field(zs: np.ndarray, ws: np.ndarray, delta: float, prefix: np.ndarray, G: np.ndarray) -> None:
    """``G[r] = sum_q ws[q] sign_delta(zs[r] - zs[q])`` for sorted ``zs``, in O(P).

    ``prefix`` is work space of shape (4, P + 1): the double-double prefix sums A (rows 0, 1) and B
    (rows 2, 3) of the module docstring."""
    P = zs.size
    ah, al, bh, bl = 0.0, 0.0, 0.0, 0.0
    prefix[0, 0] = 0.0
    prefix[1, 0] = 0.0
    prefix[2, 0] = 0.0
    prefix[3, 0] = 0.0
    for r in range(P):
        ah, al = dd_add(ah, al, ws[r], 0.0)
        ph, pl = two_prod(ws[r], zs[r])
        bh, bl = dd_add(bh, bl, ph, pl)
        prefix[0, r + 1] = ah
        prefix[1, r + 1] = al
        prefix[2, r + 1] = bh
        prefix[3, r + 1] = bl
    th, tl = prefix[0, P], prefix[1, P]
    a = 0
    b = 0
    for r in range(P):
        s = zs[r]
        while s - zs[a] > delta:
            a += 1
        while b < P and zs[b] - s <= delta:
            b += 1
        # outside the window: +w left of it, -w right of it: A_a - (A_P - A_b)
        rh, rl = dd_add(th, tl, -prefix[0, b], -prefix[1, b])
        oh, ol = dd_add(prefix[0, a], prefix[1, a], -rh, -rl)
        # inside: s (A_b - A_a) - (B_b - B_a), a sum of terms of size |w| delta
        wh, wl = dd_add(prefix[0, b], prefix[1, b], -prefix[0, a], -prefix[1, a])
        sh, sl = dd_add(prefix[2, b], prefix[3, b], -prefix[2, a], -prefix[3, a])
        mh, ml = dd_mul(wh, wl, s, 0.0)
        ih, il = dd_add(mh, ml, -sh, -sl)
        inner = (ih + il) / delta
        gh, gl = dd_add(oh, ol, inner, 0.0)
        G[r] = gh + gl


@jit(depends_on=(_double_double,))
def velocity_into(
    z: np.ndarray,
    w: np.ndarray,
    sgn: np.ndarray,
    delta: float,
    perm: np.ndarray,
    zs: np.ndarray,
    ws: np.ndarray,
    prefix: np.ndarray,
    G: np.ndarray,
    v: np.ndarray,
) -> None:
    """``v[p] = sgn[p] G(z[p])`` for every particle p (any order of ``z``); ``perm`` is the merged
    order, updated in place; ``zs``, ``ws``, ``G`` (size P) and ``prefix`` (4, P + 1) are work space."""
    restore_order(z, perm)
    P = z.size
    for r in range(P):
        zs[r] = z[perm[r]]
        ws[r] = w[perm[r]]
    sorted_field(zs, ws, delta, prefix, G)
    for r in range(P):
        p = perm[r]
        v[p] = sgn[p] * G[r]


@jit(depends_on=(_double_double,))
def velocity(z: np.ndarray, w: np.ndarray, sgn: np.ndarray, delta: float) -> np.ndarray:
    """The velocities ``sgn_p G(z_p)`` of particles in any order (one sort, then O(P))."""
    P = z.size
    perm = np.argsort(z, kind="mergesort")
    v = np.empty(P)
    velocity_into(z, w, sgn, delta, perm, np.empty(P), np.empty(P), np.empty((4, P + 1)), np.empty(P), v)
    return v


# ---------------------------------------------------------------- energy


@jit(depends_on=(_double_double,))
def energy_correction(z: np.ndarray, w: np.ndarray, delta: float) -> np.ndarray:
    """Row-wise ``sum_{p<q, |z_p - z_q| <= delta} w_p w_q (delta - |z_p - z_q|)^2 / (2 delta)``.

    ``|d|_delta = |d| + (delta - |d|)^2 / (2 delta)`` inside the window, so ``E_delta = E - this``.
    For each p (sorted) the partners q > p in the window give ``sum w_q (d_q + delta)^2`` with
    ``d_q = z_p - z_q``, from double-double prefix sums of w, w z, w z^2: O(P log P) per row."""
    rows, P = z.shape
    out = np.empty(rows)
    pre = np.empty((6, P + 1))
    for k in range(rows):
        perm = np.argsort(z[k], kind="mergesort")
        zs = z[k][perm]
        ws = w[perm]
        h0, l0, h1, l1, h2, l2 = 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
        pre[:, 0] = 0.0
        for r in range(P):
            h0, l0 = dd_add(h0, l0, ws[r], 0.0)
            ph, pl = two_prod(ws[r], zs[r])
            h1, l1 = dd_add(h1, l1, ph, pl)
            qh, ql = dd_mul(ph, pl, zs[r], 0.0)
            h2, l2 = dd_add(h2, l2, qh, ql)
            pre[0, r + 1], pre[1, r + 1], pre[2, r + 1] = h0, h1, h2
            pre[3, r + 1], pre[4, r + 1], pre[5, r + 1] = l0, l1, l2
        total = 0.0
        b = 0
        for r in range(P):
            s = zs[r]
            while b < P and zs[b] - s <= delta:
                b += 1
            if b <= r + 1:
                continue
            # partners q in (r, b): W = sum w, S1 = sum w z, S2 = sum w z^2
            Wh, Wl = dd_add(pre[0, b], pre[3, b], -pre[0, r + 1], -pre[3, r + 1])
            S1h, S1l = dd_add(pre[1, b], pre[4, b], -pre[1, r + 1], -pre[4, r + 1])
            S2h, S2l = dd_add(pre[2, b], pre[5, b], -pre[2, r + 1], -pre[5, r + 1])
            # sum w_q (s - z_q)^2 = s^2 W - 2 s S1 + S2
            sqh, sql = two_prod(s, s)
            t1h, t1l = dd_mul(sqh, sql, Wh, Wl)
            t2h, t2l = dd_mul(S1h, S1l, -2.0 * s, 0.0)
            qh, ql = dd_add(t1h, t1l, t2h, t2l)
            qh, ql = dd_add(qh, ql, S2h, S2l)
            # sum w_q (s - z_q) = s W - S1
            lh, ll = dd_mul(Wh, Wl, s, 0.0)
            lh, ll = dd_add(lh, ll, -S1h, -S1l)
            inner = (qh + ql) + 2.0 * delta * (lh + ll) + delta * delta * (Wh + Wl)
            total += ws[r] * inner
        out[k] = total / (2.0 * delta)
    return out


# ---------------------------------------------------------------- Dormand-Prince 5(4)


@jit(depends_on=(_double_double,))
def _error_norm(h: float, k1, k3, k4, k5, k6, k7, atol: float) -> float:
    err = 0.0
    for p in range(k1.size):
        e = abs(h * (E1 * k1[p] + E3 * k3[p] + E4 * k4[p] + E5 * k5[p] + E6 * k6[p] + E7 * k7[p]))
        if e > err:
            err = e
    return err / atol


@jit(depends_on=(_double_double,))
def integrate(
    z0: np.ndarray, w: np.ndarray, sgn: np.ndarray, delta: float, t_out: np.ndarray, atol: float, max_steps: int
) -> tuple[np.ndarray, np.ndarray, int, int, float, float, int]:
    """Dormand-Prince 5(4) with local extrapolation, FSAL, PI step control on the absolute error
    ``max_p |y5_p - y4_p| <= atol`` per step, landing exactly on every output time.

    Returns the positions and velocities at ``t_out`` (shape (nt, P)), the accepted and rejected
    step counts, the sum of the accepted steps' local error estimates (max over particles), the
    time reached and a status (``OK``, ``STEP_UNDERFLOW``, ``TOO_MANY_STEPS``)."""
    P = z0.size
    nt = t_out.size
    Z = np.empty((nt, P))
    V = np.empty((nt, P))
    perm = np.argsort(z0, kind="mergesort")
    zs = np.empty(P)
    ws = np.empty(P)
    G = np.empty(P)
    prefix = np.empty((4, P + 1))
    y = z0.copy()
    ynew = np.empty(P)
    stage = np.empty(P)
    k1 = np.empty(P)
    k2 = np.empty(P)
    k3 = np.empty(P)
    k4 = np.empty(P)
    k5 = np.empty(P)
    k6 = np.empty(P)
    k7 = np.empty(P)
    velocity_into(y, w, sgn, delta, perm, zs, ws, prefix, G, k1)

    # initial step (Hairer's heuristic, in the max norm scaled by atol)
    d0 = np.max(np.abs(y)) / atol
    d1 = np.max(np.abs(k1)) / atol
    h0 = 0.01 * d0 / d1 if d0 > 1e-5 and d1 > 1e-5 else 1e-6
    for p in range(P):
        stage[p] = y[p] + h0 * k1[p]
    velocity_into(stage, w, sgn, delta, perm, zs, ws, prefix, G, k2)
    d2 = np.max(np.abs(k2 - k1)) / atol / h0
    d12 = max(d1, d2)
    h1 = max(1e-6, h0 * 1e-3) if d12 <= 1e-15 else (0.01 / d12) ** 0.2
    h = min(100.0 * h0, h1)

    t = 0.0
    steps = 0
    rejected = 0
    err_sum = 0.0
    err_old = 1e-4
    status = OK
    k = 0
    while k < nt and t_out[k] <= 0.0:
        Z[k] = y
        V[k] = k1
        k += 1
    last_rejected = False
    while k < nt:
        target = t_out[k]
        if steps + rejected >= max_steps:
            status = TOO_MANY_STEPS
            break
        if h < 1e-14 * max(1.0, abs(t)):
            status = STEP_UNDERFLOW
            break
        lands = t + h >= target - 1e-14 * max(1.0, abs(target))
        hs = target - t if lands else h
        for p in range(P):
            stage[p] = y[p] + hs * A21 * k1[p]
        velocity_into(stage, w, sgn, delta, perm, zs, ws, prefix, G, k2)
        for p in range(P):
            stage[p] = y[p] + hs * (A31 * k1[p] + A32 * k2[p])
        velocity_into(stage, w, sgn, delta, perm, zs, ws, prefix, G, k3)
        for p in range(P):
            stage[p] = y[p] + hs * (A41 * k1[p] + A42 * k2[p] + A43 * k3[p])
        velocity_into(stage, w, sgn, delta, perm, zs, ws, prefix, G, k4)
        for p in range(P):
            stage[p] = y[p] + hs * (A51 * k1[p] + A52 * k2[p] + A53 * k3[p] + A54 * k4[p])
        velocity_into(stage, w, sgn, delta, perm, zs, ws, prefix, G, k5)
        for p in range(P):
            stage[p] = y[p] + hs * (A61 * k1[p] + A62 * k2[p] + A63 * k3[p] + A64 * k4[p] + A65 * k5[p])
        velocity_into(stage, w, sgn, delta, perm, zs, ws, prefix, G, k6)
        for p in range(P):
            ynew[p] = y[p] + hs * (B1 * k1[p] + B3 * k3[p] + B4 * k4[p] + B5 * k5[p] + B6 * k6[p])
        velocity_into(ynew, w, sgn, delta, perm, zs, ws, prefix, G, k7)
        err = _error_norm(hs, k1, k3, k4, k5, k6, k7, atol)
        fac11 = err ** (0.2 - BETA * 0.75) if err > 0.0 else 0.0
        if err <= 1.0:
            fac = fac11 / err_old**BETA
            fac = max(1.0 / FAC_MAX, min(1.0 / FAC_MIN, fac / SAFETY))
            hnew = hs / fac
            if last_rejected:
                hnew = min(hnew, hs)
            if lands and hs < h:
                hnew = max(hnew, h)  # a step shortened to land keeps the previous proposal
            err_old = max(err, 1e-4)
            err_sum += err * atol
            steps += 1
            t = target if lands else t + hs
            for p in range(P):
                y[p] = ynew[p]
                k1[p] = k7[p]
            h = hnew
            last_rejected = False
            if lands:
                Z[k] = y
                V[k] = k1
                k += 1
        else:
            h = hs / min(1.0 / FAC_MIN, fac11 / SAFETY)
            rejected += 1
            last_rejected = True
    return Z, V, steps, rejected, err_sum, t, status
