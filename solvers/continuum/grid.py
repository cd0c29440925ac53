"""The uniform grid of the continuum schemes: the hull it covers and how many cells it needs.

The hull of the joint support of ``M_rho rho`` and ``M_eta eta`` is ``[a, b]`` at t = 0. With equal
total masses it never grows (the continuum analogue of Proposition 4.1). With unequal masses it
does: at its left end ``F_rho = F_eta = 0`` and at its right end ``F = M``, so the velocities there
are ``-+ (M_rho - M_eta)`` and the hull moves outwards at speed at most ``|M_rho - M_eta|``; the grid
``[a - |dM| T, b + |dM| T]`` holds the exact support up to time ``T``.
"""

from __future__ import annotations

import math

import numpy as np

from solvers.errors import SchemeError
from solvers.initial import Density

__all__ = ["MIN_CELLS_PER_SUPPORT", "check_cells_for_support", "grid_edges", "hull"]

MIN_CELLS_PER_SUPPORT = 4
"""Fewest cells of the uniform grid across the support of each initial density."""


def hull(rho0: Density, eta0: Density, mass_rho: float = 1.0, mass_eta: float = 1.0, T: float = 0.0) -> tuple[float, float]:
    """The interval ``[a - |dM| T, b + |dM| T]`` that holds the joint support up to time ``T``."""
    spread = abs(mass_rho - mass_eta) * float(T)
    return min(rho0.support[0], eta0.support[0]) - spread, max(rho0.support[1], eta0.support[1]) + spread


def grid_edges(rho0: Density, eta0: Density, cells: int, mass_rho: float = 1.0, mass_eta: float = 1.0, T: float = 0.0) -> np.ndarray:
    """The ``cells + 1`` edges of the uniform grid on ``hull(rho0, eta0, mass_rho, mass_eta, T)``."""
    a, b = hull(rho0, eta0, mass_rho, mass_eta, T)
    return np.linspace(a, b, cells + 1)


def check_cells_for_support(rho0: Density, eta0: Density, cells: int, label: str = "") -> None:
    """``SchemeError`` unless the uniform grid of ``cells`` cells on the hull of the joint initial
    support puts at least ``MIN_CELLS_PER_SUPPORT`` cells across the support of each initial density
    (a lone point mass, of zero width, needs none: only the pseudo-inverse scheme takes it)."""
    a, b = hull(rho0, eta0)
    for name, density in (("rho0", rho0), ("eta0", eta0)):
        width = density.support[1] - density.support[0]
        if 0 < width and cells * width < MIN_CELLS_PER_SUPPORT * (b - a):
            need = math.ceil(MIN_CELLS_PER_SUPPORT * (b - a) / width)
            where = f" in case {label}" if label else ""
            raise SchemeError(
                f"cells = {cells} puts only {cells * width / (b - a):.1f} cells across the support of {name}{where}; pass cells >= {need}"
            )
