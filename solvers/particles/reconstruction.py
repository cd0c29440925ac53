"""Piecewise-constant density reconstruction from particle positions (paper (66)-(67)).

Convention: the N sorted particles ``x_1 <= ... <= x_N`` of one species with total mass M bound
N - 1 cells, each of mass ``M / (N - 1)``::

    rho~(x) = M / ((N - 1) (x_{i+1} - x_i))   on [x_i, x_{i+1}),  i = 1..N-1,

and zero outside [x_1, x_N]. The paper instead adds the boundary point x_0 (not a particle) and uses
N cells of mass 1/N; with particles on both ends our reconstruction needs no extra point. A cell of
zero width (coincident same-species particles) has infinite density: the functions below return
``inf`` there instead of failing. All functions accept one configuration ``(N,)`` or a time series
``(nt, N)`` (one configuration per row).

Lemma 5.1 in this convention: on [x_i, x_{i+1}) the empirical CDF is ``M i / N`` while the
reconstruction's rises linearly from ``M (i - 1)/(N - 1)`` to ``M i/(N - 1)``, so exactly

    W1(rho^N, rho~^N) = M sum_i h_i ((N - i)^2 + i^2) / (2 N^2 (N - 1)),   h_i = x_{i+1} - x_i,

which is at most ``M (x_N - x_1) ((N - 1)^2 + 1) / (2 N^2 (N - 1)) <= M (x_N(t) - x_1(t)) / (2N)``:
the paper's bound with the current span of the species. The span of one species can grow in time
(self-repulsion), so the time-uniform bound uses the joint hull [a(0), b(0)] of both species
(Proposition 4.1), not the initial span of the species as the paper's last step states.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from solvers.checks import check_number
from solvers.errors import ParticleInputError

__all__ = ["lemma_5_1_weights", "lm_norm_power", "reconstruct", "sup_norm", "w1_to_empirical"]


def _positions(x: ArrayLike) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if arr.ndim not in (1, 2) or arr.shape[-1] < 2:
        raise ParticleInputError(f"positions must have shape (N,) or (nt, N) with N >= 2, got {arr.shape}; pass at least two particles")
    bad = np.argwhere(~np.isfinite(arr))
    if bad.size:
        where = tuple(int(k) for k in bad[0])
        raise ParticleInputError(f"x positions are not finite: x{list(where)} = {arr[where]}; pass finite positions")
    down = np.argwhere(np.diff(arr, axis=-1) < 0)
    if down.size:
        where = tuple(int(k) for k in down[0])
        raise ParticleInputError(f"x positions are not sorted at x{list(where)}; sort each row (particles keep their order)")
    return arr


def _mass(M: float) -> float:
    return check_number(M, "total mass M", ParticleInputError, "pass e.g. M=1.0", positive=True)


def _densities(x: np.ndarray, M: float) -> tuple[np.ndarray, np.ndarray]:
    """Cell widths ``h`` and densities ``M / ((N - 1) h)`` (inf where ``h == 0``)."""
    h = np.diff(x, axis=-1)
    values = np.full(h.shape, np.inf)
    np.divide(M / (x.shape[-1] - 1), h, out=values, where=h > 0)
    return h, values


def reconstruct(x: ArrayLike, M: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Cell ``edges`` (the positions themselves, shape ``(..., N)``) and the densities ``values``
    ``M / ((N - 1) (x_{i+1} - x_i))`` on each cell (shape ``(..., N - 1)``, inf for width 0)."""
    arr = _positions(x)
    _, values = _densities(arr, _mass(M))
    return arr.copy(), values


def lm_norm_power(x: ArrayLike, m: float, M: float = 1.0) -> np.ndarray:
    """``||rho~||_m^m = sum_i (M / (N - 1))^m h_i^(1 - m)`` exactly, for finite ``m >= 1``; inf if a
    cell of zero width has ``m > 1`` (or if the power overflows). Returns a scalar or one value per row."""
    check_number(m, "m", ParticleInputError, "use sup_norm for m = inf", minimum=1)
    arr = _positions(x)
    mass = _mass(M)
    if m == 1:
        return np.full(arr.shape[:-1], mass)[()]
    h, values = _densities(arr, mass)
    terms = np.full(h.shape, np.inf)
    with np.errstate(over="ignore"):
        np.multiply(np.power(values, m, where=h > 0, out=np.full(h.shape, np.inf)), h, out=terms, where=h > 0)
        return np.sum(terms, axis=-1)[()]


def sup_norm(x: ArrayLike, M: float = 1.0) -> np.ndarray:
    """``||rho~||_inf = M / ((N - 1) min_i h_i)`` (inf if two particles coincide), per row."""
    _, values = _densities(_positions(x), _mass(M))
    return np.max(values, axis=-1)[()]


def lemma_5_1_weights(N: int) -> np.ndarray:
    """The weights ``w_i = ((N - i)^2 + i^2) / (2 N^2 (N - 1))``, i = 1..N-1, of the closed form
    ``W1(rho^N, rho~^N) = M sum_i w_i h_i`` (module docstring)."""
    i = np.arange(1, N)
    return ((N - i) ** 2 + i**2) / (2.0 * N**2 * (N - 1))


def w1_to_empirical(x: ArrayLike, M: float = 1.0) -> np.ndarray:
    """Exact ``W1`` between the empirical measure (N atoms of mass M/N at ``x``) and the
    reconstruction ``rho~`` (the closed form in the module docstring), per row."""
    arr = _positions(x)
    return _mass(M) * np.sum(np.diff(arr, axis=-1) * lemma_5_1_weights(arr.shape[-1]), axis=-1)[()]
