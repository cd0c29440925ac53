"""Slow, independent reference for system (6) with arbitrary masses: implicit Euler steps.

Test-only. The gradient flow of E in the Hilbert space with weights m_i, n_j is approximated by the
minimising-movement scheme Z_{k+1} = argmin_Z E(Z) + ||Z - Z_k||^2 / (2 tau) over the ordered cone,
which converges to it as tau -> 0 (with error O(tau) for this piecewise-linear convex E). On the
ordered cone the same-species terms are linear, -sum_{i<k} m_i m_k (x_k - x_i) = sum_i c_i x_i with
c_i = m_i (mass right of i - mass left of i), so each step is the quadratic programme

    min  sum_i m_i (x_i - x_i^k)^2 / (2 tau) + sum_j n_j (y_j - y_j^k)^2 / (2 tau)
         + sum_i c_i x_i + sum_j d_j y_j + sum_{i,j} m_i n_j s_ij
    s.t. s_ij >= x_i - y_j,  s_ij >= y_j - x_i,  x_i <= x_{i+1},  y_j <= y_{j+1},

solved by scipy's SLSQP with the analytic gradient and constraint Jacobians, warm-started. Knows
nothing about clusters, events or the minimal-norm rule.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize


def _linear_coefficients(w: np.ndarray) -> np.ndarray:
    """c_i = w_i (sum_{k>i} w_k - sum_{k<i} w_k)."""
    before = np.cumsum(w) - w
    return w * (w.sum() - before - w - before)


def implicit_euler(
    x0: np.ndarray, y0: np.ndarray, m: np.ndarray, n: np.ndarray, t_out: np.ndarray, tau: float
) -> tuple[np.ndarray, np.ndarray]:
    """Positions at the times ``t_out`` (multiples of ``tau``) from sorted x0, y0 with masses m, n."""
    Nx, Ny = x0.size, y0.size
    pairs = Nx * Ny
    weight = np.concatenate([m, n])
    linear = np.concatenate([_linear_coefficients(m), _linear_coefficients(n), np.outer(m, n).ravel()])
    i_of, j_of = np.divmod(np.arange(pairs), Ny)

    cross = np.zeros((2 * pairs, Nx + Ny + pairs))  # s_ij - (x_i - y_j) >= 0 and s_ij + (x_i - y_j) >= 0
    rows = np.arange(pairs)
    for sign, block in ((1.0, slice(0, pairs)), (-1.0, slice(pairs, 2 * pairs))):
        cross[block][rows, Nx + Ny + rows] = 1.0
        cross[block][rows, i_of] = -sign
        cross[block][rows, Nx + j_of] = sign
    order = np.zeros((Nx + Ny - 2, Nx + Ny + pairs))  # z_{k+1} - z_k >= 0 within each species
    r = 0
    for first, count in ((0, Nx), (Nx, Ny)):
        for k in range(count - 1):
            order[r, first + k], order[r, first + k + 1] = -1.0, 1.0
            r += 1
    A = np.vstack([cross, order])
    constraints = [{"type": "ineq", "fun": lambda v: A @ v, "jac": lambda v: A}]

    steps = np.rint(np.asarray(t_out) / tau).astype(int)
    z = np.concatenate([x0, y0])
    v = np.concatenate([z, np.abs(x0[i_of] - y0[j_of])])
    out = np.empty((steps.size, Nx + Ny))
    k = 0
    for step in range(steps.max() + 1):
        while k < steps.size and steps[k] == step:
            out[k] = z
            k += 1
        if step == steps.max():
            break
        z_prev = z.copy()

        def objective(v: np.ndarray, z_prev: np.ndarray = z_prev) -> tuple[float, np.ndarray]:
            dz = v[: Nx + Ny] - z_prev
            grad = linear.copy()
            grad[: Nx + Ny] += weight * dz / tau
            return float(np.sum(weight * dz**2) / (2 * tau) + linear @ v), grad

        result = minimize(objective, v, jac=True, method="SLSQP", constraints=constraints, options={"ftol": 1e-15, "maxiter": 500})
        v = result.x
        z = v[: Nx + Ny]
    return out[:, :Nx], out[:, Nx:]
