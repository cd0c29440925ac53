"""The reference solution of a study at its output times (and at the fine output times where the
suprema over time are refined), and the estimate of its own error.

- ``exact``: the exact solution while the supports are disjoint (``solvers.continuum.exact``), used
  when the initial supports are disjoint and ``T`` is not after their first contact; its energy and
  dissipation are the solution's own closed forms;
- ``fv2``: otherwise, the second-order finite-volume run with ``cells`` cells. Its error is estimated
  by its distance to fv2 with ``cells // 2`` cells and to the pseudo-inverse scheme with ``cells``
  intervals in every ``REF_METRICS`` entry (``Reference.error``, at the output times).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from compare.metrics import Continuous, Histogram, Measure, lp_distance, wasserstein, wasserstein_inf
from compare.runs.cases import Case
from solvers.continuum.exact import SeparatedSolution
from solvers.errors import CaseError, DensityError, InputError, suggest

__all__ = [
    "REFERENCE_KINDS",
    "REF_METRICS",
    "SPECIES",
    "Reference",
    "continuum_errors",
    "continuum_reference",
    "distances",
    "exact_reference",
    "exact_solution",
    "frame_histograms",
    "histograms",
    "mixing",
    "outside_finite_volumes",
    "reference_kind",
    "reference_order",
]

SPECIES = ("rho", "eta")
REF_METRICS = ("w1", "w2", "winf", "l1", "energy")
REFERENCE_KINDS = ("auto", "exact", "fv2", "lagrangian")


@dataclass
class Reference:
    """A reference solution at the output times: one measure per species and time, energy,
    dissipation, cell averages on a uniform grid (figures, L^m norms), its estimated error
    (label -> array ``(len(REF_METRICS), t)``) and its configuration; at the fine output times
    (``refine`` per output interval) its energy ``fine_energy`` and ``fine(k)``, the measures of both
    species at the k-th fine time, built when asked for (``fine(refine * k)`` is the k-th output time)."""

    kind: str
    measures: dict[str, list[Measure]]
    energy: np.ndarray
    dissipation: np.ndarray
    x_edge: np.ndarray
    averages: dict[str, np.ndarray]
    refine: int
    fine_energy: np.ndarray
    fine: Callable[[int], dict[str, Measure]]
    error: dict[str, np.ndarray] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)


def exact_solution(case: Case, T: float, kind: str = "auto") -> SeparatedSolution | None:
    """The exact separated solution if it is the reference of ``kind`` up to ``T``, else None
    (``CaseError`` when ``exact`` is requested but does not exist, ``InputError`` for an unknown kind)."""
    if kind not in REFERENCE_KINDS:
        raise InputError(f"unknown reference {kind!r}; {suggest(str(kind), REFERENCE_KINDS)}")
    if kind in ("fv2", "lagrangian"):
        return None
    assert case.rho0 is not None and case.eta0 is not None
    try:
        solution = SeparatedSolution(case.rho0, case.eta0)
    except DensityError:
        if kind == "exact":
            raise CaseError(f"case {case.name} has overlapping supports; no exact solution, use reference fv2 or lagrangian") from None
        return None
    if T > solution.contact_time:
        if kind == "exact":
            raise CaseError(
                f"T = {T:g} is after the first contact at t = {solution.contact_time:g}; pass T <= {solution.contact_time:g} "
                "or use reference fv2 or lagrangian"
            )
        return None
    return solution


def outside_finite_volumes(case: Case) -> bool:
    """True if an initial density has a point mass or is unbounded: the finite volumes cannot
    represent the first and resolve the second poorly; the pseudo-inverse scheme does both."""
    return any(d.atoms.size or d.unbounded_points.size for d in (case.rho0, case.eta0) if d is not None)


def reference_kind(case: Case, T: float, kind: str = "auto") -> str:
    """The reference a study of ``case`` on [0, T] uses: ``kind`` itself unless ``auto``, which means
    ``exact`` where the exact solution exists, else ``lagrangian`` for data the finite volumes cannot
    represent (``outside_finite_volumes``), else ``fv2``. ``CaseError`` for fv2 on point masses."""
    if exact_solution(case, T, kind) is not None:
        return "exact"
    if kind == "fv2" and any(d.atoms.size for d in (case.rho0, case.eta0) if d is not None):
        raise CaseError(f"case {case.name} has point masses, which fv2 cannot represent; use reference lagrangian")
    if kind == "auto":
        return "lagrangian" if outside_finite_volumes(case) else "fv2"
    return kind


def exact_reference(case: Case, solution: SeparatedSolution, t_fine: np.ndarray, cells: int, refine: int) -> Reference:
    """The reference from the exact separated solution at the fine times ``t_fine`` (every
    ``refine``-th an output time), with cell averages on ``cells`` cells of the initial joint hull."""
    t = t_fine[::refine]
    marginals = {"rho": [solution.rho(tk) for tk in t], "eta": [solution.eta(tk) for tk in t]}
    assert case.rho0 is not None and case.eta0 is not None
    a = min(case.rho0.support[0], case.eta0.support[0])
    b = max(case.rho0.support[1], case.eta0.support[1])
    x_edge = np.linspace(a, b, cells + 1)
    return Reference(
        kind="exact",
        measures={sp: [Continuous.from_density(mk) for mk in marginals[sp]] for sp in SPECIES},
        energy=np.array([solution.energy(tk) for tk in t]),
        dissipation=np.full(t.size, solution.dissipation),
        x_edge=x_edge,
        averages={sp: np.stack([np.diff(mk.cdf(x_edge)) / np.diff(x_edge) for mk in marginals[sp]]) for sp in SPECIES},
        refine=refine,
        fine_energy=np.array([solution.energy(tk) for tk in t_fine]),
        fine=lambda k: {
            "rho": Continuous.from_density(solution.rho(t_fine[k])),
            "eta": Continuous.from_density(solution.eta(t_fine[k])),
        },
        config={"kind": "exact", "contact_time": solution.contact_time, "grid_cells": cells},
    )


def frame_histograms(run: xr.Dataset, k: int, nodes: bool = False) -> dict[str, Histogram]:
    """A continuum run at its k-th output time as one measure per species: its cell averages, or with
    ``nodes`` the exact pseudo-inverse representation (cells between the nodes ``X``, ``Y``; point
    masses are cells of zero width)."""
    if nodes:
        return {
            sp: Histogram(run[name].values[k], np.diff(run[level].values))
            for sp, name, level in (("rho", "X", "s_rho"), ("eta", "Y", "s_eta"))
        }
    edges = run["x_edge"].values
    return {sp: Histogram(edges, run[sp].values[k] * np.diff(edges)) for sp in SPECIES}


def histograms(run: xr.Dataset, nodes: bool = False) -> dict[str, list[Histogram]]:
    """A continuum run as measures (``frame_histograms``), per species and output time."""
    frames = [frame_histograms(run, k, nodes) for k in range(run.sizes["t"])]
    return {sp: [frame[sp] for frame in frames] for sp in SPECIES}


def distances(ma: dict[str, list[Measure]], energy_a: np.ndarray, mb: dict[str, list[Measure]], energy_b: np.ndarray) -> np.ndarray:
    """Distances between two solutions given as measures per species and output time, max over
    species, and their energy gap: array ``(len(REF_METRICS), t)``; L^1 is NaN where a measure has a
    point mass (no density)."""
    out = np.empty((len(REF_METRICS), energy_a.size))
    for k in range(energy_a.size):
        pairs = [(ma[sp][k], mb[sp][k]) for sp in SPECIES]
        out[0, k] = max(wasserstein(u, v, 1.0) for u, v in pairs)
        out[1, k] = max(wasserstein(u, v, 2.0) for u, v in pairs)
        out[2, k] = max(wasserstein_inf(u, v) for u, v in pairs)
        out[3, k] = max(lp_distance(u, v, 1.0) if u.has_density and v.has_density else np.nan for u, v in pairs)
    out[4] = np.abs(energy_a - energy_b)
    return out


def continuum_errors(run: xr.Dataset, reference: Reference) -> np.ndarray:
    """Distances of a continuum run (same output times) to ``reference`` per output time, max over
    species: array ``(len(REF_METRICS), t)``."""
    return distances(histograms(run), run["energy"].values, reference.measures, reference.energy)


def continuum_reference(runs: Mapping[str, xr.Dataset], kind: str, cells: int, refine: int) -> Reference:
    """The ``kind`` (fv2 or lagrangian) reference with ``cells`` cells from the runs of
    ``jobs.reference_runs(kind, cells)`` (by label; the reference itself at the fine output times, the
    others at every ``refine``-th of them), its error estimated by its distance to the other runs at
    the output times. fv2 is compared on cell averages of the same grid; the pseudo-inverse reference
    with its exact node representation (point masses included), against itself at half and a quarter
    of the resolution, which also gives its observed order (``reference_order``). The measures at the
    fine times are built one time at a time (``Reference.fine``)."""
    fine = runs[kind]
    ds = fine.isel(t=slice(None, None, refine))
    nodes = kind == "lagrangian"
    own = histograms(ds, nodes)
    return Reference(
        kind=f"{kind} ({cells} {'intervals' if nodes else 'cells'})",
        measures=dict(own),
        energy=ds["energy"].values,
        dissipation=ds["dissipation"].values,
        x_edge=ds["x_edge"].values,
        averages={sp: ds[sp].values for sp in SPECIES},
        refine=refine,
        fine_energy=fine["energy"].values,
        fine=lambda k: frame_histograms(fine, k, nodes),
        error={
            label: distances(own, ds["energy"].values, histograms(runs[label], nodes), runs[label]["energy"].values)
            for label in runs
            if label != kind
        },
        config={label: json.loads(run.attrs["config"]) | {"steps": int(run.attrs["steps"])} for label, run in runs.items()},
    )


def reference_order(reference: Reference) -> np.ndarray:
    """The observed order p of a pseudo-inverse reference in its resolution n, per ``REF_METRICS``:
    with errors ~ C n^-p its distances to the runs at n/2 and n/4 are C n^-p (2^p - 1) and
    C n^-p (4^p - 1), so ``p = log2(d_quarter / d_half - 1)`` (suprema over time); NaN otherwise."""
    if "lagrangian_quarter" not in reference.error:
        return np.full(len(REF_METRICS), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        half, quarter = (np.nanmax(reference.error[label], axis=1) for label in ("lagrangian_half", "lagrangian_quarter"))
        return np.log2(quarter / half - 1.0)


def mixing(reference: Reference) -> np.ndarray:
    """``W1(rho, eta)`` of the reference at every output time."""
    return np.array([wasserstein(r, e) for r, e in zip(reference.measures["rho"], reference.measures["eta"], strict=True)])
