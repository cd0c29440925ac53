"""The discrete functional (24) and its subdifferential (Definition 3.2, Lemma 3.4, Proposition 4.2).

    F[Z] = S(x) + S(y) + C(x, y) + I_C(x) + I_C(y),   S(x) = -sum_{i<k} m_i m_k |x_i - x_k|,
    C(x, y) = sum_{i,j} m_i n_j |x_i - y_j|,           I_C = 0 on the cone x_1 <= ... <= x_N, +inf off it.

Off the cone ``F = +inf``, so no P satisfies (29): the subdifferential is empty. On the cone
``|x_i - x_k| = x_k - x_i`` for i < k, so there S is the linear function of (26),
``l(x) = sum_i m_i x_i (sum_{k>i} m_k - sum_{k<i} m_k)``, and ``F = l + C + I_C`` is linear + finite
convex + indicator (Lemma 3.3). The sum rule gives, in the weighted coordinates of Section 3
(``<P, Z>_w = sum m_i p_i x_i + sum n_j q_j y_j``):

    dF(Z) = { P0 + sum_{x_i = y_j} s_ij G_ij + sum_{x_k = x_{k+1} or y_k = y_{k+1}} lambda_k R_k :
              s_ij in [-1, 1], lambda_k >= 0 },

- ``P0`` the element of Lemma 3.4's proof: ``p_i = sum_{k>i} m_k - sum_{k<i} m_k + sum_{y_j < x_i} n_j
  - sum_{y_j > x_i} n_j`` (and symmetrically ``q_j``);
- ``G_ij`` the subgradients of ``m_i n_j |x_i - y_j|`` at a coincidence: ``p_i = n_j``, ``q_j = -m_i``;
- ``R_k`` the normal cone of the ordered cone at a same-species coincidence: ``p_k = 1/m_k``,
  ``p_{k+1} = -1/m_{k+1}`` (the weighted form of ``e_k - e_{k+1}``).

So dF(Z) is a non-empty polyhedron at every Z of the cone (Lemma 3.4), bounded iff no two particles of
one species coincide. The gradient flow moves with ``-`` its element of minimal norm (Remark 3.6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from solvers.errors import ParticleInputError
from solvers.particles.energy import discrete_energy

__all__ = ["Subdifferential", "functional", "prop_4_2_constant", "subdifferential"]


def _configuration(x: ArrayLike, y: ArrayLike, m: ArrayLike | None, n: ArrayLike | None) -> tuple[np.ndarray, ...]:
    arrays = []
    for name, positions, masses in (("x", x, m), ("y", y, n)):
        z = np.asarray(positions, dtype=float)
        if z.ndim != 1 or z.size == 0:
            raise ParticleInputError(
                f"{name} must be a non-empty 1-D array of finite positions, got shape {z.shape}; pass one position per particle"
            )
        if not np.all(np.isfinite(z)):
            k = int(np.flatnonzero(~np.isfinite(z))[0])
            raise ParticleInputError(f"{name} must hold finite positions, got {name}[{k}] = {z[k]}; pass finite positions")
        w = np.full(z.size, 1.0 / z.size) if masses is None else np.asarray(masses, dtype=float)
        if w.shape != z.shape:
            raise ParticleInputError(f"the masses of {name} have shape {w.shape} for {z.size} particles; pass one mass per particle")
        if not np.all(np.isfinite(w) & (w > 0)):
            k = int(np.flatnonzero(~(np.isfinite(w) & (w > 0)))[0])
            raise ParticleInputError(f"the masses of {name} must be positive and finite, got mass[{k}] = {w[k]}; pass masses > 0")
        arrays += [z, w]
    return tuple(arrays)


def functional(x: ArrayLike, y: ArrayLike, m: ArrayLike | None = None, n: ArrayLike | None = None) -> float:
    """``F[Z]`` of (24): the energy ``E[Z]`` on the cone (positions in index order), ``+inf`` off it.

    Args:
        x, y: positions of the two species in index order (not sorted for you).
        m, n: masses (default 1/N_x and 1/N_y).

    Returns:
        ``F[Z]``, a float (``inf`` if some ``x_i > x_{i+1}`` or ``y_j > y_{j+1}``).
    """
    x, m, y, n = _configuration(x, y, m, n)
    if np.any(np.diff(x) < 0) or np.any(np.diff(y) < 0):
        return np.inf
    return float(discrete_energy(x, y, m, n))


@dataclass(frozen=True)
class Subdifferential:
    """``dF(Z) = {center + s @ generators + lam @ rays : |s| <= 1, lam >= 0}`` (module docstring).

    Vectors are ``(p_1..p_Nx, q_1..q_Ny)`` in weighted coordinates; ``pairs`` holds the 0-based
    ``(i, j)`` of every coincidence ``x_i = y_j`` (one row of ``generators`` each); ``weights`` the
    masses ``(m, n)`` of the weighted norm.
    """

    center: np.ndarray
    pairs: np.ndarray
    generators: np.ndarray
    rays: np.ndarray
    weights: np.ndarray

    def norm(self, P: ArrayLike) -> float:
        """The weighted norm ``||P||_w``."""
        P = np.asarray(P, dtype=float)
        return float(np.sqrt(np.sum(self.weights * P**2)))

    def element(self, s: ArrayLike, lam: ArrayLike | None = None) -> np.ndarray:
        """The element ``center + s @ generators + lam @ rays`` (no check that ``|s| <= 1``, ``lam >= 0``)."""
        P = self.center + np.asarray(s, dtype=float) @ self.generators
        return P if lam is None else P + np.asarray(lam, dtype=float) @ self.rays

    def sup_norm(self) -> float:
        """``sup {||P||_w : P in dF(Z)}`` exactly: ``inf`` if there is a ray; otherwise every particle is in
        at most one coincidence, ``||P||_w^2`` is separable in the ``s_ij`` and convex in each, so the
        supremum takes ``s_ij = +-1`` pair by pair (Proposition 4.2)."""
        if self.rays.shape[0]:
            return np.inf
        total = float(np.sum(self.weights * self.center**2))
        for generator in self.generators:
            cols = np.flatnonzero(generator)
            w, c, g = self.weights[cols], self.center[cols], generator[cols]
            total += max(np.sum(w * (c + g) ** 2), np.sum(w * (c - g) ** 2)) - np.sum(w * c**2)
        return float(np.sqrt(total))

    def minimal_norm_gap(self, P: ArrayLike) -> float:
        """``min {<P, Q - P>_w : Q in dF(Z)}``: for P in dF(Z), ``>= 0`` iff P is the element of minimal
        norm (the variational inequality of the projection of 0); ``-inf`` if a ray makes it unbounded
        (``<P, R>_w < 0`` beyond the round-off ``1e-12 sum |w P R|``, so a block moving as one counts as 0)."""
        P = np.asarray(P, dtype=float)
        wP = self.weights * P
        if np.any(self.rays @ wP < -1e-12 * (np.abs(self.rays) @ np.abs(wP))):
            return -np.inf
        return float(wP @ (self.center - P) - np.sum(np.abs(self.generators @ wP)))


def subdifferential(x: ArrayLike, y: ArrayLike, m: ArrayLike | None = None, n: ArrayLike | None = None) -> Subdifferential | None:
    """``dF(Z)`` as a polyhedron (module docstring), or ``None`` (empty) off the cone.

    Args:
        x, y: positions in index order; m, n: masses (default 1/N_x, 1/N_y).

    Returns:
        A ``Subdifferential`` for Z on the cone, ``None`` if some ``x_i > x_{i+1}`` or ``y_j > y_{j+1}``.
    """
    x, m, y, n = _configuration(x, y, m, n)
    if np.any(np.diff(x) < 0) or np.any(np.diff(y) < 0):
        return None
    Nx, Ny = x.size, y.size
    center = np.empty(Nx + Ny)
    for z, w, other, w_other, out in ((x, m, y, n, center[:Nx]), (y, n, x, m, center[Nx:])):
        before = np.cumsum(w) - w
        after = w.sum() - np.cumsum(w)
        left = np.concatenate([[0.0], np.cumsum(w_other)])
        below = left[np.searchsorted(other, z, side="left")]
        above = w_other.sum() - left[np.searchsorted(other, z, side="right")]
        out[:] = after - before + below - above
    pairs = np.argwhere(x[:, None] == y[None, :])
    generators = np.zeros((pairs.shape[0], Nx + Ny))
    generators[np.arange(pairs.shape[0]), pairs[:, 0]] = n[pairs[:, 1]]
    generators[np.arange(pairs.shape[0]), Nx + pairs[:, 1]] = -m[pairs[:, 0]]
    rays = []
    for offset, z, w in ((0, x, m), (Nx, y, n)):
        for k in np.flatnonzero(np.diff(z) == 0):
            ray = np.zeros(Nx + Ny)
            ray[offset + k], ray[offset + k + 1] = 1.0 / w[k], -1.0 / w[k + 1]
            rays.append(ray)
    return Subdifferential(
        center=center,
        pairs=pairs,
        generators=generators,
        rays=np.array(rays).reshape(len(rays), Nx + Ny),
        weights=np.concatenate([m, n]),
    )


def prop_4_2_constant(N: int) -> float:
    """``sqrt((8 - 2/N^2) / 3)``: the sharp bound of ``||P||_w`` over ``dF(Z)`` for equal masses 1/N and
    any Z of the cone without same-species coincidences (Proposition 4.2 with its constant).

    Proof: an element with every ``s_ij = +-1`` is the gradient of an interleaving of the 2N particles;
    with ``S_r`` the number of x minus the number of y among the first r, particle r has
    ``N |p_r| = |S_{r-1} + S_r| <= 2 min(r, 2N + 1 - r) - 1``, so
    ``N^3 ||P||_w^2 <= 2 sum_{k=1}^N (2k - 1)^2 = 2 (4 N^3 - N) / 3``, with equality for separated species.
    Independent of N and of the support, unlike the paper's constant; infinite at same-species
    coincidences, where dF(Z) contains the normal cone of the ordered cone."""
    return float(np.sqrt((8.0 - 2.0 / N**2) / 3.0))
