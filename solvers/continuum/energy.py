"""Energy (4) and its dissipation for piecewise-constant densities, computed exactly.

Both continuum solvers represent ``rho`` and ``eta`` by densities that are constant between sorted
nodes ``x_0 < ... < x_n`` (finite-volume cell edges; the merged pseudo-inverse nodes), so ``F_rho``
and ``F_eta`` are linear between nodes and every integral below is a finite sum.

With ``d = F_rho - F_eta`` and ``dM = M_rho - M_eta``, writing ``|x - y|`` as the length of the
interval between them gives, for any total masses,

    E = -1/2 <N*rho, rho> - 1/2 <N*eta, eta> + <N*eta, rho> = integral d (d - dM) dx

(the integrand vanishes outside the joint support; for equal masses ``E = integral d^2 dx``).
The dissipation is ``-dE/dt = integral rho v_rho^2 + integral eta v_eta^2 = integral (rho + eta) v^2``
with ``v = v_rho = -v_eta = 2 d - dM``.
"""

from __future__ import annotations

import numpy as np


def energy_and_dissipation(x: np.ndarray, F_rho: np.ndarray, F_eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``(E, dissipation)`` for CDFs linear between the sorted nodes ``x``.

    ``F_rho``, ``F_eta`` hold the CDF values at the nodes, shape ``(..., n + 1)`` (leading
    dimensions are independent states, e.g. output times); ``F[..., 0] = 0`` and ``F[..., -1]`` is
    the total mass. On a piece where ``d`` runs linearly from ``d0`` to ``d1``,
    ``integral d^2 = h (d0^2 + d0 d1 + d1^2) / 3``, ``integral d = h (d0 + d1) / 2``, and the
    mass of ``rho + eta`` there times the mean of ``v^2`` gives the dissipation.
    """
    h = np.diff(x, axis=-1)
    d = F_rho - F_eta
    dM = d[..., -1:]
    d0, d1 = d[..., :-1], d[..., 1:]
    v0, v1 = 2.0 * d0 - dM, 2.0 * d1 - dM
    mass = np.diff(F_rho, axis=-1) + np.diff(F_eta, axis=-1)
    energy = np.sum(h * ((d0 * d0 + d0 * d1 + d1 * d1) / 3.0 - dM * 0.5 * (d0 + d1)), axis=-1)
    dissipation = np.sum(mass * (v0 * v0 + v0 * v1 + v1 * v1) / 3.0, axis=-1)
    return energy, dissipation


def cumulative(masses: np.ndarray) -> np.ndarray:
    """CDF values at the nodes from the masses between them: ``[0, m_0, m_0 + m_1, ...]`` (last axis)."""
    zero = np.zeros(masses.shape[:-1] + (1,))
    return np.concatenate((zero, np.cumsum(masses, axis=-1)), axis=-1)


def fv_energy_and_dissipation(rho: np.ndarray, eta: np.ndarray, x_edge: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(E, dissipation)`` of cell averages ``rho``, ``eta`` (shape ``(..., K)``) on the cells ``x_edge``."""
    dx = np.diff(x_edge)
    return energy_and_dissipation(x_edge, cumulative(rho * dx), cumulative(eta * dx))
