"""Assembly of a convergence study of the particle system (6) towards the continuum system (5).

``assemble(spec, runs)`` takes the Datasets of the study's jobs (``compare.studies.jobs``), however
they were run, and builds one self-describing study Dataset:

Errors (dims ``(N, species, t)``) at the output times ``t_k = k T / nt`` against the reference
(``compare.studies.reference``): ``w1_emp``, ``w2_emp``, ``winf_emp`` of the empirical measures
``rho^N = (1/N) sum delta_{x_i}``, the same ``*_rec`` of the reconstruction ``rho~^N`` (N particles
bound N - 1 cells of mass 1/(N - 1), ``solvers.particles.reconstruction``), ``l1_rec`` the L^1
distance of the reconstruction's density; dims ``(N, t)``: ``energy_gap = |E[Z] - E_ref|`` and the
weak-form residual at each output time. ``sup_err(N, metric)`` is the supremum over [0, T] (and
species), refined in time (below); ``order(metric)`` the observed order p of ``sup_err ~ C N^-p``
fitted by least squares on log-log data, with its standard error ``order_se`` and constant
``order_constant``. A metric whose reference error exceeds ``REFERENCE_LIMIT`` times its error at the
largest N is flagged ``reference_limited`` (its observed order then measures the reference, not the
particles).

Time refinement: the particle runs and the reference are sampled at the fine times
``k T / (nt r)``, ``r = StudySpec.refine`` (a power of two); the output times are every r-th.
- The metrics of the measures (``SPECIES_METRICS``) are evaluated at the output times, then refined
  by bisection near their peaks (``refined_suprema``): at the levels ``step = r/2, r/4, ..., 1`` (fine
  intervals), every local maximum of a species' values evaluated so far (in time order) that is
  within ``PEAK_MARGIN`` of the largest value of both species gets its neighbours at ``+- step``
  evaluated. ``sup_err`` is the largest value evaluated; the same search with ``r/2`` is the search
  stopped before its last level.
- ``energy_gap`` is cheap at every fine time: its supremum is over all of them.
- ``weak_residual``: the per-time residual ``r_k(t)`` jumps at every event (the particle velocities
  do), so no sampling resolves its supremum over time; ``sup_err`` reports instead the space-time
  residual of (16), ``max |R_jk|`` over both species, ``K`` test functions in space and ``J`` in time
  (``compare.metrics.weak_form.space_time_residual``: an integral of position-only, continuous terms
  by Simpson's rule over the fine times). It stays a consistency check, not a convergence rate.
``sampling_change(metric)`` is the largest relative change of ``sup_err`` over N when the fine times
are halved (refinement ``r/2``: the search one level shorter, every other fine time for the energy
gap and the space-time residual); above ``SAMPLING_LIMIT`` the metric is ``sampling_limited``.

Checks of the paper, for every N: Lemma 5.1 in our convention, ``W1(rho^N, rho~^N) <= (x_N - x_1) /
(2 (N - 1))`` at each output time (``lemma51_*``); Proposition 5.2, the sum over both species of
``||rho~^N||_m^m`` non-increasing for m in ``M_NORMS`` (``prop52_*``), and for m = inf both the max
and the sum of the sup norms (reported, the sum is not claimed to hold). Beyond the paper: the W1
distance between the species over time (``mixing_w1``) and the time ``t_final(N)`` at which the
particle system reaches its final state, with the fitted power of N. With continuum runs in the
spec, their distances to the reference (``continuum_err``) and observed orders in the resolution.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import xarray as xr

from compare.metrics import Empirical, Histogram, Measure, lp_distance, wasserstein, wasserstein_inf
from compare.metrics.weak_form import DEFAULT_J, DEFAULT_K, reconstruction_terms, space_time_residual
from compare.runs.io import provenance_attrs
from compare.runs.particle_run import CONTINUOUS_TIME_VARS, LEMMA51_FORMS
from compare.runs.times import output_times
from compare.studies.jobs import M_NORMS, StudyJobs, StudySpec, study_jobs
from compare.studies.reference import (
    REF_METRICS,
    SPECIES,
    Reference,
    continuum_errors,
    continuum_reference,
    exact_reference,
    exact_solution,
    mixing,
    reference_kind,
    reference_order,
)
from solvers.particles.reconstruction import lm_norm_power, reconstruct, sup_norm

__all__ = [
    "METRICS",
    "M_NORMS",
    "PEAK_MARGIN",
    "REFERENCE_LIMIT",
    "SAMPLING_LIMIT",
    "LogLogFit",
    "assemble",
    "cf_var",
    "fit_power",
    "log_log_fit",
    "particle_errors",
    "plan",
    "refined_suprema",
]

METRICS = ("w1_emp", "w2_emp", "winf_emp", "w1_rec", "w2_rec", "winf_rec", "l1_rec", "energy_gap", "weak_residual")
SPECIES_METRICS = METRICS[:7]
CHECK_RTOL = 1e-12
"""Relative slack of the exact checks (Lemma 5.1 bound, Prop. 5.2 monotonicity): round-off only."""
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
REFERENCE_LIMIT = 0.1
"""A metric is reference-limited when the reference's estimated error exceeds this fraction of the
particle error at the largest N: its observed order then says more about the reference."""
SAMPLING_LIMIT = 0.01
"""A reported value is sampling-limited when halving the fine times (refinement r/2) changes it by
more than this fraction: the time grid does not resolve it."""
PEAK_MARGIN = 0.05
"""The bisection refines every local maximum within this fraction of the largest value found. On the
default job the output times alone underestimate a supremum by at most 1.9 % (W_inf at N = 800:
``sup_err`` against the largest value of the stored series), 2.6 times less than the margin; the
search finds the largest value over every fine time (tests/compare/studies/test_assembly.py)."""
UNIT = {"units": "1"}

Runs = Callable[[Any], xr.Dataset]
"""``runs(job)``: the Dataset of a job of the study (computed in this process or read from its file)."""


class LogLogFit(NamedTuple):
    """Least squares ``log v = intercept + slope log N`` on the usable points: their number, the mean
    and the sum of squared deviations of ``log N``, and the residual sum of squares."""

    intercept: float
    slope: float
    points: int
    mean_log_N: float
    sxx: float
    residual_ss: float

    def prediction_se(self, log_N: float) -> float:
        """Standard error of the fitted ``log v`` at ``log N`` (NaN with two points)."""
        if self.points <= 2:
            return math.nan
        s2 = self.residual_ss / (self.points - 2)
        return math.sqrt(s2 * (1.0 / self.points + (log_N - self.mean_log_N) ** 2 / self.sxx))


def log_log_fit(N: Sequence[float] | np.ndarray, values: Sequence[float] | np.ndarray) -> LogLogFit | None:
    """The ``LogLogFit`` of ``values`` against ``N``, leaving out non-positive and non-finite values;
    None with fewer than two usable points."""
    u = np.log(np.asarray(N, dtype=float))
    v = np.asarray(values, dtype=float)
    keep = np.isfinite(v) & (v > 0)
    u, w = u[keep], np.log(v[keep])
    if u.size < 2:
        return None
    centred = u - u.mean()
    sxx = float(np.sum(centred**2))
    q = float(np.sum(centred * (w - w.mean())) / sxx)
    intercept = float(w.mean() - q * u.mean())
    residual = w - intercept - q * u
    return LogLogFit(intercept, q, int(u.size), float(u.mean()), sxx, float(np.sum(residual**2)))


def fit_power(N: Sequence[float] | np.ndarray, values: Sequence[float] | np.ndarray) -> tuple[float, float, float]:
    """Least-squares fit of ``log v = log C + q log N``; returns ``(q, standard error of q, C)``.

    Points with a non-positive or non-finite value are left out; with fewer than two points the
    result is NaN, with two the standard error is NaN (no residual degree of freedom).
    """
    fit = log_log_fit(N, values)
    if fit is None:
        return np.nan, np.nan, np.nan
    se = float(np.sqrt(fit.residual_ss / (fit.points - 2) / fit.sxx)) if fit.points > 2 else np.nan
    return fit.slope, se, float(np.exp(fit.intercept))


def plan(spec: StudySpec) -> StudyJobs:
    """The jobs of ``spec`` (no reference runs when the exact solution is the reference)."""
    return study_jobs(spec, reference_kind(spec.case, spec.T, spec.reference))


def reference_of(spec: StudySpec, jobs: StudyJobs, runs: Runs) -> Reference:
    """The study's reference: exact, or fv2 or the pseudo-inverse scheme from the reference runs."""
    kind = reference_kind(spec.case, spec.T, spec.reference)
    if kind == "exact":
        solution = exact_solution(spec.case, spec.T, spec.reference)
        assert solution is not None
        return exact_reference(spec.case, solution, output_times(spec.T, spec.nt * spec.refine), spec.cells, spec.refine)
    return continuum_reference({label: runs(job) for label, job in jobs.reference.items()}, kind, spec.cells, spec.refine)


SpeciesMetric = Callable[[Empirical, Histogram, Measure], float]
SPECIES_METRIC: dict[str, SpeciesMetric] = {
    "w1_emp": lambda emp, rec, ref: wasserstein(emp, ref, 1.0),
    "w2_emp": lambda emp, rec, ref: wasserstein(emp, ref, 2.0),
    "winf_emp": lambda emp, rec, ref: wasserstein_inf(emp, ref),
    "w1_rec": lambda emp, rec, ref: wasserstein(rec, ref, 1.0),
    "w2_rec": lambda emp, rec, ref: wasserstein(rec, ref, 2.0),
    "winf_rec": lambda emp, rec, ref: wasserstein_inf(rec, ref),
    # L^1 of densities: undefined where either side has a point mass (a cluster, or the reference at t = 0)
    "l1_rec": lambda emp, rec, ref: lp_distance(rec, ref, 1.0) if rec.has_density and ref.has_density else np.nan,
}
"""Each metric of ``SPECIES_METRICS`` of one species at one time: ``f(empirical, reconstruction, reference)``."""


def _particle_measures(x: np.ndarray) -> tuple[Empirical, Histogram]:
    """The empirical measure and the reconstruction (N - 1 cells of mass 1/(N - 1)) of sorted positions."""
    return Empirical(x), Histogram(reconstruct(x)[0], np.full(x.size - 1, 1.0 / (x.size - 1)))


def _species_errors(positions: np.ndarray, reference: list[Measure]) -> dict[str, np.ndarray]:
    """Errors of the empirical measure and the reconstruction of one species, per output time, and
    Lemma 5.1's W1(empirical, reconstruction) with the paper's bound in its current-span form,
    (x_N(t) - x_1(t)) / (2N)."""
    N = positions.shape[1]
    out = {name: np.empty(positions.shape[0]) for name in (*SPECIES_METRICS, "lemma51_w1")}
    for k, (x, ref) in enumerate(zip(positions, reference, strict=True)):
        emp, rec = _particle_measures(x)
        for name in SPECIES_METRICS:
            out[name][k] = SPECIES_METRIC[name](emp, rec, ref)
        out["lemma51_w1"][k] = wasserstein(emp, rec, 1.0)
    out["lemma51_bound"] = (positions[:, -1] - positions[:, 0]) / (2.0 * N)
    return out


def particle_errors(run: xr.Dataset, reference: Reference) -> dict[str, Any]:
    """All errors and checks of one equal-mass particle run (a ``compare.runs.particle_run`` Dataset
    sampled at the reference's fine times) against ``reference``: the series at the output times
    (every ``reference.refine``-th fine time); ``energy_gap_fine`` at every fine time; the weak form's
    per-time residual at the output times and its space-time residual on the fine times and on every
    other one (``weak_space_time``, ``weak_space_time_half``)."""
    r = reference.refine
    coarse = run.isel(t=slice(None, None, r))
    x, y = coarse["x"].values, coarse["y"].values
    per_species = {sp: _species_errors(pos, reference.measures[sp]) for sp, pos in (("rho", x), ("eta", y))}
    result: dict[str, Any] = {name: np.stack([per_species[sp][name] for sp in SPECIES]) for name in per_species["rho"]}
    result["energy"] = coarse["energy"].values
    result["dissipation"] = coarse["dissipation"].values
    result["energy_gap"] = np.abs(result["energy"] - reference.energy)
    result["energy_gap_fine"] = np.abs(run["energy"].values - reference.fine_energy)
    terms = reconstruction_terms(*(run[name].values for name in ("x", "vx", "y", "vy")))
    result["weak_residual"] = np.max(np.abs(terms.every(r).residual()), axis=(1, 2))
    t = run["t"].values
    result["weak_space_time"] = float(np.max(np.abs(space_time_residual(t, terms))))
    result["weak_space_time_half"] = float(np.max(np.abs(space_time_residual(t[::2], terms.every(2)))))
    result["lm_sum"] = np.stack([lm_norm_power(x, m) + lm_norm_power(y, m) for m in M_NORMS])
    sup_rho, sup_eta = sup_norm(x), sup_norm(y)
    result["sup_max"] = np.maximum(sup_rho, sup_eta)
    result["sup_sum"] = sup_rho + sup_eta
    result["mixing_w1"] = np.array([wasserstein(Empirical(xk), Empirical(yk)) for xk, yk in zip(x, y, strict=True)])
    for name in CONTINUOUS_TIME_VARS:
        result[name] = run[name].values
    a = run.attrs
    result.update(t_final=float(a["t_last_event"]), n_events=int(a["n_events"]), wall_time=float(a["wall_time_s"]))
    return result


def _local_maxima(values: dict[int, float], threshold: float) -> list[int]:
    """The fine indices, in time order, of the local maxima of ``values`` (fine index -> value; NaN is
    below everything) that are positive and at least ``threshold``."""
    index = np.array(sorted(values))
    v = np.nan_to_num(np.array([values[k] for k in index]), nan=-np.inf)
    padded = np.concatenate(([-np.inf], v, [-np.inf]))
    keep = (v >= padded[:-2]) & (v >= padded[2:]) & (v >= threshold) & (v > 0)
    return index[keep].tolist()


def refined_suprema(series: dict[str, np.ndarray], positions: Sequence[dict[str, np.ndarray]], reference: Reference) -> np.ndarray:
    """The suprema over [0, T] and both species of the ``SPECIES_METRICS``, refined by bisection near
    their peaks (module docstring): shape ``(levels, N, metric)``, one row per level of the search
    (``step = r/2, ..., 1``), the last the reported ``sup_err``, the one before it the search with ``r/2``.

    ``series[name]``: ``(N, species, t)`` at the output times; ``positions[n]``: the sorted positions
    ``{"rho": x, "eta": y}`` of the n-th run at every fine time. At each level the requested fine times
    are visited in order and the reference's measures built once per time (``Reference.fine``)."""
    r = reference.refine
    last = r * (next(iter(series.values())).shape[-1] - 1)
    keys = [(n, name, s) for n in range(len(positions)) for name in SPECIES_METRICS for s in range(len(SPECIES))]
    known = {(n, name, s): dict(zip(range(0, last + 1, r), series[name][n, s].tolist(), strict=True)) for n, name, s in keys}

    def largest(n: int, name: str) -> float:
        return float(_nanmax(np.array([v for s in range(len(SPECIES)) for v in known[n, name, s].values()]), axis=0))

    levels = []
    step = r // 2
    while step >= 1:
        requests: dict[int, dict[tuple[int, str, int], None]] = {}
        for n, name, s in keys:
            threshold = (1.0 - PEAK_MARGIN) * largest(n, name)
            for p in _local_maxima(known[n, name, s], threshold):
                for q in (p - step, p + step):
                    if 0 <= q <= last and q not in known[n, name, s]:
                        requests.setdefault(q, {})[n, name, s] = None
        for q in sorted(requests):
            reference_q = reference.fine(q)
            states: dict[tuple[int, int], tuple[Empirical, Histogram]] = {}
            for n, name, s in requests[q]:
                if (n, s) not in states:
                    states[n, s] = _particle_measures(positions[n][SPECIES[s]][q])
                known[n, name, s][q] = SPECIES_METRIC[name](*states[n, s], reference_q[SPECIES[s]])
        levels.append([[largest(n, name) for name in SPECIES_METRICS] for n in range(len(positions))])
        step //= 2
    return np.array(levels)


def _nanmax(values: np.ndarray, axis: int | tuple[int, ...]) -> np.ndarray:
    """Maximum skipping NaN (a metric undefined at some times: point masses have no density); NaN if
    all are NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmax(values, axis=axis)


def _max_relative_increase(values: np.ndarray) -> float:
    """Largest ``(v[k+1] - v[k]) / v[k]`` along the last axis (<= 0 for a non-increasing series)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.max(np.diff(values, axis=-1) / np.abs(values[..., :-1])))


def cf_var(dims: tuple[str, ...], values: Any, long_name: str, **attrs: Any) -> tuple:
    """A Dataset variable ``(dims, values, attributes)`` with CF ``long_name`` and ``units = "1"`` (or ``attrs``)."""
    return dims, values, {**UNIT, "long_name": long_name, **attrs}


def _suprema(stack: dict[str, np.ndarray], levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sup_err`` ``(N, metric)`` and the same with refinement r/2 (module docstring)."""
    gap = stack["energy_gap_fine"]
    reported = np.column_stack((levels[-1], _nanmax(gap, axis=1), stack["weak_space_time"]))
    half = np.column_stack((levels[-2], _nanmax(gap[:, ::2], axis=1), stack["weak_space_time_half"]))
    return reported, half


def _error_vars(spec: StudySpec, stack: dict[str, np.ndarray], levels: np.ndarray, ref: Reference) -> tuple[dict, np.ndarray]:
    """The errors over time, their suprema, fitted orders and reference-limited flags."""
    N = np.asarray(spec.Ns)
    sup_err, sup_half = _suprema(stack, levels)
    with np.errstate(invalid="ignore", divide="ignore"):
        sampling_change = _nanmax(np.where(sup_err > 0, np.abs(sup_err - sup_half) / sup_err, 0.0), axis=0)
    fits = np.array([fit_power(N, sup_err[:, k]) for k in range(len(METRICS))])
    ref_error_sup = _nanmax(_reference_error(ref, stack["energy"].shape[1]), axis=(0, 2))
    limit = np.array([ref_error_sup[REF_METRICS.index(REF_METRIC_OF[m])] if m in REF_METRIC_OF else 0.0 for m in METRICS])
    out = {name: cf_var(("N", "species", "t"), stack[name], f"{name.replace('_', ' ')} against the reference") for name in SPECIES_METRICS}
    out.update(
        energy_gap=cf_var(("N", "t"), stack["energy_gap"], "|E[Z] - E_ref|"),
        weak_residual=cf_var(
            ("N", "t"),
            stack["weak_residual"],
            "weak-form consistency residual of the reconstruction (16) at the output time, no initial term",
            comment="jumps at every event; sup_err reports the space-time residual instead",
        ),
        sup_err=cf_var(
            ("N", "metric"),
            sup_err,
            "supremum over [0, T] (and species) of the error, refined in time; for weak_residual the space-time residual of (16)",
            comment=f"{spec.refine} fine times per output interval: bisection near the peaks (energy_gap: every fine time); "
            f"weak_residual: max over species, {DEFAULT_K} test functions in space and {DEFAULT_J} in time of the "
            "normalised space-time residual, Simpson's rule on the fine times",
        ),
        order=cf_var(("metric",), -fits[:, 0], "observed order p of sup_err ~ C N^-p (least squares, log-log)"),
        order_se=cf_var(("metric",), fits[:, 1], "standard error of the observed order"),
        order_constant=cf_var(("metric",), fits[:, 2], "constant C of the fit sup_err ~ C N^-p"),
        sampling_change=cf_var(
            ("metric",),
            sampling_change,
            "largest relative change of sup_err over N when the fine times are halved (refinement r/2)",
            comment=f"above {SAMPLING_LIMIT}: the fine times do not resolve it; raise the refinement (--refine)",
        ),
        sampling_limited=(("metric",), sampling_change > SAMPLING_LIMIT, {"long_name": f"sampling_change above {SAMPLING_LIMIT}"}),
        reference_limited=(
            ("metric",),
            limit > REFERENCE_LIMIT * sup_err[-1],
            {"long_name": f"reference error above {REFERENCE_LIMIT} times the error at the largest N"},
        ),
    )
    return out, ref_error_sup


def _check_vars(stack: dict[str, np.ndarray], runs: list[dict[str, Any]], ref: Reference) -> dict:
    """Energy, the checks of Lemma 5.1, Proposition 5.2 and the m = inf statements (exact in
    continuous time, and sampled at the output times for the figures), mixing and t_final."""
    prop_increase = np.array([[_max_relative_increase(run["lm_sum"][k]) for k in range(len(M_NORMS))] for run in runs])
    dx = np.diff(ref.x_edge)
    lm_ref = np.stack([sum(np.sum(ref.averages[sp] ** m * dx, axis=1) for sp in SPECIES) for m in M_NORMS])
    out = dict(
        energy=cf_var(("N", "t"), stack["energy"], "particle energy E[Z]"),
        energy_ref=cf_var(("t",), ref.energy, "reference energy"),
        dissipation=cf_var(("N", "t"), stack["dissipation"], "particle dissipation sum m x'^2 + sum n y'^2"),
        dissipation_ref=cf_var(("t",), ref.dissipation, "reference dissipation -dE/dt"),
        lemma51_w1=cf_var(("N", "species", "t"), stack["lemma51_w1"], "W1(empirical, reconstruction)"),
        lemma51_bound=cf_var(("N", "species", "t"), stack["lemma51_bound"], "Lemma 5.1 bound (x_N(t) - x_1(t))/(2N)"),
        lm_sum=cf_var(("N", "m_norm", "t"), stack["lm_sum"], "||rho~||_m^m + ||eta~||_m^m"),
        lm_sum_ref=cf_var(("m_norm", "t"), lm_ref, "||rho||_m^m + ||eta||_m^m of the reference cell averages"),
        prop52_max_increase=cf_var(("N", "m_norm"), prop_increase, "largest relative increase of lm_sum between outputs"),
        sup_max=cf_var(("N", "t"), stack["sup_max"], "max(||rho~||_inf, ||eta~||_inf)"),
        sup_sum=cf_var(("N", "t"), stack["sup_sum"], "||rho~||_inf + ||eta~||_inf"),
        sup_max_increase=cf_var(
            ("N",), np.array([_max_relative_increase(r["sup_max"]) for r in runs]), "largest relative increase of sup_max between outputs"
        ),
        sup_sum_increase=cf_var(
            ("N",), np.array([_max_relative_increase(r["sup_sum"]) for r in runs]), "largest relative increase of sup_sum between outputs"
        ),
        mixing_w1=cf_var(("N", "t"), stack["mixing_w1"], "W1(rho^N, eta^N) between the species"),
        mixing_w1_ref=cf_var(("t",), mixing(ref), "W1(rho, eta) of the reference"),
        t_final=cf_var(("N",), stack["t_final"], "time at which the particles reach x_i = y_i"),
        n_events=(("N",), stack["n_events"].astype(np.int64), {**UNIT, "long_name": "events up to the final state"}),
    )
    return out | _continuous_time_checks(stack)


def _continuous_time_checks(stack: dict[str, np.ndarray]) -> dict:
    """The exact continuous-time observables of every run (``compare.runs.particle_run``) and the
    verdicts of the paper's claims on them."""
    exact = {"comment": "exact over every t in [0, T] (replay of the event log)"}
    ratio = stack["lemma51_ratio"]
    proven = ratio[..., [LEMMA51_FORMS.index("current_span"), LEMMA51_FORMS.index("joint_hull")]]
    paper = ratio[..., LEMMA51_FORMS.index("initial_span")]
    return dict(
        sup_sum_peak=cf_var(("N",), stack["sup_sum_peak"], "max_t (sup rho~ + sup eta~)(t) / (sup rho~ + sup eta~)(0) - 1", **exact),
        sup_sum_peak_t=cf_var(("N",), stack["sup_sum_peak_t"], "first time sup_sum_peak is reached", **exact),
        sup_max_peak=cf_var(("N",), stack["sup_max_peak"], "max_t max(sup rho~, sup eta~)(t) / max(sup rho~, sup eta~)(0) - 1", **exact),
        sup_max_peak_t=cf_var(("N",), stack["sup_max_peak_t"], "first time sup_max_peak is reached", **exact),
        sup_max_holds=(
            ("N",),
            (stack["sup_max_violation"] <= CHECK_RTOL) & ~(stack["sup_max_peak"] > CHECK_RTOL),
            {"long_name": "max(sup rho~, sup eta~) non-increasing on [0, T]", **exact},
        ),
        prop52_violation=cf_var(
            ("N", "m_norm"), stack["functional_violation"], "largest normalised left derivative of lm_sum (> 0: it rises)", **exact
        ),
        prop52_holds=(
            ("N",),
            np.all(stack["functional_violation"] <= CHECK_RTOL, axis=1),
            {"long_name": "Prop. 5.2 monotonicity holds on [0, T]", **exact},
        ),
        lemma51_ratio=cf_var(("N", "species", "lemma51_form"), ratio, "sup_t 2N W1(rho^N, rho~^N) / span (<= 1: the bound holds)", **exact),
        lemma51_holds=(
            ("N",),
            np.all(proven <= 1.0 + CHECK_RTOL, axis=(1, 2)),
            {"long_name": "Lemma 5.1 with the current span and with the joint initial hull, on [0, T]", **exact},
        ),
        lemma51_initial_span_holds=(
            ("N",),
            np.all(paper <= 1.0 + CHECK_RTOL, axis=1),
            {"long_name": "Lemma 5.1's last step, each species' own initial span, on [0, T] (can fail)", **exact},
        ),
        energy_identity_residual=cf_var(
            ("N",), stack["energy_identity_residual"], "largest |E(b) - E(a) + dissipation (b - a)| between events", **exact
        ),
        lipschitz_reconstruction=cf_var(
            ("N", "species"), stack["lipschitz_reconstruction"], "Lemma 5.2's constant: sup_t W1 speed of rho~", **exact
        ),
        min_third_gap=cf_var(
            ("N",), stack["min_third_gap"], "smallest distance of a meeting point to a third particle (> 0: binary collisions)", **exact
        ),
    )


def _reference_error(ref: Reference, nt: int) -> np.ndarray:
    """The reference's estimated errors, ``(check, ref_metric, t)`` (zeros for an exact reference)."""
    checks = list(ref.error) or ["exact"]
    return np.stack([ref.error.get(c, np.zeros((len(REF_METRICS), nt))) for c in checks])


def _reference_vars(ref: Reference, ref_error_sup: np.ndarray, nt: int) -> dict:
    return dict(
        ref_error=cf_var(
            ("ref_check", "ref_metric", "t"),
            _reference_error(ref, nt),
            "distance of the reference to a second solution, max over species (exact reference: 0)",
        ),
        reference_error=cf_var(("ref_metric",), ref_error_sup, "estimated error of the reference, max over time and checks"),
        reference_order=cf_var(
            ("ref_metric",), reference_order(ref), "observed order of a pseudo-inverse reference in its resolution (NaN otherwise)"
        ),
        rho_ref=cf_var(("t", "x"), ref.averages["rho"], "reference rho, cell averages"),
        eta_ref=cf_var(("t", "x"), ref.averages["eta"], "reference eta, cell averages"),
    )


def _at_output_times(run: xr.Dataset, spec: StudySpec) -> xr.Dataset:
    """A continuum run at the study's output times (the reference's own run has the fine times)."""
    return run.isel(t=slice(None, None, (run.sizes["t"] - 1) // spec.nt))


def _continuum_vars(spec: StudySpec, jobs: StudyJobs, runs: Runs, ref: Reference) -> dict:
    """Distances of the spec's continuum runs to the reference and their orders in the resolution."""
    err = np.stack(
        [
            np.stack([continuum_errors(_at_output_times(runs(jobs.continuum[s, n]), spec), ref) for n in spec.scheme_cells])
            for s in spec.schemes
        ]
    )
    sup = _nanmax(err, axis=3)
    cells = np.asarray(spec.scheme_cells)
    order = np.array([[-fit_power(cells, sup[s, :, m])[0] for m in range(len(REF_METRICS))] for s in range(len(spec.schemes))])
    return dict(
        continuum_err=cf_var(
            ("scheme", "cells", "ref_metric", "t"), err, "distance of the continuum run to the study's reference, max over species"
        ),
        continuum_sup_err=cf_var(("scheme", "cells", "ref_metric"), sup, "supremum over time of continuum_err"),
        continuum_order=cf_var(
            ("scheme", "ref_metric"), order, "observed order q of continuum_sup_err ~ C cells^-q (zero errors left out)"
        ),
    )


def _coords(spec: StudySpec, t: np.ndarray, ref: Reference) -> dict:
    checks = list(ref.error) or ["exact"]
    coords = {
        "N": ("N", np.asarray(spec.Ns), {**UNIT, "long_name": "particles per species"}),
        "t": ("t", t, {**UNIT, "long_name": "time"}),
        "species": ("species", list(SPECIES), {"long_name": "species"}),
        "metric": ("metric", list(METRICS), {"long_name": "error measure"}),
        "m_norm": ("m_norm", np.asarray(M_NORMS), {**UNIT, "long_name": "exponent m of the L^m norm"}),
        "lemma51_form": ("lemma51_form", list(LEMMA51_FORMS), {"long_name": "span in Lemma 5.1's bound span/(2N)"}),
        "ref_check": ("ref_check", checks, {"long_name": "second solution the reference is compared with"}),
        "ref_metric": ("ref_metric", list(REF_METRICS), {"long_name": "distance used for the reference error"}),
        "x": ("x", 0.5 * (ref.x_edge[:-1] + ref.x_edge[1:]), {**UNIT, "long_name": "reference cell centre"}),
        "x_edge": ("x_edge", ref.x_edge, {**UNIT, "long_name": "reference cell edge"}),
        "i_show": ("i_show", np.arange(1, spec.N_show + 1), {**UNIT, "long_name": "particle index of the shown run"}),
    }
    if spec.schemes:
        coords["scheme"] = ("scheme", list(spec.schemes), {"long_name": "continuum scheme"})
        coords["cells"] = ("cells", np.asarray(spec.scheme_cells), {**UNIT, "long_name": "continuum resolution (cells or mass intervals)"})
    return coords


def _attrs(spec: StudySpec, t: np.ndarray, ref: Reference, runs: list[dict[str, Any]], ref_error_sup: np.ndarray, wall: float) -> dict:
    stack_t_final = np.array([run["t_final"] for run in runs])
    power, power_se, power_c = fit_power(np.asarray(spec.Ns), stack_t_final)
    config = spec.config() | {
        "reference": ref.config,
        "particle_runs": [
            {"N": N, "n_events": run["n_events"], "t_final": run["t_final"], "wall_time_s": run["wall_time"]}
            for N, run in zip(spec.Ns, runs, strict=True)
        ],
    }
    return {
        "title": f"convergence study of case {spec.case.name}",
        "Conventions": "CF-1.10",
        "case": spec.case.name,
        "description": spec.case.description,
        "T": float(t[-1]),
        "nt": int(t.size - 1),
        "refine": spec.refine,
        "placement": spec.placement,
        "reference": ref.kind,
        "reference_error_w1": float(ref_error_sup[0]),
        "N_show": spec.N_show,
        "t_final_power": power,
        "t_final_power_se": power_se,
        "t_final_constant": power_c,
        "wall_time_s": wall,
        "case_source": spec.case.source,
        "config": json.dumps(config, sort_keys=True),
        **provenance_attrs(),
    }


def assemble(spec: StudySpec, runs: Runs) -> xr.Dataset:
    """The study Dataset (module docstring) of ``spec`` from the Datasets of its jobs."""
    jobs = plan(spec)
    t = output_times(spec.T, spec.nt * spec.refine)[:: spec.refine]
    ref = reference_of(spec, jobs, runs)
    particle_runs = [runs(jobs.particles[N]) for N in spec.Ns]
    errors = [particle_errors(run, ref) for run in particle_runs]
    stack = {name: np.stack([e[name] for e in errors]) for name in errors[0]}
    positions = [{"rho": run["x"].values, "eta": run["y"].values} for run in particle_runs]
    levels = refined_suprema({name: stack[name] for name in SPECIES_METRICS}, positions, ref)
    data_vars, ref_error_sup = _error_vars(spec, stack, levels, ref)
    data_vars |= _check_vars(stack, errors, ref) | _reference_vars(ref, ref_error_sup, t.size)
    shown = particle_runs[spec.Ns.index(spec.N_show)].isel(t=slice(None, None, spec.refine))
    data_vars["x_show"] = cf_var(("t", "i_show"), shown["x"].values, f"positions x_i for N = {spec.N_show}")
    data_vars["y_show"] = cf_var(("t", "i_show"), shown["y"].values, f"positions y_j for N = {spec.N_show}")
    wall = sum(float(runs(job).attrs["wall_time_s"]) for job in [*jobs.particles.values(), *jobs.reference.values()])
    if spec.schemes:
        data_vars |= _continuum_vars(spec, jobs, runs, ref)
        wall += sum(float(runs(job).attrs["wall_time_s"]) for job in jobs.continuum.values() if job not in jobs.reference.values())
    return xr.Dataset(data_vars=data_vars, coords=_coords(spec, t, ref), attrs=_attrs(spec, t, ref, errors, ref_error_sup, wall))
