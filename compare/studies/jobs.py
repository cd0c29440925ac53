"""The jobs of a convergence study: what runs, with which parameters, and how one job runs.

A study of a case (``StudySpec``) needs
- one particle run per N (``particles``: N atomised particles per species, sampled at the fine
  output times ``k T / (nt refine)`` and run on to the final state, no event log);
- the continuum runs of its reference (``reference``: none when the exact solution is the reference,
  else ``reference_runs(kind, cells)``; the reference itself at the fine output times, the runs its
  error is estimated against at the output times ``k T / nt``);
- optionally continuum runs of a resolution study (``continuum``: every scheme times every cells, at
  the output times; the run that is the reference itself is the reference's job);
- one small particle run with its event log for the trajectory figure (``trajectory``).

Every job is a pure function of its parameters and of the case's TOML text: ``Job.run()`` returns the
run's Dataset in the one schema of its kind (``compare.runs.particle_run`` or
``compare.runs.continuum_run``), whether the job runs in this process (``validate``) or on a dask
worker that writes it to ``Job.filename`` (``sweep``). ``Job.key`` is the canonical JSON of everything
the run depends on (the case by the SHA-256 of its text) and is stored as the Dataset's ``job``
attribute, so a file can be checked against the job it claims to be.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import xarray as xr

from compare.defaults import DEFAULT_CELLS, REFINE, TRAJECTORY_N
from compare.runs.cases import Case, parse_case
from compare.runs.continuum_run import run_continuum
from compare.runs.particle_run import run_particles
from compare.runs.regularised_run import run_regularised
from solvers.checks import check_integer, check_number
from solvers.errors import CaseError, InputError, suggest

__all__ = [
    "PLACEMENTS",
    "REFINE",
    "TRAJECTORY_N",
    "TRAJECTORY_NT",
    "Job",
    "JobKind",
    "StudyJobs",
    "StudySpec",
    "check_Ns",
    "make_job",
    "reference_runs",
    "study_jobs",
    "study_spec",
]

M_NORMS = (2.0, 4.0, 8.0)
"""Exponents m of the functionals ``||rho~||_m^m + ||eta~||_m^m`` a study checks (Prop. 5.2)."""
TRAJECTORY_NT = 400
"""Output intervals of the trajectory figure's run."""
PLACEMENTS = ("right", "mid")
RUNNERS = {"particles": run_particles, "continuum": run_continuum, "regularised": run_regularised}


@dataclass(frozen=True, eq=False)
class StudySpec:
    """The parameters of the convergence study of one case.

    ``Ns``: sorted distinct particle numbers per species; ``cells``: resolution of the fv2
    reference (and of the grid of the stored reference densities); ``reference``: ``auto`` (exact
    where it exists), ``exact`` or ``fv2``; ``N_show``: the N whose positions are stored for the
    profile figure; ``trajectory_N``: particles per species of the trajectory figure's run;
    ``schemes`` x ``scheme_cells``: continuum runs whose error against the reference the study also
    measures (none by default); ``refine``: the particle runs and the reference are sampled at the
    ``nt refine + 1`` fine times ``k T / (nt refine)`` (a power of two, at least 4), where the suprema
    over time are refined (``compare.studies.assembly``); the stored time series keep the ``nt + 1``
    output times, every ``refine``-th fine time.
    """

    case: Case
    Ns: tuple[int, ...]
    T: float
    nt: int = 40
    cells: int = DEFAULT_CELLS
    placement: str = "right"
    reference: str = "auto"
    cfl: float = 0.45
    N_show: int = 2
    trajectory_N: int = TRAJECTORY_N
    schemes: tuple[str, ...] = ()
    scheme_cells: tuple[int, ...] = ()
    refine: int = REFINE

    def config(self) -> dict[str, Any]:
        """The parameters as JSON-serialisable values."""
        return {
            "case": self.case.name,
            "Ns": list(self.Ns),
            "T": self.T,
            "nt": self.nt,
            "cells": self.cells,
            "placement": self.placement,
            "reference": self.reference,
            "cfl": self.cfl,
            "N_show": self.N_show,
            "trajectory_N": self.trajectory_N,
            "schemes": list(self.schemes),
            "scheme_cells": list(self.scheme_cells),
            "refine": self.refine,
        }


JobKind = Literal["particles", "continuum", "regularised"]
"""An exact particle run, a continuum run, or a particle run with the regularised kernel of Remark 5.1."""


@dataclass(frozen=True)
class Job:
    """One run of a study: ``kind`` (``JobKind``), the case (name and TOML text)
    and the run's keyword parameters (JSON-serialisable, sorted by name)."""

    kind: JobKind
    case_name: str
    case_source: str = field(repr=False)
    params: tuple[tuple[str, Any], ...]

    @property
    def key(self) -> str:
        """Canonical JSON of everything the run depends on; stored as the Dataset's ``job`` attribute."""
        digest = hashlib.sha256(self.case_source.encode("utf-8")).hexdigest()
        return json.dumps({"kind": self.kind, "case": self.case_name, "case_sha256": digest, **dict(self.params)}, sort_keys=True)

    @property
    def filename(self) -> str:
        """``<kind>-<case>-<16 hex digits of the key's SHA-256>.nc``."""
        return f"{self.kind}-{self.case_name}-{hashlib.sha256(self.key.encode('utf-8')).hexdigest()[:16]}.nc"

    def run(self) -> xr.Dataset:
        """Run the job (parsing the case from the job's own TOML text) and return its Dataset."""
        case = parse_case(tomllib.loads(self.case_source), self.case_name, self.case_source, f"case {self.case_name}")
        ds = RUNNERS[self.kind](case, **dict(self.params))
        ds.attrs["job"] = self.key
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


def study_spec(
    case: Case,
    *,
    Ns: Sequence[int],
    T: float | None = None,
    nt: int = 40,
    cells: int = DEFAULT_CELLS,
    placement: str = "right",
    reference: str = "auto",
    cfl: float = 0.45,
    N_show: int | None = None,
    trajectory_N: int = TRAJECTORY_N,
    schemes: Sequence[str] = (),
    scheme_cells: Sequence[int] = (),
    refine: int = REFINE,
) -> StudySpec:
    """A validated ``StudySpec`` (``T`` defaults to the case's, ``N_show`` to the smallest N);
    ``CaseError`` for a case outside the paper's setting, ``InputError`` for bad parameters."""
    if case.rho0 is None or case.eta0 is None:
        raise CaseError(f"case {case.name} gives explicit particles; a convergence study needs [rho0] and [eta0] densities")
    if not case.unit_equal_masses:
        raise CaseError(
            f"case {case.name} is not N particles of mass 1/N per species; a convergence study needs unit masses "
            'and atomisation = "equal" with N_eta = N'
        )
    values = check_Ns(Ns)
    N_show = values[0] if N_show is None else N_show
    if N_show not in values:
        raise InputError(f"N_show = {N_show} is not one of the study's N {values}; pass one of them")
    cells = check_integer(cells, "cells", InputError, "pass an integer >= 8", minimum=8, below="too small for a reference")
    if placement not in PLACEMENTS:
        raise InputError(f"unknown placement {placement!r}; {suggest(str(placement), PLACEMENTS)}")
    T = case.T if T is None else check_number(T, "T", InputError, "pass e.g. T=2.0", positive=True, what="time")
    refine = check_integer(refine, "refine", InputError, f"pass a power of two >= 4, e.g. refine={REFINE}", minimum=4)
    if refine & (refine - 1):
        raise InputError(f"refine = {refine} is not a power of two; pass e.g. refine={REFINE}")
    return StudySpec(
        case,
        tuple(values),
        T,
        check_integer(nt, "nt", InputError, "pass e.g. nt=40"),
        cells,
        placement,
        reference,
        float(cfl),
        int(N_show),
        check_integer(trajectory_N, "trajectory_N", InputError, "pass e.g. trajectory_N=12"),
        tuple(schemes),
        tuple(scheme_cells),
        refine,
    )


def make_job(kind: JobKind, case: Case, **params: Any) -> Job:
    """The job of a run of ``kind`` of ``case`` with the keyword parameters ``params``."""
    return Job(kind, case.name, case.source, tuple(sorted(params.items())))


def reference_runs(kind: str, cells: int) -> tuple[tuple[str, str, int], ...]:
    """The continuum runs ``(label, scheme, cells)`` of a ``kind`` reference (``fv2``, ``lagrangian``;
    none for ``exact``) with ``cells`` cells: the reference itself first, then the solutions its error
    is estimated against."""
    if kind == "fv2":
        return (("fv2", "fv2", cells), ("fv2_half", "fv2", cells // 2), ("lagrangian", "lagrangian", cells))
    if kind == "lagrangian":
        return (
            ("lagrangian", "lagrangian", cells),
            ("lagrangian_half", "lagrangian", cells // 2),
            ("lagrangian_quarter", "lagrangian", cells // 4),
        )
    return ()


@dataclass(frozen=True)
class StudyJobs:
    """The jobs of one study by role (see the module docstring)."""

    particles: dict[int, Job]
    reference: dict[str, Job]
    continuum: dict[tuple[str, int], Job]
    trajectory: Job

    def all(self) -> list[Job]:
        """Every job, the longest first: particle runs from the largest N, then continuum runs."""
        return [*reversed(self.particles.values()), *self.reference.values(), *self.continuum.values(), self.trajectory]


def study_jobs(spec: StudySpec, reference: str) -> StudyJobs:
    """The jobs of ``spec`` with its resolved ``reference`` kind (``reference.reference_kind``)."""
    case, fine_nt = spec.case, spec.nt * spec.refine
    continuum = {"cfl": spec.cfl, "T": spec.T}
    particles = {"placement": spec.placement, "run_to_final": True, "record_events": False, "continuous_time": M_NORMS}
    runs = reference_runs(reference, spec.cells)
    reference_jobs = {
        label: make_job("continuum", case, scheme=s, cells=n, nt=fine_nt if k == 0 else spec.nt, **continuum)
        for k, (label, s, n) in enumerate(runs)
    }
    own = {(s, n): reference_jobs[label] for label, s, n in runs[:1]}
    return StudyJobs(
        particles={N: make_job("particles", case, N=N, T=spec.T, nt=fine_nt, **particles) for N in spec.Ns},
        reference=reference_jobs,
        continuum={
            (s, n): own.get((s, n)) or make_job("continuum", case, scheme=s, cells=n, nt=spec.nt, **continuum)
            for s in spec.schemes
            for n in spec.scheme_cells
        },
        trajectory=make_job("particles", case, N=spec.trajectory_N, T=spec.T, nt=TRAJECTORY_NT, placement=spec.placement),
    )
