"""Interaction energy E[Z] of a particle configuration and its dissipation rate.

    E[Z] = - sum_{i<k} m_i m_k |x_i - x_k| - sum_{j<l} n_j n_l |y_j - y_l| + sum_{i,j} m_i n_j |x_i - y_j|

Merging both species into one sorted list z with signed weights (m_i for x, -n_j for y), every pair
term is -w_p w_q |z_p - z_q|, and summing over the gaps between consecutive merged points gives

    E = sum_r (z_{r+1} - z_r) W_r (W_r - W),   W_r = w_1 + ... + w_r,   W = sum m - sum n.

On the gap r, W_r = F_x - F_y, so for equal total masses (W = 0) this is E = int (F_x - F_y)^2 dx,
which is >= 0 and vanishes iff the two empirical measures coincide (Lemma 2.1).
Along the gradient flow dE/dt = -(sum_i m_i x_i'^2 + sum_j n_j y_j'^2), see ``dissipation``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def _weights(masses: ArrayLike | None, count: int) -> np.ndarray:
    return np.full(count, 1.0 / count) if masses is None else np.asarray(masses, dtype=float)


def discrete_energy(x: ArrayLike, y: ArrayLike, m: ArrayLike | None = None, n: ArrayLike | None = None) -> np.ndarray:
    """E[Z] for positions of shape (..., N) and (..., N'), row-wise; masses default to 1/N, 1/N'.

    O(N log N) per row (one sort and prefix sums). With default masses and N = N' the prefix sums
    are exact integers, so the result is a sum of non-negative terms.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    lead = np.broadcast_shapes(x.shape[:-1], y.shape[:-1])
    z = np.concatenate([np.broadcast_to(x, lead + x.shape[-1:]), np.broadcast_to(y, lead + y.shape[-1:])], axis=-1)
    if m is None and n is None and x.shape[-1] == y.shape[-1]:
        w = np.concatenate([np.ones(x.shape[-1]), -np.ones(y.shape[-1])])
        scale = 1.0 / x.shape[-1] ** 2
        total = 0.0
    else:
        mw = _weights(m, x.shape[-1])
        nw = _weights(n, y.shape[-1])
        w = np.concatenate([mw, -nw])
        scale = 1.0
        total = float(mw.sum() - nw.sum())
    order = np.argsort(z, axis=-1, kind="stable")
    zs = np.take_along_axis(z, order, axis=-1)
    W = np.cumsum(w[order], axis=-1)[..., :-1]
    return scale * np.sum(np.diff(zs, axis=-1) * W * (W - total), axis=-1)


def dissipation(vx: ArrayLike, vy: ArrayLike, m: ArrayLike | None = None, n: ArrayLike | None = None) -> np.ndarray:
    """sum_i m_i vx_i^2 + sum_j n_j vy_j^2 (= -dE/dt along the flow), row-wise; masses default to 1/N."""
    vx = np.asarray(vx, dtype=float)
    vy = np.asarray(vy, dtype=float)
    return np.sum(_weights(m, vx.shape[-1]) * vx**2, axis=-1) + np.sum(_weights(n, vy.shape[-1]) * vy**2, axis=-1)
