"""Convergence study of the particle system (6) towards the continuum system (5).

For a case with initial densities and a list of particle numbers N, every N gets one exact particle
run (``solvers.particles.engine.simulate``, run on to the final state ``x_i = y_i``), and at every
output time ``t_k = k T / nt`` the particles are compared with a reference solution:

- ``exact``: the exact solution while the supports are disjoint (``solvers.continuum.exact``), used
  when the initial supports are disjoint and ``T`` is not after their first contact;
- ``fv2``: otherwise, a second-order finite-volume run with ``cells`` cells. Its own W1 error is
  estimated by the W1 distance to fv2 with ``cells // 2`` cells and to the pseudo-inverse scheme
  with ``cells`` intervals in W1, W2, W_inf, L^1 and energy (``ref_error``, ``reference_error``);
  a metric whose reference error exceeds ``REFERENCE_LIMIT`` times its error at the largest N is
  flagged ``reference_limited`` (its observed order then measures the reference, not the particles).

Errors (dims ``(N, species, t)``): ``w1_emp``, ``w2_emp``, ``winf_emp`` of the empirical measures
``rho^N = (1/N) sum delta_{x_i}``, the same ``*_rec`` of the reconstruction ``rho~^N`` (N particles
bound N - 1 cells of mass 1/(N - 1), ``solvers.particles.reconstruction``), ``l1_rec`` the L^1
distance of the reconstruction's density; dims ``(N, t)``: ``energy_gap = |E[Z] - E_ref|`` and the
weak-form residual. ``sup_err(N, metric)`` is the supremum over output times (and species), and
``order(metric)`` the observed order p of ``sup_err ~ C N^-p`` fitted by least squares on log-log
data, with its standard error ``order_se`` and constant ``order_constant``.

Checks of the paper, for every N: Lemma 5.1 in our convention, ``W1(rho^N, rho~^N) <= (x_N - x_1) /
(2 (N - 1))`` at each output time (``lemma51_*``); Proposition 5.2, the sum over both species of
``||rho~^N||_m^m`` non-increasing for m in ``M_NORMS`` (``prop52_*``), and for m = inf both the max
and the sum of the sup norms (reported, the sum is not claimed to hold). Beyond the paper: the W1
distance between the species over time (``mixing_w1``) and the time ``t_final(N)`` at which the
particle system reaches its final state, with the fitted power of N.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import xarray as xr

from compare.cases import Case, initial_particles, load_case
from compare.continuum_run import run_continuum
from compare.io import provenance_attrs
from compare.measures import Continuous, Empirical, Measure, PiecewiseConstant
from compare.metrics import energy as measure_energy
from compare.metrics import lp_distance, wasserstein, wasserstein_inf
from compare.times import output_times
from compare.weak_form import particle_residual
from solvers.continuum.exact import SeparatedSolution
from solvers.errors import CaseError, DensityError, InputError, suggest
from solvers.particles.energy import dissipation, energy
from solvers.particles.engine import ParticleRun, simulate
from solvers.particles.reconstruction import lm_norm_power, reconstruct, sup_norm

__all__ = [
    "METRICS",
    "M_NORMS",
    "assemble_study",
    "check_Ns",
    "continuum_errors",
    "exact_solution",
    "fit_power",
    "measure_distances",
    "particle_errors",
    "reference_from_runs",
    "reference_runs",
    "run_study",
    "simulate_to_final",
]

SPECIES = ("rho", "eta")
METRICS = ("w1_emp", "w2_emp", "winf_emp", "w1_rec", "w2_rec", "winf_rec", "l1_rec", "energy_gap", "weak_residual")
SPECIES_METRICS = METRICS[:7]
M_NORMS = (2, 4, 8)
CHECK_RTOL = 1e-12
"""Relative slack of the exact checks (Lemma 5.1 bound, Prop. 5.2 monotonicity): round-off only."""
UNIT = {"units": "1"}

Progress = Callable[[str], None]


def fit_power(N: Sequence[float] | np.ndarray, values: Sequence[float] | np.ndarray) -> tuple[float, float, float]:
    """Least-squares fit of ``log v = log C + q log N``; returns ``(q, standard error of q, C)``.

    Points with a non-positive or non-finite value are left out; with fewer than two points the
    result is NaN, with two the standard error is NaN (no residual degree of freedom).
    """
    u = np.log(np.asarray(N, dtype=float))
    v = np.asarray(values, dtype=float)
    keep = np.isfinite(v) & (v > 0)
    u, w = u[keep], np.log(v[keep])
    if u.size < 2:
        return np.nan, np.nan, np.nan
    centred = u - u.mean()
    q = float(np.sum(centred * (w - w.mean())) / np.sum(centred**2))
    intercept = float(w.mean() - q * u.mean())
    se = np.nan
    if u.size > 2:
        residual = w - intercept - q * u
        se = float(np.sqrt(np.sum(residual**2) / (u.size - 2) / np.sum(centred**2)))
    return q, se, float(np.exp(intercept))


@dataclass
class Reference:
    """A reference solution at the output times: one measure per species and time, energy,
    dissipation, cell averages on a uniform grid (figures, L^m norms) and its estimated error."""

    kind: str
    measures: dict[str, list[Measure]]
    energy: np.ndarray
    dissipation: np.ndarray
    x_edge: np.ndarray
    averages: dict[str, np.ndarray]
    error: dict[str, np.ndarray] = field(default_factory=dict)
    config: dict = field(default_factory=dict)


def _exact_reference(case: Case, solution: SeparatedSolution, t: np.ndarray, cells: int) -> Reference:
    """Reference from the exact separated solution; the dissipation is constant before contact:
    each characteristic at level s moves with ``2 (s - c)``, c = the other species' initial CDF on
    its component, so ``D = sum over components of 4/3 ((l1 - c)^3 - (l0 - c)^3)``."""
    marginals = {"rho": [solution.rho(tk) for tk in t], "eta": [solution.eta(tk) for tk in t]}
    measures = {sp: [Continuous.from_density(mk) for mk in marginals[sp]] for sp in SPECIES}
    rate = 0.0
    for sp, other in (("rho", case.eta0), ("eta", case.rho0)):
        first = marginals[sp][0]
        c = np.asarray(other.cdf(first.components[:, 0]), dtype=float)
        l0, l1 = first.levels[:, 0], first.levels[:, 1]
        rate += float(np.sum(4.0 / 3.0 * ((l1 - c) ** 3 - (l0 - c) ** 3)))
    a = min(case.rho0.support[0], case.eta0.support[0])
    b = max(case.rho0.support[1], case.eta0.support[1])
    x_edge = np.linspace(a, b, cells + 1)
    averages = {sp: np.stack([np.diff(mk.cdf(x_edge)) / np.diff(x_edge) for mk in marginals[sp]]) for sp in SPECIES}
    return Reference(
        kind="exact",
        measures=measures,
        energy=np.array([measure_energy(r, e) for r, e in zip(measures["rho"], measures["eta"], strict=True)]),
        dissipation=np.full(t.size, rate),
        x_edge=x_edge,
        averages=averages,
        config={"kind": "exact", "contact_time": solution.contact_time, "grid_cells": cells},
    )


def _fv_measures(ds: xr.Dataset) -> dict[str, list[PiecewiseConstant]]:
    dx = np.diff(ds["x_edge"].values)
    edges = ds["x_edge"].values
    return {sp: [PiecewiseConstant(edges, row * dx) for row in ds[sp].values] for sp in SPECIES}


REF_METRICS = ("w1", "w2", "winf", "l1", "energy")
REF_METRIC_OF = {
    "w1_emp": "w1",
    "w2_emp": "w2",
    "winf_emp": "winf",
    "w1_rec": "w1",
    "w2_rec": "w2",
    "winf_rec": "winf",
    "l1_rec": "l1",
    "energy_gap": "energy",
}
"""Which estimated reference error bounds the accuracy of each measured error (the weak-form
residual does not use the reference)."""
REFERENCE_KINDS = ("auto", "exact", "fv2")
REFERENCE_LIMIT = 0.1
"""A metric is reference-limited when the reference's estimated error exceeds this fraction of the
particle error at the largest N: its observed order then says more about the reference."""


def _distances(a: xr.Dataset, b: xr.Dataset) -> np.ndarray:
    """Distances between two continuum runs per output time, max over species: rows ``REF_METRICS``."""
    return measure_distances(_fv_measures(a), a["energy"].values, _fv_measures(b), b["energy"].values)


def measure_distances(ma: dict[str, list[Measure]], energy_a: np.ndarray, mb: dict[str, list[Measure]], energy_b: np.ndarray) -> np.ndarray:
    """Distances between two solutions given as measures per species and output time, max over
    species, and their energy gap: array ``(len(REF_METRICS), t)``."""
    out = np.empty((len(REF_METRICS), energy_a.size))
    for k in range(energy_a.size):
        pairs = [(ma[sp][k], mb[sp][k]) for sp in SPECIES]
        out[0, k] = max(wasserstein(u, v, 1.0) for u, v in pairs)
        out[1, k] = max(wasserstein(u, v, 2.0) for u, v in pairs)
        out[2, k] = max(wasserstein_inf(u, v) for u, v in pairs)
        out[3, k] = max(lp_distance(u, v, 1.0) for u, v in pairs)
    out[4] = np.abs(energy_a - energy_b)
    return out


def continuum_errors(run: xr.Dataset, reference: Reference) -> np.ndarray:
    """Distances of a continuum run (``compare.continuum_run``, same output times) to ``reference``
    per output time, max over species: array ``(len(REF_METRICS), t)``."""
    return measure_distances(_fv_measures(run), run["energy"].values, reference.measures, reference.energy)


def reference_runs(cells: int) -> tuple[tuple[str, str, int], ...]:
    """The continuum runs ``(label, scheme, cells)`` of an fv2 reference with ``cells`` cells."""
    return (("fv2", "fv2", cells), ("fv2_half", "fv2", cells // 2), ("lagrangian", "lagrangian", cells))


def _continuum_reference(case: Case, T: float, nt: int, cells: int, progress: Progress) -> Reference:
    """Run the continuum runs of ``reference_runs(cells)`` and build the reference from them."""
    runs = {}
    for label, scheme, n in reference_runs(cells):
        start = time.perf_counter()
        runs[label] = run_continuum(case, cells=n, scheme=scheme, T=T, nt=nt)
        progress(f"reference {scheme} cells={n}: {runs[label].attrs['steps']} steps in {time.perf_counter() - start:.1f} s")
    return reference_from_runs(runs, cells)


def reference_from_runs(runs: dict[str, xr.Dataset], cells: int) -> Reference:
    """fv2 reference with ``cells`` cells from the runs of ``reference_runs(cells)`` (by label); its
    error estimated by its distance (every ``REF_METRICS`` entry) to fv2 with ``cells // 2`` cells and
    to the pseudo-inverse scheme with ``cells`` intervals (whose densities are cell averages on the
    same grid)."""
    ds = runs["fv2"]
    return Reference(
        kind=f"fv2 ({cells} cells)",
        measures=_fv_measures(ds),
        energy=ds["energy"].values,
        dissipation=ds["dissipation"].values,
        x_edge=ds["x_edge"].values,
        averages={sp: ds[sp].values for sp in SPECIES},
        error={label: _distances(ds, runs[label]) for label in ("fv2_half", "lagrangian")},
        config={label: json.loads(run.attrs["config"]) | {"steps": int(run.attrs["steps"])} for label, run in runs.items()},
    )


def build_reference(
    case: Case,
    T: float,
    nt: int,
    cells: int,
    kind: Literal["auto", "exact", "fv2"] = "auto",
    progress: Progress = lambda line: None,
) -> Reference:
    """The reference at the times ``k T / nt``: exact if possible (``auto``) or requested, else fv2."""
    solution = exact_solution(case, T, kind)
    if solution is not None:
        return _exact_reference(case, solution, output_times(T, nt), cells)
    return _continuum_reference(case, T, nt, cells, progress)


def exact_solution(case: Case, T: float, kind: Literal["auto", "exact", "fv2"] = "auto") -> SeparatedSolution | None:
    """The exact separated solution if it is the reference of ``kind`` up to ``T``, else None
    (``CaseError`` when ``exact`` is requested but does not exist, ``InputError`` for an unknown kind)."""
    if kind not in REFERENCE_KINDS:
        raise InputError(f"unknown reference {kind!r}; {suggest(str(kind), REFERENCE_KINDS)}")
    solution = None
    if kind in ("auto", "exact"):
        try:
            solution = SeparatedSolution(case.rho0, case.eta0)
        except DensityError:
            if kind == "exact":
                raise CaseError(f"case {case.name} has overlapping supports; no exact solution, use reference fv2") from None
        if solution is not None and T > solution.contact_time:
            if kind == "exact":
                raise CaseError(
                    f"T = {T:g} is after the first contact at t = {solution.contact_time:g}; "
                    f"pass T <= {solution.contact_time:g} or use reference fv2"
                )
            solution = None
    return solution


def _species_errors(positions: np.ndarray, reference: list[Measure]) -> dict[str, np.ndarray]:
    """Errors of the empirical measure and the reconstruction of one species, per output time, and
    Lemma 5.1's W1(empirical, reconstruction) with its bound (x_N - x_1) / (2 (N - 1))."""
    N = positions.shape[1]
    out = {name: np.empty(positions.shape[0]) for name in (*SPECIES_METRICS, "lemma51_w1")}
    masses = np.full(N - 1, 1.0 / (N - 1))
    for k, (x, ref) in enumerate(zip(positions, reference, strict=True)):
        emp = Empirical(x)
        edges, _ = reconstruct(x)
        rec = PiecewiseConstant(edges, masses)
        out["w1_emp"][k] = wasserstein(emp, ref, 1.0)
        out["w2_emp"][k] = wasserstein(emp, ref, 2.0)
        out["winf_emp"][k] = wasserstein_inf(emp, ref)
        out["w1_rec"][k] = wasserstein(rec, ref, 1.0)
        out["w2_rec"][k] = wasserstein(rec, ref, 2.0)
        out["winf_rec"][k] = wasserstein_inf(rec, ref)
        out["l1_rec"][k] = lp_distance(rec, ref, 1.0)
        out["lemma51_w1"][k] = wasserstein(emp, rec, 1.0)
    out["lemma51_bound"] = (positions[:, -1] - positions[:, 0]) / (2.0 * (N - 1))
    return out


def _max_relative_increase(values: np.ndarray) -> float:
    """Largest ``(v[k+1] - v[k]) / v[k]`` along the last axis (<= 0 for a non-increasing series)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.max(np.diff(values, axis=-1) / np.abs(values[..., :-1])))


def simulate_to_final(case: Case, N: int, t: np.ndarray, placement: str) -> ParticleRun:
    """The particle run of a study: N atomised particles per species, sampled at ``t`` and run on
    to the final state (``t_last_event``), without an event log."""
    x0, y0 = initial_particles(case, N, placement)
    return simulate(x0, y0, t, record_events=False, run_to_final=True)


def _run_one(case: Case, N: int, t: np.ndarray, placement: str, reference: Reference) -> dict[str, np.ndarray | float]:
    """One particle run (to the final state) and all its errors and checks."""
    start = time.perf_counter()
    run = simulate_to_final(case, N, t, placement)
    wall = time.perf_counter() - start
    return particle_errors(run.x, run.vx, run.y, run.vy, run.t_last_event, run.n_events, wall, reference)


def particle_errors(
    x: np.ndarray,
    vx: np.ndarray,
    y: np.ndarray,
    vy: np.ndarray,
    t_final: float,
    n_events: int,
    wall_time: float,
    reference: Reference,
) -> dict[str, np.ndarray | float]:
    """All errors and checks of one equal-mass particle run (positions and velocities ``(t, N)`` at
    the reference's output times) against ``reference``."""
    N = x.shape[1]
    per_species = {sp: _species_errors(pos, reference.measures[sp]) for sp, pos in (("rho", x), ("eta", y))}
    result: dict[str, np.ndarray | float] = {name: np.stack([per_species[sp][name] for sp in SPECIES]) for name in per_species["rho"]}
    result["energy"] = energy(x, y)
    result["dissipation"] = dissipation(vx, vy, np.full(N, 1.0 / N), np.full(N, 1.0 / N))
    result["energy_gap"] = np.abs(result["energy"] - reference.energy)
    result["weak_residual"] = particle_residual(x, vx, y, vy)
    result["lm_sum"] = np.stack([lm_norm_power(x, m) + lm_norm_power(y, m) for m in M_NORMS])
    sup_rho, sup_eta = sup_norm(x), sup_norm(y)
    result["sup_max"] = np.maximum(sup_rho, sup_eta)
    result["sup_sum"] = sup_rho + sup_eta
    result["mixing_w1"] = np.array([wasserstein(Empirical(xk), Empirical(yk)) for xk, yk in zip(x, y, strict=True)])
    result.update(t_final=t_final, n_events=n_events, wall_time=wall_time, x_show=x, y_show=y)
    return result


def run_study(
    case: Case | str | Path,
    *,
    Ns: Sequence[int],
    T: float | None = None,
    nt: int = 40,
    cells: int = 8000,
    placement: Literal["right", "mid"] = "right",
    reference: Literal["auto", "exact", "fv2"] = "auto",
    N_show: int | None = None,
    progress: Progress = lambda line: None,
) -> xr.Dataset:
    """Convergence study of a case (see the module docstring); returns one self-describing Dataset.

    ``Ns``: particle numbers per species (at least two distinct values); ``cells``: resolution of the
    fv2 reference (also the grid of the stored reference densities); ``N_show``: the N whose positions
    are stored for the profile figure (default: the smallest). ``progress`` receives one line per run.
    """
    case = case if isinstance(case, Case) else load_case(case)
    if case.rho0 is None or case.eta0 is None:
        raise CaseError(f"case {case.name} gives explicit particles; a convergence study needs [rho0] and [eta0] densities")
    if not case.unit_equal_masses:
        raise CaseError(
            f'case {case.name} is not N particles of mass 1/N per species; a convergence study needs unit masses and atomisation = "equal" with N_eta = N'
        )
    T = case.T if T is None else T
    Ns = check_Ns(Ns)
    N_show = Ns[0] if N_show is None else int(N_show)
    if N_show not in Ns:
        raise InputError(f"N_show = {N_show} is not one of the study's N {list(Ns)}; pass one of them")
    if not (isinstance(cells, (int, np.integer)) and cells >= 8):
        raise InputError(f"cells = {cells!r} is too small for a reference; pass an integer >= 8")
    t = output_times(T, nt)
    start = time.perf_counter()
    ref = build_reference(case, T, nt, int(cells), reference, progress)
    runs = []
    for N in Ns:
        runs.append(_run_one(case, N, t, placement, ref))
        last = runs[-1]
        progress(
            f"N={N}: {last['n_events']} events to the final state at t={last['t_final']:.4g} "
            f"({last['wall_time']:.2f} s), sup W1 error {float(np.max(last['w1_emp'])):.3e}"
        )
    ds = assemble_study(case, Ns, t, placement, ref, runs, N_show, int(cells))
    ds.attrs["wall_time_s"] = time.perf_counter() - start
    return ds


def check_Ns(Ns: Sequence[int]) -> list[int]:
    """The sorted distinct particle numbers of a study (at least two, each >= 2), or ``InputError``."""
    try:
        values = sorted({int(N) for N in Ns})
    except (TypeError, ValueError):
        raise InputError(f"particle numbers must be integers, got {Ns!r}; pass e.g. Ns=[100, 200, 400]") from None
    if len(values) < 2 or values[0] < 2 or any(int(N) != float(N) for N in Ns):
        raise InputError(f"a study needs at least two distinct integer N >= 2, got {list(Ns)}; pass e.g. 100,200,400")
    return values


def assemble_study(
    case: Case, Ns: list[int], t: np.ndarray, placement: str, ref: Reference, runs: list[dict], N_show: int, cells: int
) -> xr.Dataset:
    """The study Dataset (module docstring) from the reference and the ``particle_errors`` of every N."""
    stack = {name: np.stack([run[name] for run in runs]) for name in runs[0] if name != "x_show" and name != "y_show"}
    N_arr = np.asarray(Ns)
    sup_err = np.stack([np.max(stack[name].reshape(len(Ns), -1), axis=1) for name in METRICS], axis=1)
    fits = np.array([fit_power(N_arr, sup_err[:, k]) for k in range(len(METRICS))])
    order, order_se, constant = -fits[:, 0], fits[:, 1], fits[:, 2]
    power, power_se, power_c = fit_power(N_arr, stack["t_final"])
    slack = CHECK_RTOL * np.maximum(stack["lemma51_bound"], 1e-300)
    lemma_ok = np.all((stack["lemma51_w1"] <= stack["lemma51_bound"] + slack).reshape(len(Ns), -1), axis=1)
    prop_increase = np.array([[_max_relative_increase(run["lm_sum"][k]) for k in range(len(M_NORMS))] for run in runs])
    sup_max_increase = np.array([_max_relative_increase(run["sup_max"]) for run in runs])
    sup_sum_increase = np.array([_max_relative_increase(run["sup_sum"]) for run in runs])
    show = runs[Ns.index(N_show)]
    dx = np.diff(ref.x_edge)
    lm_ref = np.stack([sum(np.sum(ref.averages[sp] ** m * dx, axis=1) for sp in SPECIES) for m in M_NORMS])
    ref_checks = list(ref.error) or ["exact"]
    ref_error = np.stack([ref.error.get(c, np.zeros((len(REF_METRICS), t.size))) for c in ref_checks])
    ref_error_sup = np.max(ref_error, axis=(0, 2))
    limit = np.array([ref_error_sup[REF_METRICS.index(REF_METRIC_OF[name])] if name in REF_METRIC_OF else 0.0 for name in METRICS])
    reference_limited = limit > REFERENCE_LIMIT * sup_err[-1]
    mixing_ref = np.array([wasserstein(r, e) for r, e in zip(ref.measures["rho"], ref.measures["eta"], strict=True)])

    def var(dims: tuple[str, ...], values: np.ndarray, long_name: str) -> tuple:
        return dims, values, {**UNIT, "long_name": long_name}

    data_vars = {
        name: var(("N", "species", "t"), stack[name], f"{name.replace('_', ' ')} against the reference") for name in SPECIES_METRICS
    }
    data_vars.update(
        energy=var(("N", "t"), stack["energy"], "particle energy E[Z]"),
        energy_ref=var(("t",), ref.energy, "reference energy"),
        energy_gap=var(("N", "t"), stack["energy_gap"], "|E[Z] - E_ref|"),
        dissipation=var(("N", "t"), stack["dissipation"], "particle dissipation sum m x'^2 + sum n y'^2"),
        dissipation_ref=var(("t",), ref.dissipation, "reference dissipation -dE/dt"),
        weak_residual=var(("N", "t"), stack["weak_residual"], "weak-form residual of the reconstruction"),
        sup_err=var(("N", "metric"), sup_err, "supremum over output times (and species) of the error"),
        order=var(("metric",), order, "observed order p of sup_err ~ C N^-p (least squares, log-log)"),
        order_se=var(("metric",), order_se, "standard error of the observed order"),
        order_constant=var(("metric",), constant, "constant C of the fit sup_err ~ C N^-p"),
        lemma51_w1=var(("N", "species", "t"), stack["lemma51_w1"], "W1(empirical, reconstruction)"),
        lemma51_bound=var(("N", "species", "t"), stack["lemma51_bound"], "Lemma 5.1 bound (x_N - x_1)/(2(N - 1))"),
        lemma51_holds=(("N",), lemma_ok, {"long_name": "Lemma 5.1 bound holds at every output time"}),
        lm_sum=var(("N", "m_norm", "t"), stack["lm_sum"], "||rho~||_m^m + ||eta~||_m^m"),
        lm_sum_ref=var(("m_norm", "t"), lm_ref, "||rho||_m^m + ||eta||_m^m of the reference cell averages"),
        prop52_max_increase=var(("N", "m_norm"), prop_increase, "largest relative increase of lm_sum between outputs"),
        prop52_holds=(("N",), np.all(prop_increase <= CHECK_RTOL, axis=1), {"long_name": "Prop. 5.2 monotonicity holds"}),
        sup_max=var(("N", "t"), stack["sup_max"], "max(||rho~||_inf, ||eta~||_inf)"),
        sup_sum=var(("N", "t"), stack["sup_sum"], "||rho~||_inf + ||eta~||_inf"),
        sup_max_increase=var(("N",), sup_max_increase, "largest relative increase of sup_max between outputs"),
        sup_sum_increase=var(("N",), sup_sum_increase, "largest relative increase of sup_sum between outputs"),
        mixing_w1=var(("N", "t"), stack["mixing_w1"], "W1(rho^N, eta^N) between the species"),
        mixing_w1_ref=var(("t",), mixing_ref, "W1(rho, eta) of the reference"),
        t_final=var(("N",), stack["t_final"], "time at which the particles reach x_i = y_i"),
        n_events=(("N",), stack["n_events"].astype(np.int64), {**UNIT, "long_name": "events up to the final state"}),
        ref_error=var(
            ("ref_check", "ref_metric", "t"),
            ref_error,
            "distance of the reference to a second solution, max over species (exact reference: 0)",
        ),
        reference_error=var(("ref_metric",), ref_error_sup, "estimated error of the reference, max over time and checks"),
        reference_limited=(
            ("metric",),
            reference_limited,
            {"long_name": f"reference error above {REFERENCE_LIMIT} times the error at the largest N"},
        ),
        rho_ref=var(("t", "x"), ref.averages["rho"], "reference rho, cell averages"),
        eta_ref=var(("t", "x"), ref.averages["eta"], "reference eta, cell averages"),
        x_show=var(("t", "i_show"), show["x_show"], f"positions x_i for N = {N_show}"),
        y_show=var(("t", "i_show"), show["y_show"], f"positions y_j for N = {N_show}"),
    )
    config = {
        "case": case.name,
        "Ns": Ns,
        "T": float(t[-1]),
        "nt": int(t.size - 1),
        "placement": placement,
        "cells": cells,
        "N_show": N_show,
        "reference": ref.config,
        "particle_runs": [
            {"N": N, "n_events": int(run["n_events"]), "t_final": float(run["t_final"]), "wall_time_s": float(run["wall_time"])}
            for N, run in zip(Ns, runs, strict=True)
        ],
    }
    return xr.Dataset(
        data_vars=data_vars,
        coords={
            "N": ("N", N_arr, {**UNIT, "long_name": "particles per species"}),
            "t": ("t", t, {**UNIT, "long_name": "time"}),
            "species": ("species", list(SPECIES), {"long_name": "species"}),
            "metric": ("metric", list(METRICS), {"long_name": "error measure"}),
            "m_norm": ("m_norm", np.asarray(M_NORMS), {**UNIT, "long_name": "exponent m of the L^m norm"}),
            "ref_check": ("ref_check", ref_checks, {"long_name": "second solution the reference is compared with"}),
            "ref_metric": ("ref_metric", list(REF_METRICS), {"long_name": "distance used for the reference error"}),
            "x": ("x", 0.5 * (ref.x_edge[:-1] + ref.x_edge[1:]), {**UNIT, "long_name": "reference cell centre"}),
            "x_edge": ("x_edge", ref.x_edge, {**UNIT, "long_name": "reference cell edge"}),
            "i_show": ("i_show", np.arange(1, N_show + 1), {**UNIT, "long_name": "particle index of the shown run"}),
        },
        attrs={
            "title": f"convergence study of case {case.name}",
            "Conventions": "CF-1.10",
            "case": case.name,
            "description": case.description,
            "T": float(t[-1]),
            "nt": int(t.size - 1),
            "placement": placement,
            "reference": ref.kind,
            "reference_error_w1": float(ref_error_sup[0]),
            "N_show": N_show,
            "t_final_power": power,
            "t_final_power_se": power_se,
            "t_final_constant": power_c,
            "case_source": case.source,
            "config": json.dumps(config, sort_keys=True),
            **provenance_attrs(),
        },
    )
