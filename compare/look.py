"""Looking at files written by this package: which kind a file is, and a particle run against a
continuum run.

- ``read_kind(path)``: the Dataset of a file and its kind, one of ``KINDS``: ``particles``
  (``compare.runs.particle_run``), ``continuum`` (``compare.runs.continuum_run``), ``study``
  (``DIR/study.nc`` of ``validate``, or of one case of a sweep), ``sweep`` (the summary over cases
  of a sweep, ``DIR/study.nc``);
- ``against(run, pde)``: the particles' empirical measures ``rho^N = sum m_i delta_{x_i}`` (and
  ``eta^N``) against the continuum run's cell averages at their common output times, with the exact
  ``W1`` distance per species and time (``compare.metrics.wasserstein``). The two files must be runs
  of the same case (same TOML text) with the same total masses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from compare.metrics import Empirical, wasserstein
from compare.runs.io import read_dataset
from compare.studies.reference import SPECIES, histograms
from solvers.errors import InputError

__all__ = ["KINDS", "TIME_RTOL", "Against", "against", "kind_of", "read_kind"]

KINDS = ("particles", "continuum", "study", "sweep")
TIME_RTOL = 1e-12
"""Output times of two runs are the same time when they differ by at most this fraction of T."""
POSITIONS = {"rho": ("x", "m"), "eta": ("y", "n")}


def kind_of(ds: xr.Dataset) -> str | None:
    """The kind (``KINDS``) of a Dataset written by this package, or None."""
    if "sup_err" in ds:
        return "sweep" if "case" in ds.dims else "study"
    if {"x", "y", "event_t"} <= set(ds.variables):
        return "particles"
    if {"rho", "eta", "x_edge"} <= set(ds.variables):
        return "continuum"
    return None


def read_kind(path: str | Path, allowed: tuple[str, ...] = KINDS) -> tuple[str, xr.Dataset]:
    """Read ``path`` and return its kind and Dataset; ``InputError`` (one line) for a file of
    another kind than ``allowed``."""
    ds = read_dataset(path)
    kind = kind_of(ds)
    if kind is None:
        raise InputError(f"{path} is not a particle run, continuum run or study of this package; pass a file written by python -m compare")
    if kind not in allowed:
        raise InputError(f"{path} is a {kind} file; pass a {' or '.join(allowed)} file here")
    return kind, ds


@dataclass(frozen=True)
class Against:
    """A particle run and a continuum run at their common output times ``t``: indices ``k_run``,
    ``k_pde`` into each run's ``t``, and ``w1[species]`` (``SPECIES`` order) per common time."""

    run: xr.Dataset
    pde: xr.Dataset
    t: np.ndarray
    k_run: np.ndarray
    k_pde: np.ndarray
    w1: np.ndarray


def _common_times(t_run: np.ndarray, t_pde: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the output times the two runs share (within ``TIME_RTOL``)."""
    tolerance = TIME_RTOL * max(float(t_run[-1]), float(t_pde[-1]))
    distance = np.abs(t_run[:, None] - t_pde[None, :])
    nearest = distance.argmin(axis=1)
    same = distance[np.arange(t_run.size), nearest] <= tolerance
    return np.flatnonzero(same), nearest[same]


def against(run: xr.Dataset, pde: xr.Dataset, run_name: str = "the particle run", pde_name: str = "the continuum run") -> Against:
    """The particle run ``run`` against the continuum run ``pde`` (module docstring); ``InputError``
    for runs of different cases or masses, or without a common output time."""
    if run.attrs.get("case_source") != pde.attrs.get("case_source"):
        raise InputError(
            f"{run_name} is case {run.attrs.get('case')!r}, {pde_name} case {pde.attrs.get('case')!r} "
            "(or another version of its file); pass two runs of the same case"
        )
    masses = {sp: (float(run[POSITIONS[sp][1]].sum()), float(pde[f"mass_{sp}"].values[0])) for sp in SPECIES}
    for sp, (particles, continuum) in masses.items():
        if abs(particles - continuum) > 1e-9 * max(particles, continuum):
            raise InputError(
                f"the {sp} masses differ: {particles:g} in {run_name}, {continuum:g} in {pde_name}; pass runs of the same case"
            )
    k_run, k_pde = _common_times(run["t"].values, pde["t"].values)
    if k_run.size == 0:
        raise InputError(f"{run_name} and {pde_name} have no output time in common; run both with the same --T and --nt")
    measures = histograms(pde)
    w1 = np.empty((len(SPECIES), k_run.size))
    for s, sp in enumerate(SPECIES):
        position, mass = (run[name].values for name in POSITIONS[sp])
        for c, (kr, kp) in enumerate(zip(k_run, k_pde, strict=True)):
            w1[s, c] = wasserstein(Empirical(position[kr], mass), measures[sp][kp], 1.0)
    return Against(run, pde, run["t"].values[k_run], k_run, k_pde, w1)
