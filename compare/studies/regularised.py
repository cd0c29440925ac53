"""The Remark 5.1 study: what the regularised-kernel particle method costs against the exact one.

Remark 5.1 of the paper contrasts its exact particle system with the route of its reference [21]: the
kernel ``|x|`` smoothed on ``[-delta_N, delta_N]`` (``solvers.particles.regularised``), which needs a
width ``delta_N`` that tends to zero more slowly than ``3T / log N``. The study runs, for every N,
the exact engine and the regularised particles for each ``delta`` schedule of ``SCHEDULES``, all
from the same initial particles and against the same continuum reference (the validation study's,
``compare.studies.reference``), and measures the sup over the output times and both species of the
W1 and W2 distances of the empirical measures to the reference.

Jobs (``compare.studies.jobs``): one exact particle run per N, one ``regularised`` run per schedule
and N, and the reference's continuum runs; ``assemble_regularised(spec, runs)`` builds the study
Dataset from their Datasets however they were run:

- ``sup_err(variant, N, metric)``: the sup-in-time errors; ``variant`` is ``exact`` or a schedule;
  ``delta(variant, N)`` (0 for ``exact``);
- ``order``, ``order_se``, ``order_constant`` ``(variant, metric)``: the fitted law
  ``sup_err ~ C N^-p`` (``compare.studies.assembly.fit_power``);
- ``N_needed(variant)``, ``N_needed_low``, ``N_needed_high``: the N at which the method's fitted W1
  law reaches the exact engine's W1 error at ``TARGET_N`` (itself from the exact engine's fitted
  law), with the one-standard-error range of the inverse prediction of both fits; ``inf`` where the
  fitted order is at most ``FLOOR_ORDER`` (no decrease over the study's N: nothing to extrapolate);
- ``integrator_error(variant, N)``: the regularised integrator's estimated position error, and
  ``integrator_share``: its ratio to the measured W1 error. A position error e moves W1 by at most e,
  so a share below ``INTEGRATOR_SHARE`` (1 %) means the integrator does not show in the errors.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from compare.metrics import Empirical, wasserstein
from compare.runs.io import provenance_attrs
from compare.runs.times import output_times
from compare.studies.assembly import cf_var, fit_power, log_log_fit, plan, reference_of
from compare.studies.jobs import Job, StudySpec, make_job
from compare.studies.reference import Reference
from solvers.checks import check_number
from solvers.errors import InputError, suggest

__all__ = [
    "FLOOR_ORDER",
    "INTEGRATOR_SHARE",
    "SCHEDULES",
    "TARGET_N",
    "RegularisedJobs",
    "RegularisedSpec",
    "assemble_regularised",
    "needed_N",
    "regularised_jobs",
    "schedule_delta",
]

SCHEDULES = {
    "log": "3T / log N (Remark 5.1's borderline)",
    "sqrt": "N^(-1/2)",
    "c/N": "c / N",
    "fixed": "fixed delta",
}
"""The delta schedules: name -> what delta_N is."""
TARGET_N = 1000
"""The exact engine's error at this N is the target each schedule is asked to reach."""
FLOOR_ORDER = 0.05
"""A fitted order at most this is no decrease over the study's N: no N is extrapolated."""
INTEGRATOR_SHARE = 0.01
"""The integrator's estimated position error must stay below this fraction of the W1 error it measures."""
METRICS = ("w1", "w2")


def schedule_delta(schedule: str, N: int, T: float, c: float, fixed: float) -> float:
    """``delta_N`` of a schedule (``SCHEDULES``): ``3T/log N``, ``N^(-1/2)``, ``c/N`` or ``fixed``."""
    if schedule == "log":
        return 3.0 * T / math.log(N)
    if schedule == "sqrt":
        return N**-0.5
    if schedule == "c/N":
        return c / N
    if schedule == "fixed":
        return fixed
    raise InputError(f"unknown delta schedule {schedule!r}; {suggest(schedule, tuple(SCHEDULES))}")


@dataclass(frozen=True, eq=False)
class RegularisedSpec:
    """The Remark 5.1 study of one case: ``base`` (the validation study's parameters: case, N, T, nt,
    reference) and the regularised runs' ``schedules``, the ``c`` of ``c/N``, the ``fixed`` delta and
    the integrator's tolerance ``tol``."""

    base: StudySpec
    schedules: tuple[str, ...] = tuple(SCHEDULES)
    c: float = 1.0
    fixed: float = 0.05
    tol: float = 1e-7

    def __post_init__(self) -> None:
        for schedule in self.schedules:
            schedule_delta(schedule, 2, 1.0, 1.0, 1.0)
        if not self.schedules:
            raise InputError(f"no delta schedule given; pass some of {', '.join(SCHEDULES)}")
        check_number(self.c, "c", InputError, "pass the constant of the c/N schedule, e.g. --c 1", positive=True, what="constant")
        check_number(self.fixed, "fixed delta", InputError, "pass a width such as --fixed-delta 0.05", positive=True, what="width")
        check_number(self.tol, "tol", InputError, "pass a tolerance such as --tol 1e-7", positive=True, what="tolerance")

    def delta(self, schedule: str, N: int) -> float:
        return schedule_delta(schedule, N, self.base.T, self.c, self.fixed)

    def config(self) -> dict[str, Any]:
        return {**self.base.config(), "schedules": list(self.schedules), "c": self.c, "fixed": self.fixed, "tol": self.tol}


@dataclass(frozen=True)
class RegularisedJobs:
    """The jobs of the study by role: exact runs by N, regularised runs by (schedule, N), reference runs."""

    exact: dict[int, Job]
    regularised: dict[tuple[str, int], Job]
    reference: dict[str, Job]

    def all(self) -> list[Job]:
        """Every job, the largest N first."""
        return [*reversed(self.exact.values()), *reversed(self.regularised.values()), *self.reference.values()]


def regularised_jobs(spec: RegularisedSpec) -> RegularisedJobs:
    """The jobs of ``spec``: the reference runs are the validation study's (``plan``)."""
    base, case = spec.base, spec.base.case
    common = {"T": base.T, "nt": base.nt, "placement": base.placement}
    return RegularisedJobs(
        exact={N: make_job("particles", case, N=N, record_events=False, **common) for N in base.Ns},
        regularised={
            (s, N): make_job("regularised", case, N=N, delta=spec.delta(s, N), tol=spec.tol, **common)
            for s in spec.schedules
            for N in base.Ns
        },
        reference=plan(base).reference,
    )


def sup_errors(run: xr.Dataset, reference: Reference) -> np.ndarray:
    """``[sup W1, sup W2]`` over the output times and both species of the run's empirical measures
    (masses 1/N, as the study's cases have) against the reference."""
    out = np.zeros(len(METRICS))
    for species, position in (("rho", "x"), ("eta", "y")):
        for x, ref in zip(run[position].values, reference.measures[species], strict=True):
            emp = Empirical(x)
            out = np.maximum(out, [wasserstein(emp, ref, 1.0), wasserstein(emp, ref, 2.0)])
    return out


def needed_N(N: Sequence[float], exact: Sequence[float], method: Sequence[float], target_N: float = TARGET_N) -> tuple[float, float, float]:
    """The N at which the fitted law of ``method``'s errors reaches the exact engine's fitted error at
    ``target_N``, with its one-standard-error range ``(N*, low, high)``.

    Both laws are least-squares lines in log-log (``log e = a + q log N``). The target is
    ``log e* = a_exact + q_exact log target_N``; ``log N* = (log e* - a) / q``. Its standard error
    is that of the inverse prediction: the two fits' standard errors of the fitted ``log e`` (at
    ``target_N`` for the exact fit, at ``N*`` for the method's) added in quadrature, divided by
    ``|q|``. A method whose fitted order ``-q`` is at most ``FLOOR_ORDER`` does not decrease over the
    data, and no N is extrapolated: ``(inf, inf, inf)``; with fewer than three N the range is NaN.
    """
    fit_exact, fit = log_log_fit(N, exact), log_log_fit(N, method)
    if fit_exact is None or fit is None:
        return math.nan, math.nan, math.nan
    if -fit.slope <= FLOOR_ORDER:
        return math.inf, math.inf, math.inf
    u_target = math.log(target_N)
    log_target = fit_exact.intercept + fit_exact.slope * u_target
    u_star = (log_target - fit.intercept) / fit.slope
    se = math.hypot(fit_exact.prediction_se(u_target), fit.prediction_se(u_star)) / abs(fit.slope)
    return math.exp(u_star), math.exp(u_star - se), math.exp(u_star + se)


def assemble_regularised(spec: RegularisedSpec, runs: Callable[[Job], xr.Dataset]) -> xr.Dataset:
    """The study Dataset (module docstring) of ``spec`` from the Datasets of its jobs."""
    base, jobs = spec.base, regularised_jobs(spec)
    reference = reference_of(base, plan(base), runs)
    methods = ("exact", *spec.schedules)

    def run_of(method: str, N: int) -> xr.Dataset:
        return runs(jobs.exact[N] if method == "exact" else jobs.regularised[(method, N)])

    sup_err = np.array([[sup_errors(run_of(m, N), reference) for N in base.Ns] for m in methods])
    delta = np.array([[0.0 if m == "exact" else spec.delta(m, N) for N in base.Ns] for m in methods])
    integrator = np.array([[float(run_of(m, N).attrs.get("error_estimate", 0.0)) for N in base.Ns] for m in methods])
    wall = np.array([[float(run_of(m, N).attrs["wall_time_s"]) for N in base.Ns] for m in methods])
    fits = np.array([[fit_power(base.Ns, sup_err[k, :, j]) for j in range(len(METRICS))] for k in range(len(methods))])
    needed = np.array([needed_N(base.Ns, sup_err[0, :, 0], sup_err[k, :, 0]) for k in range(len(methods))])
    t = output_times(base.T, base.nt)
    ref_w1 = max((float(np.max(error[0])) for error in reference.error.values()), default=0.0)  # row 0: W1
    data_vars = {
        "sup_err": cf_var(("variant", "N", "metric"), sup_err, "sup over output times and species of the distance to the reference"),
        "delta": cf_var(("variant", "N"), delta, "smoothing width delta_N of the kernel (0: exact kernel)"),
        "order": cf_var(("variant", "metric"), -fits[:, :, 0], "observed order p of sup_err ~ C N^-p (least squares)"),
        "order_se": cf_var(("variant", "metric"), fits[:, :, 1], "standard error of the observed order"),
        "order_constant": cf_var(("variant", "metric"), fits[:, :, 2], "constant C of the fitted law sup_err ~ C N^-p"),
        "N_needed": cf_var(
            ("variant",), needed[:, 0], f"N at which the fitted W1 law reaches the exact engine's fitted W1 error at N = {TARGET_N}"
        ),
        "N_needed_low": cf_var(("variant",), needed[:, 1], "N_needed one standard error of the inverse prediction lower"),
        "N_needed_high": cf_var(("variant",), needed[:, 2], "N_needed one standard error of the inverse prediction higher"),
        "integrator_error": cf_var(("variant", "N"), integrator, "the integrator's estimated position error (0: exact engine)"),
        "integrator_share": cf_var(("variant", "N"), integrator / sup_err[:, :, 0], "integrator_error / sup W1 error"),
        "wall_time": cf_var(("variant", "N"), wall, "wall time of the run", units="s"),
    }
    coords = {
        "variant": ("variant", list(methods), {"long_name": "exact engine or delta schedule", "schedules": json.dumps(SCHEDULES)}),
        "N": ("N", np.array(base.Ns), {"units": "1", "long_name": "particles per species"}),
        "metric": ("metric", list(METRICS), {"long_name": "W1 or W2 distance of the empirical measures"}),
    }
    attrs = {
        "title": f"Remark 5.1 study of case {base.case.name}: regularised kernel against the exact particle system",
        "Conventions": "CF-1.10",
        "case": base.case.name,
        "description": base.case.description,
        "T": base.T,
        "nt": base.nt,
        "output_times": t.size,
        "placement": base.placement,
        "reference": reference.kind,
        "reference_error_w1": ref_w1,
        "target_N": TARGET_N,
        "tol": spec.tol,
        "wall_time_s": float(wall.sum()),
        "case_source": base.case.source,
        "config": json.dumps(spec.config(), sort_keys=True),
        **provenance_attrs(),
    }
    return xr.Dataset(data_vars=data_vars, coords=coords, attrs=attrs)
